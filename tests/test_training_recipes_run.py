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


@pytest.mark.slow
def test_grounding_recipe_logs_every_reward_part_and_reports(fresh_checkout, capsys):
    import json

    from tests.helpers.tiny import tiny_model_dir

    code = main(
        [
            "train",
            "grpo",
            "--config",
            "training/recipes/tiny/grpo_grounding.yaml",
            "--model_name_or_path",
            str(tiny_model_dir()),
            "--max_steps",
            "2",
            "--max_completion_length",
            "24",
            "--output_dir",
            "out",
            "--save_strategy",
            "no",
            "--disable_tqdm",
            "true",
        ]
    )
    assert code == 0, capsys.readouterr().err
    history = json.loads((fresh_checkout / "out" / "trainer_state.json").read_text())["log_history"]
    logged = {key for entry in history for key in entry}
    for name in ("gaussian_point", "gaussian_coverage", "format"):
        assert f"rewards/{name}_reward/mean" in logged, name
    for name in ("gaussian_point", "gaussian_coverage"):
        for part in ("applicable", "typed", "inside", "point_answer"):
            assert f"rewards/{name}/{part}" in logged, (name, part)
    for part in ("think_tag", "think_json", "think_fields", "answer_tag", "answer_json"):
        assert f"rewards/format/{part}" in logged, part
    assert "images/tokens_per_sample_mean" in logged
    assert main(["train", "report", "out"]) == 0
    page = (fresh_checkout / "out" / "report" / "report.html").read_text()
    assert "Reward parts: gaussian_point" in page and "Sample completions" in page
