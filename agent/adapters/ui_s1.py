"""UI-S1: `<think>...</think>` then `<action>{"action": "click", "coordinate": [x, y]}</action>`.

Source: X-PLUG/MobileAgent `UI-S1/x/data/agent/json.py` (`JsonFormat`: the system prompt's layout, the
answer format, `parse_response`) and `UI-S1/x/data/agent/space/std_space.py` (the action space: the
`mobile_use` arguments key, click, long_press, swipe, type, answer, system_button, open, wait,
terminate) [code]; resized pixels, `evaluation/qwenvl_utils.py` resizing with max_pixels 12800*28*28.
What differs: the instruction text is this project's own wording of that structure, and the history is
the step's recorded descriptions in one user turn instead of the model's own earlier replies as
assistant turns (use `eval run --history own` for answers that saw their own past).
"""

from __future__ import annotations

import json
import re
from typing import Any

from actions.types import Action
from agent.adapters.base import Reading, image_part
from agent.adapters.mobile_use import _ACTIONS, MobileUseAdapter

_ACTION = re.compile(r"<action>(.*?)</action>", re.DOTALL)


class UIS1Adapter(MobileUseAdapter):
    """UI-S1-7B (Qwen2.5-VL base): the `mobile_use` arguments as JSON inside `<action>`."""

    name = "ui-s1"
    grammar = '<think>...</think>\\n<action>\\n{"action": ..., ...}\\n</action>'
    actions_offered = (
        "key",
        "click",
        "long_press",
        "swipe",
        "type",
        "answer",
        "system_button",
        "open",
        "wait",
        "terminate",
    )

    def tool_text(self) -> str:
        actions = "\n".join(f"- {name}: {_ACTIONS[name]}" for name in self.actions_offered)
        return (
            "You operate a phone for the user. Each turn you get the task, what was done so far and a "
            "screenshot; you answer with the next action.\n\n"
            "Answer in this form:\n<think>\nyour reasoning\n</think>\n<action>\n"
            '{"action": "click", "coordinate": [x, y]}\n</action>\n\n'
            "Actions, as a JSON object with the action and its arguments at the same level:\n"
            f"{actions}\n\n"
            "Coordinates are pixels of the screenshot, which is ${width}x${height}."
        )

    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        user = f"User Instruction: {step.task}\n"
        instruction = step.instruction
        if instruction:
            user += f"Current step: {instruction}\n"
        history = self.history_text(step)
        if history:
            user += f"Done so far: {history}\n"
        return [
            {"role": "system", "content": self.instruction(self.tool_text(), screen)},
            {
                "role": "user",
                "content": [{"type": "text", "text": user}, image_part(step.current_screenshot)],
            },
        ]

    def _parse(self, text: str, screen: tuple[int, int]) -> Reading:
        problems: list[str] = []
        think = self.thought(text)
        match = _ACTION.search(text)
        if match is None:
            return Reading(None, problems, think)
        try:
            args = json.loads(match.group(1).strip())
        except (ValueError, RecursionError):
            problems.append("action_not_json")
            return Reading(None, problems, think)
        if not isinstance(args, dict):
            problems.append("action_not_object")
            return Reading(None, problems, think)
        return Reading(self._action(args, screen, problems), problems, think)

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        args = self.render_args(action, screen)
        if args is None:
            return None
        return f"<think>\nscripted\n</think>\n<action>\n{json.dumps(args, ensure_ascii=False)}\n</action>"
