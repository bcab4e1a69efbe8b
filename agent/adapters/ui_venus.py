"""UI-Venus-Navi 1.0: everything in one user turn.

Answers read `<think>..</think><action>Click(box=(x,y))</action><conclusion>..</conclusion>`.

Source: inclusionAI/UI-Venus, branch `UI-Venus-1.0`, `models/navigation/utils.py` (prompt and parser)
and `scripts/run_navi_7b.sh` (min_pixels 830000, max_pixels 937664) [code]. Resized pixels. Scroll and
Drag give the finger path. PressHome, PressEnter, PressRecent and CallUser have no counterpart; there
is no impossible action. The instruction text is this project's own wording. What differs: `Previous
Actions` hold the step's recorded descriptions instead of the agent's own think/action pairs.
"""

from __future__ import annotations

import re
from typing import Any

from actions.types import (
    Action,
    Back,
    Click,
    LongClick,
    OpenApp,
    Swipe,
    TaskCompleted,
    TypeText,
    Wait,
)
from agent.adapters.base import NO_COUNTERPART, Adapter, Reading, image_part, numbers, point_of, split_submit
from agent.adapters.calls import parse_call

_TAG = r"<{0}>(.*?)</{0}>"

_INSTRUCTION = """You operate an Android phone to complete the user's task.
Task: ${task}
Previous Actions:
${history}
Look at the screenshot and give the next action. Think inside <think></think>, write one action inside \
<action></action>, then summarise it inside <conclusion></conclusion>.
Actions: Click(box=(x,y)), LongPress(box=(x,y)), Drag(start=(x1,y1), end=(x2,y2)), \
Scroll(start=(x1,y1), end=(x2,y2)), Type(content='text'), Launch(app='name'), Wait(), PressBack(), \
PressHome(), PressEnter(), Finished(content='')
Coordinates are pixels of the ${width}x${height} screenshot."""


class UIVenusAdapter(Adapter):
    """UI-Venus-Navi-7B / 72B (Qwen2.5-VL base)."""

    name = "ui-venus"
    coord_space = "resized"
    grammar = "<action>Click(box=(x,y))</action>"
    reproduced_from = "code"

    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        task = step.task
        instruction = step.instruction
        if instruction:
            task += f" (current step: {instruction})"
        history = (
            "\n".join(f"Step {i}: <action>{t}</action>" for i, t in enumerate(step.history, 1)) or "None"
        )
        text = self.instruction(_INSTRUCTION, screen, task=task, history=history)
        return [
            {"role": "user", "content": [image_part(step.current_screenshot), {"type": "text", "text": text}]}
        ]

    def _parse(self, text: str, screen: tuple[int, int]) -> Reading:
        problems: list[str] = []
        think = {
            tag: m.group(1).strip()
            for tag in ("think", "conclusion")
            if (m := re.search(_TAG.format(tag), text, re.DOTALL))
        } or None
        match = re.search(_TAG.format("action"), text, re.DOTALL)
        if match is None:
            problems.append("no_action_tag")
            body = text.strip()
        else:
            body = match.group(1).strip()
        call = parse_call(body)
        if call is None:
            return Reading(None, problems, think)
        return Reading(self._action(*call, screen, problems), problems, think)

    def _action(
        self, name: str, args: dict[str, str], screen: tuple[int, int], problems: list[str]
    ) -> Action | None:
        def point(key: str) -> Any:
            value = point_of(numbers(args.get(key, "")))
            if value is None:
                problems.append(f"bad_{key}")
            return value

        if name in ("Click", "LongPress"):
            box = point("box")
            return (
                None
                if box is None
                else self.point_action(Click if name == "Click" else LongClick, box, screen)
            )
        if name in ("Scroll", "Drag"):
            start, end = point("start"), point("end")
            if start is None or end is None:
                return None
            return Swipe(start=self.to_original(start, screen), end=self.to_original(end, screen))
        if name == "Type":
            return TypeText(text=split_submit(args.get("content", args.get("_", "")), problems))
        if name == "Launch":
            return OpenApp(app=args.get("app", args.get("_", "")))
        if name == "Wait":
            return Wait()
        if name == "PressBack":
            return Back()
        if name == "Finished":
            return TaskCompleted(summary=args.get("content", ""))
        if name in ("PressHome", "PressEnter", "PressRecent", "CallUser"):
            problems.append(f"{NO_COUNTERPART}{name.removeprefix('Press').lower()}")
            return None
        problems.append("unknown_action")
        return None

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        def xy(p: Any) -> str:
            x, y = self.to_model(p, screen)
            return f"({x},{y})"

        call: str | None = None
        if isinstance(action, Click):
            call = f"Click(box={xy(action.point)})"
        elif isinstance(action, LongClick):
            call = f"LongPress(box={xy(action.point)})"
        elif isinstance(action, Swipe):
            call = f"Scroll(start={xy(action.start)}, end={xy(action.end)})"
        elif isinstance(action, TypeText):
            call = "Type(content='{}')".format(action.text.replace("'", "\\'"))
        elif isinstance(action, OpenApp):
            call = f"Launch(app='{action.app}')"
        elif isinstance(action, Wait):
            call = "Wait()"
        elif isinstance(action, Back):
            call = "PressBack()"
        elif isinstance(action, TaskCompleted):
            call = "Finished(content='')"
        if call is None:
            return None
        return f"<think>scripted</think><action>{call}</action><conclusion>scripted</conclusion>"
