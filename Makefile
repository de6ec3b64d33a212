# Every target installs what it needs first, so each works on a fresh clone.
# The logic lives in the sqs-kit command (constructs/sqs_kit/local); these
# targets only pick its arguments.

VENV := .venv
PYTHON ?= python3
BIN := $(CURDIR)/$(VENV)/bin
CDK := $(CURDIR)/node_modules/.bin/cdk
ENV ?= dev
# Test processes; the end-to-end tests always share one of them.
PYTEST_WORKERS ?= 2

# Node.js 24 from the virtual environment comes first on PATH, for jsii and the CDK CLI.
export PATH := $(BIN):$(PATH)

.PHONY: install synth deploy local drill redrive diff docs test format lint typecheck snapshots bench clean

SCAN_VENV := .venv-scan

install: $(VENV)/.installed node_modules/.installed $(SCAN_VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt constructs/pyproject.toml scripts/link_node.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python scripts/link_node.py $(BIN)
	$(BIN)/node --version
	touch $@

$(SCAN_VENV)/.installed: requirements-scan.txt
	test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SCAN_VENV)/bin/python -m pip install --quiet -r requirements-scan.txt
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The stacks need no AWS account to synthesize. Without credentials the CLI skips
# looking up the default account with STS; the other settings stop its notices,
# telemetry and npm version check, so `make synth` never leaves the machine.
OFFLINE_CDK := env $(addprefix -u ,$(filter AWS_%,$(.VARIABLES))) \
	AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=true $(CDK)

synth: install
	$(OFFLINE_CDK) synth -c env=$(ENV) --quiet --no-notices

deploy: install
	$(CDK) deploy -c env=$(ENV)

local: install
	$(BIN)/sqs-kit local --env $(ENV) $(ARGS)

# Fault options go in ARGS, for example: make drill ARGS="--messages 1000 --transient 0.3 --poison 0.02"
drill: install
	$(BIN)/sqs-kit drill --env $(ENV) $(ARGS)

# QUEUE is a queue's logical name from the config, for example: make redrive QUEUE=orders ARGS=--dry-run
redrive: install
	$(BIN)/sqs-kit redrive --env $(ENV) --queue $(QUEUE) $(ARGS)

diff: install
	$(BIN)/sqs-kit diff $(ARGS)

format: install
	$(BIN)/ruff format .

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

docs: install
	$(BIN)/python scripts/generate_config_docs.py

snapshots: install
	$(BIN)/pytest tests/synth --snapshot-update

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(SCAN_VENV) .venv-bench node_modules cdk.out .build .pytest_cache .mypy_cache .ruff_cache .sqs-kit
