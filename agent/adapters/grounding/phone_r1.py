"""phone-r1's own grounding prompt: the seed's think/answer format, asking for one click.

The model trained here answers `<think>{...}</think><answer>{"action_type": "click",
"action_parameter": {"click": "x1,y1,x2,y2"}, ...}</answer>`; its answer is read by the project's own
completion parser (`actions.parse_completion`) and the click's box centre is the answered point. A
`task_impossible` answer is a refusal. The coordinate space is the checkpoint's (`phone_r1.json`):
original pixels by default, `resized` or `norm1000` as it was trained.
"""

from __future__ import annotations

import json
from typing import Any

from actions.grounding_protocols.base import GroundingAnswer
from actions.parse import parse_completion
from actions.types import BoxAction, TaskImpossible
from actions.vocab import THINK_FIELDS
from agent.adapters.grounding.base import GroundingAdapter

_THINK = json.dumps(dict.fromkeys(THINK_FIELDS, "scripted"))
_SPACE_WORDS = {
    "original": "in the screenshot's pixels; it is ${width}x${height}",
    "resized": "in the pixels of the image as you see it, ${width}x${height}",
    "norm1000": "on a 0-1000 grid across and down the screen",
}


_USER = (
    "Find the element on this screen that the instruction names and click it.\n"
    "Instruction: ${instruction}\n"
    "Coordinates are <space>.\n"
    "Reason inside <think></think> as a JSON object, then give one action inside <answer></answer>: "
    '{"action_type": "click", "action_parameter": {"click": "x1,y1,x2,y2"}, "action_description": "..."} '
    "with the element's box, or "
    '{"action_type": "task_impossible", "action_parameter": {"task_impossible": "why"}, '
    '"action_description": "..."} when nothing on the screen matches.'
)


class PhoneR1Grounding(GroundingAdapter):
    """This project's think/answer JSON, one click (or `task_impossible` when nothing matches)."""

    name = "phone-r1"
    coord_space = "original"
    spaces = ("original", "resized", "norm1000")
    refusal = "a task_impossible action"
    grammar = (
        '<think>{...}</think><answer>{"action_type": "click", "action_parameter": {"click": "x1,y1,x2,y2"}}'
        "</answer>"
    )
    source = "phone-r1 (agent/prompts, actions.parse)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.prompt_file is None:
            self._user = _USER.replace("<space>", _SPACE_WORDS[self.space])

    def _parse(self, text: str, screen: tuple[int, int]) -> GroundingAnswer:
        parsed = parse_completion(text)
        problems = tuple(parsed.problems)
        if isinstance(parsed.action, TaskImpossible):
            return GroundingAnswer(refused=True, problems=problems)
        if isinstance(parsed.action, BoxAction):
            x1, y1, x2, y2 = parsed.action.box
            return self.answer_at(((x1 + x2) / 2, (y1 + y2) / 2), screen, problems=problems)
        if parsed.action is not None:
            return GroundingAnswer(problems=(*problems, f"not_a_click:{parsed.action.action_type}"))
        return GroundingAnswer(problems=problems)

    def render_point(self, model_point: tuple[float, float]) -> str:
        x, y = model_point
        action = {
            "action_type": "click",
            "action_parameter": {"click": f"{x},{y},{x},{y}"},
            "action_description": "点击",
        }
        return f"<think>{_THINK}</think><answer>{json.dumps(action, ensure_ascii=False)}</answer>"

    def render_refusal(self) -> str | None:
        action = {
            "action_type": "task_impossible",
            "action_parameter": {"task_impossible": "no such element"},
            "action_description": "无法完成",
        }
        return f"<think>{_THINK}</think><answer>{json.dumps(action, ensure_ascii=False)}</answer>"
