"""`androidcontrol-osatlas`: OS-Atlas's AndroidControl step accuracy (UI-TARS states it follows it).

Reproduces OS-Copilot/OS-Atlas `eval/eval_scripts/android_control/evaluation_unify.py` (commit 38740e54).
What differs: the source compares action strings ("CLICK <point>", "TYPE [text]", "SCROLL UP"); phone-r1
builds the same comparison from typed actions: coordinates as integers in 0-1000, the scroll word in
AndroidControl's (content) convention, the argument's first word for TYPE and OPEN_APP. An empty argument,
on which the source's `split()[1]` raises, is a miss. The source's 7,708-step subset (`eval/data/ac_idx.txt`)
is not shipped with phone-r1: every step counts.
"""

from __future__ import annotations

from actions.context import GoldContext
from actions.directions import main_direction
from actions.protocols.base import (
    Judgement,
    Protocol,
    Screen,
    content_direction,
    gold_point,
)
from actions.types import Action, BoxAction, OpenApp, Swipe, TypeText

NAMES = {
    "click": "CLICK",
    "long_click": "LONG_PRESS",
    "swipe": "SCROLL",
    "type": "TYPE",
    "open_app": "OPEN_APP",
    "back": "NAVIGATE_BACK",
    "home": "NAVIGATE_HOME",
    "enter": "ENTER",
    "recent_apps": "PRESS_RECENT",
    "wait": "WAIT",
    "task_completed": "COMPLETE",
    "task_impossible": "IMPOSSIBLE",
    "inquiry": "INQUIRY",
}
DISTANCE_1000 = 140


def token_f1(pred: str, gold: str) -> float:
    """Lower-cased white-space token-set F1, as the source computes it."""
    p, g = set(pred.lower().split()), set(gold.lower().split())
    common = p & g
    precision = len(common) / len(p) if p else 0.0
    recall = len(common) / len(g) if g else 0.0
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _first_word(text: str) -> str | None:
    words = text.split()
    return words[0] if words else None


def _in_1000(point: tuple[float, float], screen: Screen) -> tuple[int, int]:
    return round(point[0] / screen[0] * 1000), round(point[1] / screen[1] * 1000)


def judge(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    p, g = NAMES[pred.action_type], NAMES[gold.action_type]
    if p != g:
        return Judgement(False, False, f"type mismatch: predicted {p}, gold {g}")
    if isinstance(gold, BoxAction):
        (px, py), (gx, gy) = _in_1000(pred.point, screen), _in_1000(gold_point(gold, context), screen)
        d = ((px - gx) ** 2 + (py - gy) ** 2) ** 0.5
        hit = d <= DISTANCE_1000
        return Judgement(
            hit, True, f"tap {d:.0f} from gold in 0-1000 ({'<=' if hit else '>'} {DISTANCE_1000})"
        )
    if isinstance(gold, (TypeText, OpenApp)):
        if pred.parameter() == gold.parameter():
            return Judgement(True, True, "same action string")
        a, b = _first_word(pred.parameter()), _first_word(gold.parameter())
        f1 = token_f1(a, b) if a is not None and b is not None else 0.0
        hit = f1 > 0.5
        return Judgement(hit, True, f"first-word F1 {f1:.2f} ({'>' if hit else '<='} 0.5)")
    if isinstance(gold, Swipe):
        said = main_direction(pred.start, pred.end, unit="pixel")
        said = {"up": "DOWN", "down": "UP", "left": "RIGHT", "right": "LEFT"}.get(said or "", "NONE")
        want = (content_direction(gold, context) or "none").upper()
        hit = said == want
        return Judgement(hit, True, f"SCROLL {said} vs SCROLL {want}")
    return Judgement(True, True, "same action string")


PROTOCOL = Protocol(
    name="androidcontrol-osatlas",
    definition="OS-Atlas's AndroidControl step accuracy (followed by UI-TARS): a tap within 140 in 0-1000 "
    "space, TYPE and OPEN_APP by exact string or F1 > 0.5 on the argument's first word, everything else by "
    "equal action strings.",
    source="OS-Copilot/OS-Atlas eval/eval_scripts/android_control/evaluation_unify.py",
    click="same type (CLICK or LONG_PRESS); distance <= 140 between integer 0-1000 coordinates (0.14 norm)",
    swipe="'SCROLL <word>' strings equal: the words in AndroidControl's content convention, so equal "
    "finger directions by main axis and sign (tie vertical)",
    text="exact string, or token F1 > 0.5 between the first words of the two arguments",
    other="equal action strings, i.e. same type",
    denominator="every step (the source's 7,708-step ac_idx.txt subset is not applied)",
    differs_from_box="ignores the gold box for a 0.14 distance to its point, and compares typed text and app "
    "names by the first word only.",
    judge=judge,
    context=("point", "scroll_direction", "scroll_direction_means"),
    quirks=(
        "TYPE and OPEN_APP compare only the first word of the argument (split()[1])",
        "the 7,708-step subset is not reproduced",
    ),
)
