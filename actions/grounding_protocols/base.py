"""What every grounding protocol shares: the answer it judges, its verdict, and its own description.

A grounding item is one screenshot, an instruction and a target region (`actions.regions`). An agent's
answer is one point, or a refusal. A protocol reproduces one benchmark's published rule for whether
that answer hits the target: in which units the point and the region are compared (pixels, or both
divided by an image size, and which size), whether edges count, how refusal items count, and which
categories the benchmark's own report breaks the accuracy down by.

`judge(case, answer)` never sees the raw text: the agent's grounding adapter reads it
(`agent.adapters.grounding`), keeping the point exact (not rounded, not clamped to the screen) and,
where the model answered in its own units, the point as a fraction of the screen computed from those
units (`fraction`), which is what the evaluators that normalise compare.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol as TypingProtocol

from actions.regions import Box, Point, Polygon, Quad, Refusal, Region

OUTCOMES: tuple[str, ...] = ("correct", "wrong", "wrong_format", "refused")


class GroundingCase(TypingProtocol):
    """What a protocol reads from an item (`episodes.grounding.GroundingItem` has these)."""

    @property
    def target(self) -> Region: ...

    @property
    def screen(self) -> tuple[int, int]: ...

    @property
    def declared_screen(self) -> tuple[int, int] | None: ...


@dataclass(frozen=True)
class GroundingAnswer:
    """One answer as a grounding adapter read it.

    `point` is in the screenshot's pixels, exact; `fraction` is the same point as a fraction of the
    screen when the adapter computed it from the model's own units (None: derive it from `point`);
    `refused` says the model answered that no element matches; `problems` name what was wrong with
    the text (a point of None and no refusal is a wrong-format answer).
    """

    point: Point | None = None
    fraction: Point | None = None
    refused: bool = False
    problems: tuple[str, ...] = ()

    @property
    def parsed(self) -> bool:
        return self.refused or self.point is not None

    def to_json(self) -> dict[str, object]:
        return {
            "point": list(self.point) if self.point is not None else None,
            "fraction": list(self.fraction) if self.fraction is not None else None,
            "refused": self.refused,
            "problems": list(self.problems),
        }

    @classmethod
    def from_json(cls, obj: dict[str, object]) -> GroundingAnswer:
        point, fraction = obj.get("point"), obj.get("fraction")
        return cls(
            point=tuple(point) if point is not None else None,  # type: ignore[arg-type]
            fraction=tuple(fraction) if fraction is not None else None,  # type: ignore[arg-type]
            refused=bool(obj.get("refused", False)),
            problems=tuple(obj.get("problems") or ()),  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class GroundingVerdict:
    """A protocol's verdict: `outcome` is one of `OUTCOMES`; `counted` says whether the item is in the
    protocol's denominator (an uncounted item is still judged, so a report can show it apart)."""

    correct: bool
    outcome: str
    reason: str
    counted: bool = True

    def to_json(self) -> dict[str, object]:
        return {
            "correct": self.correct,
            "outcome": self.outcome,
            "reason": self.reason,
            "counted": self.counted,
        }


class NotApplicable(ValueError):
    """A protocol asked to judge a target its benchmark never has (e.g. a polygon under ScreenSpot)."""


Judge = Callable[[GroundingCase, GroundingAnswer], GroundingVerdict]


def _always(case: GroundingCase) -> bool:
    return True


@dataclass(frozen=True)
class GroundingProtocol:
    """One benchmark's published rule (or phone-r1's own `region`).

    `compare` says in which units the point and the target meet; `screen_size` which size a rule
    divides by (`image`: the screenshot's header, `declared`: the size written in the annotation,
    `none`: the rule compares pixels); `edges` whether a point on the border is inside; `refusal` how
    refusal items and refusing answers count. `breakdowns` are the category keys the benchmark's own
    report groups by (`a/b`: each pair of values of keys a and b, as a table of a by b; `box_type` is
    the target's kind); `headline` the keys its headline number is a plain mean over (empty: the micro
    accuracy over every counted item). `counts(case)` decides the denominator. `evidence` names the
    source lines behind each part of the rule, `checked` how it was compared with the source's code;
    docs/eval.md's cards are written from these fields (`python -m actions.grounding_protocols.cards`).
    """

    name: str
    source: str
    definition: str
    compare: str
    screen_size: str
    edges: str
    refusal: str
    judge: Judge = field(repr=False)
    breakdowns: tuple[str, ...] = ()
    headline: tuple[str, ...] = ()
    counts: Callable[[GroundingCase], bool] = field(default=_always, repr=False)
    quirks: tuple[str, ...] = ()
    differs: str = ""  # what is known to differ from the source
    evidence: tuple[str, ...] = ()  # the source lines each part of the rule comes from
    checked: str = ""  # how the rule was checked against the source's own code

    def rule(self) -> dict[str, str]:
        """The rule in words, as docs and reports print it."""
        return {
            "compare": self.compare,
            "image size": self.screen_size,
            "edges": self.edges,
            "refusal": self.refusal,
            "headline": " / ".join(self.headline) + " (macro)"
            if self.headline
            else "micro over counted items",
        }

    def verdict(self, case: GroundingCase, answer: GroundingAnswer) -> GroundingVerdict:
        """`judge`, with the denominator decided by `counts`."""
        found = self.judge(case, answer)
        counted = bool(self.counts(case))
        if counted == found.counted:
            return found
        return GroundingVerdict(found.correct, found.outcome, found.reason, counted)


def size_of(case: GroundingCase, which: str) -> tuple[int, int]:
    """The image size a rule divides by: the annotation's declared size or the screenshot's own."""
    if which == "declared" and case.declared_screen is not None:
        return case.declared_screen
    return case.screen


def answer_fraction(answer: GroundingAnswer, screen: tuple[int, int]) -> Point:
    """The answered point as a fraction of the screen (the adapter's own when it computed one)."""
    if answer.fraction is not None:
        return answer.fraction
    assert answer.point is not None
    return answer.point[0] / screen[0], answer.point[1] / screen[1]


def unit_box(box: Box, size: tuple[int, int]) -> Quad:
    """A box as fractions of `size`, corner order kept (each coordinate divided by its axis' size)."""
    if box.units == "unit":
        return box.coords
    x1, y1, x2, y2 = box.coords
    return x1 / size[0], y1 / size[1], x2 / size[0], y2 / size[1]


def unanswered(answer: GroundingAnswer) -> GroundingVerdict | None:
    """The verdict for a target that needs a point when the answer gives none: a refusal or no point."""
    if answer.refused:
        return GroundingVerdict(False, "refused", "answered that no element matches; the target exists")
    if answer.point is None:
        why = ", ".join(answer.problems) or "no point in the answer"
        return GroundingVerdict(False, "wrong_format", f"wrong format: {why}")
    return None


def refusal_verdict(answer: GroundingAnswer) -> GroundingVerdict:
    """A refusal item: right exactly when the answer refuses."""
    if answer.refused:
        return GroundingVerdict(True, "correct", "refused, and no element matches")
    if answer.point is None:
        why = ", ".join(answer.problems) or "no point in the answer"
        return GroundingVerdict(False, "wrong_format", f"wrong format: {why}")
    return GroundingVerdict(False, "wrong", "answered a point; no element matches the instruction")


def hit(correct: bool, where: str) -> GroundingVerdict:
    return GroundingVerdict(correct, "correct" if correct else "wrong", where)


def only_boxes(name: str, target: Region) -> Box:
    """The target as a box; NotApplicable for the region types `name`'s benchmark never has."""
    if isinstance(target, Box):
        return target
    kind = (
        "a polygon"
        if isinstance(target, Polygon)
        else "a refusal item"
        if isinstance(target, Refusal)
        else target
    )
    raise NotApplicable(f"protocol {name!r} judges box targets only; this item's target is {kind}")


def fmt(point: Point) -> str:
    return f"({point[0]:.4g}, {point[1]:.4g})"
