# hengqi: two commands do all the set-up on a fresh machine (Python 3.11 and make):
#   make run    the platform on embedded defaults
#   make test   every test and check (lint, types, import layers, tests, short benchmarks)
PY ?= python3
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.8
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

.PHONY: run test lint typecheck layers pytest bench services fmt lock clean

$(UV):
	$(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The environment is made from the committed lock file only (--frozen: never re-resolved).
$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python $(PY)
	@touch $@

# The platform on loopback (http://127.0.0.1:8000/api/v1/docs) with SQLite in ./data, created and migrated on the
# first start; --demo adds a demo organisation, one user per role (passwords printed) and a few instruments.
run: $(VENV)/.synced
	@bash scripts/ensure-system-packages.sh --runtime
	$(VENV)/bin/hengqi serve --demo --host 127.0.0.1 --port 8000

test: lint typecheck layers services pytest bench

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: $(VENV)/.synced
	$(VENV)/bin/mypy

layers: $(VENV)/.synced
	$(VENV)/bin/lint-imports

services:
	@bash scripts/ensure-services.sh
	@bash scripts/ensure-system-packages.sh

# Two test processes (pytest-xdist; a test file stays in one process): the suite takes about 15 min instead of 20+
# on the project's 2-core machines. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
pytest: $(VENV)/.synced
	$(VENV)/bin/pytest $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

bench: $(VENV)/.synced
	@if [ -f bench/run.py ]; then $(VENV)/bin/python bench/run.py --short; fi

fmt: $(VENV)/.synced
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

lock: $(UV)
	$(UV) lock

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
