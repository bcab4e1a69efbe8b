"""The GRPO reward functions of a recipe, built from the registry in `actions.reward_registry`.

Recipes pick rewards by name or dotted path (`reward_funcs: [format, action]`) and weight them with
GRPOConfig's `reward_weights`; the names and weights are written into `phone_r1.json`.

Where the chat template opens `<think>` in the generation prompt (Qwen3.5), TRL hands rewards only
what the model generated after it; every reward here sees the whole answer, with the opened part put
back in front (`agent.thinking`), so a perfect answer scores as one.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from actions.reward_registry import RewardFunc, build_reward
from agent.thinking import join_reasoning, reattach


def with_answer_prefix(func: RewardFunc, prefix: str) -> RewardFunc:
    """`func` scoring each completion with `prefix` (the template's opened think block) in front."""
    if not prefix:
        return func

    def _whole(completion: Any) -> Any:
        if isinstance(completion, str):
            return reattach(completion, prefix)
        if isinstance(completion, list) and completion and isinstance(completion[0], dict):
            first = dict(completion[0])
            reasoning = first.pop("reasoning_content", None)
            if isinstance(reasoning, str):
                # TRL parses completions itself where the tokenizer ships a response template.
                first["content"] = join_reasoning(reasoning, first.get("content"), prefix)
            elif isinstance(first.get("content"), str):
                first["content"] = reattach(first["content"], prefix)
            return [first, *completion[1:]]
        return completion

    @functools.wraps(func)
    def reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
        return func([_whole(c) for c in completions], **kwargs)

    return reward


def build_reward_funcs(
    names: Sequence[str], script_args: Any = None, answer_prefix: str = ""
) -> list[RewardFunc]:
    """Reward functions for the names a recipe lists (validated earlier by `PhoneR1Arguments`).

    `answer_prefix` is what the chat template's generation prompt opens (`agent.thinking`)."""
    return [with_answer_prefix(build_reward(name, script_args), answer_prefix) for name in names]
