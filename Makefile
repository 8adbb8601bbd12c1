# The front door of the workbench.
#   make report   build processed data from data/raw and run the report notebooks
#                 (PERIOD=2026-10 CENTER=SH-JQ to narrow it; default: all data, network and every center)
#   make test     lint (ruff, mypy), unit tests, the examples in cxlib's docstrings, notebook regression checks (nbval)
#   make lab      JupyterLab with the project's environment as kernel (LAB_ARGS="--port 9999" passes options on)
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
CX      := $(VENV)/bin/cx
RAW     ?= data/raw
PROCESSED ?= data/processed
REPORTS ?= reports
PERIOD  ?= all
CENTER  ?= all
export MPLBACKEND ?= Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: report test lint browser java lab sample clean-data bench refresh-notebooks install install-dev help

help:
	@echo "make report | make test | make lab | make sample | make bench | make refresh-notebooks"

$(VENV)/bin/activate:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is needed, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/activate pyproject.toml
	$(PY) -m pip install --quiet -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (cx workbench)" >/dev/null
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	touch $@

$(VENV)/.installed-lab: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[lab]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

report: $(VENV)/.installed
	$(CX) clean $(RAW) $(PROCESSED)
	$(CX) report --raw $(RAW) --processed $(PROCESSED) --out $(REPORTS) --period $(PERIOD) --center $(CENTER) --jobs 2

# Debian's chromium for the browser test of the HTML reports, installed when missing and this
# machine can (apt-get as root); otherwise the browser test fails with a message saying so.
browser:
	@if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium for the browser test of the reports"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium could not be installed: the browser test will fail"; \
	  else echo "chromium is missing and needs apt-get as root to install: the browser test will fail"; fi; \
	fi

# the style held by tools: ruff (lint rules and format, pyproject.toml [tool.ruff]) and mypy on the
# modules listed in pyproject.toml [tool.mypy]
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check cxlib tests benchmarks
	$(VENV)/bin/ruff format --check cxlib tests benchmarks
	$(VENV)/bin/mypy

# Debian's Java runtime for the Spark engine's tests (cx clean --engine spark), installed the same
# way when missing; otherwise those tests fail with cx's message saying Java is missing.
java:
	@if ! command -v java >/dev/null 2>&1 && [ ! -x "$${JAVA_HOME:-/nonexistent}/bin/java" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing Java for the Spark engine's tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null) \
	      || echo "Java could not be installed: the Spark engine's tests will fail"; \
	  else echo "Java is missing and needs apt-get as root to install: the Spark engine's tests will fail"; fi; \
	fi

test: $(VENV)/.installed-dev lint browser java
	$(PY) -m pytest --doctest-modules cxlib tests
	CX_PROGRESS=off $(PY) -m pytest --nbval notebooks --nbval-sanitize-with notebooks/sanitize.cfg -p no:randomly

# as root (a container) JupyterLab needs --allow-root; LAB_ARGS="--port 9999 --no-browser" passes options on
LAB_ARGS ?=
LAB_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
lab: $(VENV)/.installed-lab
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(LAB_ROOT) $(LAB_ARGS)

sample: $(VENV)/.installed
	$(CX) sample --visits 6000 --seed 20261001 $(RAW)

bench: $(VENV)/.installed-dev
	$(PY) benchmarks/bench_clean.py
	$(PY) benchmarks/bench_report.py
	$(PY) benchmarks/bench_themes.py

refresh-notebooks: $(VENV)/.installed-dev
	$(PY) -m cxlib.notebooks refresh notebooks

clean-data:
	rm -rf $(PROCESSED)/* $(REPORTS)/*
	touch $(PROCESSED)/.gitkeep $(REPORTS)/.gitkeep
