"""`box`: phone-r1's own rule, the default (no published source; SPEC section 8).

Differs from every published evaluator in using the gold box itself, unenlarged, and a text
similarity threshold instead of containment.
"""

from __future__ import annotations

from actions.context import GoldContext
from actions.directions import directions
from actions.protocols.base import (
    Judgement,
    Protocol,
    Screen,
    box_of,
    gold_point,
    inside,
    is_point,
    norm_distance,
)
from actions.similarity import text_similarity
from actions.types import Action, BoxAction, OpenApp, Swipe, TypeText

TEXT_MATCH_THRESHOLD = 0.8
POINT_THRESHOLD = 0.14


def judge(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    if pred.action_type != gold.action_type:
        return Judgement(
            False, False, f"type mismatch: predicted {pred.action_type}, gold {gold.action_type}"
        )
    if isinstance(gold, BoxAction):
        if is_point(gold):
            d = norm_distance(pred.point, gold_point(gold, context), screen)
            hit = d <= POINT_THRESHOLD
            return Judgement(
                hit, True, f"tap point {d:.3f} from gold point ({'<=' if hit else '>'} {POINT_THRESHOLD})"
            )
        hit = inside(pred.point, box_of(gold))
        return Judgement(hit, True, "tap point inside gold box" if hit else "tap point outside gold box")
    if isinstance(gold, Swipe):
        said = directions(pred.start, pred.end, unit="pixel")
        same = bool(said & directions(gold.start, gold.end, unit="pixel"))
        return Judgement(same, True, "same swipe direction" if same else "other swipe direction")
    if isinstance(gold, (TypeText, OpenApp)):
        sim = text_similarity(pred.parameter(), gold.parameter())
        hit = sim >= TEXT_MATCH_THRESHOLD
        return Judgement(
            hit, True, f"text similarity {sim:.2f} ({'>=' if hit else '<'} {TEXT_MATCH_THRESHOLD})"
        )
    return Judgement(True, True, "type match")


PROTOCOL = Protocol(
    name="box",
    definition="phone-r1's default: the predicted action must have the gold type, a tap must land inside the "
    "gold box, a swipe must go the gold way, and typed text or an app name must be at least 0.8 similar.",
    source="phone-r1 (SPEC section 8); no published evaluator",
    click="tap point (box centre) inside the gold box, edges included; a gold point instead needs the tap "
    "within 0.14 norm of it",
    swipe="same main axis and sign; an exact diagonal counts as both axes",
    text="Levenshtein ratio >= 0.8 after NFKC, case folding and white-space collapsing",
    other="same type (inquiry, wait, back, task_completed, task_impossible)",
    denominator="every step",
    differs_from_box="The reference rule the other protocols are compared with.",
    judge=judge,
    context=("point (only for a gold point)",),
)
