"""MAI-UI: `<thinking>` then one `mobile_use` call, on a 0-999 grid.

Source: Tongyi-MAI/MAI-UI `src/prompt.py` (`MAI_MOBILE_SYS_PROMPT`) and `src/mai_naivigation_agent.py`
[code]. Coordinates are divided by 999 (`SCALE_FACTOR`); a 4-number coordinate is a box read at its
centre. Actions: `click`, `long_press`, `type`, `swipe` with a `direction` and an optional anchor
`coordinate`, `open` (and its alias `AWAKE`), `drag` (`start_coordinate` -> `end_coordinate`),
`system_button` (back, home, menu, enter), `wait`, `terminate` (success or fail), `answer` and `INFO`
(asking the user); `answer`, `INFO` and `menu` have no counterpart here. What differs: our own wording of
the system prompt (the official text can be passed with `--agent-prompt`); the task, step instruction and
the step's recorded descriptions as previous actions go in one user turn with the current screenshot
only (the official agent replays up to two earlier screenshots with its own earlier answers); a swipe
direction is read as the finger's path (the prompt does not say, and "swipe up" moves the finger up).
"""

from __future__ import annotations

import json
from typing import Any

from actions.types import Action, Click, LongClick, OpenApp, Swipe, TaskCompleted, TaskImpossible, Wait
from agent.adapters.base import NO_COUNTERPART
from agent.adapters.mobile_use import MobileUseAdapter

_SYSTEM = """You are a GUI agent operating an Android phone. You get a task, the actions taken so far and \
the current screenshot; give the next action. The screen is a ${width}x${height} grid.

## Output format
Think inside <thinking></thinking>: a short plan, ending with one sentence naming the next action and its \
target. Then give exactly one call inside <tool_call></tool_call>:
<thinking>
...
</thinking>
<tool_call>
{"name": "mobile_use", "arguments": {...}}
</tool_call>

## Actions (the arguments object)
{"action": "click", "coordinate": [x, y]}
{"action": "long_press", "coordinate": [x, y]}
{"action": "type", "text": "..."}
{"action": "swipe", "direction": "up, down, left or right", "coordinate": [x, y]}  (coordinate optional)
{"action": "open", "text": "app name"}
{"action": "drag", "start_coordinate": [x1, y1], "end_coordinate": [x2, y2]}
{"action": "system_button", "button": "back, home, menu or enter"}
{"action": "wait"}
{"action": "terminate", "status": "success or fail"}
{"action": "answer", "text": "..."}
{"action": "INFO", "text": "..."}  (ask the user for information)"""


class MAIUIAdapter(MobileUseAdapter):
    """MAI-UI: reasoning in `<thinking>`, then the `mobile_use` call on a 0-999 grid."""

    name = "mai-ui"
    coord_space = "norm999"
    grammar = '<thinking>...</thinking>\n<tool_call>{"name": "mobile_use", "arguments": {...}}</tool_call>'

    def tool_text(self) -> str:
        return _SYSTEM

    def history_text(self, step: Any) -> str:
        return "\n".join(f"Step {i}: {text}" for i, text in enumerate(step.history, start=1))

    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        from agent.adapters.base import image_part

        user = f"Task: {step.task}"
        if step.instruction:
            user += f"\nCurrent step: {step.instruction}"
        user += "\nPrevious actions:\n" + (self.history_text(step) or "None")
        return [
            {"role": "system", "content": self.instruction(self.tool_text(), screen)},
            {
                "role": "user",
                "content": [{"type": "text", "text": user}, image_part(step.current_screenshot)],
            },
        ]

    def _action(self, args: dict[str, Any], screen: tuple[int, int], problems: list[str]) -> Action | None:
        name = str(args.get("action", "")).strip()
        lower = name.lower()
        if lower == "awake":
            return OpenApp(app=str(args.get("text", "")))
        if lower in ("info", "ask_user"):
            problems.append(f"{NO_COUNTERPART}ask_user")
            return None
        if lower == "drag":
            start = self._point(args, "start_coordinate", problems)
            end = self._point(args, "end_coordinate", problems)
            if start is None or end is None:
                return None
            return Swipe(start=self.to_original(start, screen), end=self.to_original(end, screen))
        if lower == "swipe" and "coordinate2" not in args:
            anchor = self._point(args, "coordinate", problems) if "coordinate" in args else None
            direction = args.get("direction")
            if not isinstance(direction, str):
                problems.append("bad_direction")
                return None
            return self.swipe_from_direction(direction, screen, anchor, means="finger", problems=problems)
        if lower == "terminate" and str(args.get("status", "")).lower() not in ("success", "fail", "failure"):
            problems.append("bad_status")
            return None
        return super()._action({**args, "action": lower}, screen, problems)

    def render_args(self, action: Action, screen: tuple[int, int]) -> dict[str, Any] | None:
        if isinstance(action, (Click, LongClick)):
            name = "click" if isinstance(action, Click) else "long_press"
            return {"action": name, "coordinate": list(self.to_model(action.point, screen))}
        if isinstance(action, Swipe):
            word = self.direction_word(action, means="finger")
            return {
                "action": "swipe",
                "direction": word,
                "coordinate": list(self.to_model(action.start, screen)),
            }
        if isinstance(action, Wait):
            return {"action": "wait"}
        if isinstance(action, TaskCompleted):
            return {"action": "terminate", "status": "success"}
        if isinstance(action, TaskImpossible):
            return {"action": "terminate", "status": "fail"}
        args = super().render_args(action, screen)
        if args is not None and args.get("action") == "system_button":
            args["button"] = str(args["button"]).lower()
        return args

    def render_call(self, args: dict[str, Any]) -> str:
        call = json.dumps(
            {"name": "mobile_use", "arguments": args}, ensure_ascii=False, separators=(",", ":")
        )
        return f"<tool_call>\n{call}\n</tool_call>"

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        call = super().render(action, screen)
        return None if call is None else f"<thinking>\n{self.render_thought}\n</thinking>\n{call}"
