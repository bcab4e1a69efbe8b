"""Learning check: semi-online GRPO lifts own-history progress above its SFT warm start on the toy task.

Toy task: three-step episodes whose every gold action is `back`. A short SFT warm start (bare JSON
target) leaves the tiny model answering badly part of the time; semi-online GRPO (the rule `action`
reward, `patch` policy without a cap) must then raise own-history progress — the share of each
episode's steps answered right before the first mismatch, as `eval run --history own` measures it
with greedy decoding — by the margin below. Both figures are printed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from eval.own_metrics import own_history_metrics
from eval.results import read_results
from phone_r1.cli import main
from tests.helpers.tiny import tiny_model_dir, write_episodes
from tests.test_training_learning import COMMON
from training.run import plan, train

ROOT = Path(__file__).resolve().parents[1]
SFT_STEPS, GRPO_STEPS = 58, 12
MARGIN = 0.15  # own-history progress must rise by this much (absolute, 0..1)
SOLVED = 0.9  # progress of the warm start above which nothing is left to learn


def own_progress(checkpoint: Path, episodes: Path, out: Path) -> float:
    code = main(
        [
            "eval",
            "run",
            "--episodes",
            str(episodes),
            "--local",
            str(checkpoint),
            "--history",
            "own",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    return own_history_metrics(read_results(out).records.values())["progress"]


@pytest.mark.slow
def test_semi_online_grpo_raises_own_history_progress_over_sft(tmp_path):
    torch.set_num_threads(2)
    toy = write_episodes(tmp_path / "toy", n_episodes=2, steps=3)
    warm = tmp_path / "sft"
    sft = [
        "--config",
        str(ROOT / "training/recipes/tiny/sft.yaml"),
        "--model_name_or_path",
        str(tiny_model_dir()),
        "--dataset_path",
        str(toy),
        "--output_dir",
        str(warm),
        "--sft_target",
        "json",
        "--learning_rate",
        "1e-2",
        "--max_steps",
        str(SFT_STEPS),
        "--per_device_train_batch_size",
        "2",
        *COMMON,
    ]
    train(plan("sft", sft))
    before = own_progress(warm, toy, tmp_path / "before.jsonl")
    grpo = [
        "--config",
        str(ROOT / "training/recipes/tiny/grpo.yaml"),
        "--model_name_or_path",
        str(warm),
        "--dataset_path",
        str(toy),
        "--output_dir",
        str(tmp_path / "grpo"),
        "--semi_online",
        "true",
        "--semi_online_max_patches",
        "-1",
        "--reward_funcs",
        "action",
        "--reward_weights",
        "1",
        "--learning_rate",
        "3e-4",
        "--max_steps",
        str(GRPO_STEPS),
        "--per_device_train_batch_size",
        "8",
        "--num_generations",
        "8",
        "--max_completion_length",
        "32",
        "--temperature",
        "1.0",
        "--log_completions",
        "false",
        *COMMON,
    ]
    train(plan("grpo", grpo))
    after = own_progress(tmp_path / "grpo", toy, tmp_path / "after.jsonl")
    print(
        f"\nsemi-online learning check: own-history progress after SFT {before:.3f}, after GRPO {after:.3f}"
    )
    if before >= SOLVED:
        assert after >= before - 0.05, (
            f"semi-online GRPO unlearned a solved task: {before:.3f} -> {after:.3f}"
        )
        return
    assert after >= before + MARGIN, f"semi-online GRPO did not learn: {before:.3f} -> {after:.3f}"
