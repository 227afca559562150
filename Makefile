# The two set-up commands of the README. Each creates the virtual environment (.venv) when it is missing
# or older than pyproject.toml, so both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint golden clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## the whole runbook for the demo HU on the embedded default
demo: $(STAMP)
	$(BIN)/productizar run parameters/hu/demo.yaml --env local

## lint first, then unit tests, notebook regression (nbval) and the end-to-end run
test: lint
	$(BIN)/python -m pytest

## ruff (lint, import order, format) and mypy on lib/, configured in pyproject.toml
LINTED := lib tests benchmarks tools jobs conftest.py
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

## re-execute the step notebooks on the demo HU and keep their outputs as the nbval golden
golden: $(STAMP)
	$(BIN)/python tools/refresh_golden.py

clean:
	rm -rf $(VENV) outputs/HU* .productizar
