# hitwatch task runner. `make run` and `make test` are the README's two commands.
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help setup run demo live test test-unit lint bench clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(VENV)/.synced  ## Create .venv with the locked dependencies

.tools/bin/uv:
	python3 -m venv .tools && .tools/bin/pip install --quiet uv

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev
	@touch $@

run: setup  ## Run the whole product on embedded defaults (demo crawl of the bundled mirror)
	$(BIN)/hitwatch run

live: setup  ## Run the whole product and crawl the real sources
	$(BIN)/hitwatch run --live

test: setup  ## Start Redis, PostgreSQL and Elasticsearch, run every test, stop them
	scripts/test

test-unit: setup  ## Unit tests and the server-free contract suites (no servers)
	$(BIN)/pytest tests/unit tests/contract -q -m "not requires_elasticsearch and not requires_postgres"

lint:  setup ## ruff, mypy and the import contracts
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy hitwatch crawler classifier indexer notifier webapp && $(BIN)/lint-imports

clean:  ## Remove the virtualenv, embedded data and test servers' state
	-scripts/services down
	rm -rf $(VENV) .tools var .services
