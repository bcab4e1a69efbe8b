"""The gold context of a step: what published evaluators know about the target beyond the gold action.

Stored in a step file as a third top-level key beside `input` and `output` (never inside `input`,
which the seed's converter copies into the prompt). Every key is optional; boxes are `x1, y1, x2, y2`
and points `x, y` in original pixels.

    "context": {"point": [x, y], "candidate_boxes": [[x1, y1, x2, y2], ...],
                "ui_boxes": [[x1, y1, x2, y2], ...], "scroll_direction": "up|down|left|right",
                "scroll_direction_means": "content|finger", "step_instruction": "...",
                "source": {"format": "...", "episode_id": "...", "step_index": 3}}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from actions.directions import DIRECTIONS, MEANINGS

Point = tuple[float, float]
Box = tuple[float, float, float, float]

CONTEXT_KEYS: tuple[str, ...] = (
    "point",
    "candidate_boxes",
    "ui_boxes",
    "scroll_direction",
    "scroll_direction_means",
    "step_instruction",
    "source",
)
# `box_from` (how an importer chose the gold box), `synthetic` (a step the importer added) and
# `dropped_before` (source action types dropped just before this step) are importers' provenance.
SOURCE_KEYS: tuple[str, ...] = (
    "format",
    "episode_id",
    "step_index",
    "box_from",
    "synthetic",
    "dropped_before",
)


@dataclass(frozen=True)
class ContextSource:
    """Where an imported step came from."""

    format: str | None = None
    episode_id: str | None = None
    step_index: int | None = None
    box_from: str | None = None
    synthetic: bool | None = None
    dropped_before: tuple[str, ...] | None = None


@dataclass(frozen=True)
class GoldContext:
    """Optional gold context of a step (see the module docstring); None means the source did not say."""

    point: Point | None = None
    candidate_boxes: tuple[Box, ...] | None = None
    ui_boxes: tuple[Box, ...] | None = None
    scroll_direction: str | None = None
    scroll_direction_means: str | None = None
    step_instruction: str | None = None
    source: ContextSource | None = None

    @classmethod
    def from_json(cls, obj: Any, where: str = "context") -> GoldContext:
        """Strictly validated record; a bad value is a ValueError naming `where` and the key."""
        if not isinstance(obj, dict):
            raise ValueError(f"{where}: expected 'context' to be an object, found {type(obj).__name__}")
        unknown = sorted(set(obj) - set(CONTEXT_KEYS))
        if unknown:
            raise ValueError(f"{where}: expected context keys among {list(CONTEXT_KEYS)}, found {unknown}")
        point = obj.get("point")
        if point is not None:
            point = _numbers(point, 2, f"{where}: context.point")
        boxes = {
            key: None
            if obj.get(key) is None
            else tuple(
                _numbers(b, 4, f"{where}: context.{key}[{i}]")
                for i, b in enumerate(_list(obj[key], where, key))
            )
            for key in ("candidate_boxes", "ui_boxes")
        }
        direction = _choice(obj.get("scroll_direction"), DIRECTIONS, f"{where}: context.scroll_direction")
        means = _choice(
            obj.get("scroll_direction_means"), MEANINGS, f"{where}: context.scroll_direction_means"
        )
        instruction = obj.get("step_instruction")
        if instruction is not None and not isinstance(instruction, str):
            raise ValueError(
                f"{where}: expected context.step_instruction as a string, found {type(instruction).__name__}"
            )
        return cls(
            point=point,
            candidate_boxes=boxes["candidate_boxes"],
            ui_boxes=boxes["ui_boxes"],
            scroll_direction=direction,
            scroll_direction_means=means,
            step_instruction=instruction,
            source=_source(obj.get("source"), where),
        )

    def to_json(self) -> dict[str, Any]:
        """The step-file form, keys that are set only."""
        out: dict[str, Any] = {}
        if self.point is not None:
            out["point"] = list(self.point)
        for key in ("candidate_boxes", "ui_boxes"):
            value = getattr(self, key)
            if value is not None:
                out[key] = [list(b) for b in value]
        for key in ("scroll_direction", "scroll_direction_means", "step_instruction"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.source is not None:
            out["source"] = {
                k: list(v) if isinstance(v, tuple) else v
                for k in SOURCE_KEYS
                if (v := getattr(self.source, k)) is not None
            }
        return out


def _list(value: Any, where: str, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(
            f"{where}: expected context.{key} as a list of [x1, y1, x2, y2], found {value!r:.80}"
        )
    return value


def _numbers(value: Any, n: int, what: str) -> tuple[float, ...]:
    shape = "[x, y]" if n == 2 else "[x1, y1, x2, y2]"
    if (
        not isinstance(value, list)
        or len(value) != n
        or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value
        )
    ):
        raise ValueError(f"{what}: expected {shape} of finite numbers (original pixels), found {value!r:.80}")
    return tuple(value)


def _choice(value: Any, choices: tuple[str, ...], what: str) -> str | None:
    if value is not None and value not in choices:
        raise ValueError(f"{what}: expected one of {list(choices)}, found {value!r}")
    return value


def _source(value: Any, where: str) -> ContextSource | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - set(SOURCE_KEYS):
        raise ValueError(
            f"{where}: expected context.source as an object with keys among {list(SOURCE_KEYS)}, "
            f"found {value!r:.80}"
        )
    for key in ("format", "episode_id", "box_from"):
        if value.get(key) is not None and not isinstance(value[key], str):
            raise ValueError(f"{where}: expected context.source.{key} as a string, found {value[key]!r}")
    index = value.get("step_index")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
        raise ValueError(f"{where}: expected context.source.step_index as an integer >= 0, found {index!r}")
    synthetic = value.get("synthetic")
    if synthetic is not None and not isinstance(synthetic, bool):
        raise ValueError(f"{where}: expected context.source.synthetic as true or false, found {synthetic!r}")
    dropped = value.get("dropped_before")
    if dropped is not None and not (isinstance(dropped, list) and all(isinstance(d, str) for d in dropped)):
        raise ValueError(
            f"{where}: expected context.source.dropped_before as a list of strings, found {dropped!r:.80}"
        )
    return ContextSource(
        value.get("format"),
        value.get("episode_id"),
        index,
        value.get("box_from"),
        synthetic,
        tuple(dropped) if dropped is not None else None,
    )
