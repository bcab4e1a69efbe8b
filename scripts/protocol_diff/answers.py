"""Random and adversarial answers: points near each threshold, text variants, odd values and layouts.

Used on the phone-r1 side only (the official side never generates anything).
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

WORDS = ["up", "down", "left", "right"]
OTHER_TEXT = [
    "Settings",
    "hello world",
    "",
    " ",
    "Chrome",
    "search",
    "ok",
    "取消",
    "it's fine",
    "no input text",
]


def ring(rng: random.Random, centre: tuple[float, float], radius: float) -> tuple[float, float]:
    """A point `radius` from `centre` in a random direction."""
    angle = rng.uniform(0, 2 * math.pi)
    return centre[0] + radius * math.cos(angle), centre[1] + radius * math.sin(angle)


def number(rng: random.Random, value: float) -> Any:
    """How a model might write a coordinate: mostly an integer; sometimes a decimal, rarely odd."""
    r = rng.random()
    if r < 0.8:
        return int(round(value))
    if r < 0.93:
        return round(value, rng.choice([1, 2, 3]))
    if r < 0.96:
        return -abs(int(round(value))) - 1
    return rng.choice([0, 0.0, 1, True])


def near_threshold_point(
    rng: random.Random, centre: tuple[float, float], radius: float, scale: tuple[float, float] = (1.0, 1.0)
) -> tuple[float, float]:
    """A point just inside or outside a circle of `radius` (in units where each axis is multiplied by
    `scale`), or anywhere near."""
    r = rng.random()
    if r < 0.6:
        d = radius * rng.uniform(0.9, 1.1)
    elif r < 0.7:
        d = 0.0
    else:
        d = radius * rng.uniform(0, 6)
    x, y = ring(rng, (centre[0] * scale[0], centre[1] * scale[1]), d)
    return x / scale[0], y / scale[1]


def near_box_edge(rng: random.Random, box: list[float], factor: float = 1.0) -> tuple[float, float]:
    """A point on or next to an edge of `box` enlarged by `factor` about its centre."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    w, h = (box[2] - box[0]) * factor / 2, (box[3] - box[1]) * factor / 2
    edge = rng.choice(["l", "r", "t", "b"])
    off = rng.choice([-2, -1, -0.5, 0, 0.5, 1, 2])
    if edge in "lr":
        x = cx - w + off if edge == "l" else cx + w + off
        return x, rng.uniform(cy - h, cy + h)
    y = cy - h + off if edge == "t" else cy + h + off
    return rng.uniform(cx - w, cx + w), y


def text_variant(rng: random.Random, text: str) -> str:
    """The gold text, a part or an extension of it, another case, or something else."""
    r = rng.random()
    words = text.split()
    if r < 0.3 or not text:
        return text
    if r < 0.4:
        return text.upper() if rng.random() < 0.5 else text.lower()
    if r < 0.5:
        return f" {text} "
    if r < 0.6 and words:
        return rng.choice(words)
    if r < 0.7 and len(words) > 1:
        return " ".join(reversed(words))
    if r < 0.75:
        return f"[{text}]"
    if r < 0.8:
        return text + " please"
    if r < 0.85:
        return text[: max(1, len(text) // 2)]
    return rng.choice(OTHER_TEXT)


def odd_json_value(rng: random.Random) -> Any:
    return rng.choice(
        [None, [], {}, "12", [1], [1, 2, 3], [[1, 2]], float("nan"), float("inf"), 10**400, True, -5]
    )


def dumps(obj: Any, rng: random.Random) -> str:
    """JSON as a model might space it."""
    if rng.random() < 0.2:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(obj, ensure_ascii=rng.random() < 0.2)
