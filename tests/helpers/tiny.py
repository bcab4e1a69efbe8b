"""The tiny random Qwen2.5-VL for tests, built once and reused.

    from tests.helpers.tiny import tiny_model_dir
    path = tiny_model_dir()            # a folder that from_pretrained / load_processor accept

The folder lives under the system temp dir, keyed by the seed and a hash of everything the build
depends on (the factory's source and the agent's prompt templates, which the tokenizer trains on), so
a changed factory never serves a stale model and repeated sessions skip the ~4 s build. Tests must
not write into it: copy it first if a test needs to modify the checkpoint.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]


def _build_key(seed: int) -> str:
    digest = hashlib.sha256()
    sources = [_ROOT / "training" / "tiny_model.py", _ROOT / "agent" / "processor.py"]
    prompts = _ROOT / "agent" / "prompts"
    if prompts.is_dir():
        sources += sorted(p for p in prompts.rglob("*") if p.is_file())
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"seed{seed}-{digest.hexdigest()[:16]}"


def tiny_model_dir(seed: int = 0) -> Path:
    """Return the folder of the tiny model for `seed`, building it on first use."""
    from training.tiny_model import build_tiny_model

    cache = Path(tempfile.gettempdir()) / "phone-r1-tiny-models"
    target = cache / _build_key(seed)
    if (target / "model.safetensors").is_file() and (target / "processor_config.json").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename, so a concurrent or interrupted build never leaves half a model.
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}-", dir=cache))
    build_tiny_model(staging, seed=seed)
    try:
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / "model.safetensors").is_file():
            raise
    return target


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    """Session fixture: the tiny model folder for seed 0 (import it into a test module to use it)."""
    return tiny_model_dir(0)
