"""Own-history progress before and after semi-online GRPO, from an SFT warm start, on the toy task.

The learning check of `tests/test_training_semi_online_learning.py` as a script with knobs (toy, warm
start and GRPO settings: `tests/helpers/semi_online_learning.py`): 2 episodes of 3 steps, gold `back`
throughout, recorded histories equal to what own history holds after right answers. SFT saves every
`--sft-save-steps`; each checkpoint's own-history progress is measured and the warm start is the last
checkpoint before the first that walks a step. Semi-online GRPO (`patch`, no cap, 8 rollouts, rule
`action` reward) runs from it; own-history progress by `phone-r1 eval run --history own --local`
(greedy) on the warm start and on the GRPO result. Prints the SFT checkpoints' progress, the
semi-online reward per step index and GRPO step, both progress figures and, last,
`semi_online_progress_gain: <after - before>`.

    python benchmarks/semi_online_learning.py [--sft-steps 100] [--sft-save-steps 10] [--grpo-steps 10]
        [--grpo-lr 1e-3] [--seed 0]
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
    parser.add_argument("--sft-save-steps", type=int, default=10)
    parser.add_argument("--grpo-steps", type=int, default=10)
    parser.add_argument("--grpo-lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0, help="training seed of both runs (the model's is 0)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import torch

    from tests.helpers.semi_online_learning import run_learning_check

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp_name:
        result = run_learning_check(
            Path(tmp_name),
            sft_steps=args.sft_steps,
            sft_save_steps=args.sft_save_steps,
            grpo_steps=args.grpo_steps,
            grpo_learning_rate=args.grpo_lr,
            seed=args.seed,
        )
    print(
        f"toy: 2 episodes x 3 steps, gold `back`; SFT warm start {result.sft_steps} steps, semi-online GRPO "
        f"{args.grpo_steps} steps at lr {args.grpo_lr:g} (8 rollouts per episode), seed {args.seed}"
    )
    print(f"own-history progress of the SFT checkpoints (step: progress): {result.sft_progress}")
    for key, values in result.rewards.items():
        print(f"{key} per GRPO step: {values}")
    print(f"own-history progress after SFT: {result.before:.3f}")
    print(f"own-history progress after semi-online GRPO: {result.after:.3f}")
    print(f"semi_online_progress_gain: {result.after - result.before:.3f}")


if __name__ == "__main__":
    main()
