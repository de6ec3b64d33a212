# Every target installs what it needs first, so each works on a fresh clone.
# The logic lives in the sqs-kit command (constructs/sqs_kit/local); these
# targets only pick its arguments.

VENV := .venv
PYTHON ?= python3
BIN := $(CURDIR)/$(VENV)/bin
CDK := $(CURDIR)/node_modules/.bin/cdk
ENV ?= dev

# Node.js 24 from the virtual environment comes first on PATH, for jsii and the CDK CLI.
export PATH := $(BIN):$(PATH)

.PHONY: install synth deploy local test check format lint typecheck snapshots bench clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt constructs/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python scripts/link_node.py $(BIN)
	$(BIN)/node --version
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: install
	$(CDK) synth -c env=$(ENV) --quiet

deploy: install
	$(CDK) deploy -c env=$(ENV)

local: install
	$(BIN)/sqs-kit local --env $(ENV)

format: install
	$(BIN)/ruff format .

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

snapshots: install
	$(BIN)/pytest tests/synth --snapshot-update

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) node_modules cdk.out .build .pytest_cache .mypy_cache .ruff_cache
