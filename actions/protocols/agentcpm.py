"""`agentcpm` and `agentcpm-aitz`: AgentCPM-GUI's evaluator (its header says it follows the Qwen2.5-VL one).

Reproduces OpenBMB/AgentCPM-GUI `eval/utils/evaluator.py` (`ActionEvaluator`) with
`eval/eval_data/process_ac.py` for `agentcpm` (`--eval_android_control`, used for AC-High and AC-Low)
and `process_aitz.py` / `process_odyssey.py` for `agentcpm-aitz`. What differs: phone-r1 cannot add the
synthetic finish step `process_ac.py` appends to every episode, so its step counts are smaller by one
per episode; open_app steps, which `process_ac.py` drops, are left out of the denominator instead.
"""

from __future__ import annotations

import math

from actions.context import GoldContext
from actions.protocols.base import (
    Judgement,
    MissingContext,
    Protocol,
    Screen,
    finger_direction,
    gold_point,
    grown_clipped,
    inside,
    norm_distance,
    to_norm,
)
from actions.types import Action, KeyPress

ENLARGE_FRACTION = 0.2  # the source's 1.2 factor: height and width grow by 0.2 of themselves
AC_DISTANCE, AITZ_DISTANCE = 0.04, 0.14
NEAREST = 5
STOP = ("task_completed", "task_impossible", "wait")


def _kind(action: Action, ac: bool, gold: bool) -> str | None:
    t = action.action_type
    if t in STOP:
        return "stop"
    if t == "long_click":
        # process_ac.py turns every AC long_press into a plain tap.
        return "click" if (ac and gold) else "long_point"
    if isinstance(action, KeyPress) and t != "recent_apps":
        return "press"
    return {"click": "click", "swipe": "scroll", "type": "type"}.get(t)


def _direction(start: tuple[float, float], end: tuple[float, float]) -> str | None:
    # Largest cosine with up/down/left/right; on a tie the first in the source's order wins.
    vx, vy = end[0] - start[0], end[1] - start[1]
    length = math.hypot(vx, vy)
    if length == 0:
        return None
    best, best_cos = None, -math.inf
    for name, (dx, dy) in (("up", (0, -1)), ("down", (0, 1)), ("left", (-1, 0)), ("right", (1, 0))):
        cos = (vx * dx + vy * dy) / length
        if cos > best_cos:
            best, best_cos = name, cos
    return best


def _judge(pred: Action, gold: Action, screen: Screen, context: GoldContext, *, ac: bool) -> Judgement:
    p, g = _kind(pred, ac, gold=False), _kind(gold, ac, gold=True)
    if p is None or p != g:
        return Judgement(False, False, f"type mismatch: predicted {p or pred.action_type}, gold {g}")
    if g in ("click", "long_point"):
        point = to_norm(gold_point(gold, context), screen)
        tap = to_norm(pred.point, screen)
        boxes = context.ui_boxes
        if boxes is None and ac:
            raise MissingContext(
                "ui_boxes", "AgentCPM's AC candidates are the 5 a11y boxes nearest the gold point"
            )
        grown = [grown_clipped(b, ENLARGE_FRACTION, screen) for b in boxes or ()]
        if ac:
            grown = sorted(grown, key=lambda b: math.dist(((b[0] + b[2]) / 2, (b[1] + b[3]) / 2), point))[
                :NEAREST
            ]
        else:
            grown = [b for b in grown if inside(point, b)]
        if any(inside(tap, b) for b in grown):
            return Judgement(True, True, "tap inside a candidate box enlarged 1.2x")
        limit = AC_DISTANCE if ac else AITZ_DISTANCE
        d = norm_distance(pred.point, gold_point(gold, context), screen)
        hit = d <= limit
        return Judgement(hit, True, f"tap {d:.3f} from gold point ({'<=' if hit else '>'} {limit})")
    if g == "scroll":
        # The source measures both in norm units (0-1000 predictions, norm gold points).
        said = _direction(to_norm(pred.start, screen), to_norm(pred.end, screen))
        want = _direction(to_norm(gold.start, screen), to_norm(gold.end, screen))
        if context.scroll_direction is not None:
            want = finger_direction(gold, context)
        hit = said is not None and said == want
        return Judgement(hit, True, f"snapped finger direction {said} vs {want}")
    if g == "type":
        a, b = pred.parameter().lower().strip(), gold.parameter().lower().strip()
        hit = a in b or b in a
        return Judgement(
            hit, True, "one text contains the other" if hit else "neither text contains the other"
        )
    if g == "press":
        same = pred.key == gold.key
        return Judgement(same, True, f"PRESS {pred.key.upper()} vs {gold.key.upper()}")
    return Judgement(True, True, "any stop matches any stop")


def judge_ac(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    return _judge(pred, gold, screen, context, ac=True)


def judge_aitz(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    return _judge(pred, gold, screen, context, ac=False)


def _counts(gold: Action) -> bool:
    return gold.action_type not in ("open_app", "inquiry")


_SWIPE = "both directions snapped to up/down/left/right by largest cosine (finger, start to end) and equal"
_TEXT = "type: lower-cased and stripped, one contains the other (an empty prediction always matches)"
_OTHER = (
    "back, home and enter are PRESS with that key (same key needed); task_completed, task_impossible and "
    "wait are all 'stop'; any stop matches any"
)

AC = Protocol(
    name="agentcpm",
    definition="AgentCPM-GUI's AndroidControl evaluator: a tap inside one of the 5 enlarged element boxes "
    "whose centres are nearest the gold point, or within 0.04 norm; long_press judged as a tap; open_app "
    "steps dropped.",
    source="OpenBMB/AgentCPM-GUI eval/utils/evaluator.py with eval/eval_data/process_ac.py",
    click="gold long_click becomes click (process_ac.py); the 5 ui_boxes whose centres are nearest the gold "
    "point, enlarged 1.2x (AITW-style clipping), need not hold it; inside any matches, else <= 0.04 norm",
    swipe=_SWIPE,
    text=_TEXT,
    other=_OTHER,
    denominator="every step except open_app (dropped by process_ac.py) and inquiry; the source's synthetic "
    "finish step per episode is not added",
    differs_from_box="uses the 5 accessibility boxes nearest the gold point enlarged 1.2x plus a 0.04 rule, "
    "drops open_app steps, judges a gold long press as a click, and lets wait and finish stand for each "
    "other.",
    judge=judge_ac,
    counts=_counts,
    context=("ui_boxes (required for click steps: every a11y bounds_in_screen box)", "point"),
    quirks=(
        "the 5 nearest boxes need not contain the gold point",
        "any stop matches any stop",
        "long_press becomes a plain tap",
        "an empty typed text always matches",
    ),
)

AITZ = Protocol(
    name="agentcpm-aitz",
    definition="AgentCPM-GUI's evaluator on AITZ, CAGUI and GUI-Odyssey: a tap inside an enlarged UI box "
    "that "
    "contains the gold point, or within 0.14 norm.",
    source="OpenBMB/AgentCPM-GUI eval/utils/evaluator.py with eval/eval_data/process_{aitz,odyssey}.py",
    click="candidates are the ui_boxes enlarged 1.2x that contain the gold point; inside any matches, else "
    "<= 0.14 norm (with no ui_boxes, as on Odyssey, 0.14 only); long_click is its own type",
    swipe=_SWIPE,
    text=_TEXT,
    other=_OTHER,
    denominator="every step except open_app and inquiry (not in the source's action space)",
    differs_from_box="uses the UI boxes holding the gold point enlarged 1.2x plus a 0.14 rule and lets wait "
    "and finish stand for each other.",
    judge=judge_aitz,
    counts=_counts,
    context=("ui_boxes (else the 0.14 rule alone, as the source does on Odyssey)", "point"),
    quirks=("any stop matches any stop", "an empty typed text always matches"),
)
