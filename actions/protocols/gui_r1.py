"""`gui-r1`: GUI-R1's offline evaluator ("ALL Step", "ALL Type", "ALL GR").

Reproduces ritzz-ai/GUI-R1 `guir1/eval/eval_omni.py` (commit d43eea2f) with the answer reading of its
inference scripts (`guir1/inference/inference_vllm_android.py`: `extract_action`, `extract_input_text`,
`extract_coord`, and the point scaled from the resized image to the screen).

Answers of the `gui-r1` agent are read from the raw text with those regular expressions; answers of
other agents are judged from phone-r1's typed action as the same three fields (action name, point,
input text), the point exact.
"""

from __future__ import annotations

import re
import struct
from collections import defaultdict
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

NAMES = {
    "click": "click",
    "long_click": "long_press",
    "swipe": "scroll",
    "type": "type",
    "open_app": "open_app",
    "back": "press_back",
    "home": "press_home",
    "recent_apps": "press_recent",
    "enter": "enter",
    "wait": "wait",
    "task_completed": "complete",
    "task_impossible": "impossible",
    "inquiry": "inquiry",
}
GROUNDING = ("click", "long_press", "moveto", "doubleclick", "rightclick")
TEXTUAL = ("open_app", "type", "scroll", "select")
THRESHOLD = 0.14
NO_TEXT = "no input text"

# The inference script's readings, applied to the first <answer>...</answer> (across lines):
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
# the action name: single quotes and word characters only (so 'close/delete' is not read);
_ACTION = re.compile(r"'action':\s*'(\w+)'")
# the input text: up to the next single quote (an apostrophe cuts it);
_INPUT_TEXT = re.compile(r"'input_text':\s*'(.*?)'")
# the point: within one line holding braces, the last `[digits, digits]` (greedy on both sides), so
# decimals and negative numbers are not read and leave (0, 0).
_POINT = re.compile(r"\{.*\[(\d+),\s*(\d+)]\s*.*\}")


def f1(pred: str, gold: str) -> float:
    """Token-set F1 without brackets; two single tokens also match when one contains the other."""
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


def _float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def read_answer(
    text: str, screen: Screen, model_screen: Screen
) -> tuple[str | None, tuple[float, float], str]:
    """`(action, point in screen pixels, input text)` as the inference script reads a raw answer."""
    match = _ANSWER.search(text)
    if match is None:
        # Without <answer> the script's other point pattern does not compile, so the point is (0, 0).
        return None, (0.0, 0.0), NO_TEXT
    body = match.group(1).strip()
    action = _ACTION.search(body)
    said = _INPUT_TEXT.search(body)
    point = _POINT.search(body)
    x, y = (int(point.group(1)), int(point.group(2))) if point else (0, 0)
    # The script's scale is a torch division, float32: the screen size over the resized image's.
    scale_x, scale_y = _float32(screen[0] / model_screen[0]), _float32(screen[1] / model_screen[1])
    return (
        action.group(1) if action else None,
        (x * scale_x, y * scale_y),
        said.group(1) if said else NO_TEXT,
    )


def _typed(pred: Action, context: GoldContext | None) -> tuple[str, tuple[float, float], str]:
    """A typed action as the three fields; a point only where the action has one ((0, 0) otherwise, what
    the script reads from GUI-R1's [-100, -100])."""
    point = (
        (gold_point(pred, context) if context else pred.point) if isinstance(pred, BoxAction) else (0.0, 0.0)
    )
    if isinstance(pred, (TypeText, OpenApp)):
        text = pred.parameter()
    elif isinstance(pred, Swipe):
        # GUI-R1 names the side whose content comes into view (AndroidControl's words).
        text = content_direction(pred, context or GoldContext()) or ""
    else:
        text = NO_TEXT
    return NAMES.get(pred.action_type, pred.action_type), point, text


def _judge(
    said: str | None,
    point: tuple[float, float],
    text: str,
    gold: Action,
    screen: Screen,
    context: GoldContext,
) -> Judgement:
    kind, gpoint, gtext = _typed(gold, context)
    same = said == kind
    facts = {"category": kind}
    if kind in GROUNDING:
        d2 = ((gpoint[0] - point[0]) / screen[0]) ** 2 + ((gpoint[1] - point[1]) / screen[1]) ** 2
        hit = d2 < THRESHOLD**2
        return Judgement(
            hit,
            same,
            f"tap {d2**0.5:.3f} from gold ({'<' if hit else '>='} {THRESHOLD}), type not checked",
            facts=facts,
        )
    if kind in TEXTUAL:
        score = f1(gtext, text)
        hit = score >= 0.5
        return Judgement(
            hit, same, f"token F1 {score:.2f} ({'>=' if hit else '<'} 0.5), type not checked", facts=facts
        )
    return Judgement(same, same, "type only; not in ALL Step", counted=False, facts=facts)


def judge(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    return _judge(*_typed(pred, None), gold, screen, context)


def judge_raw(answer: Answer, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    return _judge(*read_answer(answer.text, screen, answer.model_screen), gold, screen, context)


def unreadable(gold: Action, screen: Screen, context: GoldContext, reason: str) -> Judgement:
    # What the script reads from an answer it finds nothing in: no action, the point (0, 0), no text.
    j = _judge(None, (0.0, 0.0), NO_TEXT, gold, screen, context)
    return Judgement(
        j.correct, j.type_match, f"{reason}; read as the point (0, 0): {j.reason}", j.counted, facts=j.facts
    )


def _categories(outcomes: Sequence[StepOutcome]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, o in enumerate(outcomes):
        groups[(o.facts or {}).get("category", o.gold_type)].append(i)
    return groups


def denominator(outcomes: Sequence[StepOutcome]) -> list[bool]:
    """ALL Step sums only the (group, action) categories with at least one hit: a category with none is
    missing from the script's score table, so its steps leave the denominator too."""
    keep = [False] * len(outcomes)
    for members in _categories(outcomes).values():
        if any(outcomes[i].counted and outcomes[i].correct for i in members):
            for i in members:
                keep[i] = outcomes[i].counted
    return keep


def metrics(outcomes: Sequence[StepOutcome]) -> dict[str, Any]:
    """ALL Type (type hits over every category with a type hit, every action type) and ALL GR (the
    grounding categories with a hit)."""
    type_hits = type_n = gr_hits = gr_n = 0
    for name, members in _categories(outcomes).items():
        typed = sum(outcomes[i].type_match for i in members)
        if typed:
            type_hits, type_n = type_hits + typed, type_n + len(members)
        hits = sum(outcomes[i].correct for i in members)
        if name in GROUNDING and hits:
            gr_hits, gr_n = gr_hits + hits, gr_n + len(members)
    return {
        "all_type": type_hits / type_n if type_n else None,
        "all_gr": gr_hits / gr_n if gr_n else None,
    }


PROTOCOL = Protocol(
    name="gui-r1",
    definition="GUI-R1's 'ALL Step': click steps by a 0.14 norm distance whatever type was predicted, text "
    "steps (open_app, type, scroll) by token F1 >= 0.5; back, home, wait and finish steps are left out, and "
    "so is every action type with no hit at all.",
    source="ritzz-ai/GUI-R1 guir1/eval/eval_omni.py with the readers of "
    "guir1/inference/inference_vllm_android.py",
    click="(dx/W)^2 + (dy/H)^2 < 0.14^2 from the gold point, whatever type was predicted (a point on a type "
    "or open_app answer is used; an answer without a readable point is at (0, 0)); exact values",
    swipe="the answer's input_text against AndroidControl's direction word by token F1 >= 0.5, whatever type "
    "was predicted, so free text ('swipe up') is scored by F1",
    text="token-set F1 >= 0.5 (brackets dropped; two single tokens also match by containment), type not "
    "checked; a missing input_text reads 'no input text'",
    other="back, home, enter, wait, task_completed, task_impossible and inquiry steps are not in ALL Step "
    "(their type hit counts in ALL Type)",
    denominator="click, long_click, open_app, type and swipe steps, each action type only when at least "
    "one of its steps is right",
    differs_from_box="does not check the action type, replaces the gold box by a 0.14 distance to its "
    "point, uses token F1 for text, and leaves back, wait and finish steps, and action types with no hit, "
    "out of the denominator.",
    judge=judge,
    context=("point", "scroll_direction", "scroll_direction_means"),
    quirks=(
        "raw answers of the gui-r1 agent are read with the inference script's regular expressions: the "
        "first <answer>...</answer>; the action only in single quotes and word characters; the input text "
        "up to the next single quote (an apostrophe cuts it); the point as the last [digits, digits] on a "
        "line with braces, so decimals and negative numbers give (0, 0), then scaled from the resized image "
        "to the screen",
        "the type is never checked for ALL Step",
        "an action type with no right step leaves the denominator (the script's score table has no entry "
        "for it)",
    ),
    raw_agents=("gui-r1",),
    judge_raw=judge_raw,
    unreadable=unreadable,
    denominator_rule=denominator,
    metrics=metrics,
    metric_names=(
        ("all_type", "ALL Type: type hits ÷ steps, over the action types with at least one type hit"),
        ("all_gr", "ALL GR: right taps ÷ click and long_click steps, over those types with at least one hit"),
    ),
    checked="python -m scripts.protocol_diff guir1 --rounds 2 on AndroidControl's 8,444 test steps, two "
    "random or adversarial gui-r1 answers per step (16,888): agreement 1.0000 (correct and type match"
    " per step); ALL Step, ALL Type and ALL GR equal",
    deviations=(
        "the script's (group, action) categories are taken with one group per run (a run is one data set)",
        "an agent of another grammar is judged from its typed action as the three fields the script reads "
        "(its point exact; (0, 0) for an action without one, as GUI-R1's [-100, -100] reads)",
    ),
)
