"""UI-Venus-Navi 1.0 and UI-Venus-2: everything in one turn, one call inside `<action>`.

Answers read `<think>..</think><action>Click(box=(x,y))</action><conclusion>..</conclusion>` (1.0) or
`<think>..</think>\n<action>Click(point=(x,y))</action>` (2).

Sources: inclusionAI/UI-Venus, branch `UI-Venus-1.0`, `models/navigation/utils.py` (prompt and parser)
and `scripts/run_navi_7b.sh` (min_pixels 830000, max_pixels 937664) [code]: resized pixels; and
`models/mobile/mobile_example.py` with `examples/example_output.json` (UI-Venus-2) [code]: `Click(point=)`,
`LaunchApp(app=)`, `Swipe(start=, end=)`, a 0-999 grid that the official script maps with `x / 1000 * W`.
Both parsers read both grammars. Scroll, Swipe and Drag give the finger path; PressHome, PressEnter
and PressRecent are key presses; DoubleClick, CallUser, Answer and GetScreenshot have no counterpart;
there is no impossible action. The instruction text is this project's own wording. What differs:
`Previous Actions` hold the step's recorded descriptions instead of the agent's own think/action pairs;
UI-Venus-2's official script truncates a mapped point to whole pixels, phone-r1 keeps it exact.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

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

_INSTRUCTION_2 = """You operate an Android phone to complete the user's task.
Task: ${task}
Previous Actions:
${history}
Look at the screenshot and give the next action. Think inside <think></think>, then write one action \
inside <action></action>.
Actions: Click(point=(x,y)), LongPress(point=(x,y)), Drag(start=(x1,y1), end=(x2,y2)), \
Swipe(start=(x1,y1), end=(x2,y2)), Type(content='text'), LaunchApp(app='name'), Wait(), PressBack(), \
PressHome(), PressEnter(), PressRecent(), Finished(content='')
Coordinates run from (0,0) at the top left to (999,999) at the bottom right."""

_KEYS = {"PressBack": Back, "PressHome": Home, "PressEnter": Enter, "PressRecent": RecentApps}
_NO_COUNTERPART = ("DoubleClick", "CallUser", "Answer", "GetScreenshot")


class UIVenusAdapter(Adapter):
    """UI-Venus-Navi-7B / 72B (Qwen2.5-VL base)."""

    name = "ui-venus"
    coord_space = "resized"
    grammar = "<action>Click(box=(x,y))</action>"
    reproduced_from = "code"
    keys = ("home", "enter", "recent_apps")
    template: ClassVar[str] = _INSTRUCTION
    point_key: ClassVar[str] = "box"  # what `render` writes; `parse` reads `box` and `point` alike
    launch: ClassVar[str] = "Launch"
    swipe_call: ClassVar[str] = "Scroll"
    conclusion: ClassVar[bool] = True

    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        task = step.task
        instruction = step.instruction
        if instruction:
            task += f" (current step: {instruction})"
        history = (
            "\n".join(f"Step {i}: <action>{t}</action>" for i, t in enumerate(step.history, 1)) or "None"
        )
        text = self.instruction(self.template, screen, task=task, history=history)
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
        def point(*keys: str) -> Any:
            key = next((k for k in keys if k in args), keys[0])
            value = point_of(numbers(args.get(key, "")))
            if value is None:
                problems.append(f"bad_{key}")
            return value

        if name in ("Click", "LongPress"):
            # 1.0 writes `box=`, UI-Venus-2 `point=`.
            at = point("box", "point")
            return (
                None if at is None else self.point_action(Click if name == "Click" else LongClick, at, screen)
            )
        if name in ("Scroll", "Swipe", "Drag"):
            start, end = point("start"), point("end")
            if start is None or end is None:
                return None
            return Swipe(start=self.to_original(start, screen), end=self.to_original(end, screen))
        if name == "Type":
            return TypeText(text=split_submit(args.get("content", args.get("_", "")), problems))
        if name in ("Launch", "LaunchApp"):
            return OpenApp(app=args.get("app", args.get("_", "")))
        if name == "Wait":
            return Wait()
        if name in _KEYS:
            return _KEYS[name]()
        if name == "Finished":
            return TaskCompleted(summary=args.get("content", ""))
        if name in _NO_COUNTERPART:
            problems.append(f"{NO_COUNTERPART}{name.lower()}")
            return None
        problems.append("unknown_action")
        return None

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        def xy(p: Any) -> str:
            x, y = self.to_model(p, screen)
            return f"({x},{y})"

        call: str | None = None
        if isinstance(action, Click):
            call = f"Click({self.point_key}={xy(action.point)})"
        elif isinstance(action, LongClick):
            call = f"LongPress({self.point_key}={xy(action.point)})"
        elif isinstance(action, Swipe):
            call = f"{self.swipe_call}(start={xy(action.start)}, end={xy(action.end)})"
        elif isinstance(action, TypeText):
            call = "Type(content='{}')".format(action.text.replace("'", "\\'"))
        elif isinstance(action, OpenApp):
            call = f"{self.launch}(app='{action.app}')"
        elif isinstance(action, Wait):
            call = "Wait()"
        elif isinstance(action, tuple(_KEYS.values())):
            call = next(f"{name}()" for name, cls in _KEYS.items() if isinstance(action, cls))
        elif isinstance(action, TaskCompleted):
            call = "Finished(content='')"
        if call is None:
            return None
        tail = f"<conclusion>{self.render_thought}</conclusion>" if self.conclusion else ""
        return f"<think>{self.render_thought}</think><action>{call}</action>{tail}"


class UIVenus2Adapter(UIVenusAdapter):
    """UI-Venus-2 (mobile example): `Click(point=(x,y))` on a 0-999 grid mapped as x / 1000 * W."""

    name = "ui-venus-2"
    coord_space = "norm1000"
    grammar = "<action>Click(point=(x,y))</action>"
    template = _INSTRUCTION_2
    point_key = "point"
    launch = "LaunchApp"
    swipe_call = "Swipe"
    conclusion = False
