"""`androidcontrol-uis1`: the Qwen2.5-VL gist copy as UI-S1 runs it, with its episode metrics.

Reproduces X-PLUG/MobileAgent `UI-S1/evaluation/qwenvl_utils.py` (`evaluate_android_control_action`) as
`eval_qwenvl.py` runs it: `fix_line` turns every shipped step's check into its own action with
`candidate_bbox` = [], `process_line` walks an episode to its first mismatch and sets the episode's
progress to 0 when anything raises, `main` averages success and progress over episodes. The step rule is
in `actions.protocols.qwen_gist`.

Answers of the `ui-s1` agent (`<action>{...}</action>`, resized pixels) are read from the raw text the way
`JsonFormat.parse_response` reads them; answers of other agents are judged from phone-r1's typed action,
written as the same action dict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from actions.context import GoldContext
from actions.coords import PixelBudget, model_screen_size
from actions.protocols import qwen_gist as gist
from actions.protocols.base import Answer, Judgement, Protocol, Screen, StepOutcome
from actions.types import Action

# UI-S1's `find_last_image_ele`: the resized size the predictions are divided by.
UIS1_BUDGET = PixelBudget(min_pixels=56 * 56, max_pixels=12800 * 28 * 28)


def _judged(pred: Any, gold: Action, screen: Screen, resized: Screen, context: GoldContext) -> Judgement:
    try:
        type_match, hit, why = gist.verdict(
            pred, gist.gold_dict(gold, context, uis1=True), screen, resized, uis1=True
        )
    except gist.SourceRaised as exc:
        return Judgement(False, False, f"the source's evaluator raises: {exc}", raised=True)
    return Judgement(hit, type_match, why)


def judge(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    resized = model_screen_size("resized", screen, UIS1_BUDGET)
    return _judged(gist.pred_dict(pred, screen, resized), gold, screen, resized, context)


def judge_raw(answer: Answer, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    try:
        pred = gist.uis1_action(answer.text)
    except gist.SourceRaised as exc:
        return Judgement(False, False, f"the source's reader raises: {exc}", raised=True)
    return _judged(pred, gold, screen, answer.model_screen, context)


def unreadable(gold: Action, screen: Screen, context: GoldContext, reason: str) -> Judgement:
    # No action to read: the source's parse raises, which zeroes the episode's progress.
    return Judgement(False, False, reason, raised=True)


def episode_progress(steps: Sequence[StepOutcome], length: int | None = None) -> float:
    """`final_step_id / num_steps` of `process_line`: the matched prefix over the episode's length, 0 when
    the source raises on any step it reaches (the first mismatch included)."""
    ordered = sorted(steps, key=lambda o: o.index)
    n = length or len(ordered)
    done = 0
    for step in ordered:
        if step.raised:
            return 0.0
        if not step.correct:
            break
        done += 1
    return done / n if n else 0.0


def metrics(outcomes: Sequence[StepOutcome]) -> dict[str, Any]:
    """UI-S1's Success Rate and Average Progress, means over episodes."""
    episodes: dict[str, list[StepOutcome]] = defaultdict(list)
    for o in outcomes:
        episodes[o.episode_id].append(o)
    progress = [
        episode_progress(steps, max((s.episode_length or 0) for s in steps) or None)
        for steps in episodes.values()
    ]
    return {
        "success_rate": sum(p == 1.0 for p in progress) / len(progress) if progress else None,
        "average_progress": sum(progress) / len(progress) if progress else None,
    }


_TEXT = "lower-cased and stripped, one contains the other (an empty prediction always matches)"

UIS1 = Protocol(
    name="androidcontrol-uis1",
    definition="The Qwen gist copy as UI-S1 runs it: candidate boxes discarded for every step, taps within "
    "0.04 (0-1 units) of the gold point, any swipe correct; episodes scored by success and progress, an "
    "episode the script raises on scoring 0.",
    source="X-PLUG/MobileAgent UI-S1/evaluation/qwenvl_utils.py with eval_qwenvl.py (fix_line, process_line, "
    "main)",
    click="same type; distance <= 0.04 in 0-1 units (the prediction divided by the resized image, the gold "
    "by the screen; candidate boxes are [] for every step); exact values, no rounding",
    swipe="any swipe prediction is correct, with or without end points (the direction check is commented "
    "out in the source); only end points it cannot divide make it raise",
    text=_TEXT + "; a click for an open step always fails (no candidate boxes)",
    other="back, home and enter are system_button Back/Home/Enter; wait by type; task_completed, "
    "task_impossible and inquiry have no branch in the source: it raises",
    denominator="steps: every step; episodes: every episode (success = every step right; progress = right "
    "prefix ÷ steps, 0 when the script raises on a step up to the first mismatch)",
    differs_from_box="ignores the gold box for a 0.04 norm distance to its point, accepts any swipe, and any "
    "text containment.",
    judge=judge,
    context=("point",),
    quirks=(
        "raw answers of the ui-s1 agent are read as parse_response reads them: the first "
        "<action>...</action>, stripped, as JSON; anything else raises",
        "where the script raises (no action, JSON that does not parse, a missing or odd field) the step is "
        "wrong and the episode's progress is 0",
        "fix_line discards every candidate box",
        "any swipe is correct",
    ),
    raw_agents=("ui-s1",),
    judge_raw=judge_raw,
    unreadable=unreadable,
    metrics=metrics,
    metric_names=(
        ("success_rate", "episodes whose every step is right ÷ episodes"),
        (
            "average_progress",
            "mean over episodes of right prefix ÷ steps, 0 for an episode the script raised on",
        ),
    ),
    checked="python -m scripts.protocol_diff uis1 --rounds 2 on AndroidControl's 8,444 test steps in 1,543 "
    "episodes, two random or adversarial ui-s1 answers per step (16,888): agreement 1.0000, every step's "
    "verdict (parse_response and evaluate_android_control_action) and every episode's progress "
    "(process_line) equal; success rate and average progress equal",
    deviations=(
        "an agent of another grammar is judged from its typed action written as the same action dict: the "
        "source reads only <action> JSON",
        "in a teacher-forced run each step saw the gold history, where UI-S1 shows the model its own earlier "
        "answers (run with --history own for that); the episode metrics are computed the same way from "
        "either",
    ),
)
