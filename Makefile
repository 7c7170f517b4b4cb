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
.PHONY: help install run test test-fast lint browser-deps translations clean bench bench-deps

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

install: $(VENV)/.installed ## create .venv and install the project with its test tools

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

test-fast: install ## the suite without the browser tests
	$(BIN)/pytest -m "not browser"

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
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
