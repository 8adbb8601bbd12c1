# The front door of the workbench.
#   make report   build processed data from data/raw and run the report notebooks
#                 (PERIOD=2026-10 CENTER=SH-JQ to narrow it; default: all data, network and every center)
#   make test     unit tests and notebook regression checks (nbval)
#   make lab      JupyterLab with the project's environment as kernel
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

.PHONY: report test lab sample clean-data bench refresh-notebooks install install-dev help

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
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.installed-lab: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[lab]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

report: $(VENV)/.installed
	$(CX) clean $(RAW) $(PROCESSED)
	$(CX) report --raw $(RAW) --processed $(PROCESSED) --out $(REPORTS) --period $(PERIOD) --center $(CENTER) --jobs 2

test: $(VENV)/.installed-dev
	$(PY) -m pytest tests
	$(PY) -m pytest --nbval notebooks --nbval-sanitize-with notebooks/sanitize.cfg -p no:randomly

lab: $(VENV)/.installed-lab
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

sample: $(VENV)/.installed
	$(CX) sample --visits 6000 --seed 20261001 $(RAW)

bench: $(VENV)/.installed-dev
	$(PY) benchmarks/bench_clean.py
	$(PY) benchmarks/bench_report.py

refresh-notebooks: $(VENV)/.installed-dev
	$(PY) -m cxlib.notebooks refresh notebooks

clean-data:
	rm -rf $(PROCESSED)/* $(REPORTS)/*
	touch $(PROCESSED)/.gitkeep $(REPORTS)/.gitkeep
