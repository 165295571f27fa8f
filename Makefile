# One command to run Vigie, one to test it. Both create the virtualenv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# Prefect's temporary server logs "database is locked" tracebacks with analytics on.
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: install run test lint bench bench-quick clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

## run: install, migrate, ingest the seeds, run one monitor pass, print what was stored
run: install
	$(BIN)/vigie run

## lint: ruff (lint + format check), mypy (strict on parsers/, db/, fetching/, flows/, cli/) and
## the import contracts in pyproject.toml (layers cli -> flows -> fetching | db -> parsers, no
## import circles)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy parsers db fetching flows cli
	$(BIN)/lint-imports

## test: lint, then the whole test suite (PostgreSQL tests need VIGIE_TEST_POSTGRES_URL or a local server)
test: lint
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium) || echo "chromium not installed: the Prefect UI check will be skipped"
	$(BIN)/pytest

# The bench extra (reader, pyinstrument) on top of the test install.
$(BIN)/.bench-installed: $(BIN)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

## bench-quick: Vigie vs reader on 40 feeds x 25 items (under a minute)
bench-quick: $(BIN)/.bench-installed
	$(BIN)/python bench/run.py --quick

## bench: 200 feeds x 50 items vs reader, 1k vs 100k stored articles, then story clusters
bench: $(BIN)/.bench-installed
	$(BIN)/python bench/run.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/bench_clusters.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
