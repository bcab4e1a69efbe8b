"""Own-history entries: what an answer adds to the history of the next step, once for eval and training.

`eval run --history own|own-patched` and semi-online GRPO (`training.semi_online`) both ask step k with
the history built from the agent's own earlier answers; both build it here, so a model is trained on
exactly the prompts it is evaluated on.

The history of step k is the first step's recorded history (what happened before the episode's first
recorded step) followed by one entry per earlier step: the description the agent wrote
(`action_description`), or, when it wrote none, `describe_action` of its typed action; where a
mismatched answer is patched, the gold action's description (`gold_description`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any


def describe_action(action: Any, labels: dict[str, str] | None = None) -> str:
    """The history entry for an answer: its own description, else one built from the typed action.

    `labels` is the step's `action_type_list` (the names the prompt uses for each type, e.g. 点击), so
    the generated entry reads like the recorded ones ("点击 (540,1210)", "输入充电宝").
    """
    if action.description:
        return str(action.description)
    label = (labels or {}).get(action.action_type, action.action_type)
    kind = action.action_type
    if kind in ("click", "long_click"):
        x, y = action.point
        return f"{label} ({round(x)},{round(y)})"
    if kind == "swipe":
        from actions.directions import main_direction

        return f"{label} {main_direction(action.start, action.end, unit='pixel', zero='up')}"
    text = getattr(action, "text", None) or getattr(action, "app", None)
    if text:
        return f"{label}{text}"
    return label


def gold_description(step: Any) -> str:
    """The history entry of a step's gold action (what a patched history holds)."""
    return describe_action(step.gold, step.labels)


def with_history(step: Any, history: list[str]) -> Any:
    """`step` asked with `history` instead of its recorded one (its input JSON is derived from it)."""
    return dataclasses.replace(step, history=list(history))


def group_episodes(steps: Iterable[Any]) -> Iterator[list[Any]]:
    """Steps grouped by episode, in index order; readers give each episode's steps together."""
    current: list[Any] = []
    for step in steps:
        if current and step.episode_id != current[0].episode_id:
            yield sorted(current, key=lambda s: s.index)
            current = []
        current.append(step)
    if current:
        yield sorted(current, key=lambda s: s.index)
