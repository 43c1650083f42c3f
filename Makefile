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

.PHONY: up test install lint audit fuzz bench perf openapi deploy build clean frontend browser

up: install frontend ## Run the whole platform on the embedded local cloud (Ctrl-C stops it)
	$(BIN)/trade2026 up

test: install frontend browser ## Install and run the whole suite; line coverage of trade2026 (>= 80%, also in handlers' workers)
	rm -f .coverage .coverage.*
	$(BIN)/pytest --cov --cov-report=term:skip-covered --durations=15

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

lint: install ## ruff, mypy, cfn-lint, bandit; then pip-audit and npm audit (online; OFFLINE=1 skips them)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check layers infra functions tests benchmarks models
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml
	$(BIN)/bandit -q -c infra/bandit.yaml -r layers/trade2026/trade2026 infra/localcloud functions
	@if [ -n "$(OFFLINE)" ]; then echo "OFFLINE=1: pip-audit and npm audit skipped (they query PyPI/OSV and npm)"; \
	else $(MAKE) --no-print-directory audit; fi

audit: install ## Known vulnerabilities in the pinned Python and npm dependencies (needs the internet)
	$(BIN)/pip-audit --strict -r requirements/constraints.txt $(foreach id,$(PIP_AUDIT_IGNORE),--ignore-vuln $(id))
	@if [ -f frontend/package-lock.json ]; then cd frontend && npm audit --omit=dev --audit-level=moderate; fi

# Accepted pip-audit findings, each justified in docs/security.md (none today).
PIP_AUDIT_IGNORE :=

fuzz: install ## schemathesis over every operation of docs/openapi.json; writes docs/schemathesis.md
	TRADE2026_FUZZ_EXAMPLES=$(or $(EXAMPLES),6) TRADE2026_FUZZ_REPORT=docs/schemathesis.md \
		$(BIN)/pytest tests/contract/test_schemathesis.py -q

openapi: install ## Regenerate docs/openapi.json from the handlers
	$(BIN)/python -m localcloud.openapi > docs/openapi.json

bench: install ## Run every benchmark, the load run and the fault runs; record them in docs/benchmarks.md
	$(BIN)/python benchmarks/run_all.py
	$(MAKE) --no-print-directory perf

perf: install ## 1,000 simulated users and the fault-injection runs (tests/performance; not part of `make test`)
	$(BIN)/python tests/performance/load_run.py --write
	$(BIN)/python tests/performance/fault_runs.py --write

build: install ## sam build (needs the AWS SAM CLI)
	$(BIN)/trade2026 build

deploy: install ## sam deploy --config-env $(STAGE) to your AWS account
	$(BIN)/trade2026 deploy --stage $(or $(STAGE),dev)

clean:
	rm -rf $(VENV) .localcloud frontend/dist frontend/node_modules
