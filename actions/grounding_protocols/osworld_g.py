"""`osworld-g` and `osworld-g-no-refusal`: OSWorld-G's boxes, polygons and refusal items.

OSWorld-G (xlang-ai/OSWorld-G `benchmark/OSWorld-G.json`) gives each of its 564 items a `box_type`:
`bbox` (`box_coordinates` = `[x, y, w, h]` in pixels), `polygon` (a flat `[x1, y1, x2, y2, ...]` in
pixels) or `refusal` (54 items: no element matches). The official evaluator (`evaluation/eval.py`,
`GroundingEval._eval`) could not be read here; the rule below is taken from what its callers and
published ports show, each line named:

- a copy of the official `evaluation/` folder (Onifin/Holo3.1-OSWorld-G
  `evaluation/holo_osworld_g.py`): `bbox` items pass `box_coordinates[:2]` as the corner and
  `box_coordinates[2:]` as the size; polygons pass their vertices; refusal items pass
  `[-1, -1, -1, -1]`; an answer is a pixel point in the screenshot (scaled from the model's units with
  the screenshot's own size); the accuracy is `correct / total` over every item, refusal items
  included (also "Official accuracy is calculated over all 564 samples", Gelato's evaluation notes);
  `classification_result.json` groups the items by capability (an item may be in several; none:
  "unclassified");
- lmms-eval `lmms_eval/tasks/osworld_g/utils.py` and ZJU-REAL/ClawGUI `clawgui-eval/judge/
  osworld_g_judge.py`: `left <= x <= left + w and top <= y <= top + h` (edges count), polygons by ray
  casting (`actions.regions.point_in_polygon`), a refusal item right only when the answer refuses, a
  point where a target exists right only when inside it.

`osworld-g` counts all items (the official denominator); `osworld-g-no-refusal` leaves the 54 refusal
items out of the denominator (ClawGUI's default: `--include_refusal` is off in
`scripts/judge/osworld-g_run_judge.sh`), which raises the accuracy of a model that never refuses.
What differs: not checked against `GroundingEval._eval` itself.
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
from actions.regions import Box, Polygon, Refusal, point_in_box, point_in_polygon


def judge(case: GroundingCase, answer: GroundingAnswer) -> GroundingVerdict:
    target = case.target
    if isinstance(target, Refusal):
        return refusal_verdict(answer)
    missing = unanswered(answer)
    if missing is not None:
        return missing
    assert answer.point is not None
    if isinstance(target, Box):
        inside = point_in_box(answer.point, target.pixels(case.screen))
        return hit(inside, f"{fmt(answer.point)} {'inside' if inside else 'outside'} the box")
    assert isinstance(target, Polygon)
    inside = point_in_polygon(answer.point, target.pixels(case.screen))
    return hit(inside, f"{fmt(answer.point)} {'inside' if inside else 'outside'} the polygon")


def not_refusal(case: GroundingCase) -> bool:
    return not isinstance(case.target, Refusal)


_COMMON = dict(
    source="xlang-ai/OSWorld-G benchmark/ (the rule as its callers and ports show it)",
    evidence=(
        "Onifin/Holo3.1-OSWorld-G `evaluation/holo_osworld_g.py` (a copy of the official `evaluation/`): "
        "`box_coordinates[:2]` the corner, `[2:]` the size; polygons as vertices; refusal items as "
        "[-1, -1, -1, -1]; `accuracy = correct / total` over every item",
        "lmms-eval `lmms_eval/tasks/osworld_g/utils.py` and ClawGUI `judge/osworld_g_judge.py`: "
        "`left <= x <= left + w`, ray casting, a refusal right only on a refusal item",
    ),
    checked="ClawGUI's judge (`evaluate_single` with `uivenus15_parse`) on 300 generated answers (boxes, "
    "concave polygons, refusal items) judges every item as these protocols do, with and without "
    "`--include_refusal`",
    differs="not checked against the official `GroundingEval._eval`, which could not be read here",
    compare="pixels",
    screen_size="none (the answer is scaled to the screenshot's pixels by the adapter)",
    edges="inclusive for boxes; polygons by ray casting",
    judge=judge,
    breakdowns=("capability", "box_type"),
)

PROTOCOL = GroundingProtocol(
    name="osworld-g",
    definition="point in the box or polygon; refusal items right when refused, all 564 items counted",
    refusal="refusal items counted (official denominator: all items)",
    **_COMMON,  # type: ignore[arg-type]
)

NO_REFUSAL = GroundingProtocol(
    name="osworld-g-no-refusal",
    definition="as osworld-g, with refusal items left out of the denominator (ClawGUI's default)",
    refusal="refusal items judged but not counted",
    counts=not_refusal,
    **_COMMON,  # type: ignore[arg-type]
)
