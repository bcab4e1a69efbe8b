"""The semi-online learning check: own-history progress after an SFT warm start and after semi-online GRPO.

Shared by `tests/test_training_semi_online_learning.py` and `benchmarks/semi_online_learning.py`.

Toy task: 2 episodes of 3 steps, every gold action `back` (`回退`), and each step's recorded history
is what an own-history run writes after right answers (`打开APP`, then `回退` per earlier step). A
wrong answer is patched with the gold description (`patch`, no cap), so every rollout runs the whole
episode. With the toy's first recorded history (`打开APP`, `点击设置`) the own-history prompts were
ones SFT never showed, the tiny model answered step 1 with malformed JSON in every rollout, and there
was nothing to learn (docs/training.md, "Semi-online RL").

The warm start is fluent in the answer format but prefers a wrong action: SFT (bare JSON target,
learning rate 1e-2 decayed to 0 by a cosine) on the toy plus `WRONG_COPIES` copies of each episode
whose every gold is `wait`, the same prompts and screenshots. Its greedy answers are `wait` (own-history
progress 0) while about a quarter of its sampled answers are `back`: the spread GRPO learns from. A
warm start picked by how far a jumpy SFT run had got (the last checkpoint before the greedy model
walked a step) was tried before and failed on 5 of 8 seed x stack x checkpoint-spacing runs: near
SFT's jump almost no sampled answer was right, so the advantages were 0. Semi-online GRPO (rule
`action` reward, 8 rollouts of one episode per step) then runs from the warm start. Each model is run
by `phone-r1 eval run --local` with own history and teacher-forced (greedy, answers cut at the GRPO
completion length), set side by side by `eval.own_metrics.history_gap` (what `eval report --against`
shows): the loop semi-online training closes.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers.tiny import LEARNING_FLAGS, tiny_model_dir, write_episodes

ROOT = Path(__file__).resolve().parents[2]
OWN_HISTORY = ["打开APP", "回退", "回退"]  # what own history holds at steps 0, 1, 2 after right answers
WAIT = {"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": "等待"}
WRONG_COPIES = 3  # copies of each episode labelled `wait` in the SFT data, beside the one labelled `back`
COMPLETION_TOKENS = 32  # GRPO's completion length; eval cuts answers at the same length


@dataclass
class LearningResult:
    """`history_gap` of the warm start and of the GRPO result, and the GRPO run's reward per step index."""

    before: dict
    after: dict
    rewards: dict[str, list[float]] = field(default_factory=dict)


def evaluate(checkpoint: Path, episodes: Path, out: Path, history: str = "own") -> list[dict]:
    """`phone-r1 eval run --local checkpoint --history history` on `episodes`; its records."""
    from eval.results import read_results
    from phone_r1.cli import main

    argv = ["eval", "run", "--episodes", str(episodes), "--local", str(checkpoint), "--history", history]
    argv += ["--max-tokens", str(COMPLETION_TOKENS), "--no-progress", "-o", str(out)]
    out.parent.mkdir(parents=True, exist_ok=True)
    if main(argv) != 0:
        raise RuntimeError(f"eval run --history {history} failed on {checkpoint}")
    return list(read_results(out).records.values())


def gap(checkpoint: Path, episodes: Path, out: Path) -> dict:
    """Teacher-forced SR and episode success against own-history success and progress of `checkpoint`."""
    from eval.own_metrics import history_gap, own_history_metrics

    own = own_history_metrics(evaluate(checkpoint, episodes, out / "own.jsonl"))
    found = history_gap(own, evaluate(checkpoint, episodes, out / "gold.jsonl", history="gold"))
    return {k: v for k, v in found.items() if k != "flipped_episodes"}


def warm_start_data(toy: Path, root: Path, copies: int = WRONG_COPIES) -> Path:
    """The toy's episodes, plus `copies` copies of each whose every gold is `wait` (same screens)."""
    shutil.copytree(toy, root)
    for episode in sorted(p for p in toy.iterdir() if p.is_dir()):
        for c in range(copies):
            copy = root / f"{episode.name}-wait{c}"
            shutil.copytree(episode, copy)
            for path in copy.glob("step_*.json"):
                record = json.loads(path.read_text(encoding="utf-8"))
                record["output"] = WAIT
                path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return root


def run_learning_check(
    tmp: Path,
    *,
    sft_steps: int = 100,
    grpo_steps: int = 10,
    grpo_learning_rate: float = 1e-3,
    seed: int = 0,
) -> LearningResult:
    """SFT warm start, semi-online GRPO, both evaluated; everything written under `tmp`."""
    from training.run import plan, train

    toy = write_episodes(tmp / "toy", n_episodes=2, steps=3, history=OWN_HISTORY)
    flags = [*LEARNING_FLAGS, "--seed", str(seed)]
    warm = tmp / "sft"
    sft = [
        "--config",
        str(ROOT / "training/recipes/tiny/sft.yaml"),
        "--model_name_or_path",
        str(tiny_model_dir()),
    ]
    sft += ["--dataset_path", str(warm_start_data(toy, tmp / "sft-data")), "--output_dir", str(warm)]
    sft += ["--sft_target", "json", "--learning_rate", "1e-2", "--lr_scheduler_type", "cosine"]
    sft += ["--max_steps", str(sft_steps), "--per_device_train_batch_size", "2"]
    train(plan("sft", [*flags, *sft]))
    grpo = ["--config", str(ROOT / "training/recipes/tiny/grpo.yaml"), "--model_name_or_path", str(warm)]
    grpo += ["--dataset_path", str(toy), "--output_dir", str(tmp / "grpo"), "--semi_online", "true"]
    grpo += ["--semi_online_patch", "patch", "--semi_online_max_patches", "-1"]
    grpo += ["--reward_funcs", "action", "--reward_weights", "1"]
    grpo += ["--learning_rate", str(grpo_learning_rate), "--max_steps", str(grpo_steps)]
    grpo += ["--per_device_train_batch_size", "8", "--num_generations", "8"]
    grpo += ["--max_completion_length", str(COMPLETION_TOKENS), "--temperature", "1.0"]
    grpo += ["--log_completions", "false"]
    trainer = train(plan("grpo", [*grpo, *flags]))
    history = trainer.state.log_history
    keys = sorted({k for entry in history for k in entry if k.startswith("semi_online/reward/")})
    rewards = {k: [round(entry[k], 2) for entry in history if k in entry] for k in keys}
    return LearningResult(
        before=gap(warm, toy, tmp / "eval-before"),
        after=gap(tmp / "grpo", toy, tmp / "eval-after"),
        rewards=rewards,
    )
