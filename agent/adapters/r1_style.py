"""R1-style agents: `<think>...</think> <answer>[{'action': ..., ...}]</answer>`, a Python-literal list.

- GUI-R1: ritzz-ai/GUI-R1 `guir1/inference/inference_vllm_android.py` (prompt, Android action enum) and
  `verl/utils/dataset.py` (training actions) [code]. Resized pixels (the script rescales with
  `image_grid_thw`). Scroll's direction is in `input_text`; read as naming the content's direction, as
  in the AndroidControl data it trains on (an inference). No-point actions carry [-100,-100].
- UI-R1: lll6gg/UI-R1 `evaluation/test_androidcontrol.py` [code]: the step instruction only (no goal, no
  history) and actions without text, app or direction parameters, so only the action type and tap
  points can be right; typed text, app names and swipe directions score as wrong.
The instruction text here is this project's own wording of those structures.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from actions.types import (
    Action,
    Back,
    Click,
    LongClick,
    OpenApp,
    Swipe,
    TaskCompleted,
    TaskImpossible,
    TypeText,
    Wait,
)
from actions.wire import literal_eval
from agent.adapters.base import NO_COUNTERPART, Adapter, Reading, image_part, split_submit
from agent.adapters.base import step_instruction as instruction_of

_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.DOTALL)
_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)

_GUI_R1 = """You are GUI-R1, an agent that operates a phone. For the user's command '${task}', with the \
action history being '${history}', look at the screenshot and decide the next action. Think inside \
<think></think>, then answer inside <answer></answer> with a list holding one action:
[{'action': one of ['click', 'long_press', 'type', 'scroll', 'open_app', 'press_back', 'press_home', \
'wait', 'complete', 'impossible'], 'point': [x, y], 'input_text': 'text, app name, scroll direction or \
no input text'}]
Example: <think>...</think> <answer>[{'action': 'click', 'point': [123, 300], 'input_text': 'no input \
text'}]</answer>"""

_UI_R1 = """In this phone screenshot, what action should be taken for '${task}'? Think inside \
<think></think>, then answer inside <answer></answer> as
[{'action': one of ['click', 'open_app', 'scroll', 'navigate_back', 'input_text'], 'coordinate': [x, y]}]"""


class _AnswerListAdapter(Adapter):
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


class GUIR1Adapter(_AnswerListAdapter):
    """GUI-R1-3B / 7B (Qwen2.5-VL base)."""

    name = "gui-r1"

    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        task = step.task
        instruction = instruction_of(step)
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
            anchor = point if isinstance(point, list) and len(point) == 2 and min(point) >= 0 else None
            swipe = self.swipe_from_direction(text, screen, anchor)
            if swipe is None:
                problems.append("bad_direction")
            return swipe
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
        if name in ("press_home", "press_recent", "enter"):
            problems.append(f"{NO_COUNTERPART}{name.removeprefix('press_')}")
            return None
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
        elif isinstance(action, Back):
            item = {"action": "press_back", "point": none, "input_text": "no input text"}
        elif isinstance(action, Wait):
            item = {"action": "wait", "point": none, "input_text": "no input text"}
        elif isinstance(action, TaskCompleted):
            item = {"action": "complete", "point": none, "input_text": "no input text"}
        elif isinstance(action, TaskImpossible):
            item = {"action": "impossible", "point": none, "input_text": "no input text"}
        return None if item is None else f"<think>scripted</think> <answer>{[item]!r}</answer>"


class UIR1Adapter(_AnswerListAdapter):
    """UI-R1-3B / UI-R1-E-3B (Qwen2.5-VL base): the step instruction only, type-level answers."""

    name = "ui-r1"
    point_key = "coordinate"

    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        # UI-R1 was trained on step instructions; without one (the High setting) the goal stands in.
        text = self.instruction(_UI_R1, screen, task=instruction_of(step) or step.task)
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
        return f"<think>scripted</think> <answer>{[item]!r}</answer>"
