"""`androidcontrol-qwen` and `androidcontrol-uis1`: the Qwen2.5-VL AndroidControl gist.

`androidcontrol-qwen` reproduces Reallm-Labs/InfiGUI-R1 `eval/android_control/evaluate_android_control.py`
(`evaluate_android_control_action`, adapted from the Qwen2.5-VL issue #904 gist). What differs: the
distance is measured in the resized image the source feeds the model (smart_resize with InfiGUI's
default max_pixels 6400*28*28), computed from phone-r1's original-pixel prediction; a gold type the
source's action space lacks (task_completed, task_impossible, inquiry) makes the source raise and count
the step wrong, which phone-r1 reproduces as a wrong, counted step.

`androidcontrol-uis1` reproduces the gist copy in X-PLUG/MobileAgent `UI-S1/evaluation/qwenvl_utils.py`
as UI-S1 runs it: every step's candidate boxes are discarded (`fix_line`), the distance is plain
norm <= 0.04, and any swipe is correct. UI-S1's own-history episode loop is not a step rule and is not
reproduced here.
"""

from __future__ import annotations

import math

from actions.context import GoldContext
from actions.coords import PixelBudget, model_screen_size
from actions.directions import main_direction
from actions.protocols.base import (
    Judgement,
    MissingContext,
    Protocol,
    Screen,
    content_direction,
    gold_point,
    inside,
    norm_distance,
    scaled,
)
from actions.types import Action, BoxAction, KeyPress, OpenApp, Swipe, TypeText

ENLARGE = 1.2
POINT_DISTANCE = 0.04
INFIGUI_BUDGET = PixelBudget(min_pixels=56 * 56, max_pixels=6400 * 28 * 28)
NAMES = {
    "click": "click",
    "long_click": "long_press",
    "swipe": "swipe",
    "type": "type",
    "open_app": "open",
    "back": "system_button",
    "home": "system_button",
    "enter": "system_button",
    "wait": "wait",
    "task_completed": "terminate",
    "task_impossible": "terminate",
}
OUTSIDE = ("task_completed", "task_impossible", "inquiry", "recent_apps")


def _contains(pred: str, gold: str) -> bool:
    p, g = pred.lower().strip(), gold.lower().strip()
    return p in g or g in p


def _resized_distance(a: tuple[float, float], b: tuple[float, float], screen: Screen) -> tuple[float, float]:
    w, h = model_screen_size("resized", screen, INFIGUI_BUDGET)
    d = math.hypot((a[0] - b[0]) / screen[0] * w, (a[1] - b[1]) / screen[1] * h)
    return d, POINT_DISTANCE * max(w, h)


def _candidates(context: GoldContext, discard: bool) -> tuple:
    if discard:
        return ()
    if context.candidate_boxes is None:
        raise MissingContext("candidate_boxes", "the source's check_pams.candidate_bbox")
    return context.candidate_boxes


def _click(
    pred: BoxAction, boxes: tuple, point: tuple[float, float], screen: Screen, plain: bool
) -> tuple[bool, str]:
    if any(inside(pred.point, scaled(b, ENLARGE)) for b in boxes):
        return True, "tap inside a candidate box enlarged 1.2x"
    if plain:
        d, limit = norm_distance(pred.point, point, screen), POINT_DISTANCE
    else:
        d, limit = _resized_distance(pred.point, point, screen)
    hit = d <= limit
    return hit, f"tap {d:.3f} from gold point ({'<=' if hit else '>'} {limit:.3f})"


def _judge(pred: Action, gold: Action, screen: Screen, context: GoldContext, *, uis1: bool) -> Judgement:
    g, p = gold.action_type, pred.action_type
    if g in OUTSIDE:
        return Judgement(
            False, False, f"gold {g} is outside the source's action space (the source raises; step wrong)"
        )
    if isinstance(gold, OpenApp):
        # Read for every open step, whatever was predicted, so a run is refused up front, not midway.
        boxes = _candidates(context, uis1)
    if isinstance(gold, OpenApp) and isinstance(pred, BoxAction) and p == "click":
        if not boxes:
            return Judgement(False, False, "click on an open step with no candidate boxes fails")
        first = boxes[0]
        hit, why = _click(pred, boxes, ((first[0] + first[2]) / 2, (first[1] + first[3]) / 2), screen, uis1)
        return Judgement(hit, True, f"click for open: {why}")
    if NAMES.get(p) != NAMES[g]:
        return Judgement(False, False, f"type mismatch: predicted {NAMES.get(p, p)}, gold {NAMES[g]}")
    if isinstance(gold, BoxAction):
        if p != g:
            return Judgement(False, False, f"type mismatch: predicted {NAMES[p]}, gold {NAMES[g]}")
        hit, why = _click(pred, _candidates(context, uis1), gold_point(gold, context), screen, uis1)
        return Judgement(hit, True, why)
    if isinstance(gold, Swipe):
        if uis1:
            return Judgement(True, True, "any swipe is correct (direction check commented out in the source)")
        said, stated = main_direction(pred.start, pred.end, unit="pixel"), content_direction(gold, context)
        hit = said is not None and said == stated
        return Judgement(hit, True, f"predicted finger direction {said} vs stated direction {stated}")
    if isinstance(gold, (TypeText, OpenApp)):
        hit = _contains(pred.parameter(), gold.parameter())
        return Judgement(
            hit, True, "one text contains the other" if hit else "neither text contains the other"
        )
    if isinstance(gold, KeyPress):
        same = isinstance(pred, KeyPress) and pred.key == gold.key
        return Judgement(same, True, f"system_button {getattr(pred, 'key', '?')} vs {gold.key}")
    return Judgement(True, True, "same type")


def judge_qwen(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    return _judge(pred, gold, screen, context, uis1=False)


def judge_uis1(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    return _judge(pred, gold, screen, context, uis1=True)


_TEXT = "lower-cased and stripped, one contains the other (an empty prediction always matches)"
_OTHER = (
    "back, home and enter = system_button Back/Home/Enter (same button needed); wait by type; "
    "task_completed, task_impossible, inquiry and recent_apps are outside the source's space: counted and "
    "wrong"
)

QWEN = Protocol(
    name="androidcontrol-qwen",
    definition="The Qwen2.5-VL AndroidControl evaluator as InfiGUI-R1 ships it: a tap inside any candidate "
    "element box enlarged 1.2x, or within 0.04 of the longer resized-image side; swipes compared with the "
    "direction AndroidControl states.",
    source="Reallm-Labs/InfiGUI-R1 eval/android_control/evaluate_android_control.py (Qwen2.5-VL #904 gist)",
    click="same type; inside any candidate_bbox enlarged 1.2x about its centre (not clipped), else distance "
    "in resized-image pixels <= 0.04 * max(W, H)",
    swipe="the prediction's finger direction (larger axis, tie vertical) must equal the gold direction as "
    "stored, which AndroidControl names by the content's motion",
    text=_TEXT + "; an open step is also matched by a click inside the candidate boxes",
    other=_OTHER,
    denominator="every step; parse errors count as wrong",
    differs_from_box="uses the candidate element boxes enlarged 1.2x instead of the gold box, adds a 0.04 "
    "distance rule, compares swipes with AndroidControl's stated (content) direction, and accepts any "
    "text containment, an empty prediction included.",
    judge=judge_qwen,
    context=(
        "candidate_boxes (required for click, long_click, open_app)",
        "point",
        "scroll_direction",
        "scroll_direction_means",
    ),
    quirks=(
        "the finger direction is compared with a content direction, so up/down (and left/right) as "
        "stated by AndroidControl need the inverted swipe",
        "an empty typed text always matches",
        "a click can answer an open step, with type_match true",
    ),
)

UIS1 = Protocol(
    name="androidcontrol-uis1",
    definition="The Qwen gist copy as UI-S1 runs it: candidate boxes discarded for every step, taps within "
    "0.04 norm of the gold point, and any swipe correct.",
    source="X-PLUG/MobileAgent UI-S1/evaluation/qwenvl_utils.py with eval_qwenvl.py fix_line",
    click="same type; distance <= 0.04 norm (candidate boxes are replaced by [] for every step)",
    swipe="any swipe prediction is correct (the direction check is commented out in the source)",
    text=_TEXT + "; a click for an open step always fails (no candidate boxes)",
    other=_OTHER,
    denominator="every step",
    differs_from_box="ignores the gold box for a 0.04 norm distance to its point, accepts any swipe, and any "
    "text containment.",
    judge=judge_uis1,
    context=("point",),
    quirks=("fix_line discards every candidate box", "any swipe is correct"),
)
