"""UI-R1: the step instruction only, answered `<answer>[{'action': 'click', 'coordinate': [x, y]}]</answer>`.

Source: lll6gg/UI-R1 `evaluation/test_androidcontrol.py` [code]: no goal and no history (the goal
stands in when a step has no instruction); resized pixels; actions click, open_app, scroll,
navigate_back, input_text without text, app or direction parameters, so only the action type and tap
points can be right: typed text, app names and swipe directions score as wrong. What differs: the
instruction text is this project's own wording; its evaluation rescales by hard-coded factors, this
adapter by the serving pixel budget.
"""

from __future__ import annotations

import re
from typing import Any

from actions.types import (
    Action,
    Back,
    Click,
    OpenApp,
    TypeText,
)
from agent.adapters.answer_list import AnswerListAdapter
from agent.adapters.base import image_part

_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.DOTALL)
_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)

_UI_R1 = """In this phone screenshot, what action should be taken for '${task}'? Think inside \
<think></think>, then answer inside <answer></answer> as
[{'action': one of ['click', 'open_app', 'scroll', 'navigate_back', 'input_text'], 'coordinate': [x, y]}]"""


class UIR1Adapter(AnswerListAdapter):
    """UI-R1-3B / UI-R1-E-3B (Qwen2.5-VL base): the step instruction only, type-level answers."""

    name = "ui-r1"
    point_key = "coordinate"

    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        # UI-R1 was trained on step instructions; without one (the High setting) the goal stands in.
        text = self.instruction(_UI_R1, screen, task=step.instruction or step.task)
        return [
            {"role": "user", "content": [image_part(step.current_screenshot), {"type": "text", "text": text}]}
        ]

    def _action(self, obj: dict[str, Any], screen: tuple[int, int], problems: list[str]) -> Action | None:
        name = str(obj.get("action", "")).strip().lower()
        if name == "click":
            point = self._point(obj, problems)
            return None if point is None else self.point_action(Click, point, screen)
        if name == "navigate_back":
            return Back()
        if name == "open_app":
            return OpenApp(app=str(obj.get("app_name", "")))
        if name == "input_text":
            return TypeText(text=str(obj.get("text", "")))
        if name == "scroll":
            swipe = self.swipe_from_direction(str(obj.get("direction", "")), screen)
            if swipe is None:
                problems.append("no_direction")  # UI-R1's grammar has none: the swipe cannot be placed
            return swipe
        problems.append("unknown_action")
        return None

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        if isinstance(action, Click):
            item = {"action": "click", "coordinate": list(self.to_model(action.point, screen))}
        elif isinstance(action, Back):
            item = {"action": "navigate_back", "coordinate": [0, 0]}
        else:
            return None  # the grammar cannot carry text, an app or a direction
        return f"<think>{self.render_thought}</think> <answer>{[item]!r}</answer>"
