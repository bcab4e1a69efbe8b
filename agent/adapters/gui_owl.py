"""GUI-Owl of Mobile-Agent-v3 (`gui-owl`) and GUI-Owl-1.5 of Mobile-Agent-v3.5 (`gui-owl-1.5`).

Source: X-PLUG/MobileAgent `Mobile-Agent-v3/android_world_v3/android_world/agents/gui_owl.py` and
`mobile_agent_utils_new.py` [code]: resized pixels (max 12800 image tokens), `tap` normalised to
click, `answer` (no counterpart here), no `open` (an `open_app` gold cannot be said). What differs:
history holds the step's recorded descriptions instead of the agent's past conclusions.

GUI-Owl-1.5 (Qwen3-VL base): X-PLUG/MobileAgent `Mobile-Agent-v3.5/android_world_v3.5/android_world/
agents/gui_owl.py` [code]. The `mobile_use` tool on a 1000x1000 screen (0-1000 grid, x / 1000 * W) with
`key`, `open`, `answer` and the rest; each answer is `Action: <one short imperative>` then one
`<tool_call>`; the user turn gives the instruction and `Previous actions:` as `Step1: ...` lines. What
differs: our own wording of the tool and rules (the official text can be passed with `--agent-prompt`);
previous actions are the step's recorded descriptions, and only the current screenshot is sent (the
official agent also replays the last screenshots with its own earlier answers).
"""

from __future__ import annotations

import re
from typing import Any

from actions.types import Action
from agent.adapters.base import image_part
from agent.adapters.mobile_use import MobileUseAdapter


class GUIOwlAdapter(MobileUseAdapter):
    """GUI-Owl (Mobile-Agent-v3): reasoning in `<thinking>`, the call, a `<conclusion>` summary."""

    name = "gui-owl"
    actions_offered = ("click", "long_press", "swipe", "type", "answer", "system_button", "wait", "terminate")
    preamble = (
        "Explain your reasoning inside <thinking></thinking>, then make the call, then summarise the action "
        "inside <conclusion></conclusion>.\n"
    )

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        call = super().render(action, screen)
        if call is None:
            return None
        thought = self.render_thought
        return f"<thinking>{thought}</thinking>{call}<conclusion>{thought}</conclusion>"


class GUIOwl15Adapter(MobileUseAdapter):
    """GUI-Owl-1.5 (Mobile-Agent-v3.5): `Action:` sentence, then the call on a 0-1000 grid."""

    name = "gui-owl-1.5"
    coord_space = "norm1000"
    grammar = 'Action: ...\n<tool_call>{"name": "mobile_use", "arguments": {...}}</tool_call>'
    actions_offered = (
        "key",
        "click",
        "long_press",
        "swipe",
        "type",
        "system_button",
        "open",
        "wait",
        "answer",
        "terminate",
    )
    response_rule = (
        "Answer in two parts, in this order and nothing else: `Action:` with one short imperative saying "
        "what you do on the screen, then exactly one <tool_call></tool_call> holding "
        '{"name": "mobile_use", "arguments": {...}}. To finish, call terminate.'
    )

    def history_text(self, step: Any) -> str:
        return "\n".join(f"Step{i}: {text}" for i, text in enumerate(step.history, start=1))

    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        user = "Give the next action for the screenshot, the instruction and the actions so far.\n\n"
        user += f"Instruction: {step.task}"
        if step.instruction:
            user += f"\nCurrent step: {step.instruction}"
        user += "\n\nPrevious actions:\n" + (self.history_text(step) or "No previous action.")
        return [
            {"role": "system", "content": self.instruction(self.tool_text(), screen)},
            {
                "role": "user",
                "content": [{"type": "text", "text": user}, image_part(step.current_screenshot)],
            },
        ]

    def thought(self, text: str) -> dict[str, Any] | None:
        match = re.search(r"Action:\s*(.*?)\s*(?:<tool_call>|$)", text, re.DOTALL)
        return {"action": match.group(1).strip()} if match and match.group(1).strip() else None

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        call = super().render(action, screen)
        return None if call is None else f"Action: {self.render_thought}\n{call}"
