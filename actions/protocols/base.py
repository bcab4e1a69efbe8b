"""The shape every match protocol has, and the geometry they share (in original pixels or norm units).

"norm" divides x by the screen width and y by its height, so both axes run 0-1; distances are
Euclidean in norm units unless a protocol says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from actions.context import Box, GoldContext, Point
from actions.directions import finger_word, main_direction
from actions.types import Action, BoxAction, Swipe

Screen = tuple[int, int]


class MissingContext(ValueError):
    """A protocol needs gold context the step does not carry; `field` names the missing key."""

    def __init__(self, field: str, why: str, where: str = "the protocol") -> None:
        super().__init__(f"{where} needs context.{field} ({why}), which the step lacks")
        self.field, self.why = field, why


@dataclass(frozen=True)
class Judgement:
    """A protocol's verdict on one step: `counted` says whether the step is in its denominator.

    `raised` marks a step on which the source's script raises (it then scores the step wrong, and some
    sources let that change other numbers: UI-S1 zeroes the episode's progress); `facts` holds the few
    source-side values a protocol's own metrics need (e.g. the action name the source read).
    """

    correct: bool
    type_match: bool
    reason: str
    counted: bool = True
    raised: bool = False
    facts: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Answer:
    """A raw answer as the agent wrote it, for a protocol that reads answers the way its source does.

    `agent` is the run's adapter name and `model_screen` the screen size in the agent's coordinate
    space (the resized image for agents answering in resized pixels).
    """

    text: str
    agent: str
    model_screen: tuple[int, int]


@dataclass(frozen=True)
class StepOutcome:
    """One judged step as a protocol's run-level rules see it (denominator and own metrics)."""

    episode_id: str
    index: int
    gold_type: str
    correct: bool
    type_match: bool
    counted: bool
    raised: bool = False
    facts: Mapping[str, Any] = field(default_factory=dict)
    episode_length: int | None = None  # known in own-history runs, where later steps may not be asked


Judge = Callable[[Action, Action, Screen, GoldContext], Judgement]
RawJudge = Callable[[Answer, Action, Screen, GoldContext], Judgement]
# A protocol's own run-level metrics, by name, from every judged step of a run (counted or not).
Metrics = Callable[[Sequence[StepOutcome]], dict[str, Any]]
# Which steps a run's SR is taken over: one flag per step, from every judged step of the run.
Denominator = Callable[[Sequence[StepOutcome]], list[bool]]


def per_step_denominator(outcomes: Sequence[StepOutcome]) -> list[bool]:
    """The usual rule: a step is in the denominator when its own verdict says it is counted."""
    return [o.counted for o in outcomes]


@dataclass(frozen=True)
class Protocol:
    """A named step-accuracy rule reproducing one published evaluator (or phone-r1's own `box`)."""

    name: str
    definition: str
    source: str
    click: str
    swipe: str
    text: str
    other: str
    denominator: str
    differs_from_box: str
    judge: Judge = field(repr=False)
    counts: Callable[[Action], bool] = field(default=lambda gold: True, repr=False)
    context: tuple[str, ...] = ()
    quirks: tuple[str, ...] = ()
    # Agents whose answer grammar the source was written for: their raw answers go to `judge_raw`,
    # which reads them the way the source's script does (its regexes, its field reading).
    raw_agents: tuple[str, ...] = ()
    judge_raw: RawJudge | None = field(default=None, repr=False)
    # The verdict on an answer phone-r1 could not read (or a failed request), on the typed path:
    # `(gold, screen, context, reason)`.
    unreadable: Callable[[Action, Screen, GoldContext, str], Judgement] | None = field(
        default=None, repr=False
    )
    denominator_rule: Denominator = field(default=per_step_denominator, repr=False)
    metrics: Metrics | None = field(default=None, repr=False)
    # (name, meaning) of each value `metrics` returns, for docs and reports.
    metric_names: tuple[tuple[str, str], ...] = ()
    # What still differs from the official evaluator's verdicts, each with its reason (the card lists them).
    deviations: tuple[str, ...] = ()
    # How the protocol was checked against the official code (cases, agreement), for the card.
    checked: str = ""

    def reads_raw(self, answer: Answer | None) -> bool:
        """Whether `answer` is judged as raw text (its agent's grammar is the source's own)."""
        return answer is not None and self.judge_raw is not None and answer.agent in self.raw_agents

    def unread(self, gold: Action, screen: Screen, context: GoldContext, reason: str) -> Judgement:
        """The verdict on a step with no readable answer (typed path)."""
        if self.unreadable is not None:
            return self.unreadable(gold, screen, context, reason)
        return Judgement(False, False, reason, self.counts(gold))

    def step_rule(self) -> dict[str, str]:
        """The rule per kind of action, as docs and reports print it."""
        return {
            "click / long_click": self.click,
            "swipe / scroll": self.swipe,
            "type / open_app": self.text,
            "other actions": self.other,
        }


def box_of(action: BoxAction) -> Box:
    """The gold box with its corners ordered (gold boxes are sometimes written with swapped corners)."""
    x1, y1, x2, y2 = action.box
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def is_point(action: BoxAction) -> bool:
    """Whether a click's gold is a point (`"x,y"` on the wire, a zero-size box inside)."""
    x1, y1, x2, y2 = action.box
    return x1 == x2 and y1 == y2


def inside(point: Point, box: Box) -> bool:
    """Edges count as inside."""
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def norm_distance(a: Point, b: Point, screen: Screen) -> float:
    return math.hypot((a[0] - b[0]) / screen[0], (a[1] - b[1]) / screen[1])


def gold_point(gold: BoxAction, context: GoldContext) -> Point:
    """The gold tap point: the context's point when the source gave one, else the gold box centre."""
    return context.point if context.point is not None else gold.point


def scaled(box: Box, factor: float) -> Box:
    """`box` scaled by `factor` about its centre, not clipped."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) * factor / 2, (box[3] - box[1]) * factor / 2
    return cx - hw, cy - hh, cx + hw, cy + hh


def grown_clipped(box: Box, fraction: float, screen: Screen) -> Box:
    """The AITW enlargement in norm units: height and width each grow by `fraction` of themselves,
    centred; top and left are clipped at 0 and height and width (not bottom and right) at 1."""
    top, left = box[1] / screen[1], box[0] / screen[0]
    h, w = (box[3] - box[1]) / screen[1], (box[2] - box[0]) / screen[0]
    top, left = max(0.0, top - fraction * h / 2), max(0.0, left - fraction * w / 2)
    h, w = min(1.0, h + fraction * h), min(1.0, w + fraction * w)
    return left, top, left + w, top + h


def to_norm(point: Point, screen: Screen) -> Point:
    return point[0] / screen[0], point[1] / screen[1]


def finger_direction(gold: Swipe, context: GoldContext) -> str | None:
    """The gold swipe's finger direction: the source's stated word when the context has one (turned
    round when the source names the content's motion), else the gold swipe's own main axis."""
    word = context.scroll_direction
    if word is None:
        return main_direction(gold.start, gold.end, unit="pixel")
    if context.scroll_direction_means is None:
        raise MissingContext(
            "scroll_direction_means", "to know whether scroll_direction names the finger or the content"
        )
    return finger_word(word, context.scroll_direction_means)


def content_direction(gold: Swipe, context: GoldContext) -> str | None:
    """The direction word AndroidControl states (the content's motion, all four inverted from the finger)."""
    if context.scroll_direction is not None and context.scroll_direction_means == "content":
        return context.scroll_direction
    finger = finger_direction(gold, context)
    return finger_word(finger, "content") if finger else None


def mismatch(p: str | None, g: str | None, counted: bool = True) -> Judgement:
    return Judgement(False, False, f"type mismatch: predicted {p or 'none of its types'}, gold {g}", counted)
