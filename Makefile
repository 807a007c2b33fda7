# Everyday commands. Each runs from the project's .venv (`make install` makes it) and needs no environment:
# development runs on SQLite, as the README's commands do.

PYTHON := .venv/bin/python
MANAGE := $(PYTHON) manage.py
# The PostgreSQL database `make test-postgres` runs the suite on (pytest-django creates test_<name> beside it).
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/excerpts
# `make bench` seeds this many synthetic excerpts into its own SQLite file, kept for the next run (delete it to
# seed again). The README's figures are for BENCH_COUNT=1000000. The name matches .gitignore's db.sqlite3*.
BENCH_COUNT ?= 100000
BENCH_DB ?= db.sqlite3-bench-$(BENCH_COUNT)
# Options for manage.py benchmark, e.g. BENCH_ARGS="--terms 10 --export".
BENCH_ARGS ?=

.DEFAULT_GOAL := help
# A seed that fails half-way leaves no file behind to be taken for a seeded one.
.DELETE_ON_ERROR:
.PHONY: help install test test-postgres lint format check serve bench

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'

install:  ## Create .venv and install requirements.txt into it
	python3 -m venv .venv && .venv/bin/pip install -r requirements.txt

test:  ## The test suite on SQLite (the README's command)
	$(PYTHON) -m pytest

test-postgres:  ## The same suite on PostgreSQL (POSTGRES_URL)
	DATABASE_URL=$(POSTGRES_URL) $(PYTHON) -m pytest

lint:  ## ruff (lint and format), mypy, and the import contracts, as CI runs them
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports

format:  ## Apply ruff's fixes and formatting
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

check:  ## Django's system checks, no missing migration, and a valid OpenAPI schema
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run
	$(MANAGE) spectacular --validate --fail-on-warn --file /dev/null

serve:  ## Migrate, load the seed corpus into an empty database, and serve on http://127.0.0.1:8000/
	$(MANAGE) migrate && $(MANAGE) load_seed_corpus && DJANGO_DEBUG=true $(MANAGE) runserver

bench: $(BENCH_DB)  ## Time the research endpoints on BENCH_COUNT synthetic excerpts (BENCH_DB, BENCH_ARGS)
	DATABASE_URL=sqlite:///$(abspath $(BENCH_DB)) $(MANAGE) benchmark $(BENCH_ARGS)

$(BENCH_DB):
	rm -f $@-wal $@-shm
	DATABASE_URL=sqlite:///$(abspath $@) $(MANAGE) migrate --verbosity 0
	DATABASE_URL=sqlite:///$(abspath $@) $(MANAGE) seed_synthetic --count $(BENCH_COUNT)
