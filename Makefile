# course_etl: every target that needs Python depends on the virtualenv it runs in, so each one
# (`make lab`, `make test`, `make airflow`, ...) works as the very first command on a fresh clone;
# tests/test_makefile.py dry-runs every documented target on a clean copy to keep it so.
# Dependencies come from the hashed locks in requirements/ (make lock regenerates them from
# pyproject.toml). uv installs them; without uv on PATH the Makefile first installs its own
# (pinned, hash-checked, with pip) into .venv-tools. `make setup UV=` uses pip for everything.
#
# Every variable is defined here, before the rules: make expands a rule's prerequisites when it
# reads the rule, so a variable defined further down would be empty there.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-stamp
BROWSER_STAMP := $(VENV)/.browser-stamp
TOOLS_VENV := .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.installed-stamp
LATEST_VENV := .venv-latest
AIRFLOW_VENV := .venv-airflow
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed-stamp
DAGSTER_VENV := .venv-dagster
DAGSTER_STAMP := $(DAGSTER_VENV)/.installed-stamp
SANITIZE := notebooks/nbval_sanitize.cfg
ALL_NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg

LOCK_RUNTIME := requirements/runtime.txt
LOCK_DEV := requirements/dev.txt
LOCK_BROWSER := requirements/browser.txt
LOCK_TOOLS := requirements/tools.txt
LOCK_AIRFLOW := requirements/airflow.txt
LOCK_DAGSTER := requirements/dagster.txt

# Options of the targets below (documented there), empty unless given.
NB ?=
ENV ?= dev
SET ?=
PORT ?=
PRESENTER ?=
UPGRADE ?=
REMEASURE ?=
ROWS ?=
REPEAT ?=
JUDGE ?=

# uv: the one on PATH, else the project's own in .venv-tools (installed on first use). UV= (empty,
# on the command line) means pip everywhere, for machines where only pip is allowed.
TOOLS_UV := $(CURDIR)/$(TOOLS_VENV)/bin/uv
ifeq ($(origin UV),undefined)
UV := $(or $(shell command -v uv 2> /dev/null),$(TOOLS_UV))
endif
# Order-only prerequisite of every install: the tools venv, when its uv is the one used.
UV_READY := $(if $(filter $(TOOLS_UV),$(UV)),$(TOOLS_STAMP))

# $(call install_lock,PYTHON,LOCK): exactly the pinned versions, every file checked against its hash.
install_lock = $(if $(UV),$(UV) pip install --quiet --python $(1) --require-hashes -r $(2),$(1) -m pip install --quiet --require-hashes -r $(2))
# $(call install_project,PYTHON,WHAT): the package itself; its dependencies came from a lock.
install_project = $(if $(UV),$(UV) pip install --quiet --python $(1) --no-deps $(2),$(1) -m pip install --quiet --no-deps $(2))
EDITABLE := -e .
# $(call fresh_venv,VENV): refuse a Python older than 3.11 (one instruction, exit 2), rebuild a
# virtualenv left by an older one, create it when missing.
fresh_venv = sh tools/check_python.sh '$(PYTHON)' '$(1)' '$(or $(MAKECMDGOALS),setup)' && \
	{ [ -x $(1)/bin/python ] || $(PYTHON) -m venv $(1); }

# make notebooks NB=03 (or NB="01 03"): those notebooks only; NOTEBOOKS="notebooks/x.ipynb ..."
# names files; neither: all of them.
NOTEBOOKS := $(if $(strip $(NB)),$(foreach n,$(NB),$(wildcard notebooks/$(n)_*.ipynb notebooks/$(n).ipynb)),$(ALL_NOTEBOOKS))
ifneq ($(filter notebooks,$(MAKECMDGOALS)),)
ifeq ($(strip $(NOTEBOOKS)),)
$(error NB=$(NB) names no notebook: give a number, e.g.  make notebooks NB=03  (there are $(patsubst notebooks/%.ipynb,%,$(ALL_NOTEBOOKS))))
endif
endif

.PHONY: setup tools lab test test-unit test-notebooks notebooks images bench lint clean \
	run-notebook present test-airflow test-dagster test-browser nav readme-screenshot lock \
	test-latest test-install test-binder test-readme test-pip airflow-facts timetable airflow \
	dagster test-orchestrators mutants

setup: $(STAMP)

# Re-install when the lock changes; the stamp records a finished install.
# JupyterLab reads overrides.json from <venv>/share/jupyter/lab/settings: the project's defaults
# (no "Jupyter news?" question over the first notebook).
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
$(STAMP): $(LOCK_DEV) pyproject.toml jupyter-settings/overrides.json | $(UV_READY)
	@$(call fresh_venv,$(VENV))
	@echo "Installing the locked dependencies ($(LOCK_DEV)) into $(VENV)$(if $(UV),, with pip)..."
	@$(call install_lock,$(PY),$(LOCK_DEV))
	@$(call install_project,$(PY),$(EDITABLE))
	@mkdir -p $(LAB_SETTINGS) && cp jupyter-settings/overrides.json $(LAB_SETTINGS)/
	@touch $(STAMP)

# uv (installs the venvs, compiles the locks), actionlint and pre-commit, pinned and hashed in
# requirements/tools.txt, installed with pip (the one installer every Python has).
tools: $(TOOLS_STAMP)
$(TOOLS_STAMP): $(LOCK_TOOLS)
	@$(call fresh_venv,$(TOOLS_VENV))
	@echo "Installing uv and the maintainer tools ($(LOCK_TOOLS)) into $(TOOLS_VENV) with pip..."
	@$(TOOLS_VENV)/bin/python -m pip install --quiet --require-hashes -r $(LOCK_TOOLS)
	@touch $@

# Regenerate every lock from pyproject.toml (and the orchestrators' requirements below): pinned,
# hashed, for every platform and Python >= 3.11; versions already locked stay unless UPGRADE=1
# (make lock UPGRADE=1). Always the pinned uv of .venv-tools, so the output does not depend on
# the uv a maintainer has. Extras stay as written (gql[requests], uvicorn[standard]): pip's hash
# mode installs a requirement with extras only when the lock pins it with them; and each such
# pin gets a twin without extras, for older pips (tools/unpack_extras.py).
# uv writes no index URL into them (tests/test_locks.py checks that no registry host appears).
COMPILE = $(TOOLS_UV) pip compile --quiet --universal --generate-hashes --no-strip-extras \
	--python-version 3.11 --custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade)
lock: $(TOOLS_STAMP)
	$(COMPILE) pyproject.toml --extra dev --extra browser -o $(LOCK_BROWSER)
	$(COMPILE) pyproject.toml --extra dev -c $(LOCK_BROWSER) -o $(LOCK_DEV)
	$(COMPILE) pyproject.toml -c $(LOCK_BROWSER) -o $(LOCK_RUNTIME)
	$(COMPILE) requirements/tools.in -o $(LOCK_TOOLS)
	printf '%s\n' $(AIRFLOW_REQUIREMENTS) | $(COMPILE) - -o $(LOCK_AIRFLOW)
	printf '%s\n' $(DAGSTER_REQUIREMENTS) | $(COMPILE) - -o $(LOCK_DAGSTER)
	$(TOOLS_VENV)/bin/python tools/unpack_extras.py requirements/*.txt

# Every lock resolves with plain pip in hash mode, as on a machine without uv: a fresh venv,
# `pip install --dry-run --require-hashes -r <lock>` for each (tools/check_locks.py).
test-pip:
	@sh tools/check_python.sh '$(PYTHON)' /nonexistent test-pip
	$(PYTHON) tools/check_locks.py requirements/*.txt

# The newest versions pyproject.toml allows, in a separate .venv-latest, running the unit tests:
# tells an instructor before the term starts whether a new release breaks the course.
test-latest: | $(UV_READY)
	@$(call fresh_venv,$(LATEST_VENV))
	@echo "Installing the newest allowed versions into $(LATEST_VENV)..."
	@$(if $(UV),$(UV) pip install --quiet --python $(LATEST_VENV)/bin/python --upgrade -e '.[dev]',$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade -e '.[dev]')
	@$(LATEST_VENV)/bin/python tools/compare_lock.py $(LOCK_DEV)
	$(LATEST_VENV)/bin/python -m pytest tests -p no:cacheprovider

# A JupyterHub-style install: the wheel and the runtime lock in a fresh venv, the notebooks copied
# elsewhere, the CLI and every notebook run there (tools/check_install.py says each step).
test-install: $(STAMP) | $(UV_READY)
	MPLBACKEND= $(PY) tools/check_install.py hub --uv '$(UV)'

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

# Re-execute notebooks in place from a fresh kernel, so stored outputs are fresh, without
# timestamps and with stable widget ids (unchanged results: empty git diff); exercise cells lose
# their outputs, so no committed notebook shows a verdict before the student tries.
# make notebooks NB=03 re-runs one; REMEASURE=1 also stores newly measured timing charts.
# First, the cells that show the lecture's code are regenerated from the course's facts.
notebooks: $(STAMP)
	$(PY) -m tools.lecture_cells --write
	$(PY) -m tools.execute_notebooks $(if $(REMEASURE),--remeasure) $(NOTEBOOKS)

# Execute every notebook, store the core path's run time per notebook (notebooks/timetable.json)
# and rewrite the timetable in 00_index.ipynb from the notebooks' words, run times and exercises.
timetable: $(STAMP)
	MPLBACKEND= $(PY) -m tools.timetable notebooks --measure

# Rewrite the previous · contents · next links of every numbered notebook.
nav: $(STAMP)
	$(PY) -c "from tools.notebook_nav import write_navigation as w; w('notebooks')"

images: $(STAMP)
	$(PY) -m course_etl images --out images

# Both benchmarks always run, then the README's bench block is rewritten from the results they
# just wrote (benchmarks/RESULTS.md, RESULTS_panels.md). Fails when a target is missed (JUDGE=no:
# report only, for a machine too busy to judge); ROWS= and REPEAT= for a smaller run.
BENCH_OPTIONS := $(if $(ROWS),--rows $(ROWS)) $(if $(REPEAT),--repeat $(REPEAT)) \
	$(if $(filter no,$(JUDGE)),--no-judge)
bench: $(STAMP)
	$(PY) -m benchmarks.bench_loads $(BENCH_OPTIONS); loads=$$?; \
	$(PY) -m benchmarks.bench_panels $(if $(filter no,$(JUDGE)),--no-judge); panels=$$?; \
	$(PY) -m benchmarks.bench_checks; checks=$$?; \
	$(PY) -m benchmarks.report --write || exit 1; \
	exit $$(( loads || panels || checks ))

# How strong each exercise's check is: mutants of every reference answer handed to its check;
# writes docs/mutants.md and the README's summary, fails while a non-equivalent mutant survives.
mutants: $(STAMP)
	$(PY) -m tools.mutants --write

# Execute a notebook with parameters (papermill) into artifacts/runs/: make run-notebook NB=04 ENV=prod
run-notebook: $(STAMP)
	$(PY) -m course_etl run-notebook $(or $(NB),04) --env $(ENV) $(if $(SET),--set $(SET))

# Every widget panel in one Voila app on 127.0.0.1 (code hidden); PRESENTER=1 for big fonts.
present: $(STAMP)
	$(PY) -m course_etl present $(if $(PRESENTER),--presenter)

# Real orchestrators, each in its own virtualenv (their pins must not touch the course's).
# course_etl goes in without its notebook dependencies (Jupyter, Voila, papermill): the DAGs
# import its loads, scheduling and capstone modules, which need pandas, numpy, tqdm, croniter,
# cron-descriptor, PyYAML and (the capstone's dashboard module) matplotlib and seaborn.
ORCHESTRATION_DEPS := pandas numpy tqdm croniter cron-descriptor PyYAML matplotlib seaborn

# Each orchestrator venv installs from its own hashed lock (make lock writes them from these lists).
# The Airflow lock is universal too (every platform, Python >= 3.11), like the course's.
AIRFLOW_REQUIREMENTS = 'apache-airflow>=3.0,<4' $(ORCHESTRATION_DEPS)
DAGSTER_REQUIREMENTS = 'dagster>=1.8,<2' dagster-webserver $(ORCHESTRATION_DEPS)

$(AIRFLOW_STAMP): $(LOCK_AIRFLOW) pyproject.toml | $(UV_READY)
	@$(call fresh_venv,$(AIRFLOW_VENV))
	@echo "Installing the locked Airflow ($(LOCK_AIRFLOW)) into $(AIRFLOW_VENV)$(if $(UV),, with pip)..."
	@$(call install_lock,$(AIRFLOW_VENV)/bin/python,$(LOCK_AIRFLOW))
	@$(call install_project,$(AIRFLOW_VENV)/bin/python,$(EDITABLE))
	@touch $@

$(DAGSTER_STAMP): $(LOCK_DAGSTER) pyproject.toml | $(UV_READY)
	@$(call fresh_venv,$(DAGSTER_VENV))
	@echo "Installing the locked Dagster ($(LOCK_DAGSTER)) into $(DAGSTER_VENV)$(if $(UV),, with pip)..."
	@$(call install_lock,$(DAGSTER_VENV)/bin/python,$(LOCK_DAGSTER))
	@$(call install_project,$(DAGSTER_VENV)/bin/python,$(EDITABLE))
	@touch $@

# Load the exported DAG with DagBag, then dag.test() three days against a temp SQLite warehouse.
test-airflow: $(AIRFLOW_STAMP)
	$(AIRFLOW_VENV)/bin/python integration/airflow/check_airflow.py

# Record what Airflow 3 really does with the lecture's DAG, cron timetables and DST nights
# (course_etl/scheduling/airflow3_facts.json, quoted by notebook 02).
airflow-facts: $(AIRFLOW_STAMP)
	$(AIRFLOW_VENV)/bin/python integration/airflow/airflow_facts.py

# Definitions.validate_loadable, then materialize() three days against a temp SQLite warehouse.
test-dagster: $(DAGSTER_STAMP)
	$(DAGSTER_VENV)/bin/python integration/dagster/check_dagster.py

# The course's DAGs in a real Airflow 3 UI (make airflow) or its assets and checks in Dagster
# (make dagster), on 127.0.0.1, homes under .airflow/ and .dagster/; Ctrl-C stops everything.
airflow: $(STAMP) $(AIRFLOW_STAMP)
	$(PY) -m course_etl airflow $(if $(PORT),--port $(PORT))

dagster: $(STAMP) $(DAGSTER_STAMP)
	$(PY) -m course_etl dagster $(if $(PORT),--port $(PORT))

# The browser tests' dependencies (Playwright, axe) on top of the course's.
$(BROWSER_STAMP): $(STAMP) $(LOCK_BROWSER) | $(UV_READY)
	@$(call install_lock,$(PY),$(LOCK_BROWSER))
	@touch $@

# Both servers driven through their real UIs in Chromium: runs, a retry, a backfill, asset
# checks, and warehouses equal to the local runner's. Screenshots in artifacts/screenshots/.
test-orchestrators: $(BROWSER_STAMP) $(AIRFLOW_STAMP) $(DAGSTER_STAMP)
	$(PY) -m pytest browser_tests/test_orchestrators.py -c browser_tests/pytest.ini \
		--rootdir browser_tests

# Every notebook in a real JupyterLab driven through Debian's Chromium, plus the Voila app.
# Screenshots land in artifacts/screenshots/. Skipped (with the reason) without Chromium.
test-browser: $(BROWSER_STAMP)
	$(PY) -m pytest browser_tests -c browser_tests/pytest.ini --rootdir browser_tests \
		--ignore browser_tests/test_orchestrators.py

# Refresh the README's panel screenshot from the last browser test run.
readme-screenshot:
	cp artifacts/screenshots/01_full_vs_incremental_panel1_after.png images/screenshots/control_panel.png

# ruff on the code (pinned in dev.txt), actionlint on the CI workflows (pinned in tools.txt).
lint: $(STAMP) $(TOOLS_STAMP)
	$(PY) -m ruff check course_etl tests benchmarks tools
	$(TOOLS_VENV)/bin/actionlint .github/workflows/*.yml

clean:
	rm -rf $(VENV) $(LATEST_VENV) .pytest_cache .ruff_cache build *.egg-info .benchmarks
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
