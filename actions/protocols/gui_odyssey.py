"""`gui-odyssey`: GUI-Odyssey's official action matching (AMS).

Reproduces OpenGVLab/GUI-Odyssey `src/eval_mm/GUIOdyssey_action_matching.py` (`action_matching`, commit
e12788f6). What differs: the SAM2 box the source checks first when present is not part of phone-r1's
gold context, so clicks use the 0.14 rule alone, the source's path when no SAM2 box is given.
"""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

from actions.context import GoldContext
from actions.directions import main_direction
from actions.protocols.base import (
    Judgement,
    Protocol,
    Screen,
    finger_direction,
    gold_point,
)
from actions.types import Action, BoxAction, Swipe, TypeText

NAMES = {
    "click": "CLICK",
    "long_click": "LONG_PRESS",
    "swipe": "SCROLL",
    "type": "TYPE",
    "back": "PRESS_BACK",
    "home": "PRESS_HOME",
    "recent_apps": "PRESS_RECENT",
    "enter": "PRESS_ENTER",
    "task_completed": "COMPLETE",
    "task_impossible": "INCOMPLETE",
    "open_app": "OPEN_APP",
    "wait": "WAIT",
    "inquiry": "INQUIRY",
}
CLICK_THRESHOLD = 0.14
TEXT_THRESHOLD = 0.5


def text_matches(pred: str, gold: str) -> bool:
    """Stripped containment, or 1 - Levenshtein distance / longer length >= 0.5 (case-sensitive)."""
    p, g = pred.strip(), gold.strip()
    if p in g or g in p:
        return True
    length = max(len(p), len(g))
    return 1 - Levenshtein.distance(p, g) / length >= TEXT_THRESHOLD


def judge(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    p, g = NAMES[pred.action_type], NAMES[gold.action_type]
    if p != g:
        return Judgement(False, False, f"type mismatch: predicted {p}, gold {g}")
    if isinstance(gold, BoxAction):
        gx, gy = gold_point(gold, context)
        px, py = pred.point
        # The source divides 0-1000 coordinates by 1000: norm units.
        d = (((px - gx) / screen[0]) ** 2 + ((py - gy) / screen[1]) ** 2) ** 0.5
        hit = d <= CLICK_THRESHOLD
        return Judgement(hit, True, f"tap {d:.3f} from gold point ({'<=' if hit else '>'} {CLICK_THRESHOLD})")
    if isinstance(gold, TypeText):
        hit = text_matches(pred.parameter(), gold.parameter())
        return Judgement(hit, True, "text matches" if hit else "text differs")
    if isinstance(gold, Swipe):
        said, want = main_direction(pred.start, pred.end, unit="pixel"), finger_direction(gold, context)
        hit = said is not None and said == want
        return Judgement(hit, True, f"scroll {said} vs {want} (finger)")
    return Judgement(True, True, "same type")


PROTOCOL = Protocol(
    name="gui-odyssey",
    definition="GUI-Odyssey's action matching score: the type first, then a tap within 0.14 norm, text by "
    "containment or normalised edit similarity >= 0.5, and a scroll by its finger direction word.",
    source="OpenGVLab/GUI-Odyssey src/eval_mm/GUIOdyssey_action_matching.py",
    click="same type (CLICK or LONG_PRESS); distance <= 0.14 norm from the gold point (no SAM2 box)",
    swipe="direction words equal ignoring case; words name the finger's motion (main axis and sign, tie "
    "vertical)",
    text="TYPE: stripped containment or 1 - Levenshtein / max length >= 0.5, case-sensitive; OPEN_APP: "
    "type only",
    other="type only",
    denominator="every step",
    differs_from_box="ignores the gold box for a 0.14 distance to its point, is laxer on text (0.5 edit "
    "similarity or containment) and never checks app names.",
    judge=judge,
    context=("point", "scroll_direction", "scroll_direction_means"),
    quirks=("an empty typed text always matches (containment)",),
)
