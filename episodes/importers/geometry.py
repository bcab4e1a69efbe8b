"""The conventions every importer shares: the gold box of a click, swipes as the finger's path, wire actions.

Direction words and what they name (the finger or the content) follow `actions.directions`.

All values are in the screenshot's original pixels: boxes `(x1, y1, x2, y2)`, points `(x, y)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from actions.directions import finger_word

Box = tuple[int, int, int, int]

# A box covering this share of the screen or more says nothing about the target (a full-screen list or
# the root view), so it is never the gold box; it stays among the candidate boxes.
MAX_GOLD_AREA = 0.65
# Half the side of the fallback square around a point, as a share of the screen's shorter side.
FALLBACK_HALF = 0.01

GOLD_BOX_RULE = (
    f"click/long_click gold box: the smallest eligible box that contains the gold point and covers less "
    f"than {MAX_GOLD_AREA:.0%} of the screen, else a square of half-side {FALLBACK_HALF:.0%} of the shorter "
    f"screen side around the point (clipped to the screen); the point itself is kept, exact (not rounded or "
    f"clipped), in context.point and every containing box, smallest first, in context.candidate_boxes"
)

# Where a scroll's finger starts and ends, as shares of the screen, per direction of the FINGER.
_FINGER = {
    "up": ((0.5, 0.75), (0.5, 0.25)),
    "down": ((0.5, 0.25), (0.5, 0.75)),
    "left": ((0.75, 0.5), (0.25, 0.5)),
    "right": ((0.25, 0.5), (0.75, 0.5)),
}


def area(box: Sequence[float]) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def contains(box: Sequence[float], point: Sequence[float]) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def clip_box(box: Sequence[float], screen: tuple[int, int]) -> Box:
    """A box rounded to integers and clipped to the screen, never inverted."""
    w, h = screen
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    x1, x2 = sorted((min(max(x1, 0), w), min(max(x2, 0), w)))
    y1, y2 = sorted((min(max(y1, 0), h), min(max(y2, 0), h)))
    return x1, y1, x2, y2


def clip_point(point: Sequence[float], screen: tuple[int, int]) -> tuple[float, float]:
    """The point moved onto the screen where it lies outside; its exact value otherwise (never rounded:
    a published evaluator compares the source's own numbers with its thresholds)."""
    w, h = screen
    return _exact(min(max(point[0], 0), w)), _exact(min(max(point[1], 0), h))


def _exact(value: float) -> float:
    return int(value) if float(value).is_integer() else float(value)


def fallback_box(point: Sequence[float], screen: tuple[int, int]) -> Box:
    half = max(1, round(FALLBACK_HALF * min(screen)))
    return clip_box((point[0] - half, point[1] - half, point[0] + half, point[1] + half), screen)


def containing(
    boxes: Iterable[Sequence[float]], point: Sequence[float], screen: tuple[int, int]
) -> list[Box]:
    """The distinct boxes with area that contain the point, clipped, smallest first."""
    seen: dict[Box, None] = {}
    for box in boxes:
        if area(box) > 0 and contains(box, point):
            seen.setdefault(clip_box(box, screen), None)
    return sorted(seen, key=area)


def gold_box(
    eligible: Iterable[Sequence[float]], point: Sequence[float], screen: tuple[int, int]
) -> tuple[Box, str]:
    """`(box, how)` for a click at `point`: see `GOLD_BOX_RULE`; `how` is `element` or `fallback`."""
    limit = MAX_GOLD_AREA * screen[0] * screen[1]
    for box in containing(eligible, point, screen):
        if area(box) < limit:
            return box, "element"
    return fallback_box(point, screen), "fallback"


def finger_swipe(
    direction: str, screen: tuple[int, int], *, means: str
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Start and end points of a swipe for a direction word; `means` is `content` (inverted) or `finger`."""
    word = direction.strip().lower()
    if word not in _FINGER:
        raise ValueError(f"expected a scroll direction in {sorted(_FINGER)}, found {direction!r}")
    finger = finger_word(word, means)
    (sx, sy), (ex, ey) = _FINGER[finger]
    w, h = screen
    return (round(sx * w), round(sy * h)), (round(ex * w), round(ey * h))


def wire(action_type: str, parameter: str = "", description: str = "") -> dict[str, Any]:
    """A gold action in the seed's wire format."""
    return {
        "action_type": action_type,
        "action_parameter": {action_type: parameter},
        "action_description": description,
    }


def box_text(box: Sequence[int]) -> str:
    return ",".join(str(int(v)) for v in box)


def click(
    kind: str,
    point: Sequence[float],
    eligible: Iterable[Sequence[float]],
    candidates: Iterable[Sequence[float]],
    screen: tuple[int, int],
    description: str,
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """`(wire action, context, how the box was chosen)` for a click or long_click at a point; the context's
    point is the source's exact value, even off the screen."""
    pt = clip_point(point, screen)
    box, how = gold_box(eligible, pt, screen)
    exact = [_exact(point[0]), _exact(point[1])]
    context = {"point": exact, "candidate_boxes": [list(b) for b in containing(candidates, pt, screen)]}
    return wire(kind, box_text(box), description), context, how


def swipe(
    start: Sequence[float], end: Sequence[float], screen: tuple[int, int], description: str
) -> dict[str, Any]:
    """A swipe's wire action: its points on the screen, at full precision (not rounded)."""
    from actions.types import format_number

    points = (*clip_point(start, screen), *clip_point(end, screen))
    return wire("swipe", ",".join(format_number(v) for v in points), description)
