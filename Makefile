# Trade2026. `make up` runs the platform locally; `make test` runs every test. Both install what they need.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements/constraints.txt | sha1sum | cut -c1-12)
FRONTEND_STAMP := frontend/dist/.built
export AWS_ACCESS_KEY_ID := testing
export AWS_SECRET_ACCESS_KEY := testing
export AWS_DEFAULT_REGION := us-east-1
export AWS_EC2_METADATA_DISABLED := true

.PHONY: up test install lint bench openapi deploy build clean frontend browser

up: install frontend ## Run the whole platform on the embedded local cloud (Ctrl-C stops it)
	$(BIN)/trade2026 up

test: install frontend browser ## Install and run the whole suite
	$(BIN)/pytest

install: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 not found)"; exit 1; }
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is needed, found " + sys.version'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e '.[lake,research,quant,local,dev]'
	rm -f $(VENV)/.installed-* && touch $@

frontend: $(FRONTEND_STAMP)

$(FRONTEND_STAMP): $(shell find frontend -path frontend/node_modules -prune -o -path frontend/dist -prune -o -type f -print 2>/dev/null) docs/openapi.json
	@if [ -f frontend/package.json ]; then \
		cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run build; \
	else mkdir -p frontend/dist; fi
	touch $@

browser: ## Debian's Chromium for the browser tests (playwright-core drives it; no browser download)
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get install -y -qq --no-install-recommends chromium >/dev/null || \
			{ apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; \
		else echo "The browser tests need Chromium: sudo apt-get install chromium"; exit 1; fi; }

lint: install ## ruff, mypy, cfn-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check layers infra functions tests benchmarks models
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml

openapi: install ## Regenerate docs/openapi.json from the handlers
	$(BIN)/python -m localcloud.openapi > docs/openapi.json

bench: install ## Run every benchmark and record its numbers in docs/benchmarks.md
	$(BIN)/python benchmarks/run_all.py

build: install ## sam build (needs the AWS SAM CLI)
	$(BIN)/trade2026 build

deploy: install ## sam deploy --config-env $(STAGE) to your AWS account
	$(BIN)/trade2026 deploy --stage $(or $(STAGE),dev)

clean:
	rm -rf $(VENV) .localcloud frontend/dist frontend/node_modules
