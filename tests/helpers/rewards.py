"""A user's own reward, named by dotted path in tests (`tests.helpers.rewards:short_answer_reward`)."""

from __future__ import annotations

from typing import Any


def short_answer_reward(completions: list[Any], **kwargs: Any) -> list[float]:
    """1.0 for a completion of at most 200 characters, else 0.0 (TRL's reward contract)."""
    return [1.0 if isinstance(c, str) and len(c) <= 200 else 0.0 for c in completions]
