"""The reward registry: every name a recipe may list under `reward_funcs`, and how to build it.

`REWARDS` is an `actions.registry.Registry`: name -> `module:attr` with a one-line summary. An entry
is a reward on TRL's contract `fn(completions, **kwargs) -> list[float]`, or a class whose
`from_args(args)` builds one from the recipe's phone-r1 arguments (`training.config.PhoneR1Arguments`,
or None outside training), as the LLM judge's settings need. Recipe validation, `phone-r1 train`'s
help, training and `eval run`'s partial reward all read this one registry; adding a reward is one
line here:

    "my_reward": ("actions.my_module:my_reward", "what it scores"),

A recipe may also name a reward by dotted path, `my_pkg.rewards:fn` (or `my_pkg.rewards.fn`, the form
TRL's `reward_funcs` accepts): the function is imported and used as it is.

Importing this module imports nothing but the standard library; an entry is imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actions.registry import Registry

RewardFunc = Callable[..., list[float]]


def _is_reward(obj: Any) -> str | None:
    if isinstance(obj, type):
        if callable(getattr(obj, "from_args", None)):
            return None
        return f"expected a reward function or a class with from_args(args), found class {obj.__name__}"
    if callable(obj):
        return None
    return f"expected a reward function fn(completions, **kwargs), found {type(obj).__name__}"


REWARDS: Registry[Any] = Registry(
    "reward",
    {
        "format": ("actions.rewards:format_reward", "seed 001's partial-credit format reward / 2.5"),
        "action": (
            "actions.rewards:action_reward",
            "partial-credit action match (type, then box distance, swipe direction, text similarity)",
        ),
        "gaussian_point": ("actions.grounding:gaussian_point_reward", "GUI-G2's Gaussian point reward"),
        "gaussian_coverage": (
            "actions.grounding:gaussian_coverage_reward",
            "GUI-G2's Gaussian coverage reward",
        ),
        "iou": ("actions.grounding:iou_reward", "intersection over union of the answer box and the gold box"),
        "llm_judge": (
            "actions.llm_judge:LLMJudgeReward",
            "an OpenAI-compatible judge model's 0-1 grade (the recipe's llm_judge_* settings)",
        ),
    },
    example="my_pkg.rewards:fn",
    check=_is_reward,
    dot_form=True,
    docs="docs/training.md",
)

# What a recipe gets when it names none (TRL's default weights: 1.0 each).
DEFAULT_REWARDS: tuple[str, ...] = ("format", "action")


def build_reward(name: str, args: Any = None) -> RewardFunc:
    """The reward function for a registry name or dotted path; a class is built with `from_args(args)`."""
    obj = REWARDS.load(name)
    return obj.from_args(args) if isinstance(obj, type) else obj
