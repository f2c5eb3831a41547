# course_etl: every target that needs Python depends on the virtualenv, so `make lab` and
# `make test` work as the very first command on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-stamp
SANITIZE := notebooks/nbval_sanitize.cfg
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg

.PHONY: setup lab test test-unit test-notebooks notebooks images bench lint clean run-notebook \
	present test-airflow test-dagster test-browser nav readme-screenshot airflow dagster \
	test-orchestrators

setup: $(STAMP)

# Re-install when the dependency list changes; the stamp records a finished install.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# JupyterLab refuses to run as root unless told (containers, CI machines).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP)
	cd $(CURDIR) && MPLBACKEND= $(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) \
		--LabApp.default_url=/lab/tree/notebooks/00_index.ipynb $(ALLOW_ROOT)

test: $(STAMP)
	$(PY) -m pytest tests notebooks --nbval --nbval-current-env \
		--nbval-sanitize-with $(SANITIZE) -p no:cacheprovider

test-unit: $(STAMP)
	$(PY) -m pytest tests -p no:cacheprovider

test-notebooks: $(STAMP)
	$(PY) -m pytest notebooks --nbval --nbval-current-env \
		--nbval-sanitize-with $(SANITIZE) -p no:cacheprovider

# Re-execute every notebook in place from a fresh kernel, so stored outputs are fresh.
notebooks: $(STAMP)
	MPLBACKEND= $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=600 $(NOTEBOOKS)

# Rewrite the previous · contents · next links of every numbered notebook.
nav: $(STAMP)
	$(PY) -c "from course_etl.notebook_nav import write_navigation as w; w('notebooks')"

images: $(STAMP)
	$(PY) -m course_etl images --out images

# Both benchmarks always run; the target fails if either misses one of its targets.
bench: $(STAMP)
	$(PY) benchmarks/bench_loads.py; loads=$$?; \
	$(PY) benchmarks/bench_panels.py; panels=$$?; \
	exit $$(( loads || panels ))

# Execute a notebook with parameters (papermill) into artifacts/runs/: make run-notebook NB=04 ENV=prod
NB ?= 04
ENV ?= dev
run-notebook: $(STAMP)
	$(PY) -m course_etl run-notebook $(NB) --env $(ENV) $(if $(SET),--set $(SET))

# Every widget panel in one Voila app on 127.0.0.1 (code hidden); PRESENTER=1 for big fonts.
present: $(STAMP)
	$(PY) -m course_etl present $(if $(PRESENTER),--presenter)

# Real orchestrators, each in its own virtualenv (their pins must not touch the course's).
# course_etl goes in without its notebook dependencies (Jupyter, Voila, papermill): the DAGs
# import its loads, scheduling and capstone modules, which need pandas, numpy, tqdm, croniter,
# cron-descriptor, PyYAML and (the capstone's dashboard module) matplotlib and seaborn.
AIRFLOW_VENV := .venv-airflow
DAGSTER_VENV := .venv-dagster
ORCHESTRATION_DEPS := pandas numpy tqdm croniter cron-descriptor PyYAML matplotlib seaborn

$(AIRFLOW_VENV)/.installed-stamp: pyproject.toml
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet 'apache-airflow>=3.0,<4' $(ORCHESTRATION_DEPS)
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $@

$(DAGSTER_VENV)/.installed-stamp: pyproject.toml
	$(PYTHON) -m venv $(DAGSTER_VENV)
	$(DAGSTER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DAGSTER_VENV)/bin/python -m pip install --quiet 'dagster>=1.8,<2' dagster-webserver $(ORCHESTRATION_DEPS)
	$(DAGSTER_VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $@

# Load the exported DAG with DagBag, then dag.test() three days against a temp SQLite warehouse.
test-airflow: $(AIRFLOW_VENV)/.installed-stamp
	$(AIRFLOW_VENV)/bin/python integration/airflow/check_airflow.py

# Definitions.validate_loadable, then materialize() three days against a temp SQLite warehouse.
test-dagster: $(DAGSTER_VENV)/.installed-stamp
	$(DAGSTER_VENV)/bin/python integration/dagster/check_dagster.py

# The course's DAGs in a real Airflow 3 UI (make airflow) or its assets and checks in Dagster
# (make dagster), on 127.0.0.1, homes under .airflow/ and .dagster/; Ctrl-C stops everything.
airflow: $(STAMP) $(AIRFLOW_VENV)/.installed-stamp
	$(PY) -m course_etl.orchestrators airflow $(if $(PORT),--port $(PORT))

dagster: $(STAMP) $(DAGSTER_VENV)/.installed-stamp
	$(PY) -m course_etl.orchestrators dagster $(if $(PORT),--port $(PORT))

# Both servers driven through their real UIs in Chromium: runs, a retry, a backfill, asset
# checks, and warehouses equal to the local runner's. Screenshots in artifacts/screenshots/.
test-orchestrators: $(BROWSER_STAMP) $(AIRFLOW_VENV)/.installed-stamp $(DAGSTER_VENV)/.installed-stamp
	$(PY) -m pytest browser_tests/test_orchestrators.py -c browser_tests/pytest.ini \
		--rootdir browser_tests

# Every notebook in a real JupyterLab driven through Debian's Chromium, plus the Voila app.
# Screenshots land in artifacts/screenshots/. Skipped (with the reason) without Chromium.
BROWSER_STAMP := $(VENV)/.browser-stamp
$(BROWSER_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,browser]'
	touch $@

test-browser: $(BROWSER_STAMP)
	$(PY) -m pytest browser_tests -c browser_tests/pytest.ini --rootdir browser_tests \
		--ignore browser_tests/test_orchestrators.py

# Refresh the README's panel screenshot from the last browser test run.
readme-screenshot:
	cp artifacts/screenshots/01_full_vs_incremental_panel1_after.png images/screenshots/control_panel.png

lint: $(STAMP)
	$(BIN)/ruff check course_etl tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info .benchmarks
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
