# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)

.PHONY: install run test chaos lint format openapi migration bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## Serve the registry with demo data on http://127.0.0.1:8000 (SQLite under instance/ unless DATABASE_URL is set).
run: install
	mkdir -p instance
	PATH="$(CURDIR)/$(BIN):$$PATH" LOAD_DEMO_DATA=1 bin/start

## The whole suite on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set (without the fault tests).
test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not chaos"

## Faults inflicted on a running server under traffic (tests marked chaos), one at a time: each drives 2 workers.
chaos: install
	$(BIN)/python -m pytest -p no:xdist -m chaos -rP

## The OpenAPI linter (Redocly CLI), installed from openapi/lint's lock file into its node_modules.
OPENAPI_LINT := openapi/lint
OPENAPI_LINT_STAMP := $(OPENAPI_LINT)/node_modules/.installed-$(shell cat $(OPENAPI_LINT)/package-lock.json | sha256sum | cut -c1-12)

$(OPENAPI_LINT_STAMP): $(OPENAPI_LINT)/package.json $(OPENAPI_LINT)/package-lock.json
	npm ci --prefix $(OPENAPI_LINT) --no-audit --no-fund --silent
	touch $(OPENAPI_LINT_STAMP)

lint: install $(OPENAPI_LINT_STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m mypy
	REDOCLY_TELEMETRY=off $(OPENAPI_LINT)/node_modules/.bin/redocly lint openapi/openapi.json --config openapi/redocly.yaml

format: install
	$(BIN)/python -m ruff check --fix .
	$(BIN)/python -m ruff format .

## Regenerate the committed OpenAPI document from the code.
openapi: install
	$(BIN)/python -m flask --app wsgi openapi write --format=json openapi/openapi.json

## A new migration from what the models changed: make migration message="case budget" (review it before committing).
MIGRATION_DB := sqlite:///$(CURDIR)/instance/migration-scratch.sqlite3
migration: install
	mkdir -p instance && rm -f instance/migration-scratch.sqlite3
	DATABASE_URL=$(MIGRATION_DB) $(BIN)/alembic upgrade head
	DATABASE_URL=$(MIGRATION_DB) $(BIN)/alembic revision --autogenerate \
	  --rev-id $$(printf %04d $$(( $$(ls migrations/versions/*.py | wc -l) + 1 ))) -m "$(message)"
	rm -f instance/migration-scratch.sqlite3

## Load benchmarks (not tests): see bench/README.md. Datasette, the peer measured, gets its own virtualenv.
DATASETTE_VENV := .bench/datasette-venv
DATASETTE_STAMP := $(DATASETTE_VENV)/.installed-$(shell sha256sum bench/requirements.txt | cut -c1-12)

$(DATASETTE_STAMP): bench/requirements.txt
	test -x $(DATASETTE_VENV)/bin/python || $(PYTHON) -m venv $(DATASETTE_VENV)
	$(DATASETTE_VENV)/bin/python -m pip install --quiet -r bench/requirements.txt
	rm -f $(DATASETTE_VENV)/.installed-* && touch $(DATASETTE_STAMP)

bench: install $(DATASETTE_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache $(OPENAPI_LINT)/node_modules
