# Two commands: `make run` (service on the embedded SQLite default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The CPU build of PyTorch; override with e.g. TORCH_SPEC="torch" to take a CUDA build.
TORCH_SPEC ?= torch==2.13.0
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> [1/2] PyTorch ($(TORCH_SPEC)): the largest download, a minute or two the first time"
	$(BIN)/python -m pip install --progress-bar on "$(TORCH_SPEC)"
	@echo "==> [2/2] Forecaster and its dependencies (editable, with the dev tools)"
	$(BIN)/python -m pip install --progress-bar on -e ".[dev]"
	@echo "==> installed into $(VENV)"
	touch $(STAMP)

run: install
	$(BIN)/forecaster migrate
	$(BIN)/forecaster serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# PostgreSQL at 127.0.0.1:5432 when it answers, else a private throwaway cluster (.ci/with-postgres).
test: lint
	.ci/with-postgres $(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/m4.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/api_latency.py
	$(BIN)/python bench/claims.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
