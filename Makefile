# Relance — the two commands are `make run` and `make test`; both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SAM := .tools/sam/bin/sam
ASL_VALIDATOR := .tools/node_modules/.bin/asl-validator
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PORT ?= 3000
TIME_SCALE ?= 8640
export SAM_CLI_TELEMETRY := 0

.PHONY: help run test lint format typecheck template build unit integration e2e fuzz bench cost openapi requirements deploy clean install test-calendars web-assets

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- installs
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(SAM):
	$(PYTHON) -m venv .tools/sam
	.tools/sam/bin/pip install --quiet --upgrade pip
	.tools/sam/bin/pip install --quiet 'aws-sam-cli>=1.140,<2'

.tools/.system-packages:
	@missing=""; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	mkdir -p .tools && touch $@

$(ASL_VALIDATOR): .tools/.system-packages
	npm install --prefix .tools --no-audit --no-fund --silent asl-validator@4.0.0

# The web app's browser assets, pinned, from npm; copied into the function so `sam build` packages
# them (the copy is generated and git-ignored). The web function serves them under hashed URLs.
WEB_NPM := htmx.org@2.0.11 bootstrap@5.3.8
WEB_VENDOR := functions/web/static/vendor
WEB_ASSETS := $(WEB_VENDOR)/.$(subst @,-,$(subst $(eval) ,_,$(WEB_NPM)))

$(WEB_ASSETS): .tools/.system-packages
	npm install --prefix .tools --no-audit --no-fund --silent $(WEB_NPM)
	rm -rf $(WEB_VENDOR) && mkdir -p $(WEB_VENDOR)
	cp .tools/node_modules/htmx.org/dist/htmx.min.js .tools/node_modules/bootstrap/dist/css/bootstrap.min.css $(WEB_VENDOR)/
	touch $@

web-assets: $(WEB_ASSETS) ## the web app's browser assets (htmx, Bootstrap CSS) from npm

install: $(VENV)/.installed ## the Python environment (the rest installs on demand)

# ---------------------------------------------------------------- the two commands
run: $(VENV)/.installed $(WEB_ASSETS) ## bring the whole system up on http://127.0.0.1:$(PORT) (Ctrl-C stops it)
	$(BIN)/python -m local serve --port $(PORT) --time-scale $(TIME_SCALE)

test: lint typecheck template $(ASL_VALIDATOR) $(WEB_ASSETS) .tools/.system-packages ## everything CI runs: lint, types, template checks, all tests, the API fuzz (10 examples per operation and mode)
	$(BIN)/python -m tests.parallel tests/unit tests/integration tests/e2e tests/fuzz

# ---------------------------------------------------------------- parts of `make test`
lint: $(VENV)/.installed ## ruff check and format check, the import rules (lint-imports, CONTRIBUTING.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

format: $(VENV)/.installed ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(VENV)/.installed ## mypy (strict): the relance package, local/, and each function's code folder (its handler and the routers it loads on demand)
	$(BIN)/mypy
	@failed=0; for code in functions/*/; do MYPYPATH=$$code $(BIN)/mypy $$code || failed=1; done; exit $$failed

template: $(VENV)/.installed $(SAM) $(WEB_ASSETS) ## cfn-lint, sam validate --lint, sam build (no container)
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint --region us-east-1
	$(SAM) build

unit: $(VENV)/.installed $(WEB_ASSETS) ## unit tests (no AWS)
	$(BIN)/pytest tests/unit -x

integration: $(VENV)/.installed $(ASL_VALIDATOR) $(WEB_ASSETS) ## integration tests through the local runtime on moto
	$(BIN)/pytest tests/integration -x

# The clock-sensitive tests, each run with the clock started on another day (and in another time zone).
CALENDAR_TESTS := tests/integration/test_dunning_cycle.py tests/integration/test_mail_loop.py tests/integration/test_portal.py tests/integration/test_nightly.py tests/integration/test_local_runtime.py
test-calendars: $(VENV)/.installed $(ASL_VALIDATOR) ## the clock-sensitive tests from a Saturday, a Sunday, a Monday 23:30 in Tokyo and a Tuesday 01:30 UTC (before the nightly run)
	RELANCE_TEST_CLOCK_START=2026-11-28T10:00:00+01:00 $(BIN)/pytest -x -q $(CALENDAR_TESTS)
	RELANCE_TEST_CLOCK_START=2026-11-29T18:00:00+01:00 $(BIN)/pytest -x -q $(CALENDAR_TESTS)
	RELANCE_TEST_CLOCK_START=2026-11-30T23:30:00+09:00 RELANCE_TEST_TIMEZONE=Asia/Tokyo $(BIN)/pytest -x -q $(CALENDAR_TESTS)
	RELANCE_TEST_CLOCK_START=2026-12-01T01:30:00+00:00 $(BIN)/pytest -x -q $(CALENDAR_TESTS)

e2e: $(VENV)/.installed $(WEB_ASSETS) .tools/.system-packages ## `python -m local serve` over HTTP and in headless Chromium
	$(BIN)/pytest tests/e2e -x

FUZZ_EXAMPLES ?= 100
fuzz: $(VENV)/.installed ## the deep API fuzz: requests generated from the OpenAPI document, 0 5xx, every answer as documented (FUZZ_EXAMPLES=100 per operation and mode, seeded; make test runs 10)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/fuzz

build: $(VENV)/.installed $(SAM) $(WEB_ASSETS) ## sam build (no container): the artifacts in .aws-sam/build
	$(SAM) build

bench: $(VENV)/.installed $(WEB_ASSETS) build ## benchmarks, with figures printed (cold starts as shipped: sam build's)
	$(BIN)/pytest tests/bench --timeout 900 --benchmark-only --benchmark-columns=min,median,mean,max,ops,rounds -p no:cacheprovider

cost: $(VENV)/.installed ## the monthly AWS bill for 100, 1,000 and 10,000 customers, line by line (docs/cost.md)
	$(BIN)/python -m local.cost

# ---------------------------------------------------------------- generated files
openapi: $(VENV)/.installed ## regenerate functions/api/openapi.json (docs/openapi.json links to it) and docs/api.md's table of operations
	$(BIN)/python -m local openapi
	$(BIN)/python -m local.api_doc

requirements: $(VENV)/.installed ## regenerate layers/core/requirements.txt from pyproject.toml
	$(BIN)/python -m local requirements

# ---------------------------------------------------------------- AWS
deploy: $(SAM) $(WEB_ASSETS) ## build and deploy to the AWS account of your credentials (see docs/operations.md)
	$(SAM) build
	$(SAM) deploy

clean: ## remove build output and installed tools
	rm -rf $(VENV) .tools .aws-sam .local .pytest_cache .ruff_cache .mypy_cache
