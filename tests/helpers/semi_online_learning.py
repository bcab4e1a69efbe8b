"""The semi-online learning check: own-history progress after an SFT warm start and after semi-online GRPO.

Shared by `tests/test_training_semi_online_learning.py` and `benchmarks/semi_online_learning.py`.

Toy task: 2 episodes of 3 steps, every gold action `back` (`回退`), and each step's recorded history
is what an own-history run writes after right answers (`打开APP`, then `回退` per earlier step). A
right answer's own history then equals the recorded one, so the warm start has seen the prompts
semi-online GRPO asks; a wrong one is patched with the gold description (`patch`, no cap), so every
rollout runs the whole episode. With the toy's first recorded history (`打开APP`, `点击设置`) the
own-history prompts were ones SFT never showed, the tiny model answered step 1 with malformed JSON in
every rollout, and there was nothing to learn (docs/training.md, "Semi-online RL").

The SFT warm start (bare JSON target, learning rate 1e-2) stops while the greedy model still answers
step 0 wrong and sampled answers are right some of the time; semi-online GRPO (rule `action` reward,
8 rollouts of one episode per step) then runs; own-history progress is measured by `phone-r1 eval run
--history own --local` (greedy) on both checkpoints.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers.tiny import LEARNING_FLAGS, tiny_model_dir, write_episodes

ROOT = Path(__file__).resolve().parents[2]
OWN_HISTORY = ["打开APP", "回退", "回退"]  # what own history holds at steps 0, 1, 2 after right answers

log = logging.getLogger(__name__)


@dataclass
class LearningResult:
    """Own-history progress before and after semi-online GRPO, and the GRPO run's per-step rewards."""

    before: float
    after: float
    rewards: dict[str, list[float]] = field(default_factory=dict)
    sft_steps: int = 0  # the warm start's SFT steps
    sft_progress: dict[int, float] = field(default_factory=dict)  # SFT step -> own-history progress


def own_progress(checkpoint: Path, episodes: Path, out: Path) -> float:
    """Mean own-history progress of `checkpoint` on `episodes`, by `eval run --history own --local`."""
    from eval.own_metrics import own_history_metrics
    from eval.results import read_results
    from phone_r1.cli import main

    argv = ["eval", "run", "--episodes", str(episodes), "--local", str(checkpoint), "--history", "own"]
    if main([*argv, "-o", str(out)]) != 0:
        raise RuntimeError(f"eval run failed on {checkpoint}")
    return own_history_metrics(read_results(out).records.values())["progress"]


def warm_start(checkpoints: list[tuple[Path, float]]) -> tuple[Path, float]:
    """The last SFT checkpoint before the first whose greedy own-history progress is above 0.

    `checkpoints` are (folder, progress) in training order. Where none walks a step, the last one.
    Raises where the first already walks a step (the warm start left nothing to learn at this pace).
    """
    for i, (_, progress) in enumerate(checkpoints):
        if progress > 0:
            if i == 0:
                raise RuntimeError(
                    f"the first SFT checkpoint already has own-history progress {progress:.3f}"
                )
            return checkpoints[i - 1]
    return checkpoints[-1]


def run_learning_check(
    tmp: Path,
    *,
    sft_steps: int = 100,
    sft_save_steps: int = 10,
    grpo_steps: int = 10,
    grpo_learning_rate: float = 1e-3,
    seed: int = 0,
) -> LearningResult:
    """SFT warm start, semi-online GRPO, own-history progress of both; everything written under `tmp`."""
    from training.run import plan, train

    toy = write_episodes(tmp / "toy", n_episodes=2, steps=3, history=OWN_HISTORY)
    sft_dir = tmp / "sft"
    flags = [*LEARNING_FLAGS, "--seed", str(seed)]
    sft = [
        "--config",
        str(ROOT / "training/recipes/tiny/sft.yaml"),
        "--model_name_or_path",
        str(tiny_model_dir()),
    ]
    sft += ["--dataset_path", str(toy), "--output_dir", str(sft_dir), "--sft_target", "json"]
    sft += ["--learning_rate", "1e-2", "--max_steps", str(sft_steps), "--per_device_train_batch_size", "2"]
    sft += ["--save_strategy", "steps", "--save_steps", str(sft_save_steps), "--save_only_model", "true"]
    sft += ["--save_total_limit", str(sft_steps // sft_save_steps + 1)]
    train(plan("sft", [*flags, *sft]))
    folders = sorted(sft_dir.glob("checkpoint-*"), key=lambda p: int(p.name.rsplit("-", 1)[1]))
    progress = [(f, own_progress(f, toy, tmp / f"{f.name}.jsonl")) for f in folders]
    warm, before = warm_start(progress)
    grpo = ["--config", str(ROOT / "training/recipes/tiny/grpo.yaml"), "--model_name_or_path", str(warm)]
    grpo += ["--dataset_path", str(toy), "--output_dir", str(tmp / "grpo"), "--semi_online", "true"]
    grpo += ["--semi_online_patch", "patch", "--semi_online_max_patches", "-1"]
    grpo += ["--reward_funcs", "action", "--reward_weights", "1"]
    grpo += ["--learning_rate", str(grpo_learning_rate), "--max_steps", str(grpo_steps)]
    grpo += ["--per_device_train_batch_size", "8", "--num_generations", "8"]
    grpo += ["--max_completion_length", "32", "--temperature", "1.0", "--log_completions", "false"]
    trainer = train(plan("grpo", [*grpo, *flags]))
    after = own_progress(tmp / "grpo", toy, tmp / "after.jsonl")
    history = trainer.state.log_history
    keys = sorted({k for entry in history for k in entry if k.startswith("semi_online/reward/")})
    rewards = {k: [round(entry[k], 2) for entry in history if k in entry] for k in keys}
    sft_progress = {int(f.name.rsplit("-", 1)[1]): round(p, 3) for f, p in progress}
    return LearningResult(
        before=before,
        after=after,
        rewards=rewards,
        sft_steps=int(warm.name.rsplit("-", 1)[1]),
        sft_progress=sft_progress,
    )
