"""One matcher for training rewards and evaluation: partial-credit action score and match verdicts.

`prediction` is completion text (or a conversational message list), a typed action or a wire dict;
`gold` is wire JSON (dict or str, parsed strictly) or a typed action, in original pixels; `screen` is
`(width, height)` in original pixels. A prediction in another coordinate space is mapped back to
original pixels and clamped to the screen before anything is measured.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from typing import Any

from actions.context import GoldContext
from actions.coords import PixelBudget, check_screen, check_space, to_original_space
from actions.directions import directions
from actions.parse import ParsedCompletion, parse_completion
from actions.protocols import MissingContext, get_protocol
from actions.protocols.base import Answer
from actions.similarity import text_similarity
from actions.types import (
    Action,
    ActionParseError,
    BoxAction,
    Inquiry,
    OpenApp,
    Swipe,
    TypeText,
)
from actions.wire import parse_action

# AITW's threshold: a tap within 14% of the screen (normalised units) of the target counts as a hit.
DISTANCE_THRESHOLD = 0.14
TEXT_MATCH_THRESHOLD = 0.8
EMPTY_CONTEXT = GoldContext()


@dataclass(frozen=True)
class ActionBreakdown:
    """Partial-credit action score: 0 when unparseable or of another type, else `0.5 + 0.5 * param_score`."""

    type_hit: float
    param_score: float
    reason: str
    predicted_type: str | None = None
    gold_type: str | None = None

    @property
    def total(self) -> float:
        return 0.5 + 0.5 * self.param_score if self.type_hit else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The parts, the total and the reason, for results files and logs."""
        return {**asdict(self), "total": self.total}


@dataclass(frozen=True)
class Verdict:
    """Whether a predicted step counts as correct under a match protocol, and why."""

    correct: bool
    type_match: bool
    reason: str
    protocol: str = "box"
    counted: bool = True
    raised: bool = False  # the source's script raises on this step (see `Judgement`)
    facts: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"correct": self.correct, "type_match": self.type_match, "reason": self.reason}
        if not self.counted:
            out["counted"] = False
        if self.raised:
            out["raised"] = True
        if self.facts:
            out["facts"] = dict(self.facts)
        return out


def read_gold(gold: Any) -> Action:
    """Gold action from a typed action or wire JSON (strict: bad ground truth is a ValueError)."""
    if isinstance(gold, Action):
        return gold
    if isinstance(gold, str):
        return _gold_from_text(gold)
    if isinstance(gold, dict):
        return parse_action(gold, strict=True)
    raise ValueError(
        f"expected the gold action as wire JSON (dict or str) or an Action, found {type(gold).__name__}"
    )


@functools.lru_cache(maxsize=4096)
def _gold_from_text(text: str) -> Action:
    # A GRPO group scores num_generations completions against the same gold string; actions are frozen.
    return parse_action(text, strict=True)


def read_prediction(
    prediction: Any,
    screen: tuple[int, int],
    coord_space: str = "original",
    budget: PixelBudget | None = None,
) -> tuple[Action | None, list[str]]:
    """Predicted action in original pixels (clamped), with the problems met reading it; never raises."""
    problems: list[str] = []
    action: Action | None
    if isinstance(prediction, Action):
        action = prediction
    elif isinstance(prediction, ParsedCompletion):
        action, problems = prediction.action, list(prediction.problems)
    elif isinstance(prediction, dict) and "action_type" in prediction:
        try:
            action = parse_action(prediction, strict=False, notes=problems)
        except ActionParseError as err:
            action, problems = None, [err.problem]
    else:
        parsed = parse_completion(prediction)
        action, problems = parsed.action, list(parsed.problems)
    if isinstance(action, (BoxAction, Swipe)) and not (
        coord_space == "original" and _on_screen(action, screen)
    ):
        action = to_original_space(action, coord_space, screen, budget, integer=False)
    return action, problems


def _on_screen(action: BoxAction | Swipe, screen: tuple[int, int]) -> bool:
    # Mapping from `original` only clamps; a stored (already clamped) prediction skips the copy.
    values = action.box if isinstance(action, BoxAction) else (*action.start, *action.end)
    return all(0 <= v <= screen[i % 2] for i, v in enumerate(values))


def _box(action: BoxAction) -> tuple[float, float, float, float]:
    # Gold boxes are sometimes written with swapped corners; the box is the same region.
    x1, y1, x2, y2 = action.box
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _inside(point: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def _distance_to_box(
    point: tuple[float, float], box: tuple[float, float, float, float], screen: tuple[int, int]
) -> float:
    """Distance from a point to a box in screen-normalised units (each axis divided by its length)."""
    dx = max(box[0] - point[0], 0.0, point[0] - box[2]) / screen[0]
    dy = max(box[1] - point[1], 0.0, point[1] - box[3]) / screen[1]
    return math.hypot(dx, dy)


def _distance(a: tuple[float, float], b: tuple[float, float], screen: tuple[int, int]) -> float:
    return math.hypot((a[0] - b[0]) / screen[0], (a[1] - b[1]) / screen[1])


def _param_score(pred: Action, gold: Action, screen: tuple[int, int]) -> tuple[float, str]:
    if isinstance(gold, BoxAction):
        point, box = pred.point, _box(gold)
        if _inside(point, box):
            return 1.0, "tap point inside gold box"
        d = _distance_to_box(point, box, screen)
        return max(0.0, 1.0 - d / DISTANCE_THRESHOLD), f"tap point outside gold box by {d:.3f} (normalised)"
    if isinstance(gold, Swipe):
        said = directions(pred.start, pred.end, unit="pixel")
        same = bool(said & directions(gold.start, gold.end, unit="pixel"))
        closeness = (
            sum(
                max(0.0, 1.0 - _distance(p, g, screen) / DISTANCE_THRESHOLD)
                for p, g in ((pred.start, gold.start), (pred.end, gold.end))
            )
            / 2
        )
        verdict = "same direction" if same else "other direction"
        return 0.5 * same + 0.5 * closeness, f"swipe {verdict}, end-point closeness {closeness:.2f}"
    if isinstance(gold, (TypeText, OpenApp)):
        sim = text_similarity(pred.parameter(), gold.parameter())
        return sim, f"text similarity {sim:.2f}"
    if isinstance(gold, Inquiry):
        same = pred.answer_index is not None and pred.answer_index == gold.answer_index
        sim = text_similarity(pred.question, gold.question)
        index = "same" if same else "different"
        return 0.5 * same + 0.5 * sim, f"{index} AnswerIndex, question similarity {sim:.2f}"
    return 1.0, "type match"


def _unreadable(problems: list[str]) -> str:
    return "unparseable: " + (", ".join(problems) if problems else "no action")


def action_score(
    prediction: Any,
    gold: Any,
    screen: tuple[int, int],
    *,
    coord_space: str = "original",
    budget: PixelBudget | None = None,
) -> ActionBreakdown:
    """Partial-credit score of a predicted action against the gold one (SPEC §4).

    Malformed predictions score 0 with a reason; bad ground truth, screen or coord_space raise ValueError.
    """
    gold_action = read_gold(gold)
    screen = check_screen(screen)
    check_space(coord_space)
    pred, problems = read_prediction(prediction, screen, coord_space, budget)
    if pred is None:
        return ActionBreakdown(0.0, 0.0, _unreadable(problems), None, gold_action.action_type)
    if pred.action_type != gold_action.action_type:
        reason = f"type mismatch: predicted {pred.action_type}, gold {gold_action.action_type}"
        return ActionBreakdown(0.0, 0.0, reason, pred.action_type, gold_action.action_type)
    score, reason = _param_score(pred, gold_action, screen)
    return ActionBreakdown(1.0, min(1.0, max(0.0, score)), reason, pred.action_type, gold_action.action_type)


def match_step(
    prediction: Any,
    gold: Any,
    screen: tuple[int, int],
    protocol: str = "box",
    *,
    context: GoldContext | None = None,
    step_id: str = "",
    coord_space: str = "original",
    budget: PixelBudget | None = None,
    answer: Answer | None = None,
    problems: list[str] | None = None,
) -> Verdict:
    """Match verdict of a predicted step under a registered protocol (`actions.protocols.PROTOCOLS`).

    `context` is the step's gold context; a protocol that needs context the step lacks raises
    `MissingContext` (a ValueError) naming `step_id` and the missing key, and never falls back silently.
    `answer` is the raw answer with the run's agent: a protocol whose source was written for that agent's
    grammar judges the raw text itself, the way the source's script reads it. Otherwise `prediction` is
    judged; None means no readable answer (`problems` say why), which the protocol's own rule scores.
    """
    proto = get_protocol(protocol)
    gold_action = read_gold(gold)
    screen = check_screen(screen)
    check_space(coord_space)
    context = context or EMPTY_CONTEXT
    judge_raw = proto.judge_raw if proto.reads_raw(answer) else None
    try:
        if judge_raw is not None and answer is not None:
            j = judge_raw(answer, gold_action, screen, context)
            counted = j.counted
        else:
            if prediction is None:
                pred, problems = None, list(problems or [])
            else:
                pred, problems = read_prediction(prediction, screen, coord_space, budget)
            if pred is None:
                j = proto.unread(gold_action, screen, context, _unreadable(problems))
            else:
                j = proto.judge(pred, gold_action, screen, context)
            counted = j.counted and proto.counts(gold_action)
    except MissingContext as err:
        where = f"step {step_id}: protocol {protocol!r}" if step_id else f"protocol {protocol!r}"
        raise MissingContext(err.field, err.why, where) from None
    facts = dict(j.facts) if j.facts else None
    return Verdict(j.correct, j.type_match, j.reason, protocol, counted, j.raised, facts)
