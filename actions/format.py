"""The seed's partial-credit format score, as a breakdown.

Five parts worth 0.5 each in the seed (`<think>` tags, think JSON, the four think fields, `<answer>`
tags, answer JSON); here each part is 0 or 1 and `total` is their mean, so `total * 2.5` is the
seed's score. Tag detection follows the seed exactly (first match, non-greedy, content stripped,
`json.loads`), with one deliberate difference: the four-fields check needs a JSON object, where the
seed's `field in value` also passes a JSON string or list that merely contains the names (and raises
`TypeError` on a number, `true` or `null`).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from actions.parse import completion_text
from actions.vocab import THINK_FIELDS

_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
FORMAT_PARTS: tuple[str, ...] = ("think_tag", "think_json", "think_fields", "answer_tag", "answer_json")


@dataclass(frozen=True)
class FormatBreakdown:
    """The five format parts (each 0 or 1) and their mean `total` in [0, 1]."""

    think_tag: float
    think_json: float
    think_fields: float
    answer_tag: float
    answer_json: float

    @property
    def total(self) -> float:
        return (self.think_tag + self.think_json + self.think_fields + self.answer_tag + self.answer_json) / 5

    @property
    def points(self) -> float:
        """The seed's scale: 0.5 per part, 0 to 2.5."""
        return self.total * 2.5

    def as_dict(self) -> dict[str, float]:
        """The parts and the total, for results files and logs."""
        return {**asdict(self), "total": self.total}


def _json(text: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError):
        return False, None


def format_score(text: Any) -> FormatBreakdown:
    """Format breakdown of one completion (a string or a conversational message list); never raises."""
    content = completion_text(text)
    if content is None:
        return FormatBreakdown(0.0, 0.0, 0.0, 0.0, 0.0)
    think_tag = think_json = think_fields = answer_tag = answer_json = 0.0
    think = _THINK.search(content)
    if think:
        think_tag = 1.0
        ok, payload = _json(think.group(1).strip())
        if ok:
            think_json = 1.0
            if isinstance(payload, dict) and all(name in payload for name in THINK_FIELDS):
                think_fields = 1.0
    answer = _ANSWER.search(content)
    if answer:
        answer_tag = 1.0
        if _json(answer.group(1).strip())[0]:
            answer_json = 1.0
    return FormatBreakdown(think_tag, think_json, think_fields, answer_tag, answer_json)
