"""`androidcontrol-qwen`: the Qwen2.5-VL AndroidControl evaluator as InfiGUI-R1 ships it.

Reproduces Reallm-Labs/InfiGUI-R1 `eval/android_control/evaluate_android_control.py`
(`evaluate_android_control_action`, adapted from the Qwen2.5-VL issue #904 gist) with the answer
reading and the counts of `android_control.py` (`AndroidControl.compute_scores`). The step rule is in
`actions.protocols.qwen_gist`.

Answers of the agents the script was written for (`qwen2.5-vl`, `infigui-r1`, `gui-owl`: the
`mobile_use` tool call in resized pixels) are read from the raw text the way `compute_scores` reads them;
answers of other agents are judged from phone-r1's typed action, written as the same arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actions.context import GoldContext
from actions.coords import PixelBudget, model_screen_size
from actions.protocols import qwen_gist as gist
from actions.protocols.base import Answer, Judgement, MissingContext, Protocol, Screen, StepOutcome
from actions.types import Action

# InfiGUI-R1's default: the images are resized with this budget before the model sees them.
INFIGUI_BUDGET = PixelBudget(min_pixels=4 * 28 * 28, max_pixels=6400 * 28 * 28)
RAW_AGENTS = ("qwen2.5-vl", "infigui-r1", "gui-owl")
THINKING_AGENTS = ("infigui-r1",)  # run with `--thinking`: the text after the last </think> is read


def _needs_boxes(gold: Action, context: GoldContext) -> None:
    # The source reads a click step's `candidate_bbox` without a default; its test data always has one.
    if gold.action_type in ("click", "long_click") and context.candidate_boxes is None:
        raise MissingContext("candidate_boxes", "the source's check_pams.candidate_bbox of a click step")


def _judged(pred: Any, gold: Action, screen: Screen, resized: Screen, context: GoldContext) -> Judgement:
    facts = (
        {"pred_action": pred["action"]}
        if isinstance(pred, dict) and isinstance(pred.get("action"), str)
        else None
    )
    try:
        type_match, hit, why = gist.verdict(
            pred, gist.gold_dict(gold, context, uis1=False), screen, resized, uis1=False
        )
    except gist.SourceRaised as exc:
        return Judgement(False, False, f"the source's evaluator raises: {exc}", raised=True, facts=facts)
    return Judgement(hit, type_match, why, facts=facts)


def judge(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    _needs_boxes(gold, context)
    resized = model_screen_size("resized", screen, INFIGUI_BUDGET)
    return _judged(gist.pred_dict(pred, screen, resized), gold, screen, resized, context)


def judge_raw(answer: Answer, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    _needs_boxes(gold, context)
    try:
        pred = gist.infigui_arguments(answer.text, thinking=answer.agent in THINKING_AGENTS)
    except gist.SourceRaised as exc:
        return Judgement(False, False, f"the source's reader raises: {exc}", raised=True)
    return _judged(pred, gold, screen, answer.model_screen, context)


def unreadable(gold: Action, screen: Screen, context: GoldContext, reason: str) -> Judgement:
    # No arguments to read: the source's json.loads raises and the step counts as wrong.
    return Judgement(False, False, reason, raised=True)


def metrics(outcomes: Sequence[StepOutcome]) -> dict[str, Any]:
    """`compute_scores`' own figures: click_match_acc counts right answers given as a click (an open step
    answered by a click included) over the gold `click` steps (not long_press) that did not raise."""
    clicks = sum(o.gold_type == "click" and not o.raised for o in outcomes)
    hits = sum(o.correct and (o.facts or {}).get("pred_action") == "click" for o in outcomes)
    return {
        "click_match_acc": hits / clicks if clicks else None,
        "error_num": sum(o.raised for o in outcomes),
    }


_TEXT = "lower-cased and stripped, one contains the other (an empty prediction always matches)"
_OTHER = (
    "back, home and enter are system_button Back/Home/Enter (same button, case-insensitive); wait by type; "
    "task_completed, task_impossible and inquiry have no branch in the source: it raises, the step is "
    "counted and wrong"
)
_RAISES = (
    "where the source's script raises (no call found, JSON that does not parse, a missing or odd "
    "field such as a type without `text`) the step is counted and wrong"
)

QWEN = Protocol(
    name="androidcontrol-qwen",
    definition="The Qwen2.5-VL AndroidControl evaluator as InfiGUI-R1 ships it: a tap inside any candidate "
    "element box enlarged 1.2x, or within 0.04 of the longer resized-image side; swipes compared with the "
    "direction AndroidControl states.",
    source="Reallm-Labs/InfiGUI-R1 eval/android_control/evaluate_android_control.py and android_control.py "
    "(compute_scores), adapted from the Qwen2.5-VL #904 gist",
    click="same type; inside any candidate_bbox enlarged 1.2x about its centre (not clipped, swapped corners "
    "kept), else the distance in resized-image pixels <= 0.04 * max(W, H); exact values, no rounding",
    swipe="the prediction's direction by the larger axis in 0-1 units (divided by the resized width and "
    "height; a tie or a zero-length swipe is vertical, 'up' unless it goes down) must equal the gold "
    "direction as AndroidControl states it (the content's motion)",
    text=_TEXT + "; an open step is also matched by a click inside its candidate boxes, whose first box's "
    "centre is the point for the 0.04 rule; an open step without candidate boxes is read with [] (a click "
    "then fails), as the source's .get does",
    other=_OTHER,
    denominator="every step; steps the source raises on count as wrong",
    differs_from_box="uses the candidate element boxes enlarged 1.2x instead of the gold box, adds a 0.04 "
    "distance rule, compares swipes with AndroidControl's stated (content) direction, and accepts any "
    "text containment, an empty prediction included.",
    judge=judge,
    context=(
        "candidate_boxes (required for click and long_click; open_app reads [] without them)",
        "point",
        "scroll_direction",
        "scroll_direction_means",
    ),
    quirks=(
        "raw answers of qwen2.5-vl, infigui-r1 and gui-owl are read as compute_scores reads them: after the "
        "last </think> (infigui-r1, thinking mode), between the first two <tool_call> tags, else from the "
        'first literal {"name": "mobile_use", "arguments":, cut at </tool_call> or before <conclusion> and '
        "after the last }}, as JSON",
        _RAISES,
        "the finger direction is compared with a content direction, so AndroidControl's stated direction "
        "needs the inverted swipe",
        "an empty typed text always matches",
        "a click can answer an open step, with type_match true",
    ),
    raw_agents=RAW_AGENTS,
    judge_raw=judge_raw,
    unreadable=unreadable,
    metrics=metrics,
    metric_names=(
        ("click_match_acc", "right answers given as a click ÷ gold click steps the script did not raise on"),
        ("error_num", "steps on which the source's script raises (counted wrong)"),
    ),
    checked="python -m scripts.protocol_diff infigui --rounds 2 on AndroidControl's 8,444 test steps (UI-S1's"
    " copy, its candidate boxes as check_pams), two random or adversarial answers per step (16,888) "
    "for each of the agents infigui-r1, qwen2.5-vl and gui-owl, against compute_scores: agreement "
    "1.0000 (type match, exact match and raise per step); type_match_acc, extact_match_acc, "
    "click_match_acc and error_num equal",
    deviations=(
        "an agent of another grammar is judged from its typed action written as mobile_use arguments in "
        "the resized image of InfiGUI-R1's budget (6400*28*28), exact values: the source has no reading of "
        "other grammars",
        "a click step without context.candidate_boxes is refused (the source raises a KeyError on every "
        "such step; its test data always has the key)",
    ),
)
