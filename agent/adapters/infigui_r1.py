"""InfiGUI-R1-3B: the Qwen2.5-VL `mobile_use` prompt in thinking mode.

Source: InfiXAI/InfiGUI-R1 `eval/android_control/android_control.py` [code]: reasoning in `<think>`
with the sub-goal in `<step>`, then the call; history `Step n: ...;`; images pre-resized with
max_pixels 6400*28*28; its parser falls back to a bare call when `<tool_call>` is missing (so does
this one, noting `no_tool_call_tag`). What differs: the thinking instruction is this project's own
wording; history holds the step's recorded descriptions.
"""

from __future__ import annotations

from actions.types import Action
from agent.adapters.mobile_use import MobileUseAdapter


class InfiGUIR1Adapter(MobileUseAdapter):
    """InfiGUI-R1-3B: the Qwen2.5-VL prompt in thinking mode (`<think>` with a `<step>` sub-goal)."""

    name = "infigui-r1"
    preamble = (
        "Think about the task inside <think></think> and state the current sub-goal inside <step></step> "
        "before the function call.\n"
    )

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        call = super().render(action, screen)
        return (
            None
            if call is None
            else f"<think>{self.render_thought}<step>{self.render_thought}</step></think>{call}"
        )
