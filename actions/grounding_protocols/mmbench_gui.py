"""`mmbench-gui`: MMBench-GUI L2 element grounding as its evaluator scores it.

Source: open-compass/MMBench-GUI `benchmarks/l2_element_grounding.py` (`GUIElementGrounding.evaluate`)
and `benchmarks/matrics.py` (`level2_calculate_scores`):

- lines 178-179: the image size is the screenshot file's own (`Image.open(...).size`);
- lines 181-208: a box whose four values all lie in [0, 1] is taken as normalised; otherwise each
  value (a -1 read as 0, `make_safe`) is divided by the image size, per axis;
- lines 210-213: a box still outside [0, 1] aborts the whole evaluation (`raise ValueError`);
- lines 221-228: the parsed answer is divided by the image size when either coordinate exceeds 1
  (`click_point[0] > 1 or click_point[1] > 1`), both axes together; otherwise it is taken as a fraction.
  A model answering on a 0-1000 grid must therefore be converted before this rule sees it (the
  adapters do: the point reaches the protocol in screenshot pixels);
- lines 230-232: `bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]`: edges count;
- lines 244-247: an answer that cannot be parsed is counted as an error (-1), never as correct;
- `matrics.py` lines 91-165: accuracy per `grounding_type` (basic, advanced) and platform; each
  level's score is the item-weighted mean over platforms (its micro accuracy) and the reported
  "Average accuracy" is the plain mean of the two levels.

No refusal items: a refusal answer is wrong. Quirk kept: a point within one pixel of the top-left
corner (both coordinates <= 1) is read as a fraction of the screen, as the evaluator reads it.
"""

from __future__ import annotations

from actions.grounding_protocols.base import (
    GroundingAnswer,
    GroundingCase,
    GroundingProtocol,
    GroundingVerdict,
    fmt,
    hit,
    only_boxes,
    unanswered,
)
from actions.regions import Quad, point_in_box


def official_box(coords: Quad, size: tuple[int, int]) -> Quad:
    """The evaluator's box: taken as fractions when all four values are in [0, 1], else -1 -> 0 and
    divided by the image size; a box still outside [0, 1] is a ValueError (the evaluator aborts)."""
    if all(0 <= v <= 1 for v in coords):
        box = coords
    else:
        safe = [0.0 if v == -1 else v for v in coords]
        box = (safe[0] / size[0], safe[1] / size[1], safe[2] / size[0], safe[3] / size[1])
    if any(v < 0 or v > 1 for v in box):
        raise ValueError(f"bbox out of range: {list(box)} from {list(coords)} on a {size[0]}x{size[1]} image")
    return box


def official_point(point: tuple[float, float], size: tuple[int, int]) -> tuple[float, float]:
    """The evaluator's point: divided by the image size when either coordinate is above 1."""
    if point[0] > 1 or point[1] > 1:
        return point[0] / size[0], point[1] / size[1]
    return point


def judge(case: GroundingCase, answer: GroundingAnswer) -> GroundingVerdict:
    box = only_boxes("mmbench-gui", case.target)
    size = case.screen
    target = official_box(box.coords, size)
    missing = unanswered(answer)
    if missing is not None:
        return missing
    assert answer.point is not None
    point = official_point(answer.point, size)
    inside = point_in_box(point, target)
    return hit(inside, f"{fmt(point)} of the screen {'inside' if inside else 'outside'} the box")


PROTOCOL = GroundingProtocol(
    name="mmbench-gui",
    source="open-compass/MMBench-GUI benchmarks/l2_element_grounding.py + benchmarks/matrics.py",
    definition="point in the box as fractions of the screenshot file's size; answers above 1 divided by it",
    compare="fractions of the screen (boxes and answers above 1 divided by the image size)",
    screen_size="image (the screenshot file's own size)",
    edges="inclusive; corners as written",
    refusal="no refusal items; a refusal answer is wrong",
    judge=judge,
    breakdowns=("grounding_type", "platform", "grounding_type/platform", "ui_type"),
    headline=("grounding_type",),
    quirks=(
        "an answer with both coordinates <= 1 is read as a fraction of the screen",
        "a box value of -1 is read as 0",
        "a box outside the screen aborts the evaluation",
    ),
    evidence=(
        "l2_element_grounding.py lines 178-179: the screenshot file's own size",
        "lines 181-208: a box with all four values in [0, 1] is normalised; otherwise each value, a -1 "
        "read as 0, is divided by the image size",
        "lines 210-213: a box still outside [0, 1] aborts the whole evaluation (here the item is refused by "
        "name)",
        "lines 221-228: the answer divided by the image size when either coordinate exceeds 1, both axes",
        "lines 230-232: edges count; lines 244-247: an unreadable answer is an error, never correct",
        "matrics.py lines 91-165: a level's score is its item-weighted mean over platforms; the Average is "
        "the plain mean of basic and advanced",
    ),
    checked="`GUIElementGrounding.evaluate` and `level2_calculate_scores` with the UI-TARS parse function "
    "(`models/local_uitars.py`) on 300 generated answers give the same Average, Basic and Advanced scores",
    differs="the division sees the adapter's point in screenshot pixels; a parse function that returns "
    "fractions (UI-TARS's) differs only for answers off the screen",
)
