# Two commands do all set-up on a fresh machine (Python 3.11+):
#   make run    install and start the whole service on the embedded default
#   make test   install and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-dev browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,translate]"

browser:
	@bash scripts/browser.sh

run: install
	$(BIN)/lotse serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

test: install-dev browser
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var .pytest_cache test-artifacts
