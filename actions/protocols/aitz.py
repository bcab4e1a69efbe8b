"""`aitz`: Android-in-the-Zoo's CoAT evaluator, the intended rule.

Reproduces IMNearth/CoAT `coat/evaluate.py` (`ActionEvaluator`, commit 9ab1a9f0) with `screen_utils.py`.
What differs: as released, `_parse_answer_` fills the gold point only for scroll steps, so a click's gold
point stays (0, 0) and click accuracy would be near 0; phone-r1 uses the gold point (the intended rule).
The source's model answers a box; a phone-r1 click is a box, so it is used as is.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from actions.context import Box, GoldContext
from actions.protocols.base import (
    Judgement,
    Protocol,
    Screen,
    box_of,
    finger_direction,
    gold_point,
    inside,
    scaled,
)
from actions.types import Action, BoxAction, KeyPress, Swipe, TypeText

ENLARGE = 1.2
IOU_THRESHOLD = 0.5
VERTICAL_RATIO = 0.9
# CoAT's action_map finds its type names inside the predicted name: long_click contains "click".
NAMES = {
    "click": "click",
    "long_click": "click",
    "swipe": "scroll",
    "type": "type",
    "back": "press",
    "home": "press",
    "enter": "press",
    "task_completed": "stop",
    "task_impossible": "stop",
}


def iou(a: Box, b: Box) -> float:
    """The source's IoU: areas floored at 1 square pixel."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    area_a = max((a[2] - a[0]) * (a[3] - a[1]), 1)
    area_b = max((b[2] - b[0]) * (b[3] - b[1]), 1)
    return inter / (area_a + area_b - inter)


def scroll_word(start: tuple[float, float], end: tuple[float, float]) -> str:
    """AITZ's label: vertical when |dy| >= 0.9 |dx|; the word names the finger's motion."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    if abs(dy) >= VERTICAL_RATIO * abs(dx):
        return "down" if dy > 0 else "up"
    return "right" if dx > 0 else "left"


def judge(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    p, g = NAMES.get(pred.action_type), NAMES.get(gold.action_type)
    if p is None or p != g:
        return Judgement(False, False, f"type mismatch: predicted {p or pred.action_type}, gold {g}")
    if isinstance(gold, BoxAction):
        point = gold_point(gold, context)
        grown = scaled(box_of(pred), ENLARGE)
        if inside(point, grown):
            return Judgement(True, True, "gold point inside the predicted box enlarged 1.2x")
        holding = [b for b in (scaled(u, ENLARGE) for u in context.ui_boxes or ()) if inside(point, b)]
        if any(iou(grown, b) > IOU_THRESHOLD for b in holding):
            return Judgement(True, True, "predicted box overlaps a UI box holding the gold point (IoU > 0.5)")
        return Judgement(
            False, True, "gold point outside the enlarged predicted box and no UI box overlaps it"
        )
    if isinstance(gold, Swipe):
        said = scroll_word(pred.start, pred.end)
        want = (
            finger_direction(gold, context) if context.scroll_direction else scroll_word(gold.start, gold.end)
        )
        return Judgement(said == want, True, f"scroll {said} vs {want} (finger)")
    if isinstance(gold, TypeText):
        a, b = pred.parameter(), gold.parameter()
        ratio = fuzz.ratio(a, b) / 100
        hit = a in b or b in a or ratio > 0.8
        return Judgement(hit, True, f"containment or Levenshtein ratio {ratio:.2f} > 0.8: {hit}")
    if isinstance(gold, KeyPress):
        same = isinstance(pred, KeyPress) and pred.key == gold.key
        return Judgement(same, True, f"button {getattr(pred, 'key', '?')} vs {gold.key}")
    return Judgement(True, True, "same type")


PROTOCOL = Protocol(
    name="aitz",
    definition="Android-in-the-Zoo's CoAT evaluator (intended rule): the gold point inside the predicted box "
    "enlarged 1.2x, or the predicted box overlapping (IoU > 0.5) an enlarged UI box that holds the gold "
    "point.",
    source="IMNearth/CoAT coat/evaluate.py (with coat/screen_utils.py)",
    click="long_click counts as click; gold point inside the predicted box enlarged 1.2x, or a ui_box "
    "(enlarged 1.2x) holding the gold point has IoU > 0.5 with the enlarged predicted box",
    swipe="direction words equal; a swipe is vertical when |dy| >= 0.9 |dx|; words name the finger's motion",
    text="type: one contains the other or Levenshtein ratio > 0.8, case-sensitive",
    other="back, home and enter are 'press', matched by button; task_completed and task_impossible are "
    "'stop', matched by type",
    denominator="every step except open_app, wait and inquiry (not in AITZ's action space)",
    differs_from_box="judges the gold point against the predicted box enlarged 1.2x (not the tap point "
    "against "
    "the gold box), accepts overlap with a UI box, and leaves open_app and wait steps out.",
    judge=judge,
    counts=lambda gold: gold.action_type in NAMES,
    context=("point", "ui_boxes (optional second clause)", "scroll_direction", "scroll_direction_means"),
    quirks=(
        "as released the gold click point is (0, 0) (typo in _parse_answer_ lines 84-87); phone-r1 "
        "applies the intended rule",
        "long_click is scored as click",
    ),
)
