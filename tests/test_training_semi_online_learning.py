"""Learning check: semi-online GRPO raises own-history progress over its SFT warm start on the toy task.

Toy, warm start and GRPO settings: `tests/helpers/semi_online_learning.py` (2 episodes of 3 steps, gold
`back`, recorded histories equal to own history after right answers; SFT at lr 1e-2 saved every 10
steps up to 100, the warm start being the last checkpoint before the first whose greedy own-history
progress is above 0; semi-online GRPO 10 steps, `patch` without a cap, 8 rollouts, lr 1e-3). Progress
is measured by `phone-r1 eval run --history own --local` (greedy) before and after GRPO; both figures
are printed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.helpers.semi_online_learning import run_learning_check, warm_start

# Progress on 2 episodes x 3 steps moves in sixths; 0.25 asks for at least two more steps walked right
# before the first error (one episode's first two steps, or the first step of both).
MARGIN = 0.25


def test_warm_start_is_the_last_checkpoint_before_one_walks_a_step():
    a, b, c = Path("checkpoint-10"), Path("checkpoint-20"), Path("checkpoint-30")
    assert warm_start([(a, 0.0), (b, 0.0), (c, 0.667)]) == (b, 0.0)
    assert warm_start([(a, 0.0), (b, 0.0), (c, 0.0)]) == (c, 0.0)
    with pytest.raises(RuntimeError, match="first SFT checkpoint"):
        warm_start([(a, 0.333), (b, 0.0)])


@pytest.mark.slow
def test_semi_online_grpo_raises_own_history_progress(tmp_path):
    torch.set_num_threads(2)
    result = run_learning_check(tmp_path)
    print(
        f"\nsemi-online learning check: SFT checkpoints' own-history progress {result.sft_progress}; "
        f"warm start {result.sft_steps} SFT steps: {result.before:.3f}; after semi-online GRPO: "
        f"{result.after:.3f} (reward per step index and GRPO step: {result.rewards})"
    )
    assert result.after >= result.before + MARGIN, (
        f"semi-online GRPO did not raise own-history progress by {MARGIN}: "
        f"{result.before:.3f} -> {result.after:.3f}"
    )
