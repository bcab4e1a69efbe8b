"""Own-history progress before and after semi-online GRPO, from an SFT warm start, on the toy task.

Toy task (the learning check of `tests/test_training_learning.py`, in episodes of several steps):
every gold action is `back`. An SFT warm start (bare JSON target) on the recorded episodes, then
semi-online GRPO (rule `action` reward, `patch` policy without a cap); own-history progress (the share
of each episode's steps answered right before the first mismatch) is measured with `phone-r1 eval run
--history own --local` (greedy) on the warm start and on the GRPO result. Prints the semi-online
reward per step index and GRPO step, both progress figures and, last,
`semi_online_progress_gain: <after - before>`.

Not a test: on the 2-core CPU box it did not learn (docs/training.md, "Semi-online RL"), and one run
takes about 11 minutes there.

    python benchmarks/semi_online_learning.py [--sft-steps 58] [--grpo-steps 12] [--steps-per-episode 3]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def own_progress(checkpoint: Path, episodes: Path, out: Path) -> float:
    from eval.own_metrics import own_history_metrics
    from eval.results import read_results
    from phone_r1.cli import main

    argv = ["eval", "run", "--episodes", str(episodes), "--local", str(checkpoint), "--history", "own"]
    if main([*argv, "-o", str(out)]) != 0:
        raise SystemExit(f"eval run failed on {checkpoint}")
    return own_history_metrics(read_results(out).records.values())["progress"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sft-steps", type=int, default=58)
    parser.add_argument("--grpo-steps", type=int, default=12)
    parser.add_argument("--steps-per-episode", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import torch

    from tests.helpers.tiny import LEARNING_FLAGS, write_episodes
    from training.run import plan, train
    from training.tiny_model import build_tiny_model

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        model = build_tiny_model(tmp / "tiny", seed=0)
        toy = write_episodes(tmp / "toy", n_episodes=2, steps=args.steps_per_episode)
        warm = tmp / "sft"
        sft = ["--config", str(ROOT / "training/recipes/tiny/sft.yaml"), "--model_name_or_path", str(model)]
        sft += ["--dataset_path", str(toy), "--output_dir", str(warm), "--sft_target", "json"]
        sft += ["--learning_rate", "1e-2", "--max_steps", str(args.sft_steps)]
        train(plan("sft", [*sft, "--per_device_train_batch_size", "2", *LEARNING_FLAGS]))
        before = own_progress(warm, toy, tmp / "before.jsonl")
        grpo = ["--config", str(ROOT / "training/recipes/tiny/grpo.yaml"), "--model_name_or_path", str(warm)]
        grpo += ["--dataset_path", str(toy), "--output_dir", str(tmp / "grpo"), "--semi_online", "true"]
        grpo += ["--semi_online_max_patches", "-1", "--reward_funcs", "action", "--reward_weights", "1"]
        grpo += ["--learning_rate", "3e-4", "--max_steps", str(args.grpo_steps)]
        grpo += ["--per_device_train_batch_size", "8", "--num_generations", "8"]
        grpo += ["--max_completion_length", "32", "--temperature", "1.0", "--log_completions", "false"]
        trainer = train(plan("grpo", [*grpo, *LEARNING_FLAGS]))
        after = own_progress(tmp / "grpo", toy, tmp / "after.jsonl")
        log = trainer.state.log_history
        keys = sorted({k for entry in log for k in entry if k.startswith("semi_online/reward/")})
        rewards = {key: [round(entry[key], 2) for entry in log if key in entry] for key in keys}
    print(
        f"toy: 2 episodes x {args.steps_per_episode} steps, gold `back`; SFT {args.sft_steps} steps, "
        f"semi-online GRPO {args.grpo_steps} steps (8 rollouts per episode)"
    )
    for key, values in rewards.items():
        print(f"{key} per GRPO step: {values}")
    print(f"own-history progress after SFT: {before:.3f}")
    print(f"own-history progress after semi-online GRPO: {after:.3f}")
    print(f"semi_online_progress_gain: {after - before:.3f}")


if __name__ == "__main__":
    main()
