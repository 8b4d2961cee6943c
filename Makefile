# btvstat-open: `make demo` to see it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

# `make demo` installs the tool alone (no test extras): what a city's server needs.
RUNTIME := $(VENV)/.installed-runtime
$(RUNTIME): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(RUNTIME)

demo: $(RUNTIME)
	@echo "btvstat-open is in $(BIN): run 'source $(BIN)/activate' in another shell to use it there"
	$(BIN)/btvstat-open serve --demo --store .btvstat/demo-store --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	@# npm packages: axe-core for the browser tests' accessibility audits, soda-js for the interop tests
	@# (both fail in CI without them); oidc-provider, the identity provider of the sign-in tests
	if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error && \
	  npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error && \
	  npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error; fi
	@# Koop, a real ArcGIS REST server for the ArcGIS connector's tests (tests/koop_site.py)
	if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/koop --no-audit --no-fund --loglevel=error; fi
	$(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) .btvstat .pytest_cache .mypy_cache .ruff_cache
