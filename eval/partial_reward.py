"""`eval run`'s partial reward: the training recipe's rewards and weights, applied to each answer.

The names and weights come from the checkpoint's `phone_r1.json` (written by training from the
recipe's `reward_funcs` and `reward_weights`); without them, the default rewards weigh 1.0 each,
as TRL weighs them. The total is the weighted mean, so it stays in [0, 1]. Rewards that need a
network endpoint (the LLM judge) are left out, weight and all, so a rerun scores the same.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from actions.reward_registry import DEFAULT_REWARDS, RewardFunc, build_reward

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RewardMix:
    """Named reward functions with their weights."""

    names: tuple[str, ...]
    weights: tuple[float, ...]
    funcs: tuple[RewardFunc, ...]

    @classmethod
    def build(cls, names: Any = None, weights: Any = None) -> RewardMix:
        """The mix for a checkpoint's reward names and weights (None: the defaults, weighted 1.0)."""
        names = list(names) if names else list(DEFAULT_REWARDS)
        weights = [float(w) for w in weights] if weights else [1.0] * len(names)
        if len(weights) != len(names):
            raise ValueError(f"expected one reward weight per reward {names}, found {weights}")
        kept = []
        for name, weight in zip(names, weights, strict=True):
            func = build_reward(name)
            if getattr(func, "offline", True) is False:
                logger.info("reward %s needs an endpoint; left out of the partial reward", name)
                continue
            kept.append((name, weight, func))
        if not kept or sum(w for _, w, _ in kept) <= 0:
            raise ValueError(f"expected rewards with a positive total weight, found {names} / {weights}")
        return cls(*(tuple(column) for column in zip(*kept, strict=True)))  # type: ignore[arg-type]

    @classmethod
    def from_meta(cls, meta: Any) -> RewardMix:
        """The mix recorded in a `CheckpointMeta` (or the defaults for None / a checkpoint without one)."""
        if meta is None:
            return cls.build()
        return cls.build(meta.rewards, meta.reward_weights)

    def to_json(self) -> dict[str, Any]:
        return {"rewards": list(self.names), "reward_weights": list(self.weights)}

    def total(self, raw: str, gold: Any, screen: tuple[int, int], coord_space: str, budget: Any) -> float:
        """The weighted mean of the rewards for one completion, scored as training scores it."""
        columns = {
            "gold": [json.dumps(gold.to_json(), ensure_ascii=False)],
            "screen_width": [int(screen[0])],
            "screen_height": [int(screen[1])],
            "coord_space": [coord_space],
            "min_pixels": [int(budget.min_pixels)],
            "max_pixels": [int(budget.max_pixels)],
            "tile": [int(budget.tile or 0)],
        }
        scores = [float(func([raw], **columns)[0]) for func in self.funcs]
        return sum(w * s for w, s in zip(self.weights, scores, strict=True)) / sum(self.weights)
