# Ship Captain Crew: `make run` (local stack with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run rehearse test unit typecheck lint format bench bench-record bench-page lighthouse screenshot browser clean

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

# docs/deploy.md's go-live, from nothing, on the embedded emulator: ends with PASS or FAIL.
rehearse: $(STAMP)
	$(BIN)/python scripts/rehearse.py

# Browser tests drive Debian's Chromium; install it when it is missing. They check each
# screen with axe-core (npm, pinned), installed into build/axe (git-ignored) with Node.js.
AXE_VERSION := 4.11.0
AXE := build/axe/node_modules/axe-core/axe.min.js

browser: $(AXE)
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Chromium for the browser tests (apt)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; }

$(AXE): Makefile
	@command -v npm >/dev/null 2>&1 || { \
	  echo "Installing Node.js and npm for axe-core (apt)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	@echo "Installing axe-core $(AXE_VERSION) into build/axe"
	@mkdir -p build/axe
	npm install --prefix build/axe --no-save --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION)
	@test -f $(AXE) && touch $(AXE)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Types are checked on the Lambda code (app.py and chalicelib/).
typecheck: $(STAMP)
	$(BIN)/mypy

# The unit tier: pure rules, no emulator, a few seconds.
unit: $(STAMP)
	$(BIN)/pytest -m unit tests/unit

test: $(STAMP) browser lint typecheck
	$(BIN)/pytest

# Results go to build/bench/ (git-ignored); bench-record keeps them in bench/results.json.
bench: $(STAMP)
	$(BIN)/python -m bench

bench-record: $(STAMP)
	$(BIN)/python -m bench --output bench/results.json

# The dispatch page in Chromium on emulated networks; writes build/bench/page.json.
bench-page: $(STAMP) browser
	$(BIN)/python -m bench.page

# The login screen judged by Lighthouse (npm, pinned for this Node), into build/lighthouse.
LIGHTHOUSE_VERSION := 12.2.3
LIGHTHOUSE := build/lighthouse/node_modules/.bin/lighthouse

$(LIGHTHOUSE): Makefile | browser
	@echo "Installing Lighthouse $(LIGHTHOUSE_VERSION) into build/lighthouse"
	@mkdir -p build/lighthouse
	npm install --prefix build/lighthouse --no-save --no-audit --no-fund --loglevel=error lighthouse@$(LIGHTHOUSE_VERSION)
	@test -f $(LIGHTHOUSE) && touch $(LIGHTHOUSE)

lighthouse: $(STAMP) browser $(LIGHTHOUSE)
	$(BIN)/python -m bench.lighthouse

# Refresh the README's picture of the board on purpose (tests write theirs to test-artifacts/).
screenshot: $(STAMP) browser
	SCC_SCREENSHOT=docs/screenshot-board.png $(BIN)/pytest -q tests/browser -k screenshot_for_the_readme

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build
