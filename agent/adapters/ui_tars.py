"""UI-TARS: `Thought: ...\\nAction: call(...)`, history as earlier assistant turns, several screenshots.

Sources: bytedance/UI-TARS `README_v1.md` (1.0 prompt, [readme]), the `MOBILE_USE` template in git
history `6b315cc:codes/prompts.py` and `codes/ui_tars/action_parser.py` (1.5, [code]); maintainers on
the AndroidControl action space (issue #85) and on scroll directions (#129, #75). The template text here
is this project's own wording of that structure.

- 1.5 answers in resized pixels (smart_resize, max_pixels 16384*28*28 in the parser); 1.0 in 0-1000.
- `scroll(direction=...)` names where content comes from, opposite to the finger: converted to the
  finger path. `type(content='...\\n')` means type then submit: the newline is split off.
- `press_home()` (and `press_enter()`, outside the mobile template) are key presses; `finished()` is
  completion. `<|box_start|>` tokens, `(x,y)`,
  `[x1,y1,x2,y2]` and `<point>x y</point>` coordinates are all read.
What differs: earlier steps are replayed from the step's recorded descriptions (`Thought:` text with no
`Action:` line); the step instruction is put in the user turn rather than prefilled as `Thought:`.
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
    Swipe,
    TaskCompleted,
    TaskImpossible,
    TypeText,
    Wait,
)
from agent.adapters.base import NO_COUNTERPART, Adapter, Reading, image_part, numbers, point_of, split_submit
from agent.adapters.calls import parse_call

_TEMPLATE_15 = """You operate an Android phone to complete the user's task. You see the task, the earlier \
steps and the current screenshot; give the next action.

## Output Format
Thought: ...
Action: ...

## Action Space
click(start_box='<|box_start|>(x1,y1)<|box_end|>')
long_press(start_box='<|box_start|>(x1,y1)<|box_end|>')
type(content='') # end content with \\n to submit
scroll(start_box='<|box_start|>(x1,y1)<|box_end|>', direction='down or up or right or left') # the side \
whose content you want to see
open_app(app_name='')
drag(start_box='<|box_start|>(x1,y1)<|box_end|>', end_box='<|box_start|>(x3,y3)<|box_end|>')
press_home()
press_back()
finished(content='') # the task is done

## Note
- Write a short plan and then the next action, with its target, in one sentence in the Thought part.

## User Instruction
"""

_TEMPLATE_10 = _TEMPLATE_15.replace(
    "open_app(app_name='')", "open_app(app_name='')\nwait() # let the screen settle"
)


class UITars15Adapter(Adapter):
    """UI-TARS-1.5-7B (Qwen2.5-VL base), mobile template, resized pixels."""

    name = "ui-tars-1.5"
    coord_space = "resized"
    scroll_means = "content"
    max_images = 2
    grammar = "Thought: ...\\nAction: click(start_box='(x,y)')"
    keys = ("home",)
    reproduced_from = "code"
    template: ClassVar[str] = _TEMPLATE_15
    renders_wait: ClassVar[bool] = False

    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        text = self.instruction(self.template, screen) + step.task
        instruction = step.instruction
        if instruction:
            text += f"\nCurrent step: {instruction}"
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": text},
        ]
        previous = step.previous_screenshot
        for i, description in enumerate(step.history):
            if previous is not None and i == len(step.history) - 1:
                messages.append({"role": "user", "content": [image_part(previous)]})
            messages.append({"role": "assistant", "content": f"Thought: {description}"})
        messages.append({"role": "user", "content": [image_part(step.current_screenshot)]})
        return messages

    def _parse(self, text: str, screen: tuple[int, int]) -> Reading:
        problems: list[str] = []
        thought = None
        if "Thought:" in text:
            thought = text.split("Thought:", 1)[1].split("Action:", 1)[0].strip()
        if "Action:" in text:
            body = text.rsplit("Action:", 1)[1]
        else:
            problems.append("no_action_header")
            body = text
        body = body.strip()  # `<|box_start|>` tokens need no stripping: points are read as the numbers inside
        calls = [c for c in re.split(r"\)\s*\n\s*\n", body) if c.strip()]
        if len(calls) > 1:
            problems.append("multiple_actions")
            body = calls[0] + ")"
        think = {"thought": thought} if thought else None
        call = parse_call(body)
        if call is None:
            return Reading(None, problems, think)
        return Reading(self._action(*call, screen, problems), problems, think)

    def _point(self, args: dict[str, str], keys: tuple[str, ...], problems: list[str]) -> Any:
        for key in keys:
            if key in args:
                point = point_of(numbers(args[key]))
                if point is not None:
                    return point
                problems.append(f"bad_{key}")  # e.g. 1.0's start_box='='
                return None
        return None

    def _action(
        self, name: str, args: dict[str, str], screen: tuple[int, int], problems: list[str]
    ) -> Action | None:
        name = name.lower()
        start = self._point(args, ("start_box", "point", "start_point"), problems)
        if name in ("click", "left_single", "long_press"):
            if start is None:
                problems.append("missing_point")
                return None
            return self.point_action(Click if name != "long_press" else LongClick, start, screen)
        if name == "type":
            return TypeText(text=split_submit(args.get("content", args.get("_", "")), problems))
        if name == "scroll":
            end = self._point(args, ("end_box", "end_point"), problems)
            if end is not None and start is not None:  # 1.0's scroll(start_box, end_box) is a finger path
                return Swipe(start=self.to_original(start, screen), end=self.to_original(end, screen))
            return self.swipe_from_direction(args.get("direction", ""), screen, start, problems=problems)
        if name == "drag":
            end = self._point(args, ("end_box", "end_point"), problems)
            if start is None or end is None:
                problems.append("missing_point")
                return None
            return Swipe(start=self.to_original(start, screen), end=self.to_original(end, screen))
        if name == "open_app":
            return OpenApp(app=args.get("app_name", args.get("_", "")))
        if name == "press_back":
            return Back()
        if name == "press_home":
            return Home()
        if name == "press_enter":
            return Enter()
        if name == "wait":
            return Wait()
        if name == "finished":
            return TaskCompleted(summary=args.get("content", ""))
        if name in ("call_user", "hotkey"):
            problems.append(f"{NO_COUNTERPART}{name}")
            return None
        problems.append("unknown_action")
        return None

    def _box(self, point: Any, screen: tuple[int, int]) -> str:
        x, y = self.to_model(point, screen)
        return f"'<|box_start|>({x},{y})<|box_end|>'"

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        call: str | None = None
        if isinstance(action, Click):
            call = f"click(start_box={self._box(action.point, screen)})"
        elif isinstance(action, LongClick):
            call = f"long_press(start_box={self._box(action.point, screen)})"
        elif isinstance(action, Swipe):
            start = self._box(action.start, screen)
            call = f"scroll(start_box={start}, direction='{self.direction_word(action)}')"
        elif isinstance(action, TypeText):
            call = "type(content='{}')".format(action.text.replace("\\", "\\\\").replace("'", "\\'"))
        elif isinstance(action, OpenApp):
            call = f"open_app(app_name='{action.app}')"
        elif isinstance(action, Back):
            call = "press_back()"
        elif isinstance(action, Home):
            call = "press_home()"
        elif isinstance(action, Wait) and self.renders_wait:
            call = "wait()"
        elif isinstance(action, TaskCompleted):
            call = "finished(content='')"
        elif isinstance(action, TaskImpossible):
            call = None
        return None if call is None else f"Thought: {self.render_thought}\nAction: {call}"


class UITars10Adapter(UITars15Adapter):
    """UI-TARS 1.0 (Qwen2-VL base): the same grammar in 0-1000, `wait()` in the AndroidControl space."""

    name = "ui-tars-1.0"
    coord_space = "norm1000"
    reproduced_from = "readme"
    template = _TEMPLATE_10
    renders_wait = True
