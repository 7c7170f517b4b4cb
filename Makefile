# `make help` lists the targets. Everything the project needs is installed from here.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get

.DEFAULT_GOAL := help
.PHONY: help install catalogs run test test-sqlite test-postgres test-fast lint browser-deps \
	postgres-deps axe translations clean bench bench-deps

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(BIN)/python:
	@# Debian ships venv separately; install it when we are root and it is missing.
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    $(APT_GET) update -qq && $(APT_GET) install -y -qq python3-venv python3-dev >/dev/null && \
	    rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); \
	  else echo "python3 -m venv failed: install python3-venv" >&2; exit 1; fi; }

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

install: $(VENV)/.installed catalogs ## create .venv and install the project with its test tools

# Compiled catalogues are build products (not committed): rebuilt when a .po file changes.
PO_FILES := $(wildcard forum/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
catalogs: $(MO_FILES)
forum/translations/%/LC_MESSAGES/messages.mo: forum/translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@ -l $*

translations: install ## extract messages and update the fr/it catalogues (then translate the new ones)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --project=forum -o forum/translations/messages.pot forum templates templates/_partials >/dev/null
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete --width 100 \
	  -i forum/translations/messages.pot -d forum/translations >/dev/null

run: install ## migrate, load the demo data on first start, serve on http://127.0.0.1:5000 and deliver mail
	$(FLASK) db upgrade
	$(FLASK) forum seed-demo --if-empty
	@# The mail deliverer runs beside the dev server and stops with it (Ctrl+C stops both).
	@$(FLASK) forum deliver & deliverer=$$!; \
	  trap 'kill $$deliverer 2>/dev/null; wait $$deliverer 2>/dev/null' EXIT INT TERM; \
	  $(FLASK) run --host $(HOST) --port $(PORT)

browser-deps: ## install Debian's Chromium for the browser tests (as root)
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing chromium with apt-get…"; \
	    ($(APT_GET) install -y -qq chromium >/dev/null 2>&1 || \
	     ($(APT_GET) update -qq && $(APT_GET) install -y -qq chromium >/dev/null)); \
	  else echo "chromium is not installed and we are not root: browser tests will skip" >&2; fi; \
	fi

# axe-core checks accessibility inside the browser tests; it is test tooling, never served by the
# product. Pinned by version and by the registry's sha512 so a run cannot change under our feet;
# kept out of git (650 KB of minified code) and fetched with npm, which the machines carry.
AXE_VERSION := 4.14.1
AXE_INTEGRITY := sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
AXE_DIR := tests/browser/vendor/axe-core-$(AXE_VERSION)

axe: $(AXE_DIR)/axe.min.js ## fetch the pinned axe-core (npm registry) for the accessibility tests

$(AXE_DIR)/axe.min.js:
	@if ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing npm with apt-get…"; \
	    ($(APT_GET) install -y -qq npm >/dev/null 2>&1 || \
	     ($(APT_GET) update -qq && $(APT_GET) install -y -qq npm >/dev/null)); \
	  else echo "npm is not installed and we are not root: the axe checks will skip" >&2; exit 0; fi; \
	fi; \
	tmp=$$(mktemp -d) && \
	npm pack --silent --pack-destination "$$tmp" axe-core@$(AXE_VERSION) >/dev/null && \
	got="sha512-$$(openssl dgst -sha512 -binary "$$tmp/axe-core-$(AXE_VERSION).tgz" | base64 -w0)" && \
	if [ "$$got" != "$(AXE_INTEGRITY)" ]; then echo "axe-core tarball integrity mismatch: $$got" >&2; rm -rf "$$tmp"; exit 1; fi && \
	mkdir -p $(AXE_DIR) && \
	tar -xzf "$$tmp/axe-core-$(AXE_VERSION).tgz" -C $(AXE_DIR) --strip-components=1 \
	  package/axe.min.js package/LICENSE package/package.json && \
	rm -rf "$$tmp"


# The test tooling starts its own throwaway cluster from these (tests/databases.py); the search
# migration creates the pg_trgm extension, which Debian ships in postgresql-contrib.
PG_SERVER_FOUND := { { command -v initdb && command -v pg_ctl && command -v postgres; } >/dev/null 2>&1 \
	|| ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; } \
	&& ls /usr/share/postgresql/*/extension/pg_trgm.control "$$(pg_config --sharedir 2>/dev/null)"/extension/pg_trgm.control 2>/dev/null | grep -q .

postgres-deps: ## install Debian's PostgreSQL server and contrib (pg_trgm) for the PostgreSQL test run (as root)
	@if ! ($(PG_SERVER_FOUND)); then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing postgresql and postgresql-contrib with apt-get…"; \
	    ($(APT_GET) install -y -qq postgresql postgresql-contrib >/dev/null 2>&1 || \
	     ($(APT_GET) update -qq && $(APT_GET) install -y -qq postgresql postgresql-contrib >/dev/null)); \
	  else echo "no PostgreSQL server and we are not root: the PostgreSQL run will skip" >&2; fi; \
	fi

# The two runs go side by side: on two cores they took 771 s together against 923 s one after
# the other (measured 2026-11-24). Each run's report is printed whole when it ends
# (--output-sync), not interleaved.
test: install browser-deps axe postgres-deps ## the whole suite on SQLite and on PostgreSQL, side by side
	$(BIN)/ruff check .
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: install ## the whole suite on SQLite only
	$(BIN)/pytest

test-postgres: install postgres-deps ## the whole suite on a throwaway PostgreSQL cluster only
	FORUM_TEST_DATABASE=postgres $(BIN)/pytest

test-fast: install ## the suite without the browser and slow tests
	$(BIN)/pytest -m "not browser and not slow"

lint: install ## ruff
	$(BIN)/ruff check .

bench-deps: ## install Debian's wrk load generator for the benchmark (as root)
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing wrk with apt-get…"; \
	    ($(APT_GET) install -y -qq wrk >/dev/null 2>&1 || \
	     ($(APT_GET) update -qq && $(APT_GET) install -y -qq wrk >/dev/null)); \
	  else echo "wrk is not installed and we are not root: apt-get install wrk" >&2; exit 1; fi; \
	fi

bench: install bench-deps ## load benchmark on generated data (cached in bench/data/); BENCH_SCALE=0.1 for a quick run
	$(BIN)/python -m bench.run

clean: ## remove the virtualenv and caches (keeps instance/)
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info tests/browser/vendor test-artifacts
