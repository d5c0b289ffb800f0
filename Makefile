# Orchard: the two commands are `make run` and `make test`; `make help` lists the rest.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Two stamps: `make run` installs the runtime only; the test and lint tools come on top
# for every other target (`.installed` is the one engineers' notes name).
RUNTIME_STAMP := $(VENV)/.installed-runtime
STAMP         := $(VENV)/.installed
PIP    := $(BIN)/pip install -qq --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help run test lint format unit integration large bench clean chromium

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(RUNTIME_STAMP): setup.cfg pyproject.toml
	@echo "Installing Orchard's runtime into $(VENV) (once; 'make clean' removes it)..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(PIP) -e .
	@touch $(RUNTIME_STAMP)

$(STAMP): $(RUNTIME_STAMP)
	@echo "Adding the test and lint tools to $(VENV)..."
	@$(PIP) -e '.[test]'
	@touch $(STAMP)

run: $(RUNTIME_STAMP) ## serve Orchard on the embedded default (SQLite + ./orchard-data, port 8080)
	$(BIN)/orchard serve

lint: $(STAMP) ## ruff lint and format check, mypy over the production code
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain adapters entrypoints

format: $(STAMP) ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

unit: $(STAMP) ## domain and view tests with in-memory fakes
	$(BIN)/pytest tests/unit

integration: $(STAMP) ## adapters and live servers against real PostgreSQL, S3 and clients
	$(BIN)/pytest tests/integration

# The browser tests drive Debian's Chromium (never a downloaded browser build).
chromium: ## install Debian's chromium for the browser tests when it is missing
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	else echo "The browser tests need Debian's chromium: run 'sudo apt-get install -y chromium' (they are skipped without it)."; fi

test: $(STAMP) chromium lint ## install what the tests need, lint, and run the default suite
	$(BIN)/pytest

large: $(STAMP) ## the on-demand large-file and load tests
	$(BIN)/pytest -m "large or load"

bench: $(STAMP) ## benchmarks against peers; writes benchmarks/RESULTS.md
	$(BIN)/python -m benchmarks.run

clean: ## remove the virtualenv and caches (keeps orchard-data)
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
