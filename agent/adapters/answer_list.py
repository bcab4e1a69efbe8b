"""The `<answer>[{'action': ..., ...}]</answer>` grammar (a Python-literal list) of GUI-R1 and UI-R1."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from actions.types import Action
from actions.wire import literal_eval
from agent.adapters.base import Adapter, Reading

_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.DOTALL)
_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)


class AnswerListAdapter(Adapter):
    """Reads the last `<answer>` list's first action; subclasses map its dict to a typed action."""

    coord_space = "resized"
    scroll_means = "content"
    grammar = "<answer>[{'action': ..., ...}]</answer>"
    point_key: ClassVar[str] = "point"

    def _parse(self, text: str, screen: tuple[int, int]) -> Reading:
        problems: list[str] = []
        think_match = _THINK.search(text)
        think = {"think": think_match.group(1).strip()} if think_match else None
        answers = _ANSWER.findall(text)
        if not answers:
            return Reading(None, problems, think)
        if "</answer>" not in text:
            problems.append("answer_unclosed")
        body = answers[-1].strip()
        obj = None
        for loads in (literal_eval, json.loads):
            try:
                obj = loads(body)
                break
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
        if isinstance(obj, list):
            if len(obj) > 1:
                problems.append("multiple_actions")
            obj = obj[0] if obj else None
        if not isinstance(obj, dict):
            problems.append("answer_not_a_list_of_dicts")
            return Reading(None, problems, think)
        return Reading(self._action(obj, screen, problems), problems, think)

    def _point(self, obj: dict[str, Any], problems: list[str]) -> Any:
        value = obj.get(self.point_key)
        if (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        ):
            return value
        problems.append(f"bad_{self.point_key}")
        return None

    def _action(self, obj: dict[str, Any], screen: tuple[int, int], problems: list[str]) -> Action | None:
        raise NotImplementedError
