"""Qwen2.5-VL and Qwen3-VL as their mobile-agent cookbooks ask them (the `mobile_use` tool call).

- Qwen2.5-VL: QwenLM/Qwen2.5-VL `cookbooks/mobile_agent.ipynb` [code]. Resized pixels (smart_resize,
  factor 28, the server's min/max pixels); one image, text history.
- Qwen3-VL: QwenLM/Qwen3-VL `cookbooks/mobile_agent.ipynb` [code]. A 999x999 grid (`x / 999 * W`), a
  Thought / Action sentence before the call, `answer` added and `open`/`key` dropped (apps are opened
  by tapping, so an `open_app` gold cannot be said).
What differs: see `agent.adapters.mobile_use` (history from descriptions, our own tool wording).
"""

from __future__ import annotations

from typing import Any

from actions.types import Action
from agent.adapters.mobile_use import MobileUseAdapter


class Qwen25VLAdapter(MobileUseAdapter):
    """Qwen2.5-VL-Instruct as its mobile cookbook asks it: tool block, goal, text history, one image."""

    name = "qwen2.5-vl"
    has_thought = False  # the cookbook's answer is the bare tool call


class Qwen3VLAdapter(MobileUseAdapter):
    """Qwen3-VL: the tool block on a 999x999 grid; Thought, Action sentence, then the call."""

    name = "qwen3-vl"
    coord_space = "norm999"
    actions_offered = ("click", "long_press", "swipe", "type", "answer", "system_button", "wait", "terminate")
    response_rule = (
        "Response format: first `Thought:` (one sentence), then `Action:` (one sentence saying what you do), "
        'then exactly one <tool_call></tool_call> holding {"name": "mobile_use", "arguments": {...}}.'
    )

    def thought(self, text: str) -> dict[str, Any] | None:
        head = text.split("<tool_call>", 1)[0].strip()
        return {"thought": head} if head else None

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        call = super().render(action, screen)
        return (
            None
            if call is None
            else f'Thought: {self.render_thought}.\nAction: "{self.render_thought}"\n{call}'
        )
