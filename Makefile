# Roomcast: `make run` (PORT=8000) for a development server and its task worker, `make test` for every test, `make messages` for translations.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

# The first interpreter that is Python >= 3.12 (the repo's .python-version selects 3.13 under pyenv).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.14; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)

# `make test` runs against the production setup: PostgreSQL and Redis on this machine unless set otherwise.
# Without them (and outside CI) the suite falls back to SQLite and the in-memory layer, and says so.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run test demo bench bench-search lint format chromium gettext axe messages python clean

python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "Roomcast needs Python 3.12 or newer (Django 6.1); found: $$(python3 --version 2>&1)."; \
		echo "Install one, e.g. 'pyenv install 3.13' (the repo's .python-version then selects it),"; \
		echo "or your system's python3.13 package, and run make again."; \
		exit 1; \
	fi

$(VENV)/.runtime: requirements.txt | python
	@[ -x $(PY) ] && $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || $(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

PORT ?= 8000

# The development server and, beside it, the task worker (link previews), which stops with it (Ctrl-C, or the
# server failing): job control (set -m) gives the worker a process group of its own, its reloader's child included.
run: $(VENV)/.runtime
	$(PY) manage.py migrate
	set -m; nice -n 10 $(PY) manage.py db_worker & worker=$$!; trap 'kill -TERM -$$worker 2>/dev/null' EXIT; \
		$(PY) manage.py runserver 127.0.0.1:$(PORT)

demo: $(VENV)/.runtime
	$(PY) manage.py migrate
	$(PY) manage.py demo

# Fan-out benchmark: Roomcast, the Channels-tutorial design and a raw websockets server on one Redis.
bench: $(VENV)/.dev
	$(PY) bench/run.py $(BENCH_ARGS)

# Search speed: 1,000,000 messages across 1,000 rooms on PostgreSQL (bench/search.py builds the database once).
bench-search: $(VENV)/.dev
	$(PY) bench/search.py $(BENCH_ARGS)

# Tools the tests need from Debian: installed under CI; elsewhere, a note that their tests will skip.
# $(call debian_tool,command,package,name,tests that skip without it)
define debian_tool
	@if ! command -v $(1) >/dev/null; then \
		if [ "$$CI" = "true" ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
		else \
			echo "NOTE: $(3) is not installed, so $(4) will SKIP."; \
			echo "      Install it with: sudo apt-get install $(2)"; \
		fi; \
	fi
endef

# e2e tests drive Debian's Chromium (Playwright cannot download its own browser here).
chromium:
	$(call debian_tool,chromium,chromium,Chromium,the browser (e2e) tests)

# Translations need GNU gettext: makemessages and compilemessages, and tests/test_translations.py, which runs
# them to prove locale/ complete and compiled.
gettext:
	$(call debian_tool,msgfmt,gettext,GNU gettext,the translation tests)

# The accessibility check (e2e/test_accessibility.py) runs axe-core, pinned in package-lock.json and installed
# from npm into node_modules/ (npm comes with Node.js). Reinstalled when the lock file changes. Outside CI a
# failed install is a note and those tests skip; under CI it fails the run.
axe:
	@if [ ! -f node_modules/axe-core/axe.min.js ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		if ! npm ci --no-audit --no-fund; then \
			[ "$$CI" = "true" ] && exit 1; \
			echo "NOTE: axe-core could not be installed (npm ci; npm comes with Node.js), so the accessibility tests will SKIP."; \
		fi; \
	fi

# After changing user-facing text: brings locale/zh_Hans/LC_MESSAGES/django.po up to date with the code
# (new strings empty, changed ones fuzzy) and compiles it; translate, then run it again.
messages: $(VENV)/.runtime gettext
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=bench --ignore=e2e --ignore=tests --ignore=staticfiles --ignore=node_modules
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports  # realtime <- rooms <- moderation <- accounts: pyproject.toml's contract

format: $(VENV)/.dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

test: $(VENV)/.dev chromium gettext axe lint
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
		$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules db.sqlite3 test-db.sqlite3 staticfiles .pytest_cache .ruff_cache
