"""`ui-r1`: UI-R1's AndroidControl evaluator.

Reproduces lll6gg/UI-R1 `evaluation/eval_ac.py` (commit 554d73cf). What differs: the source rescales
every prediction by the fixed factors 1080/644 and 2400/1484 (right only for 1080x2400 screens shown at
644x1484); phone-r1's prediction is already in original pixels through the run's own coordinate space,
so the factor is not applied. The 151.2 px threshold is kept in original pixels, as the source's is.
"""

from __future__ import annotations

import math

from actions.context import GoldContext
from actions.protocols.base import Judgement, Protocol, Screen, gold_point
from actions.types import Action, BoxAction

NAMES = {
    "open_app": "open_app",
    "click": "click",
    "swipe": "scroll",
    "type": "input_text",
    "back": "navigate_back",
}
THRESHOLD_PX = 1080 * 0.14


def judge(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    p, g = NAMES.get(pred.action_type), NAMES.get(gold.action_type)
    if g is None:
        return Judgement(False, False, "not counted by the source", counted=False)
    if p != g:
        return Judgement(False, False, f"type mismatch: predicted {p or pred.action_type}, gold {g}")
    if isinstance(gold, BoxAction):
        px, py = (int(v) for v in pred.point)
        if not px or not py:
            # The source turns a 0 coordinate into None and misses.
            return Judgement(False, True, "a zero coordinate misses (source quirk)")
        gx, gy = gold_point(gold, context)
        d = math.hypot(gx - px, gy - py)
        hit = d < THRESHOLD_PX
        return Judgement(
            hit, True, f"tap {d:.1f} px from gold ({'<' if hit else '>='} {THRESHOLD_PX:.1f} px)"
        )
    return Judgement(True, True, "same type; text and direction are not checked")


PROTOCOL = Protocol(
    name="ui-r1",
    definition="UI-R1's AndroidControl evaluator: only open_app, click, scroll, input_text and navigate_back "
    "steps count; a click within 151.2 px of the gold point; everything else by type alone.",
    source="lll6gg/UI-R1 evaluation/eval_ac.py",
    click="type click; integer tap point within < 1080 * 0.14 = 151.2 original pixels of the gold point; a "
    "zero coordinate misses; long_click is not one of the counted types",
    swipe="type only: the direction is never checked",
    text="type only: typed text and app names are never checked",
    other="back by type; wait, long_click, task_completed, task_impossible and inquiry steps are not counted",
    denominator="open_app, click, swipe, type and back steps only",
    differs_from_box="never checks text or swipe direction, replaces the gold box by a 151.2 pixel radius "
    "around its point, and counts only five action types.",
    judge=judge,
    counts=lambda gold: gold.action_type in NAMES,
    context=("point",),
    quirks=(
        "text and direction never checked",
        "a fixed 151.2 px radius whatever the screen size",
        "the 1080/644, 2400/1484 rescale is not applied",
    ),
)
