# Ship Captain Crew: `make run` (local stack with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench bench-page screenshot browser clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3-venv is missing: installing it with apt"; \
	  apt-get update -qq && apt-get install -y -qq python3-venv && rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python scripts/dev_stack.py

# Browser tests drive Debian's Chromium; install it when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Chromium for the browser tests (apt)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: $(STAMP) browser lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

# The dispatch page in Chromium on emulated networks; writes build/bench/page.json.
bench-page: $(STAMP) browser
	$(BIN)/python -m bench.page

# Refresh the README's picture of the board on purpose (tests write theirs to test-artifacts/).
screenshot: $(STAMP) browser
	SCC_SCREENSHOT=docs/screenshot-board.png $(BIN)/pytest -q tests/browser -k screenshot_for_the_readme

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build
