"""`gui-r1`: GUI-R1's offline evaluator ("ALL Step").

Reproduces ritzz-ai/GUI-R1 `guir1/eval/eval_omni.py` (commit d43eea2f). What differs: the source reads
`pred_input_text` and `pred_coord` fields its own parser fills; phone-r1 takes the text of a type or
open_app prediction and the direction word (finger) of a swipe prediction, and the tap point of a click
prediction; a prediction with no point misses a click step.
"""

from __future__ import annotations

from actions.context import GoldContext
from actions.directions import main_direction
from actions.protocols.base import (
    Judgement,
    Protocol,
    Screen,
    finger_direction,
    gold_point,
)
from actions.types import Action, BoxAction, OpenApp, Swipe, TypeText

CLICK_TYPES = ("click", "long_click")
TEXT_TYPES = ("open_app", "type", "swipe")
THRESHOLD = 0.14


def f1(pred: str, gold: str) -> float:
    """Token-set F1 without brackets; two single tokens also match by containment."""
    p = set(pred.replace("[", "").replace("]", "").lower().split())
    g = set(gold.replace("[", "").replace("]", "").lower().split())
    if len(p) == 1 and len(g) == 1:
        (a,), (b,) = p, g
        if a in b or b in a:
            return 1.0
    common = p & g
    precision = len(common) / len(p) if p else 0.0
    recall = len(common) / len(g) if g else 0.0
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _text(action: Action, context: GoldContext | None) -> str:
    if isinstance(action, (TypeText, OpenApp)):
        return action.parameter()
    if isinstance(action, Swipe):
        word = (
            finger_direction(action, context)
            if context is not None
            else main_direction(action.start, action.end, unit="pixel")
        )
        return word or ""
    return ""


def judge(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    same = pred.action_type == gold.action_type
    if gold.action_type in CLICK_TYPES:
        if not isinstance(pred, BoxAction):
            return Judgement(False, same, "prediction has no point")
        gx, gy = gold_point(gold, context)
        px, py = pred.point
        d2 = ((gx - px) / screen[0]) ** 2 + ((gy - py) / screen[1]) ** 2
        hit = d2 < THRESHOLD**2
        return Judgement(
            hit,
            same,
            f"tap {d2**0.5:.3f} from gold ({'<' if hit else '>='} {THRESHOLD}), whatever type was predicted",
        )
    if gold.action_type in TEXT_TYPES:
        score = f1(_text(gold, context), _text(pred, None))
        hit = score >= 0.5
        return Judgement(hit, same, f"token F1 {score:.2f} ({'>=' if hit else '<'} 0.5), type not checked")
    return Judgement(same, same, "not counted by the source", counted=False)


PROTOCOL = Protocol(
    name="gui-r1",
    definition="GUI-R1's 'ALL Step': click steps by a 0.14 norm distance whatever type was predicted, text "
    "steps (open_app, type, scroll) by token F1 >= 0.5; back, wait and finish steps are left out.",
    source="ritzz-ai/GUI-R1 guir1/eval/eval_omni.py",
    click="(dx/W)^2 + (dy/H)^2 < 0.14^2 from the gold point, checked whatever type was predicted",
    swipe="the direction word (finger) as text: token F1 >= 0.5, type not checked",
    text="token-set F1 >= 0.5 (brackets dropped; two single tokens also match by containment), type not "
    "checked",
    other="back, wait, task_completed, task_impossible and inquiry steps are not counted",
    denominator="click, long_click, open_app, type and swipe steps only",
    differs_from_box="does not check the action type, replaces the gold box by a 0.14 distance to its point, "
    "uses token F1 for text, and leaves back, wait and finish steps out of the denominator.",
    judge=judge,
    counts=lambda gold: gold.action_type in CLICK_TYPES + TEXT_TYPES,
    context=("point", "scroll_direction", "scroll_direction_means"),
    quirks=("the type is never checked for SR", "back/home/wait/complete steps are left out"),
)
