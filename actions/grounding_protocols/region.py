"""`region`: phone-r1's own grounding rule, for sets that come with no published evaluator.

The answered point and the target meet in the screenshot's pixels. A box counts its edges as inside,
with its corners ordered first (a box written with swapped corners means the same rectangle); a
polygon is tested by ray casting (`actions.regions.point_in_polygon`); a refusal item is right
exactly when the answer refuses, and counts in the denominator. A point answered where a target
exists, or a refusal where none does, is wrong; no point and no refusal is a wrong-format answer.
"""

from __future__ import annotations

from actions.grounding_protocols.base import (
    GroundingAnswer,
    GroundingCase,
    GroundingProtocol,
    GroundingVerdict,
    fmt,
    hit,
    refusal_verdict,
    unanswered,
)
from actions.regions import Box, Polygon, point_in_box, point_in_polygon


def judge(case: GroundingCase, answer: GroundingAnswer) -> GroundingVerdict:
    target = case.target
    if not isinstance(target, (Box, Polygon)):
        return refusal_verdict(answer)
    missing = unanswered(answer)
    if missing is not None:
        return missing
    assert answer.point is not None
    if isinstance(target, Box):
        box = Box(target.pixels(case.screen)).ordered()
        inside = point_in_box(answer.point, box)
        return hit(inside, f"{fmt(answer.point)} {'inside' if inside else 'outside'} the box")
    inside = point_in_polygon(answer.point, target.pixels(case.screen))
    return hit(inside, f"{fmt(answer.point)} {'inside' if inside else 'outside'} the polygon")


PROTOCOL = GroundingProtocol(
    name="region",
    source="phone-r1",
    definition="point in the target region, in screenshot pixels",
    compare="pixels",
    screen_size="none (units converted with the screenshot's size)",
    edges="inclusive (box corners ordered first); polygons by ray casting",
    refusal="refusal items counted; right when the answer refuses",
    judge=judge,
    breakdowns=("platform", "ui_type", "app", "box_type"),
    differs="no published evaluator: the rule for sets without one (such as `data grounding-set` output)",
)
