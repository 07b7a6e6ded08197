# Two commands do all set-up on a fresh machine:
#   make lab    install into .venv and start JupyterLab with the extension
#   make test   install into .venv and run every test
# A second run reuses what the first installed: each step leaves a stamp in .make/ and runs again
# only when its inputs change.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMPS := .make
# jlpm and the jupyter commands that build the labextension live in the venv.
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
FRONTEND_SOURCES := $(shell find labextension/src labextension/schema labextension/style -type f) \
	labextension/package.json labextension/yarn.lock labextension/tsconfig.json
LAB_ARGS ?=
PYTEST_ARGS ?=

.PHONY: lab test lint bench install clean

lab: $(STAMPS)/install
	$(BIN)/jupyter lab $(ROOT_FLAG) $(LAB_ARGS)

test: lint $(STAMPS)/chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The linters CI runs: ruff (check and format) on the Python, eslint and prettier on the TypeScript.
lint: $(STAMPS)/install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd labextension && jlpm lint:check

bench: $(STAMPS)/install
	$(BIN)/python benchmarks/run_all.py

install: $(STAMPS)/install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, from the CPU wheel on disk: a looser requirement would pull the CUDA build.
# Then the build tools, so that the project builds without isolation (its labextension is built by
# the venv's jlpm).
$(STAMPS)/build-deps: | $(BIN)/python
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install 'hatchling>=1.21' 'hatch-jupyter-builder>=0.8' editables 'jupyterlab>=4.2,<5'
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/install: $(STAMPS)/build-deps pyproject.toml $(FRONTEND_SOURCES)
	$(BIN)/pip install --no-build-isolation -e '.[test]'
	# Link the built labextension into the venv, so a rebuild (jlpm build) is live at once.
	$(BIN)/jupyter labextension develop --overwrite .
	@mkdir -p $(STAMPS) && touch $@

# Browser tests drive Debian's Chromium; never a browser that a tool downloads.
$(STAMPS)/chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; \
	fi
	@mkdir -p $(STAMPS) && touch $@

clean:
	rm -rf $(STAMPS) $(VENV) jupyter_cursor/labextension labextension/lib labextension/node_modules
