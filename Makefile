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

# Extras installed with the project; `deepspeed` runs the ZeRO tests (skipped where it is missing).
EXTRAS ?= dev,deepspeed
# vLLM's own code checks the serving path (phone_r1.vllm_check), in a venv of its own: vLLM pins its own
# torch and transformers. VLLM_VERSION is the version the `gpu` extra pins; TRL's comes from constraints.txt.
VLLM_VENV ?= .venv-vllm
VLLM_VERSION ?= 0.33.0
VLLM_PY := $(VLLM_VENV)/bin/python
# 1: fail when the vLLM venv cannot be built (CI); 0: say why and skip.
VLLM_REQUIRED ?= 0

# The users' stack: the CUDA build of torch with torchvision (runs on CPU too), in its own venv.
TV_VENV ?= .venv-tv
TV_TORCH ?= torch==2.14.1 torchvision==0.29.1
TV_PY := $(TV_VENV)/bin/python
# 1: fail when the torchvision stack cannot be built (CI); 0: say why and skip.
TV_REQUIRED ?= 0

.PHONY: install test test-fast lint demo clean install-tv test-tv verl-venv verl-check vllm-venv vllm-check

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# torch first and pinned: an unpinned torch pulls several GB of CUDA wheels on CPU machines.
	$(PIP) install "torch==$(TORCH_VERSION)"
	$(PIP) install -c constraints.txt -e ".[$(EXTRAS)]"
	touch $@

install: $(VENV)/.installed

# Under a lock: .ci/run builds it in the background while the suite runs, and the suite's veRL test
# asks for it too; the second caller waits for the first and then finds the stamp. Each phase is
# announced: the build is minutes of downloads (about 6.3 GB installed) that would otherwise be silent.
VERL_BUILD = if [ -f $@ ] && [ $@ -nt requirements-verl.txt ]; then echo "$(VENV_VERL): ready"; exit 0; fi; \
	echo "$(VENV_VERL): building the veRL environment (about 6.3 GB; once) for the veRL round-trip test"; \
	echo "  [1/4] venv and pip"; \
	$(PYTHON) -m venv $(VENV_VERL); \
	$(VENV_VERL)/bin/pip install --quiet --upgrade pip; \
	echo "  [2/4] $(VERL_TORCH) (most of the download)"; \
	$(VENV_VERL)/bin/pip install --quiet $(VERL_TORCH); \
	echo "  [3/4] verl==$(VERL_VERSION)"; \
	$(VENV_VERL)/bin/pip install --quiet --no-deps "verl==$(VERL_VERSION)"; \
	echo "  [4/4] requirements-verl.txt"; \
	$(VENV_VERL)/bin/pip install --quiet -r requirements-verl.txt; \
	touch $@; echo "$(VENV_VERL): ready"
$(VENV_VERL)/.installed: requirements-verl.txt
	@flock -n -E 75 $(VENV_VERL).lock sh -ec '$(VERL_BUILD)' || { rc=$$?; [ $$rc = 75 ] || exit $$rc; \
	echo "$(VENV_VERL): another process is building it; waiting for it"; \
	flock $(VENV_VERL).lock sh -ec '$(VERL_BUILD)'; }

verl-venv: $(VENV_VERL)/.installed

# veRL's own RLHFDataset and custom-reward loading read `phone-r1 data export-verl` output.
verl-check: install verl-venv
	$(PY) -m pytest tests/test_data_verl_roundtrip.py -v -rs
# About 9.4 GB of wheels from PyPI (CUDA torch, which runs on CPU). Built where pip can get vLLM and the
# disk has room; the stamp keeps the venv between runs. phone-r1 itself is not installed there: the probe
# imports only vLLM and TRL, and phone-r1's pins (transformers) conflict with vLLM's.
$(VLLM_VENV)/.installed: pyproject.toml constraints.txt
	@why=""; \
	if [ ! -x $(VLLM_VENV)/bin/vllm ] && [ "$$(df -Pk . | awk 'NR==2 {print $$4}')" -lt 15000000 ]; then why="less than 15 GB free disk here"; \
	elif ! $(PYTHON) -m pip install --dry-run --quiet --no-deps --ignore-installed "vllm==$(VLLM_VERSION)" >/dev/null 2>&1; then \
		why="pip cannot get vllm==$(VLLM_VERSION) here (no PyPI access?)"; fi; \
	if [ -n "$$why" ]; then \
		echo "vllm check skipped: $$why"; \
		if [ "$(VLLM_REQUIRED)" = "1" ]; then exit 1; fi; \
		exit 0; \
	fi; \
	set -e; \
	$(PYTHON) -m venv $(VLLM_VENV); \
	$(VLLM_VENV)/bin/pip install --quiet --upgrade pip; \
	$(VLLM_VENV)/bin/pip install --quiet "vllm==$(VLLM_VERSION)" "$$(grep -E '^trl==' constraints.txt)"; \
	touch $@

vllm-venv: $(VLLM_VENV)/.installed

vllm-check: install $(VLLM_VENV)/.installed
	@if [ -f $(VLLM_VENV)/.installed ]; then $(PY) -m phone_r1.vllm_check --vllm-python $(VLLM_PY); fi
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
	rm -rf $(VENV) $(TV_VENV) $(VENV_VERL) $(VLLM_VENV) runs .pytest_cache
