# The two set-up commands of the README. Each creates the virtual environment (.venv) when it is missing
# or older than pyproject.toml or the lock, installs the system packages it needs when they are missing
# (tools/system-deps), and gives the scanners with heavy pins their own environments (.tools/), so both
# work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# uv installs the locked versions several times faster than pip; it is bootstrapped with pip, and
# `pip install -c constraints.txt -e '.[test]'` gives the same environment without it.
# Both environments are installed compiled (--compile-bytecode), and lib/ too: where PYTHONDONTWRITEBYTECODE
# is set (this project's machines set it) Python never writes a .pyc, so every process (each step's kernel,
# cfn-lint, checkov, moto) compiled pandas, boto3 and the rest from source again, half of a small step's time
UV_VERSION := 0.13.9
CHECKOV_ENV := .tools/checkov
CHECKOV := $(CHECKOV_ENV)/bin/checkov
LINTED := lib tests benchmarks tools jobs conftest.py

.PHONY: demo promotion test check lint golden lock clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -e '.[test]'
	$(BIN)/python -m compileall -q lib jobs
	touch $(STAMP)

$(CHECKOV): tools/checkov.txt tools/checkov.lock $(STAMP)
	$(PYTHON) -m venv $(CHECKOV_ENV)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(CHECKOV_ENV)/bin/python -c tools/checkov.lock -r tools/checkov.txt
	touch $(CHECKOV)

## the whole runbook for the demo HU on the embedded default
demo: $(STAMP) $(CHECKOV)
	tools/system-deps demo
	$(BIN)/productizar run parameters/hu/demo.yaml --env local

## the demo HU promoted through local-dev, local-qa and local-prd: gates, approvals and the board
promotion: $(STAMP) $(CHECKOV)
	tools/system-deps demo
	$(BIN)/python tools/promotion.py $(ARGS)

## lint first, then unit tests, notebook regression (nbval) and the end-to-end run
test: $(STAMP) $(CHECKOV)
	tools/system-deps test
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest

## the loop to run while working: lint, then every test that needs no server, no kernel, no JVM and no scanner
FAST := not embedded and not server and not scan and not scale and not hive and not spark and not e2e and not browser
check: $(STAMP)
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest tests -q -m "$(FAST)"

## ruff (lint, import order, format) and mypy on lib/, configured in pyproject.toml
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

## re-execute the step notebooks on the demo HU and keep their outputs as the nbval golden
golden: $(STAMP) $(CHECKOV)
	$(BIN)/python tools/refresh_golden.py

## refresh the locks: the newest versions pyproject.toml and tools/checkov.txt allow, resolved afresh
lock: $(STAMP)
	rm -rf .lock-env && $(PYTHON) -m venv .lock-env
	$(BIN)/uv pip install --quiet --python .lock-env/bin/python -e '.[test]'
	(echo "# The versions the tests passed with, for every package the project's environment installs (uv pip freeze)."; \
	 echo "# Used by the set-up (make); refreshed by 'make lock'. pip users: pip install -c constraints.txt -e '.[test]'"; \
	 $(BIN)/uv pip freeze --python .lock-env/bin/python --exclude-editable | grep -v '^\(pip\|setuptools\)==') > constraints.txt
	rm -rf .lock-env && $(PYTHON) -m venv .lock-env
	$(BIN)/uv pip install --quiet --python .lock-env/bin/python -r tools/checkov.txt
	(echo "# checkov's own environment (.tools/checkov/), as the tests passed with it; refreshed by 'make lock'."; \
	 $(BIN)/uv pip freeze --python .lock-env/bin/python | grep -v '^\(pip\|setuptools\)==') > tools/checkov.lock
	rm -rf .lock-env

clean:
	rm -rf $(VENV) .tools outputs/HU* .productizar
