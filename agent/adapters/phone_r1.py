"""The seed format: `<think>{four-field JSON}</think><answer>{wire action}</answer>` (this project's own).

Reproduces today's behaviour exactly: `agent.prompt.build_messages` for the prompt and
`actions.parse_completion` for the answer, in the checkpoint's coordinate space and template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from actions.types import Action
from agent.adapters.base import Adapter, Reading


class PhoneR1Adapter(Adapter):
    """The seed's prompt and answer format, in `coord_space` (`original`, `resized` or `norm1000`)."""

    name = "phone-r1"
    grammar = '<think>{...}</think><answer>{"action_type": ..., "action_parameter": {...}}</answer>'
    max_images = 2
    reproduced_from = "code"

    def __init__(
        self,
        budget: Any = None,
        *,
        template: str | None = None,
        coord_space: str = "original",
        round_coords: bool = False,
        prompt_file: str | Path | None = None,
    ) -> None:
        from actions.coords import check_space
        from agent.prompt import DEFAULT_TEMPLATE

        super().__init__(budget, round_coords=round_coords)
        self.template = template or DEFAULT_TEMPLATE
        # An instance attribute: the seed format answers in whatever space the checkpoint was trained on.
        self.coord_space = check_space(coord_space)

    @property
    def needs_budget(self) -> bool:
        return False  # today's behaviour: the processor's default budget when none is given

    def template_hash(self) -> str:
        from agent.prompt import template_hash

        return template_hash(self.template, self.coord_space)

    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        from agent.prompt import build_messages

        return build_messages(step, template=self.template, coord_space=self.coord_space, budget=self.budget)

    def _parse(self, text: str, screen: tuple[int, int]) -> Reading:
        from actions import parse_completion
        from actions.coords import to_original_space

        parsed = parse_completion(text)
        action = parsed.action
        if action is not None:
            action = to_original_space(
                action, self.coord_space, screen, self.budget, integer=self.round_coords
            )
        return Reading(action, list(parsed.problems), parsed.think)

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        import json

        from actions.coords import to_model_space
        from actions.parse import THINK_FIELDS

        think = json.dumps(dict.fromkeys(THINK_FIELDS, "scripted"), ensure_ascii=False)
        wire = to_model_space(action, self.coord_space, screen, self.budget).to_json()
        return f"<think>{think}</think><answer>{json.dumps(wire, ensure_ascii=False)}</answer>"
