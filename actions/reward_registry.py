"""The reward registry: every name a recipe may list under `reward_funcs`, and how to build it.

`REWARDS` maps a name to a factory `factory(args) -> reward`, where `args` is the recipe's phone-r1
arguments (`training.config.PhoneR1Arguments`, or None outside training) and the reward follows TRL's
contract `fn(completions, **kwargs) -> list[float]`. Config validation, `phone-r1 train`'s help,
training and `eval run`'s partial reward all read this one dict; adding a reward is one line here:

    "my_reward": reward("actions.my_module:my_reward"),

A recipe may also name a reward by dotted path, `my_pkg.rewards:fn` (or `my_pkg.rewards.fn`, the form
TRL's `reward_funcs` accepts): the function is imported and used as it is.

Importing this module imports nothing but the standard library; each factory imports its reward.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from typing import Any

RewardFunc = Callable[..., list[float]]
RewardFactory = Callable[[Any], RewardFunc]


def reward(path: str) -> RewardFactory:
    """A factory for a reward that needs no settings: the function at `module:name`, imported on use."""

    def factory(args: Any = None) -> RewardFunc:
        return load_dotted(path)

    factory.__qualname__ = factory.__name__ = f"reward({path!r})"
    return factory


def _llm_judge(args: Any = None) -> RewardFunc:
    from actions.llm_judge import LLMJudgeReward

    return LLMJudgeReward.from_args(args)


REWARDS: dict[str, RewardFactory] = {
    "format": reward("actions.rewards:format_reward"),
    "action": reward("actions.rewards:action_reward"),
    "llm_judge": _llm_judge,
}

# What a recipe gets when it names none (TRL's default weights: 1.0 each).
DEFAULT_REWARDS: tuple[str, ...] = ("format", "action")


def is_dotted(name: str) -> bool:
    """True for a user's reward named by import path rather than a registry name."""
    return ":" in name or "." in name


def load_dotted(path: str) -> RewardFunc:
    """The callable at `package.module:name` (or `package.module.name`); ValueError says what failed."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"expected a reward path like my_pkg.rewards:fn, found {path!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"reward {path!r}: cannot import module {module_name!r}: {exc}") from exc
    func = getattr(module, attr, None)
    if not callable(func):
        raise ValueError(f"reward {path!r}: expected a function {attr!r} in {module_name}, found {func!r}")
    return func


def check_reward_name(name: str) -> None:
    """Raise ValueError unless `name` is a registry name or an importable dotted path."""
    if name in REWARDS:
        return
    if is_dotted(name):
        load_dotted(name)
        return
    close = difflib.get_close_matches(name, list(REWARDS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(
        f"unknown reward {name!r}; expected one of {list(REWARDS)} or a dotted path my_pkg.rewards:fn{hint}"
    )


def build_reward(name: str, args: Any = None) -> RewardFunc:
    """The reward function for a registry name or dotted path (see the module docstring)."""
    check_reward_name(name)
    return REWARDS[name](args) if name in REWARDS else load_dotted(name)
