"""The tiny recipes run as shipped, from a fresh checkout layout, through the `phone-r1` CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from agent.checkpoint import CheckpointMeta
from phone_r1.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh_checkout(tmp_path, monkeypatch) -> Path:
    """A working directory laid out like a fresh clone: demo episodes present, no runs/ folder."""
    demo = ROOT / "data" / "demo" / "train"
    if not demo.is_dir():
        pytest.skip("data/demo/train is not in this checkout")
    (tmp_path / "data" / "demo").mkdir(parents=True)
    os.symlink(demo, tmp_path / "data" / "demo" / "train")
    (tmp_path / "training").symlink_to(ROOT / "training")
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(2)
    return tmp_path


@pytest.mark.slow
def test_tiny_grpo_recipe_runs_as_is_and_builds_the_model(fresh_checkout, capsys):
    code = main(
        [
            "train",
            "grpo",
            "--config",
            "training/recipes/tiny/grpo.yaml",
            "--max_steps",
            "2",
            "--output_dir",
            "out",
            "--disable_tqdm",
            "true",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert (fresh_checkout / "runs" / "tiny-model" / "model.safetensors").is_file()
    assert "finished at step 2" in capsys.readouterr().out
    meta = CheckpointMeta.load(fresh_checkout / "out")
    assert (meta.coord_space, meta.max_pixels, meta.base_model) == ("resized", 12544, "runs/tiny-model")


@pytest.mark.slow
def test_tiny_sft_recipe_runs_with_think_targets(fresh_checkout, capsys):
    code = main(
        [
            "train",
            "sft",
            "--config",
            "training/recipes/tiny/sft.yaml",
            "--max_steps",
            "1",
            "--max_train_samples",
            "2",
            "--output_dir",
            "out",
            "--save_steps",
            "1",
            "--disable_tqdm",
            "true",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert CheckpointMeta.load(fresh_checkout / "out" / "checkpoint-1").coord_space == "resized"
    assert (fresh_checkout / "out" / "processor_config.json").is_file()
