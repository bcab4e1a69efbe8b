"""`androidcontrol-osatlas`: OS-Atlas's AndroidControl step accuracy (UI-TARS states it follows it).

Reproduces OS-Copilot/OS-Atlas `eval/eval_scripts/android_control/evaluation_unify.py` (commit 38740e54),
which compares action strings: the gold's (`CLICK <point>[[x,y]]</point>`, `TYPE [text]`, `SCROLL [UP]`,
`PRESS_BACK`, ...) with what follows `actions:\\n` in the answer.

Answers of the `os-atlas` agent are read from the raw text exactly as the script reads them; answers of
other agents are judged from phone-r1's typed action written as the same command string, with the tap
kept at its exact 0-1000 position.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from actions.context import GoldContext
from actions.protocols.base import (
    Answer,
    Judgement,
    Protocol,
    Screen,
    StepOutcome,
    content_direction,
    gold_point,
)
from actions.types import Action, BoxAction, OpenApp, Swipe, TypeText

HEADER = "actions:\n"
# The script strips these characters (a set, not a suffix) from both ends of the answer's command.
STRIPPED = "<|im_end|>"
INVALID = "invalid action"
DISTANCE_1000 = 140
WORDS = {
    "click": "CLICK",
    "long_click": "LONG_PRESS",
    "swipe": "SCROLL",
    "type": "TYPE",
    "open_app": "OPEN_APP",
    "back": "PRESS_BACK",
    "home": "PRESS_HOME",
    "recent_apps": "PRESS_RECENT",
    "enter": "ENTER",
    "wait": "WAIT",
    "task_completed": "COMPLETE",
    "task_impossible": "IMPOSSIBLE",
    "inquiry": "INQUIRY",
}
_DIGITS = re.compile(r"\d+")


def token_f1(pred: str, gold: str) -> float:
    """Lower-cased white-space token-set F1, as the source computes it."""
    p, g = set(pred.lower().split()), set(gold.lower().split())
    common = p & g
    precision = len(common) / len(p) if p else 0.0
    recall = len(common) / len(g) if g else 0.0
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def to_1000(point: tuple[float, float], screen: Screen) -> tuple[float, float]:
    return point[0] / screen[0] * 1000, point[1] / screen[1] * 1000


def command(action: Action, screen: Screen, context: GoldContext | None = None) -> str:
    """The action as an OS-Atlas command string; a tap at integer 0-1000 coordinates (rounded), a scroll
    by AndroidControl's (content) word, text and app names in brackets."""
    word = WORDS.get(action.action_type, action.action_type.upper())
    if isinstance(action, BoxAction):
        point = gold_point(action, context) if context is not None else action.point
        x, y = (round(v) for v in to_1000(point, screen))
        return f"{word} <point>[[{x},{y}]]</point>"
    if isinstance(action, Swipe):
        direction = content_direction(action, context or GoldContext())
        return f"{word} [{(direction or 'none').upper()}]"
    if isinstance(action, (TypeText, OpenApp)):
        return f"{word} [{action.parameter()}]"
    return word


def _two_numbers(text: str) -> tuple[int, int] | None:
    digits = _DIGITS.findall(text)
    return (int(digits[0]), int(digits[1])) if len(digits) >= 2 else None


def _judge_strings(pred: str, gold: str, exact_tap: tuple[float, float] | None = None) -> Judgement:
    """The script's comparison of a predicted command with the gold one (`exact_tap`: a typed tap in
    0-1000 units instead of the numbers read from `pred`)."""
    words, gold_words = pred.split(), gold.split()
    if not words:
        return Judgement(False, False, "empty command: the script raises (IndexError)", raised=True)
    kind = gold_words[0]
    if words[0] != kind:
        return Judgement(False, False, f"type mismatch: predicted {words[0]}, gold {kind}")
    if kind in ("CLICK", "LONG_PRESS"):
        tap = exact_tap or _two_numbers(pred) or (-100, -100)
        gx, gy = _two_numbers(gold) or (0, 0)
        d = math.sqrt((tap[0] - gx) ** 2 + (tap[1] - gy) ** 2)
        hit = d <= DISTANCE_1000
        return Judgement(
            hit, True, f"tap {d:.1f} from gold in 0-1000 ({'<=' if hit else '>'} {DISTANCE_1000})"
        )
    if kind in ("OPEN_APP", "TYPE"):
        if pred == gold:
            return Judgement(True, True, "same command string")
        if len(words) < 2:
            return Judgement(False, True, "no argument: the script raises (IndexError)", raised=True)
        f1 = token_f1(words[1], gold_words[1])
        hit = f1 > 0.5
        return Judgement(hit, True, f"second-word F1 {f1:.2f} ({'>' if hit else '<='} 0.5)")
    hit = pred == gold
    return Judgement(hit, True, "same command string" if hit else f"{pred!r} != {gold!r}")


def read_command(text: str) -> str:
    """What the script compares: the text after the first `actions:\\n` (up to a second one), stripped of
    the characters `<|im_end>` at both ends; `invalid action` without the header."""
    parts = text.split(HEADER)
    return parts[1].strip(STRIPPED) if len(parts) > 1 else INVALID


def judge(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    exact = to_1000(pred.point, screen) if isinstance(pred, BoxAction) else None
    return _judge_strings(command(pred, screen), command(gold, screen, context), exact)


def judge_raw(answer: Answer, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    return _judge_strings(read_command(answer.text), command(gold, screen, context))


def metrics(outcomes: Sequence[StepOutcome]) -> dict[str, Any]:
    """The script's "grounding acc": right CLICK steps ÷ CLICK steps answered with CLICK (LONG_PRESS is
    not in it)."""
    answered = [o for o in outcomes if o.gold_type == "click" and o.type_match]
    return {"grounding": sum(o.correct for o in answered) / len(answered) if answered else None}


PROTOCOL = Protocol(
    name="androidcontrol-osatlas",
    definition="OS-Atlas's AndroidControl step accuracy (followed by UI-TARS): a tap within 140 in 0-1000 "
    "space, TYPE and OPEN_APP by exact string or F1 > 0.5 on the argument's first word, everything else by "
    "equal action strings.",
    source="OS-Copilot/OS-Atlas eval/eval_scripts/android_control/evaluation_unify.py",
    click="same first word (CLICK or LONG_PRESS); the first two digit runs of the answer (-100, -100 when "
    "there are fewer) within 140 of the gold's integer 0-1000 point; a typed tap keeps its exact 0-1000 "
    "position",
    swipe="'SCROLL [WORD]' strings equal, the word in AndroidControl's content convention: SCROLL UP, "
    "SCROLL [up] or a trailing newline do not equal SCROLL [UP]",
    text="the same string, or token F1 > 0.5 between the second white-space words of the two commands, so "
    "'[hello' (with its bracket) is compared with '[hello]'",
    other="equal command strings (PRESS_BACK, PRESS_HOME, ENTER, WAIT, COMPLETE, IMPOSSIBLE); 'WAIT\\n' is "
    "not 'WAIT'",
    denominator="every step (the source's 7,708-step ac_idx.txt subset is not applied)",
    differs_from_box="ignores the gold box for a 0.14 distance to its point, compares typed text and app "
    "names by one bracketed word, and scrolls and other actions by exact strings.",
    judge=judge,
    context=("point", "scroll_direction", "scroll_direction_means"),
    quirks=(
        "raw answers of the os-atlas agent are read as the script reads them: the text after the first "
        "'actions:\\n' (lower case, one newline; without it the answer is 'invalid action'), with the "
        "characters < | i m _ e n d > stripped from both ends (so 'TYPE [done' loses its 'ne')",
        "digits are read run by run: 12.5 is 12 then 5, a minus sign is dropped",
        "TYPE and OPEN_APP compare the second white-space word of the command, brackets included",
    ),
    raw_agents=("os-atlas",),
    judge_raw=judge_raw,
    metrics=metrics,
    metric_names=(
        ("grounding", "right CLICK steps ÷ CLICK steps answered with CLICK (the script's grounding acc)"),
    ),
    checked="python -m scripts.protocol_diff osatlas --rounds 2 on AndroidControl's 8,444 test steps, two "
    "random or adversarial os-atlas answers per step (16,888): agreement 1.0000 (correct, type match,"
    " raise); Acc, type_match acc and grounding acc equal on the answers the script does not stop on",
    deviations=(
        "the gold's 0-1000 point is the gold point divided by the screen size times 1000, rounded to an "
        "integer: OS-Atlas's conversion of AndroidControl is not published",
        "an empty command (or a TYPE/OPEN_APP without an argument, when not equal to the gold) makes the "
        "script stop with an IndexError; phone-r1 scores that step wrong and goes on",
        "an agent of another grammar is judged from its typed action written as an OS-Atlas command, its "
        "tap at exact 0-1000 coordinates: the script reads only OS-Atlas's own output",
        "inquiry, which OS-Atlas has no command for, is written INQUIRY",
        "the 7,708-step ac_idx.txt subset is not applied: every step counts",
    ),
)
