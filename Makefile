# One-command set-up: `make test` and `make demo` each create .venv and install first.
TORCH_VERSION ?= 2.13.0
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST_ARGS ?=
# veRL check environment: veRL pins transformers < 5.11, so it cannot share .venv.
VERL_VERSION ?= 0.9.1
VENV_VERL ?= .venv-verl
# veRL's image loader (qwen-vl-utils) imports torchvision, and the torchvision built for torch 2.13 does
# not load against its CPU build; torch 2.14.1 with torchvision 0.29.1 runs on CPU.
VERL_TORCH ?= torch==2.14.1 torchvision==0.29.1

.PHONY: install test test-fast lint demo clean verl-venv verl-check

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# torch first and pinned: an unpinned torch pulls several GB of CUDA wheels on CPU machines.
	$(PIP) install "torch==$(TORCH_VERSION)"
	$(PIP) install -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

$(VENV_VERL)/.installed: requirements-verl.txt
	$(PYTHON) -m venv $(VENV_VERL)
	$(VENV_VERL)/bin/pip install --upgrade pip
	$(VENV_VERL)/bin/pip install $(VERL_TORCH)
	$(VENV_VERL)/bin/pip install --no-deps "verl==$(VERL_VERSION)"
	$(VENV_VERL)/bin/pip install -r requirements-verl.txt
	touch $@

verl-venv: $(VENV_VERL)/.installed

# veRL's own RLHFDataset and custom-reward loading read `phone-r1 data export-verl` output.
verl-check: install verl-venv
	$(PY) -m pytest tests/test_data_verl_roundtrip.py -v -rs

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
	rm -rf $(VENV) $(VENV_VERL) runs .pytest_cache
