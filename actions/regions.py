"""The target of a grounding item: a box, a polygon, or "refuse" (no element matches the instruction).

Coordinates are kept as the benchmark releases them, so each published rule can redo its own
arithmetic on the same numbers: `units` is `pixel` (the screenshot's own pixels) or `unit` (a fraction
of the screen, 0-1 per axis, as MMBench-GUI and the normalised ScreenSpot-v2 mirror store boxes), and a
box keeps the corner order it was written in (UI-Vision's evaluator swaps inverted corners itself; a
rule that does not would see them as they are).

On disk (`episodes.grounding`):

    {"type": "box", "box": [x1, y1, x2, y2], "units": "pixel"}
    {"type": "polygon", "points": [[x, y], ...], "units": "pixel"}
    {"type": "refuse"}

Standard library only: the grounding protocols (`actions.grounding_protocols`) and the episodes layer
both read this vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

Point = tuple[float, float]
Quad = tuple[float, float, float, float]
UNITS: tuple[str, ...] = ("pixel", "unit")
REGION_TYPES: tuple[str, ...] = ("box", "polygon", "refuse")


@dataclass(frozen=True)
class Box:
    """`x1, y1, x2, y2` as the source wrote them (corners not reordered), in `units`."""

    coords: Quad
    units: str = "pixel"

    type = "box"

    def ordered(self) -> Quad:
        """The box with its corners ordered (left <= right, top <= bottom)."""
        x1, y1, x2, y2 = self.coords
        return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)

    def pixels(self, screen: tuple[int, int]) -> Quad:
        """The coordinates in screen pixels (scaled per axis for `unit`), corner order kept."""
        x1, y1, x2, y2 = self.coords
        if self.units == "unit":
            return x1 * screen[0], y1 * screen[1], x2 * screen[0], y2 * screen[1]
        return x1, y1, x2, y2

    def to_json(self) -> dict[str, Any]:
        return {"type": "box", "box": list(self.coords), "units": self.units}


@dataclass(frozen=True)
class Polygon:
    """Vertices in order (the closing edge from the last back to the first is implied), in `units`."""

    points: tuple[Point, ...]
    units: str = "pixel"

    type = "polygon"

    def pixels(self, screen: tuple[int, int]) -> tuple[Point, ...]:
        if self.units == "unit":
            return tuple((x * screen[0], y * screen[1]) for x, y in self.points)
        return self.points

    def bounds(self) -> Quad:
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return min(xs), min(ys), max(xs), max(ys)

    def to_json(self) -> dict[str, Any]:
        return {"type": "polygon", "points": [list(p) for p in self.points], "units": self.units}


@dataclass(frozen=True)
class Refusal:
    """No element on the screenshot matches the instruction: the right answer is to refuse."""

    type = "refuse"

    def to_json(self) -> dict[str, Any]:
        return {"type": "refuse"}


Region = Box | Polygon | Refusal


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"expected {what} to be a finite number, found {value!r}")
    return float(value)


def _units(obj: dict[str, Any]) -> str:
    units = obj.get("units", "pixel")
    if units not in UNITS:
        raise ValueError(f"expected units in {list(UNITS)}, found {units!r}")
    return units


def region_from_json(obj: Any) -> Region:
    """The region a JSON object describes; a ValueError says what was expected and what was found."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected the target to be a JSON object, found {type(obj).__name__}")
    kind = obj.get("type")
    if kind == "refuse":
        return Refusal()
    if kind == "box":
        box = obj.get("box")
        if not isinstance(box, (list, tuple)) or len(box) != 4:
            raise ValueError(f"expected box as [x1, y1, x2, y2], found {box!r}")
        coords = tuple(_number(v, "a box coordinate") for v in box)
        return Box(coords, _units(obj))  # type: ignore[arg-type]
    if kind == "polygon":
        points = obj.get("points")
        if not isinstance(points, (list, tuple)) or len(points) < 3:
            raise ValueError(f"expected a polygon of at least 3 [x, y] points, found {points!r}")
        parsed = []
        for p in points:
            if not isinstance(p, (list, tuple)) or len(p) != 2:
                raise ValueError(f"expected a polygon vertex as [x, y], found {p!r}")
            parsed.append((_number(p[0], "a vertex x"), _number(p[1], "a vertex y")))
        return Polygon(tuple(parsed), _units(obj))
    raise ValueError(f"expected target type in {list(REGION_TYPES)}, found {kind!r}")


def point_in_box(point: Point, box: Quad, *, edges: bool = True) -> bool:
    """`x1 <= x <= x2 and y1 <= y <= y2` (strict `<` when `edges` is False); corners taken as given."""
    x, y = point
    x1, y1, x2, y2 = box
    if edges:
        return x1 <= x <= x2 and y1 <= y <= y2
    return x1 < x < x2 and y1 < y < y2


def point_in_polygon(point: Point, vertices: tuple[Point, ...] | list[Point]) -> bool:
    """Ray casting (the crossing number): a ray from `point` towards +x crosses the boundary an odd
    number of times exactly when the point is inside.

    An edge counts when it straddles the ray's height, `(yi > y) != (yj > y)` (so a horizontal edge
    never counts and a vertex is counted once), and lies right of the point, `x < x_cross`. In screen
    coordinates (y down) points on the left and upper boundary therefore count as inside and points on
    the right and lower boundary as outside, the convention of the ray-casting evaluators of OSWorld-G
    (third-party ports: lmms-eval `tasks/osworld_g/utils.py`, ClawGUI `judge/osworld_g_judge.py`).
    """
    x, y = point
    inside = False
    n = len(vertices)
    j = n - 1
    for i in range(n):
        xi, yi = vertices[i]
        xj, yj = vertices[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def region_center(region: Region, screen: tuple[int, int]) -> Point | None:
    """A point inside the region in screen pixels (the box centre, the polygon's vertex mean when it
    is inside, else its bounding-box centre); None for a refusal. Scripted answers use it."""
    if isinstance(region, Box):
        x1, y1, x2, y2 = region.pixels(screen)
        return (x1 + x2) / 2, (y1 + y2) / 2
    if isinstance(region, Polygon):
        vertices = region.pixels(screen)
        mean = (sum(p[0] for p in vertices) / len(vertices), sum(p[1] for p in vertices) / len(vertices))
        if point_in_polygon(mean, vertices):
            return mean
        xs = [p[0] for p in vertices]
        ys = [p[1] for p in vertices]
        return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    return None
