"""AgentCPM-GUI: `<Question>` plus screenshot in, one compact JSON object out, 0-1000 of the original image.

Source: OpenBMB/AgentCPM-GUI `README.md`, `eval/run_predict_minicpm.py` and the action schema
`eval/utils/schema/schema.json` [code]; `to` names the finger's direction (`process_ac.py`, issue #77).
The official system prompt is in Chinese; the default here is this project's English wording of the same
Role/Task/Rule structure (pass the official text with `--agent-prompt FILE` to reproduce it exactly).
What differs: the screenshot is sent as stored (the official script resizes the longer side to 1120,
which does not move relative coordinates); no history is sent, as in the official evaluation.
`PRESS` BACK/HOME/ENTER are key presses; the statuses `continue`, `need_feedback` and `interrupt` have no
counterpart (the `agentcpm` protocols read them as stops from the raw answer).
"""

from __future__ import annotations

import json
from typing import Any

from actions.types import (
    Action,
    Back,
    Click,
    Enter,
    Home,
    LongClick,
    Swipe,
    TaskCompleted,
    TaskImpossible,
    TypeText,
    Wait,
)
from actions.wire import literal_eval
from agent.adapters.base import NO_COUNTERPART, Adapter, Reading, image_part, split_submit

LONG_PRESS_MS = 200  # a POINT held longer than this is a long press (the schema's convention)

_SYSTEM = """# Role
You are an agent that operates a phone for the user.

# Task
From the question and the current screenshot, output the next action as one compact JSON object on one \
line, with no spaces and nothing else.

# Rules
- Coordinates are [x,y] from 0 to 1000 across the screen, (0,0) at the top left.
- {"POINT":[x,y]} taps; add "duration" in milliseconds to press longer; add "to":"up|down|left|right" \
(or an [x,y] end point) to swipe a finger that way.
- {"PRESS":"HOME|BACK|ENTER"} presses a key; {"TYPE":"text"} types; {"duration":ms} alone waits.
- {"STATUS":"finish"} ends a done task, {"STATUS":"impossible"} one that cannot be done.
- You may add "thought" with your reasoning before the action keys.
"""


class AgentCPMGUIAdapter(Adapter):
    """AgentCPM-GUI 8B (MiniCPM-V base)."""

    name = "agentcpm-gui"
    has_thought = False  # the compact JSON answer, without its optional thought key
    coord_space = "norm1000"
    scroll_means = "finger"
    grammar = '{"POINT":[x,y]} (compact JSON, 0-1000)'
    keys = ("home", "enter")
    reproduced_from = "code"

    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        question = step.instruction or step.task
        return [
            {"role": "system", "content": self.instruction(_SYSTEM, screen)},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": f"<Question>{question}</Question>\nCurrent screenshot:"},
                    image_part(step.current_screenshot),
                ],
            },
        ]

    def _parse(self, text: str, screen: tuple[int, int]) -> Reading:
        problems: list[str] = []
        start, end = text.find("{"), text.rfind("}")
        if not 0 <= start < end:
            return Reading(None, problems)
        if text[:start].strip() or text[end + 1 :].strip():
            problems.append("extra_text")
        obj = None
        for loads in (json.loads, literal_eval):
            try:
                obj = loads(text[start : end + 1])
                break
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
        if not isinstance(obj, dict):
            problems.append("answer_not_json")
            return Reading(None, problems)
        think = {"thought": obj["thought"]} if isinstance(obj.get("thought"), str) else None
        return Reading(self._action(obj, screen, problems), problems, think)

    def _action(self, obj: dict[str, Any], screen: tuple[int, int], problems: list[str]) -> Action | None:
        point = obj.get("POINT")
        if point is not None:
            if not (
                isinstance(point, list)
                and len(point) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point)
            ):
                problems.append("bad_point")
                return None
            to = obj.get("to")
            if isinstance(to, str):
                return self.swipe_from_direction(to, screen, point, problems=problems)
            if isinstance(to, list) and len(to) == 2:
                return Swipe(start=self.to_original(point, screen), end=self.to_original(to, screen))
            duration = obj.get("duration")
            long = isinstance(duration, (int, float)) and duration > LONG_PRESS_MS
            return self.point_action(LongClick if long else Click, point, screen)
        if "PRESS" in obj:
            key = str(obj["PRESS"]).upper()
            pressed = {"BACK": Back, "HOME": Home, "ENTER": Enter}.get(key)
            if pressed is not None:
                return pressed()
            problems.append(f"{NO_COUNTERPART}{key.lower()}")
            return None
        if "TYPE" in obj:
            return TypeText(text=split_submit(str(obj["TYPE"]), problems))
        if "STATUS" in obj:
            status = str(obj["STATUS"]).lower()
            if status in ("finish", "satisfied"):
                return TaskCompleted()
            if status == "impossible":
                return TaskImpossible()
            problems.append(f"{NO_COUNTERPART}{status}")
            return None
        if "duration" in obj:
            return Wait()
        problems.append("unknown_action")
        return None

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        obj: dict[str, Any] | None = None
        if isinstance(action, Click):
            obj = {"POINT": list(self.to_model(action.point, screen))}
        elif isinstance(action, LongClick):
            obj = {"POINT": list(self.to_model(action.point, screen)), "duration": 1000}
        elif isinstance(action, Swipe):
            obj = {"POINT": list(self.to_model(action.start, screen)), "to": self.direction_word(action)}
        elif isinstance(action, TypeText):
            obj = {"TYPE": action.text}
        elif isinstance(action, (Back, Home, Enter)):
            obj = {"PRESS": action.key.upper()}
        elif isinstance(action, Wait):
            obj = {"duration": 3000}
        elif isinstance(action, TaskCompleted):
            obj = {"STATUS": "finish"}
        elif isinstance(action, TaskImpossible):
            obj = {"STATUS": "impossible"}
        return None if obj is None else json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
