# One-command set-up: `make test` and `make demo` each create .venv and install first.
TORCH_VERSION ?= 2.13.0
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST_ARGS ?=
# The users' stack: the CUDA build of torch with torchvision (runs on CPU too), in its own venv.
TV_VENV ?= .venv-tv
TV_TORCH ?= torch==2.14.1 torchvision==0.29.1
TV_PY := $(TV_VENV)/bin/python
# 1: fail when the torchvision stack cannot be built (CI); 0: say why and skip.
TV_REQUIRED ?= 0

.PHONY: install test test-fast lint demo clean install-tv test-tv

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# torch first and pinned: an unpinned torch pulls several GB of CUDA wheels on CPU machines.
	$(PIP) install "torch==$(TORCH_VERSION)"
	$(PIP) install -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Built only where pip can get both wheels (checked with a dry run, seconds); the stamp keeps the venv
# between runs so CI re-installs only when pyproject.toml or constraints.txt change.
$(TV_VENV)/.installed: pyproject.toml constraints.txt
	@if ! why="$$($(PYTHON) -m pip install --dry-run --quiet --no-deps --ignore-installed $(TV_TORCH) 2>&1)"; then \
		echo "torchvision stack skipped: pip cannot get $(TV_TORCH) here: $$(echo "$$why" | grep -E 'ERROR' | head -1)"; \
		if [ "$(TV_REQUIRED)" = "1" ]; then exit 1; fi; \
		exit 0; \
	fi; \
	set -e; \
	$(PYTHON) -m venv $(TV_VENV); \
	$(TV_VENV)/bin/pip install --quiet --upgrade pip; \
	$(TV_VENV)/bin/pip install --quiet $(TV_TORCH); \
	$(TV_VENV)/bin/pip install --quiet -c constraints.txt -e ".[dev]"; \
	touch $@

install-tv: $(TV_VENV)/.installed

# The whole suite on the torchvision stack (ruff runs once, in `make test`).
test-tv: install-tv
	@if [ -f $(TV_VENV)/.installed ]; then $(TV_PY) -m pytest $(PYTEST_ARGS); fi

test: install
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .

demo: install
	$(VENV)/bin/phone-r1 demo $(DEMO_ARGS)

clean:
	rm -rf $(VENV) $(TV_VENV) runs .pytest_cache
