"""Swipe directions, axes and opposites: the one place these rules live.

Protocols, importers, agent adapters and own-history evaluation all name a swipe by a direction word
(`up`, `down`, `left`, `right`). Two conventions meet here:

- what the word names: the FINGER's motion, or the CONTENT's (AndroidControl's `scroll` direction,
  some agents' `scroll(direction=...)`), which is the opposite (`finger_word`);
- the unit the larger-axis rule compares in: `pixel` (original screen pixels, as given) or `norm`
  (x / width and y / height, both 0-1). On a non-square screen the two can disagree (a 100 x 150
  pixel move on a 1080 x 2400 screen is vertical in pixels, horizontal in norm units), so every caller
  states its unit; which unit each published evaluator uses is its protocol's business.

Rules of a single source (AITZ's 0.9 ratio, AgentCPM's cosine snapping) stay in that source's protocol.
"""

from __future__ import annotations

from collections.abc import Sequence

DIRECTIONS: tuple[str, ...] = ("up", "down", "left", "right")
OPPOSITE: dict[str, str] = {"up": "down", "down": "up", "left": "right", "right": "left"}
# What a direction word can name: the finger's path or the content's motion (the opposite).
MEANINGS: tuple[str, ...] = ("content", "finger")
UNITS: tuple[str, ...] = ("pixel", "norm")

Point = Sequence[float]


def finger_word(word: str, means: str) -> str:
    """The finger's direction for a word that names the finger's (`finger`) or the content's (`content`)
    motion; the same turn maps a finger direction to the content's."""
    if means not in MEANINGS:
        raise ValueError(f"expected what the direction names in {MEANINGS}, found {means!r}")
    return OPPOSITE[word] if means == "content" else word


def delta(start: Point, end: Point, *, unit: str, screen: Sequence[int] | None = None) -> tuple[float, float]:
    """`(dx, dy)` from `start` to `end` in `unit`: pixels as given, or divided by the screen's width and
    height (`norm`, which needs `screen`)."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    if unit == "pixel":
        return dx, dy
    if unit == "norm":
        if screen is None:
            raise ValueError("norm units need the screen (width, height)")
        return dx / screen[0], dy / screen[1]
    raise ValueError(f"expected a unit in {UNITS}, found {unit!r}")


def main_axis(
    start: Point, end: Point, *, unit: str, screen: Sequence[int] | None = None, tie: str = "vertical"
) -> str:
    """`x` or `y`: the larger axis of the move in `unit`; an equal move (zero included) goes to `tie`."""
    dx, dy = delta(start, end, unit=unit, screen=screen)
    if abs(dy) > abs(dx) or (abs(dy) == abs(dx) and tie == "vertical"):
        return "y"
    return "x"


def main_direction(
    start: Point,
    end: Point,
    *,
    unit: str,
    screen: Sequence[int] | None = None,
    tie: str = "vertical",
    zero: str | None = None,
) -> str | None:
    """up/down/left/right of the move by its larger axis in `unit` (ties go to `tie`); `zero` for a
    zero-length move (None by default)."""
    dx, dy = delta(start, end, unit=unit, screen=screen)
    if dx == 0 and dy == 0:
        return zero
    if main_axis(start, end, unit=unit, screen=screen, tie=tie) == "y":
        return "down" if dy > 0 else "up"
    return "right" if dx > 0 else "left"


def directions(start: Point, end: Point, *, unit: str, screen: Sequence[int] | None = None) -> frozenset[str]:
    """The direction by larger axis and sign; an exact diagonal counts as both axes, a zero move as `none`."""
    dx, dy = delta(start, end, unit=unit, screen=screen)
    if dx == 0 and dy == 0:
        return frozenset({"none"})
    horizontal, vertical = ("right" if dx > 0 else "left"), ("down" if dy > 0 else "up")
    if abs(dx) > abs(dy):
        return frozenset({horizontal})
    if abs(dy) > abs(dx):
        return frozenset({vertical})
    return frozenset({horizontal, vertical})
