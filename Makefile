# course_etl: every target that needs Python depends on the virtualenv, so `make lab` and
# `make test` work as the very first command on a fresh machine.
# Dependencies come from the hashed locks in requirements/ (make lock regenerates them from
# pyproject.toml); uv installs them when it is on PATH, pip otherwise.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-stamp
SANITIZE := notebooks/nbval_sanitize.cfg
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg

LOCK_RUNTIME := requirements/runtime.txt
LOCK_DEV := requirements/dev.txt
LOCK_BROWSER := requirements/browser.txt
LOCK_TOOLS := requirements/tools.txt
LOCK_AIRFLOW := requirements/airflow.txt
LOCK_DAGSTER := requirements/dagster.txt

UV ?= $(shell command -v uv 2> /dev/null)
# $(call install_lock,PYTHON,LOCK): exactly the pinned versions, every file checked against its hash.
install_lock = $(if $(UV),$(UV) pip install --quiet --python $(1) --require-hashes -r $(2),$(1) -m pip install --quiet --require-hashes -r $(2))
# $(call install_project,PYTHON,WHAT): the package itself; its dependencies came from a lock.
install_project = $(if $(UV),$(UV) pip install --quiet --python $(1) --no-deps $(2),$(1) -m pip install --quiet --no-deps $(2))
EDITABLE := -e .
# $(call fresh_venv,VENV): refuse a Python older than 3.11 (one instruction, exit 2), rebuild a
# virtualenv left by an older one, create it when missing.
fresh_venv = sh tools/check_python.sh '$(PYTHON)' '$(1)' '$(or $(MAKECMDGOALS),setup)' && \
	{ [ -x $(1)/bin/python ] || $(PYTHON) -m venv $(1); }

.PHONY: setup lab test test-unit test-notebooks notebooks images bench lint clean run-notebook \
	present test-airflow test-dagster test-browser nav readme-screenshot lock test-latest \
	test-install test-binder test-readme \
	airflow-facts timetable airflow dagster \
	test-orchestrators mutants

setup: $(STAMP)

# Re-install when the lock changes; the stamp records a finished install.
# JupyterLab reads overrides.json from <venv>/share/jupyter/lab/settings: the project's defaults
# (no "Jupyter news?" question over the first notebook).
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
$(STAMP): $(LOCK_DEV) pyproject.toml jupyter-settings/overrides.json
	@$(call fresh_venv,$(VENV))
	@echo "Installing the locked dependencies ($(LOCK_DEV)) into $(VENV)..."
	@$(call install_lock,$(PY),$(LOCK_DEV))
	@$(call install_project,$(PY),$(EDITABLE))
	@mkdir -p $(LAB_SETTINGS) && cp jupyter-settings/overrides.json $(LAB_SETTINGS)/
	@touch $(STAMP)

# Regenerate every lock from pyproject.toml (and the orchestrators' requirements below): pinned,
# hashed, for every platform and Python >= 3.11; versions already locked stay unless UPGRADE=1
# (make lock UPGRADE=1). uv comes from requirements/tools.txt.
# uv writes no index URL into them (tests/test_locks.py checks that no registry host appears).
TOOLS_STAMP := $(VENV)/.tools-stamp
$(TOOLS_STAMP): $(STAMP) $(LOCK_TOOLS)
	@$(call install_lock,$(PY),$(LOCK_TOOLS))
	@touch $@

COMPILE = $(PY) -m uv pip compile --quiet --universal --generate-hashes --python-version 3.11 \
	--custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade)
lock: $(TOOLS_STAMP)
	$(COMPILE) pyproject.toml --extra dev --extra browser -o $(LOCK_BROWSER)
	$(COMPILE) pyproject.toml --extra dev -c $(LOCK_BROWSER) -o $(LOCK_DEV)
	$(COMPILE) pyproject.toml -c $(LOCK_BROWSER) -o $(LOCK_RUNTIME)
	$(COMPILE) requirements/tools.in -o $(LOCK_TOOLS)
	printf '%s\n' $(AIRFLOW_REQUIREMENTS) | $(COMPILE) - -o $(LOCK_AIRFLOW)
	# dagster-graphql asks for gql[requests]: pip's hash mode wants the extra pinned as written.
	printf '%s\n' $(DAGSTER_REQUIREMENTS) | $(COMPILE) --no-strip-extras - -o $(LOCK_DAGSTER)

# The newest versions pyproject.toml allows, in a separate .venv-latest, running the unit tests:
# tells an instructor before the term starts whether a new release breaks the course.
LATEST_VENV := .venv-latest
test-latest:
	@$(call fresh_venv,$(LATEST_VENV))
	@echo "Installing the newest allowed versions into $(LATEST_VENV)..."
	@$(if $(UV),$(UV) pip install --quiet --python $(LATEST_VENV)/bin/python --upgrade -e '.[dev]',$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade -e '.[dev]')
	@$(LATEST_VENV)/bin/python tools/compare_lock.py $(LOCK_DEV)
	$(LATEST_VENV)/bin/python -m pytest tests -p no:cacheprovider

# A JupyterHub-style install: the wheel and the runtime lock in a fresh venv, the notebooks copied
# elsewhere, the CLI and every notebook run there (tools/check_install.py says each step).
test-install: $(STAMP)
	MPLBACKEND= $(PY) tools/check_install.py hub

# Every shell command of the README, including the without-make path (a fresh clone, a venv, pip
# from the lock, the whole suite): several minutes. `make test` runs the quick blocks only.
test-readme: $(STAMP)
	README_TEST_INSTALL=1 $(PY) -m pytest tests/test_readme_commands.py -p no:cacheprovider -rs

# What Binder (repo2docker) builds from binder/, in a fresh venv: requirements, postBuild, demo.
test-binder: $(STAMP)
	$(PY) tools/check_install.py binder

# JupyterLab refuses to run as root unless told (containers, CI machines).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# make lab PORT=8890 BROWSER=no. BROWSER is also the variable Python's webbrowser module reads,
# so only a BROWSER given on make's command line must be yes or no.
PORT ?=
BROWSER ?= yes

# notebook_shim (classic-notebook compatibility, unused by JupyterLab 4) reads every server
# setting when it starts, which prints a "ServerApp.token is deprecated" warning.
LAB_QUIET := --ServerApp.jpserver_extensions notebook_shim=False

lab: $(STAMP)
	@case '$(PORT)' in '') ;; *[!0-9]*) echo "error: PORT=$(PORT) is not a port number: run e.g.  make lab PORT=8890" >&2; exit 2;; esac
	@if [ '$(origin BROWSER)' = 'command line' ]; then case '$(BROWSER)' in yes|no) ;; \
		*) echo "error: BROWSER=$(BROWSER) must be yes or no: run e.g.  make lab BROWSER=no" >&2; exit 2;; esac; fi
	cd $(CURDIR) && MPLBACKEND= $(PY) -m jupyter lab --ServerApp.root_dir=$(CURDIR) \
		--LabApp.default_url=/lab/tree/notebooks/00_index.ipynb $(ALLOW_ROOT) $(LAB_QUIET) \
		$(if $(PORT),--ServerApp.port=$(PORT) --ServerApp.port_retries=0) \
		$(if $(filter no,$(BROWSER)),--no-browser)

test: $(STAMP)
	$(PY) -m pytest tests notebooks --nbval --nbval-current-env \
		--nbval-sanitize-with $(SANITIZE) -p no:cacheprovider

test-unit: $(STAMP)
	$(PY) -m pytest tests -p no:cacheprovider

test-notebooks: $(STAMP)
	$(PY) -m pytest notebooks --nbval --nbval-current-env \
		--nbval-sanitize-with $(SANITIZE) -p no:cacheprovider

# Re-execute every notebook in place from a fresh kernel, so stored outputs are fresh; then strip
# the exercise cells' outputs, so no committed notebook shows a verdict before the student tries.
# First, the cells that show the lecture's code are regenerated from the course's facts.
notebooks: $(STAMP)
	$(PY) -m tools.lecture_cells --write
	MPLBACKEND= $(PY) -m jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=600 $(NOTEBOOKS)
	$(PY) -m tools.clear_exercise_outputs $(NOTEBOOKS)

# Execute every notebook, store the core path's run time per notebook (notebooks/timetable.json)
# and rewrite the timetable in 00_index.ipynb from the notebooks' words, run times and exercises.
timetable: $(STAMP)
	MPLBACKEND= $(PY) -m tools.timetable notebooks --measure

# Rewrite the previous · contents · next links of every numbered notebook.
nav: $(STAMP)
	$(PY) -c "from tools.notebook_nav import write_navigation as w; w('notebooks')"

images: $(STAMP)
	$(PY) -m course_etl images --out images

# Both benchmarks always run; the target fails if either misses one of its targets.
bench: $(STAMP)
	$(PY) benchmarks/bench_loads.py; loads=$$?; \
	$(PY) benchmarks/bench_panels.py; panels=$$?; \
	$(PY) benchmarks/bench_checks.py; checks=$$?; \
	exit $$(( loads || panels || checks ))

# How strong each exercise's check is: mutants of every reference answer handed to its check;
# writes docs/mutants.md and the README's summary, fails while a non-equivalent mutant survives.
mutants: $(STAMP)
	$(PY) -m tools.mutants --write

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

# Each orchestrator venv installs from its own hashed lock (make lock writes them from these lists).
# The Airflow lock is universal too (every platform, Python >= 3.11), like the course's.
AIRFLOW_REQUIREMENTS = 'apache-airflow>=3.0,<4' $(ORCHESTRATION_DEPS)
DAGSTER_REQUIREMENTS = 'dagster>=1.8,<2' dagster-webserver $(ORCHESTRATION_DEPS)

$(AIRFLOW_VENV)/.installed-stamp: $(LOCK_AIRFLOW) pyproject.toml
	@$(call fresh_venv,$(AIRFLOW_VENV))
	@echo "Installing the locked Airflow ($(LOCK_AIRFLOW)) into $(AIRFLOW_VENV)..."
	@$(call install_lock,$(AIRFLOW_VENV)/bin/python,$(LOCK_AIRFLOW))
	@$(call install_project,$(AIRFLOW_VENV)/bin/python,$(EDITABLE))
	@touch $@

$(DAGSTER_VENV)/.installed-stamp: $(LOCK_DAGSTER) pyproject.toml
	@$(call fresh_venv,$(DAGSTER_VENV))
	@echo "Installing the locked Dagster ($(LOCK_DAGSTER)) into $(DAGSTER_VENV)..."
	@$(call install_lock,$(DAGSTER_VENV)/bin/python,$(LOCK_DAGSTER))
	@$(call install_project,$(DAGSTER_VENV)/bin/python,$(EDITABLE))
	@touch $@

# Load the exported DAG with DagBag, then dag.test() three days against a temp SQLite warehouse.
test-airflow: $(AIRFLOW_VENV)/.installed-stamp
	$(AIRFLOW_VENV)/bin/python integration/airflow/check_airflow.py

# Record what Airflow 3 really does with the lecture's DAG, cron timetables and DST nights
# (course_etl/scheduling/airflow3_facts.json, quoted by notebook 02).
airflow-facts: $(AIRFLOW_VENV)/.installed-stamp
	$(AIRFLOW_VENV)/bin/python integration/airflow/airflow_facts.py

# Definitions.validate_loadable, then materialize() three days against a temp SQLite warehouse.
test-dagster: $(DAGSTER_VENV)/.installed-stamp
	$(DAGSTER_VENV)/bin/python integration/dagster/check_dagster.py

# The course's DAGs in a real Airflow 3 UI (make airflow) or its assets and checks in Dagster
# (make dagster), on 127.0.0.1, homes under .airflow/ and .dagster/; Ctrl-C stops everything.
airflow: $(STAMP) $(AIRFLOW_VENV)/.installed-stamp
	$(PY) -m course_etl airflow $(if $(PORT),--port $(PORT))

dagster: $(STAMP) $(DAGSTER_VENV)/.installed-stamp
	$(PY) -m course_etl dagster $(if $(PORT),--port $(PORT))

# Both servers driven through their real UIs in Chromium: runs, a retry, a backfill, asset
# checks, and warehouses equal to the local runner's. Screenshots in artifacts/screenshots/.
test-orchestrators: $(BROWSER_STAMP) $(AIRFLOW_VENV)/.installed-stamp $(DAGSTER_VENV)/.installed-stamp
	$(PY) -m pytest browser_tests/test_orchestrators.py -c browser_tests/pytest.ini \
		--rootdir browser_tests

# Every notebook in a real JupyterLab driven through Debian's Chromium, plus the Voila app.
# Screenshots land in artifacts/screenshots/. Skipped (with the reason) without Chromium.
BROWSER_STAMP := $(VENV)/.browser-stamp
$(BROWSER_STAMP): $(STAMP) $(LOCK_BROWSER)
	@$(call install_lock,$(PY),$(LOCK_BROWSER))
	@touch $@

test-browser: $(BROWSER_STAMP)
	$(PY) -m pytest browser_tests -c browser_tests/pytest.ini --rootdir browser_tests \
		--ignore browser_tests/test_orchestrators.py

# Refresh the README's panel screenshot from the last browser test run.
readme-screenshot:
	cp artifacts/screenshots/01_full_vs_incremental_panel1_after.png images/screenshots/control_panel.png

# ruff on the code, actionlint on the CI workflows (both pinned: ruff in dev.txt, actionlint in tools.txt).
lint: $(TOOLS_STAMP)
	$(PY) -m ruff check course_etl tests benchmarks tools
	$(BIN)/actionlint .github/workflows/*.yml

clean:
	rm -rf $(VENV) $(LATEST_VENV) .pytest_cache .ruff_cache build *.egg-info .benchmarks
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
