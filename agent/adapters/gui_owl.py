"""GUI-Owl (Mobile-Agent-v3): `<thinking>`, the `mobile_use` call, then a `<conclusion>`.

Source: X-PLUG/MobileAgent `Mobile-Agent-v3/android_world_v3/android_world/agents/gui_owl.py` and
`mobile_agent_utils_new.py` [code]: resized pixels (max 12800 image tokens), `tap` normalised to
click, `answer` (no counterpart here), no `open` (an `open_app` gold cannot be said). What differs:
history holds the step's recorded descriptions instead of the agent's past conclusions; GUI-Owl-1.5
(Qwen3-VL base, 0-1000) is not covered.
"""

from __future__ import annotations

from actions.types import Action
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
