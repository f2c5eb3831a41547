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
	present

setup: $(STAMP)

# Re-install when the dependency list changes; the stamp records a finished install.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lab: $(STAMP)
	cd $(CURDIR) && MPLBACKEND= $(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) \
		--LabApp.default_url=/lab/tree/notebooks

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

images: $(STAMP)
	$(PY) -m course_etl images --out images

bench: $(STAMP)
	$(PY) benchmarks/bench_loads.py
	$(PY) benchmarks/bench_panels.py

# Execute a notebook with parameters (papermill) into artifacts/runs/: make run-notebook NB=04 ENV=prod
NB ?= 04
ENV ?= dev
run-notebook: $(STAMP)
	$(PY) -m course_etl run-notebook $(NB) --env $(ENV) $(if $(SET),--set $(SET))

# Every widget panel in one Voila app on 127.0.0.1 (code hidden); PRESENTER=1 for big fonts.
present: $(STAMP)
	$(PY) -m course_etl present $(if $(PRESENTER),--presenter)

lint: $(STAMP)
	$(BIN)/ruff check course_etl tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info .benchmarks
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
