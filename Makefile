# The README's two commands: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# llama-cpp-python is built from source; the native build crashed on the development machines'
# CPUs (docs/ARCHITECTURE.md#model-runtimes).
export CMAKE_ARGS := -DGGML_NATIVE=OFF

# pytest's workers for the tests that do not run the embedded model: one per core. The
# tests that do (marked embedded_model by tests/conftest.py) run afterwards in one process,
# with one model load; PYTEST_ARGS=-n0 runs the first part in one process too.
PYTEST_ARGS ?= -n auto

.PHONY: demo test install-dev lint pytest eval-examples bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	# The CPU build of torch first (a local wheel on these machines): the dev extras need
	# torch (bert-score, the transformers backend), and a plain `torch` requirement would
	# pull a multi-GB CUDA build.
	$(BIN)/python -m pip install 'torch==2.13.0'
	# The [transformers] extra less xgrammar, then xgrammar without its dependencies: its
	# Linux wheel requires triton (a 1 GB GPU kernel compiler) that the CPU path never imports.
	$(BIN)/python -m pip install -e '.[transformers-cpu,dev]'
	$(BIN)/python -m pip install --no-deps 'xgrammar>=0.1.20'
	# The review pages' browser tests drive Debian's Chromium (Playwright's own browser
	# download does not work on the development machines).
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update && apt-get install -y chromium chromium-driver; \
	  else \
	    echo "tests/web needs /usr/bin/chromium: run 'sudo apt-get install -y chromium chromium-driver'" \
	      "(the browser tests are skipped without it)"; \
	  fi; \
	fi
	touch $(VENV)/.run-installed $@

install-dev: $(VENV)/.dev-installed

demo: $(VENV)/.run-installed
	$(BIN)/reportdraft demo --out demo-out

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The README's test command: the phases in order (bench/test_time.py times each one).
test: install-dev lint pytest eval-examples

pytest: $(VENV)/.dev-installed
	$(BIN)/pytest $(PYTEST_ARGS) -m "not embedded_model"
	$(BIN)/pytest -p no:xdist -m embedded_model

# The QA suite over the examples (rules + embedded model); exits non-zero on a failed gate.
eval-examples: $(VENV)/.dev-installed
	$(BIN)/reportdraft eval eval/examples.yaml --out out/eval-examples -q

clean:
	rm -rf $(VENV) demo-out out .pytest_cache .mypy_cache .ruff_cache
