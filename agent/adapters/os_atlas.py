"""OS-Atlas-Pro: one user turn in "executable language grounding" mode.

Answers read `actions:\\nCLICK <point>[[x,y]]</point>`.

Source: OS-Copilot/OS-Atlas `eval/data/ac_test.jsonl` and `gui_odyssey_test.jsonl` (the prompt inside the
test records) [code]; coordinates 0-1000 [readme]. The instruction text here is this project's own
wording of that structure. `SCROLL [UP]` is read as naming the content's direction (AndroidControl's
convention, an inference: the source does not say) and converted to the finger path. `PRESS_HOME`,
`PRESS_RECENT` and `ENTER` are key presses. What differs: the history lists the step's recorded
descriptions; LONG_PRESS is offered (the AndroidControl prompt omits it although its ground truth uses it).
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
from agent.adapters.base import Adapter, Reading, image_part, numbers, point_of, split_submit

_INSTRUCTION = """You are a phone-operating agent working in executable language grounding mode: you look \
at the screenshot, the task and the history, and answer with your thoughts and the next action.

Answer in this form:
thoughts:
<why this action>
actions:
<one action>

Actions:
- CLICK <point>[[x,y]]</point>: tap the point (x and y from 0 to 1000 across the screen)
- LONG_PRESS <point>[[x,y]]</point>: press and hold the point
- TYPE [text]: type the text into the focused field
- SCROLL [UP|DOWN|LEFT|RIGHT]: scroll the page in that direction
- OPEN_APP [app name]: launch an app
- PRESS_BACK: go back
- PRESS_HOME: go to the home screen
- PRESS_RECENT: show the recent apps
- ENTER: press enter
- WAIT: wait for the screen to change
- COMPLETE: the task is done
- IMPOSSIBLE: the task cannot be done
"""

_COMMAND = re.compile(
    r"\b(CLICK|LONG_PRESS|TYPE|SCROLL|OPEN_APP|PRESS_BACK|PRESS_HOME|PRESS_RECENT|ENTER|WAIT|COMPLETE|IMPOSSIBLE)\b(.*)",
    re.DOTALL,
)
_BRACKET = re.compile(r"\[(.*)\]", re.DOTALL)


class OSAtlasAdapter(Adapter):
    """OS-Atlas-Pro-7B (Qwen2-VL base)."""

    name = "os-atlas"
    coord_space = "norm1000"
    scroll_means = "content"
    grammar = "actions:\\nCLICK <point>[[x,y]]</point>"
    keys = ("home", "enter", "recent_apps")
    reproduced_from = "code"

    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        task = step.task
        instruction = step.instruction
        if instruction:
            task += f" You need to: {instruction}"
        history = "".join(f"Step {i}: {text}\n" for i, text in enumerate(step.history, start=1)) or "None\n"
        instruction = self.instruction(_INSTRUCTION, screen)
        text = f"{instruction}\nScreenshot: <image>\nTask: {task}\nHistory: \n{history}"
        # One user turn, no system message: the image stands where the text says `<image>`.
        before, after = text.split("<image>", 1)
        return [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": before},
                    image_part(step.current_screenshot),
                    {"type": "text", "text": after},
                ],
            }
        ]

    def _parse(self, text: str, screen: tuple[int, int]) -> Reading:
        problems: list[str] = []
        lowered = text.lower()
        think = None
        if "thoughts:" in lowered:
            start = lowered.index("thoughts:") + len("thoughts:")
            end = lowered.find("actions:", start)
            think = {"thoughts": text[start : end if end >= 0 else None].strip()}
        if "actions:" in lowered:
            body = text[lowered.rindex("actions:") + len("actions:") :]
        else:
            problems.append("no_actions_header")
            body = text
        match = _COMMAND.search(body)
        if match is None:
            return Reading(None, problems, think)  # often a description instead of a command (issue #44)
        command = match.group(1)
        rest = match.group(2).split("\n", 1)[0] if command not in ("TYPE",) else match.group(2)
        return Reading(self._action(command, rest, screen, problems), problems, think)

    def _action(self, command: str, rest: str, screen: tuple[int, int], problems: list[str]) -> Action | None:
        if command in ("CLICK", "LONG_PRESS"):
            point = point_of(numbers(rest.split("</point>", 1)[0]))
            if point is None:
                problems.append("bad_point")
                return None
            return self.point_action(Click if command == "CLICK" else LongClick, point, screen)
        argument = _BRACKET.search(rest)
        value = argument.group(1).strip() if argument else rest.strip()
        if command == "TYPE":
            value = _BRACKET.search(rest.split("\n\n", 1)[0])
            return TypeText(text=split_submit(value.group(1) if value else rest.strip(), problems))
        if command == "SCROLL":
            return self.swipe_from_direction(value, screen, problems=problems)
        if command == "OPEN_APP":
            return OpenApp(app=value)
        # The command pattern only matches the grammar's words, so every one is a typed action here.
        return {
            "PRESS_BACK": Back,
            "PRESS_HOME": Home,
            "PRESS_RECENT": RecentApps,
            "ENTER": Enter,
            "WAIT": Wait,
            "COMPLETE": TaskCompleted,
            "IMPOSSIBLE": TaskImpossible,
        }[command]()

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        command: str | None = None
        if isinstance(action, (Click, LongClick)):
            x, y = self.to_model(action.point, screen)
            command = f"{'CLICK' if isinstance(action, Click) else 'LONG_PRESS'} <point>[[{x},{y}]]</point>"
        elif isinstance(action, Swipe):
            command = f"SCROLL [{self.direction_word(action).upper()}]"
        elif isinstance(action, TypeText):
            command = f"TYPE [{action.text}]"
        elif isinstance(action, OpenApp):
            command = f"OPEN_APP [{action.app}]"
        elif isinstance(action, Back):
            command = "PRESS_BACK"
        elif isinstance(action, Home):
            command = "PRESS_HOME"
        elif isinstance(action, RecentApps):
            command = "PRESS_RECENT"
        elif isinstance(action, Enter):
            command = "ENTER"
        elif isinstance(action, Wait):
            command = "WAIT"
        elif isinstance(action, TaskCompleted):
            command = "COMPLETE"
        elif isinstance(action, TaskImpossible):
            command = "IMPOSSIBLE"
        return None if command is None else f"thoughts:\n{self.render_thought}\nactions:\n{command}"
