"""Own-history progress before and after semi-online GRPO, from an SFT warm start, on the toy task.

The learning check of `tests/test_training_semi_online_learning.py` as a script with knobs (toy, warm
start and GRPO settings: `tests/helpers/semi_online_learning.py`): 2 episodes of 3 steps, gold `back`
throughout; the warm start is SFT on those episodes plus three copies of each labelled `wait`, so it
answers in the format but prefers the wrong action. Semi-online GRPO (`patch`, no cap, 8 rollouts,
rule `action` reward) runs from it. Both models are run by `phone-r1 eval run --local` with own history
and teacher-forced (greedy). Prints the semi-online reward per step index and GRPO step, teacher-forced
SR against own-history success and progress of both models and, last,
`semi_online_progress_gain: <after - before>`.

    python benchmarks/semi_online_learning.py [--sft-steps 100] [--grpo-steps 10] [--grpo-lr 1e-3] [--seed 0]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sft-steps", type=int, default=100)
    parser.add_argument("--grpo-steps", type=int, default=10)
    parser.add_argument("--grpo-lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0, help="training seed of both runs (the model's is 0)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import torch

    from tests.helpers.semi_online_learning import WRONG_COPIES, run_learning_check

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp_name:
        result = run_learning_check(
            Path(tmp_name),
            sft_steps=args.sft_steps,
            grpo_steps=args.grpo_steps,
            grpo_learning_rate=args.grpo_lr,
            seed=args.seed,
        )
    print(
        f"toy: 2 episodes x 3 steps, gold `back`; SFT warm start {args.sft_steps} steps ({WRONG_COPIES} of "
        f"{WRONG_COPIES + 1} copies labelled `wait`), semi-online GRPO {args.grpo_steps} steps at lr "
        f"{args.grpo_lr:g} (8 rollouts), seed {args.seed}"
    )
    for key, values in result.rewards.items():
        print(f"{key} per GRPO step: {values}")
    for name, found in (("SFT warm start", result.before), ("after semi-online GRPO", result.after)):
        print(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in found.items() if isinstance(v, float)))
    print(f"semi_online_progress_gain: {result.after['own_progress'] - result.before['own_progress']:.3f}")


if __name__ == "__main__":
    main()
