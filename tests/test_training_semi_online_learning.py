"""Learning check: semi-online GRPO raises own-history progress over its SFT warm start on the toy task.

Toy, warm start and GRPO settings: `tests/helpers/semi_online_learning.py` (2 episodes of 3 steps, gold
`back`; the warm start is SFT on them plus three copies of each labelled `wait`, so it answers in the
format but prefers the wrong action; semi-online GRPO 10 steps, `patch` without a cap, 8 rollouts, lr
1e-3). Both models are run by `phone-r1 eval run --local` with own history and teacher-forced; the
figures are printed.
"""

from __future__ import annotations

import torch

from tests.helpers.semi_online_learning import run_learning_check
from tests.helpers.tiny import learning_check

# Progress on 2 episodes x 3 steps moves in sixths; 0.5 asks for at least three more steps walked right
# before the first error (both episodes' first steps and one more).
MARGIN = 0.5


# About 4.5 minutes on two busy cores.
@learning_check("docs/training.md, 'Semi-online RL'")
def test_semi_online_grpo_raises_own_history_progress(tmp_path):
    torch.set_num_threads(2)
    result = run_learning_check(tmp_path)
    before, after = result.before["own_progress"], result.after["own_progress"]
    print(
        f"\nsemi-online learning check: warm start {result.before}; after semi-online GRPO {result.after}; "
        f"reward per step index and GRPO step: {result.rewards}"
    )
    assert after >= before + MARGIN, (
        f"semi-online GRPO did not raise own-history progress by {MARGIN}: {before:.3f} -> {after:.3f}"
    )
