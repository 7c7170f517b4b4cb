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
.PHONY: help install catalogs run test test-fast lint browser-deps translations clean

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
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete --no-location \
	  -i forum/translations/messages.pot -d forum/translations >/dev/null

run: install ## migrate, load the demo data on first start, serve on http://127.0.0.1:5000
	$(FLASK) db upgrade
	$(FLASK) forum seed-demo --if-empty
	$(FLASK) run --host $(HOST) --port $(PORT)

browser-deps: ## install Debian's Chromium for the browser tests (as root)
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing chromium with apt-get…"; \
	    ($(APT_GET) install -y -qq chromium >/dev/null 2>&1 || \
	     ($(APT_GET) update -qq && $(APT_GET) install -y -qq chromium >/dev/null)); \
	  else echo "chromium is not installed and we are not root: browser tests will skip" >&2; fi; \
	fi

test: install browser-deps ## install what the tests need and run the whole suite
	$(BIN)/ruff check .
	$(BIN)/pytest

test-fast: install ## the suite without the browser and slow tests
	$(BIN)/pytest -m "not browser and not slow"

lint: install ## ruff
	$(BIN)/ruff check .

clean: ## remove the virtualenv and caches (keeps instance/)
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
