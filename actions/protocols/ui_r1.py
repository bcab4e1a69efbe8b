"""`ui-r1`: UI-R1's AndroidControl evaluator.

Reproduces lll6gg/UI-R1 `evaluation/eval_ac.py` (commit 554d73cf). The script reads one JSON line per step
with greedy regular expressions: the gold is `"content": "{...}"` and the answer `"response": "{...}"`,
and the type of each is the last of open_app, click, scroll, input_text, navigate_back (in that order)
found anywhere in the captured text. Its input file is not published, so the verdict depends on the line
layout assumed. The layout reproduced here is one object per step as Python's `json.dumps` writes it,
content first:

    {"content": "<gold>", "response": "<answer>"}

with `<gold>` the AndroidControl action as UI-R1's `dataset/ac_test.json` writes it
(`{"action_type": "click", "x": 1027, "y": 209}`, as JSON text) and `<answer>` the answer's action as the
model wrote it: the text of its first `<answer>...</answer>` (the whole answer without one) with the
list brackets taken off. The
content pattern, being greedy, runs on to the end of the answer, so the answer's words take part in the
gold's type (an `open_app` gold answered with a click is scored as a click step).

Answers of the `ui-r1` agent are judged on that line; answers of other agents from phone-r1's typed
action by type name, and by the distance rule for clicks.
"""

from __future__ import annotations

import json
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

# The five counted types, in the order the script tries them (the last one found wins).
TYPES = ("open_app", "click", "scroll", "input_text", "navigate_back")
NAMES = {
    "open_app": "open_app",
    "click": "click",
    "long_click": "long_press",
    "swipe": "scroll",
    "type": "input_text",
    "back": "navigate_back",
    "home": "navigate_home",
    "wait": "wait",
}
ERROR_PX = 1080 * 0.14
# The script's fixed rescale from a 644x1484 image to a 1080x2400 screen.
SCALE_X, SCALE_Y = 1080 / 644, 2400 / 1484
_CONTENT = re.compile(r'"content":\s*"({.*})"')
_RESPONSE = re.compile(r'"response":\s*"({.*})"')
_DIGITS = re.compile(r"\d+")
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


def gold_json(gold: Action, context: GoldContext) -> str:
    """The gold as AndroidControl's action JSON (UI-R1's `ac_test.json`); points at integer pixels."""
    kind = NAMES.get(gold.action_type, gold.action_type)
    out: dict[str, Any] = {"action_type": kind}
    if isinstance(gold, BoxAction):
        x, y = gold_point(gold, context)
        out.update(x=round(x), y=round(y))
    elif isinstance(gold, Swipe):
        out["direction"] = content_direction(gold, context)
    elif isinstance(gold, TypeText):
        out["text"] = gold.text
    elif isinstance(gold, OpenApp):
        out["app_name"] = gold.app
    return json.dumps(out)


def answer_text(raw: str) -> str:
    """The answer's action as written: the first `<answer>` block, stripped, without its list brackets."""
    match = _ANSWER.search(raw)
    body = (match.group(1) if match else raw).strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1].strip()
    return body


def _last_type(text: str | None) -> str | None:
    found = None
    for name in TYPES:
        if text is not None and name in text:
            found = name
    return found


def judge_line(line: str) -> Judgement:
    """The script's verdict on one line of its input file."""
    content = _CONTENT.search(line)
    response = _RESPONSE.search(line)
    gold_text = content.group(1) if content else None
    said_text = response.group(1) if response else None
    kind, said = _last_type(gold_text), _last_type(said_text)
    facts = {"category": kind}
    if kind is None or gold_text is None:
        return Judgement(False, False, "no type word in the gold: the script raises (KeyError)", False, True)
    if said != kind:
        return Judgement(False, False, f"type mismatch: answer {said}, gold {kind}", facts=facts)
    if kind != "click":
        return Judgement(True, True, "same type; text and direction are not checked", facts=facts)
    gold_numbers = _DIGITS.findall(gold_text)
    if len(gold_numbers) < 2:
        return Judgement(False, False, "no gold point: the script raises (IndexError)", False, True, facts)
    numbers = _DIGITS.findall(said_text or "")
    if len(numbers) <= 1:
        return Judgement(False, True, "fewer than two numbers: the step is not counted", False, facts=facts)
    gx, gy = int(gold_numbers[0]), int(gold_numbers[1])
    px, py = int(numbers[0]), int(numbers[1])
    return _tap(int(SCALE_X * px) if px else None, int(SCALE_Y * py) if py else None, gx, gy, facts)


def _tap(px: int | None, py: int | None, gx: float, gy: float, facts: dict[str, Any]) -> Judgement:
    if not px or not py:
        return Judgement(False, True, "a zero coordinate misses", facts=facts)
    d = math.sqrt((gx - px) ** 2 + (gy - py) ** 2)
    hit = d < ERROR_PX
    return Judgement(
        hit, True, f"tap {d:.1f} px from gold ({'<' if hit else '>='} {ERROR_PX:.1f} px)", facts=facts
    )


def line_of(answer: str, gold: Action, context: GoldContext) -> str:
    """The input line the script would read for this step (the layout of the module docstring)."""
    return json.dumps({"content": gold_json(gold, context), "response": answer_text(answer)})


def judge_raw(answer: Answer, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    return judge_line(line_of(answer.text, gold, context))


def judge(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    kind = NAMES.get(gold.action_type)
    said = NAMES.get(pred.action_type)
    facts = {"category": kind}
    if kind not in TYPES:
        return Judgement(False, False, "not one of the five types the source counts", False, facts=facts)
    if said != kind:
        return Judgement(
            False, False, f"type mismatch: predicted {said or pred.action_type}, gold {kind}", facts=facts
        )
    if kind != "click":
        return Judgement(True, True, "same type; text and direction are not checked", facts=facts)
    gx, gy = gold_point(gold, context)
    x, y = pred.point  # already in screen pixels: truncated as the script truncates its rescaled value
    return _tap(int(x), int(y), round(gx), round(gy), facts)


def unreadable(gold: Action, screen: Screen, context: GoldContext, reason: str) -> Judgement:
    kind = NAMES.get(gold.action_type)
    return Judgement(False, False, reason, kind in TYPES, facts={"category": kind})


def metrics(outcomes: Sequence[StepOutcome]) -> dict[str, Any]:
    """The script's tallies: type accuracy (its `correct` over its `total`; a click answer with fewer than
    two numbers adds to `correct` but not to `total`) and click accuracy (`click_correct` over the click
    steps counted)."""
    ran = [o for o in outcomes if not o.raised]
    total = sum(o.counted for o in ran)
    clicks = [o for o in ran if o.counted and (o.facts or {}).get("category") == "click"]
    return {
        "type_acc": sum(o.type_match for o in ran) / total if total else None,
        "click_acc": sum(o.correct for o in clicks) / len(clicks) if clicks else None,
    }


PROTOCOL = Protocol(
    name="ui-r1",
    definition="UI-R1's AndroidControl evaluator: only open_app, click, scroll, input_text and navigate_back "
    "steps count; a click within 151.2 px of the gold point after a fixed 1080/644, 2400/1484 rescale; "
    "everything else by type alone.",
    source="lll6gg/UI-R1 evaluation/eval_ac.py",
    click="type click; the answer's first two digit runs, rescaled by 1080/644 and 2400/1484 and truncated, "
    "within < 1080 * 0.14 = 151.2 px of the gold point; a zero coordinate misses; an answer with fewer than "
    "two numbers is not counted; long_press is not one of the counted types",
    swipe="type only: the direction is never checked",
    text="type only: typed text and app names are never checked",
    other="navigate_back by type; wait, long_press, navigate_home, task_completed, task_impossible and "
    "inquiry golds have none of the five type words",
    denominator="steps whose line carries one of the five type words (the gold's, or the answer's, which the "
    "greedy content pattern reaches), less click answers with fewer than two numbers",
    differs_from_box="never checks text or swipe direction, replaces the gold box by a 151.2 pixel radius "
    "around its point, and counts only five action types.",
    judge=judge,
    counts=lambda gold: True,
    context=("point", "scroll_direction", "scroll_direction_means"),
    quirks=(
        "raw answers of the ui-r1 agent are judged on the line layout of the module docstring: content "
        "first, so the gold's type is the last of the five words found in the gold or the answer",
        "digits are read run by run (12.5 is 12 then 5), the rescaled point truncated, not rounded",
        "the 1080/644, 2400/1484 rescale is right only for 1080x2400 screens shown at 644x1484",
        "text and direction never checked; a click answer with fewer than two numbers is not counted",
    ),
    raw_agents=("ui-r1",),
    judge_raw=judge_raw,
    unreadable=unreadable,
    metrics=metrics,
    metric_names=(
        ("type_acc", "the script's correct ÷ total over the five types"),
        ("click_acc", "click_correct ÷ click steps counted"),
    ),
    checked="python -m scripts.protocol_diff uir1 --rounds 2 on AndroidControl's 8,444 test steps, two random"
    " or adversarial ui-r1 answers per step (16,888), on the line layout stated: agreement 1.0000 "
    "(correct, type match, counted, raise); the type and click tallies and the number of steps "
    "counted equal",
    deviations=(
        "the script's input file is not published, so its line layout is an assumption: one "
        'json.dumps({"content": <gold>, "response": <answer>}) line per step, content first, the gold as '
        "AndroidControl's action JSON (UI-R1's dataset/ac_test.json) and the answer as the text of its first "
        "<answer>...</answer> (the whole answer without one) with the list brackets taken off; another "
        "layout gives other verdicts, since the greedy patterns reach from one field into the next",
        "a line with none of the five type words (or a click gold without two numbers) makes the script stop "
        "with a KeyError (IndexError); phone-r1 leaves that step out and goes on",
        "an agent of another grammar is judged by type name and, for a click, its exact screen point "
        "truncated (no rescale, no word leakage between gold and answer); gold points are rounded to integer "
        "pixels as AndroidControl stores them",
    ),
)
