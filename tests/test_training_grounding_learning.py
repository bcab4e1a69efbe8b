"""Learning check for the dense grounding rewards: GRPO with GUI-G²'s Gaussian rewards moves taps closer.

Toy task: every step's gold is the same click box. A short SFT warm start on the bare JSON target
leaves the tiny model answering clicks whose coordinates are still mostly wrong; GRPO with
`gaussian_point` + `gaussian_coverage` (no format reward, so only grounding counts) must then lift the
mean Gaussian point reward clearly. Both figures are printed.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
import torch

from tests.helpers.tiny import CLICK, LEARNING_FLAGS, tiny_model_dir, write_episodes
from training.run import plan, train

ROOT = Path(__file__).resolve().parents[1]
SFT_STEPS, GRPO_STEPS, WINDOW, MARGIN = 80, 16, 4, 0.10


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_gaussian_grounding_reward_rises(tmp_path):
    torch.set_num_threads(2)
    toy = write_episodes(tmp_path / "toy", n_episodes=2, steps=2, action=CLICK)
    warm = tmp_path / "sft"
    train(
        plan(
            "sft",
            [
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
                *LEARNING_FLAGS,
            ],
        )
    )
    grpo = train(
        plan(
            "grpo",
            [
                "--config",
                str(ROOT / "training/recipes/tiny/grpo_grounding.yaml"),
                "--model_name_or_path",
                str(warm),
                "--dataset_path",
                str(toy),
                "--output_dir",
                str(tmp_path / "grpo"),
                "--reward_funcs",
                "gaussian_point",
                "gaussian_coverage",
                "--reward_weights",
                "1",
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
                "56",
                "--log_completions",
                "false",
                *LEARNING_FLAGS,
            ],
        )
    )
    key = "rewards/gaussian_point_reward/mean"
    rewards = [entry[key] for entry in grpo.state.log_history if key in entry]
    assert len(rewards) == GRPO_STEPS
    first, last = statistics.mean(rewards[:WINDOW]), statistics.mean(rewards[-WINDOW:])
    print(
        f"\ngrounding learning check: mean gaussian_point reward over the first {WINDOW} GRPO steps "
        f"{first:.3f}, over the last {WINDOW} steps {last:.3f} (per step: {[round(r, 2) for r in rewards]})"
    )
    assert last >= first + MARGIN, f"GRPO did not learn grounding: first {first:.3f}, last {last:.3f}"
