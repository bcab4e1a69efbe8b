"""The GRPO reward functions of a recipe, built from the registry in `actions.reward_registry`.

Recipes pick rewards by name or dotted path (`reward_funcs: [format, action]`) and weight them with
GRPOConfig's `reward_weights`; the names and weights are written into `phone_r1.json`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actions.reward_registry import RewardFunc, build_reward


def build_reward_funcs(names: Sequence[str], script_args: Any = None) -> list[RewardFunc]:
    """Reward functions for the names a recipe lists (validated earlier by `PhoneR1Arguments`)."""
    return [build_reward(name, script_args) for name in names]
