"""GUI-R1: `<think>...</think> <answer>[{'action': 'click', 'point': [x, y], 'input_text': ...}]</answer>`.

Source: ritzz-ai/GUI-R1 `guir1/inference/inference_vllm_android.py` (prompt, Android action enum) and
`verl/utils/dataset.py` (training actions) [code]. Resized pixels (the script rescales with
`image_grid_thw`). Scroll's direction is in `input_text`; read as naming the content's direction, as in
the AndroidControl data it trains on (an inference). No-point actions carry [-100,-100]; `press_home`,
`press_recent` (the Odyssey script's enum) and `enter` (training) are key presses; the training set's
`close/delete` and `select` have no counterpart here. What differs: the instruction text is this
project's own wording of the prompt's structure, and the history holds the step's recorded descriptions.
"""

from __future__ import annotations

import re
from typing import Any

from actions.types import (
    Action,
    Back,
    Click,
    Enter,
    Home,
    LongClick,
    OpenApp,
    RecentApps,
    Swipe,
    TaskCompleted,
    TaskImpossible,
    TypeText,
    Wait,
)
from agent.adapters.answer_list import AnswerListAdapter
from agent.adapters.base import image_part, split_submit

_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.DOTALL)
_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)

_GUI_R1 = """You are GUI-R1, an agent that operates a phone. For the user's command '${task}', with the \
action history being '${history}', look at the screenshot and decide the next action. Think inside \
<think></think>, then answer inside <answer></answer> with a list holding one action:
[{'action': one of ['click', 'long_press', 'type', 'scroll', 'open_app', 'press_back', 'press_home', \
'press_recent', 'enter', 'wait', 'complete', 'impossible'], 'point': [x, y], 'input_text': 'text, app name, \
scroll direction or no input text'}]
Example: <think>...</think> <answer>[{'action': 'click', 'point': [123, 300], 'input_text': 'no input \
text'}]</answer>"""


class GUIR1Adapter(AnswerListAdapter):
    """GUI-R1-3B / 7B (Qwen2.5-VL base)."""

    name = "gui-r1"
    keys = ("home", "enter", "recent_apps")

    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        task = step.task
        instruction = step.instruction
        if instruction:
            task += f" (current step: {instruction})"
        history = "; ".join(step.history) or "None"
        text = self.instruction(_GUI_R1, screen, task=task, history=history)
        return [
            {"role": "user", "content": [image_part(step.current_screenshot), {"type": "text", "text": text}]}
        ]

    def _action(self, obj: dict[str, Any], screen: tuple[int, int], problems: list[str]) -> Action | None:
        name = str(obj.get("action", "")).strip().lower()
        text = str(obj.get("input_text", ""))
        if name in ("click", "long_press"):
            point = self._point(obj, problems)
            return (
                None
                if point is None
                else self.point_action(Click if name == "click" else LongClick, point, screen)
            )
        if name == "type":
            return TypeText(text=split_submit(text, problems))
        if name == "scroll":
            point = obj.get("point")
            numeric = isinstance(point, list) and len(point) == 2
            numeric = numeric and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point)
            anchor = point if numeric and min(point) >= 0 else None
            return self.swipe_from_direction(text, screen, anchor, problems=problems)
        if name == "open_app":
            return OpenApp(app=text)
        if name == "press_back":
            return Back()
        if name == "wait":
            return Wait()
        if name == "complete":
            return TaskCompleted()
        if name == "impossible":
            return TaskImpossible()
        if name == "press_home":
            return Home()
        if name == "press_recent":
            return RecentApps()
        if name == "enter":
            return Enter()
        problems.append("unknown_action")  # e.g. the training set's close/delete, select
        return None

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        none = [-100, -100]
        item: dict[str, Any] | None = None
        if isinstance(action, (Click, LongClick)):
            name = "click" if isinstance(action, Click) else "long_press"
            item = {
                "action": name,
                "point": list(self.to_model(action.point, screen)),
                "input_text": "no input text",
            }
        elif isinstance(action, Swipe):
            item = {"action": "scroll", "point": none, "input_text": self.direction_word(action)}
        elif isinstance(action, TypeText):
            item = {"action": "type", "point": none, "input_text": action.text}
        elif isinstance(action, OpenApp):
            item = {"action": "open_app", "point": none, "input_text": action.app}
        elif isinstance(action, (Back, Home, RecentApps, Enter)):
            name = {"back": "press_back", "home": "press_home", "recent_apps": "press_recent"}.get(
                action.key, "enter"
            )
            item = {"action": name, "point": none, "input_text": "no input text"}
        elif isinstance(action, Wait):
            item = {"action": "wait", "point": none, "input_text": "no input text"}
        elif isinstance(action, TaskCompleted):
            item = {"action": "complete", "point": none, "input_text": "no input text"}
        elif isinstance(action, TaskImpossible):
            item = {"action": "impossible", "point": none, "input_text": "no input text"}
        return None if item is None else f"<think>{self.render_thought}</think> <answer>{[item]!r}</answer>"
