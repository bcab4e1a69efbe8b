# One-command set-up: `make test` and `make demo` each create .venv and install first.
TORCH_VERSION ?= 2.13.0
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST_ARGS ?=
# Extras installed with the project; `deepspeed` runs the ZeRO tests (skipped where it is missing).
EXTRAS ?= dev,deepspeed

.PHONY: install test test-fast lint demo clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# torch first and pinned: an unpinned torch pulls several GB of CUDA wheels on CPU machines.
	$(PIP) install "torch==$(TORCH_VERSION)"
	$(PIP) install -c constraints.txt -e ".[$(EXTRAS)]"
	touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .

demo: install
	$(VENV)/bin/phone-r1 demo $(DEMO_ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache
