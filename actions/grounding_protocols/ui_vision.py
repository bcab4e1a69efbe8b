"""`ui-vision`: UI-Vision element grounding as its evaluator scores it.

Source: uivision/UI-Vision `eval/grounding/eval_uivision.py`:

- lines 155-160 (`eval_sample_positive_gt`): the box is `[x1, y1, x2, y2]` in pixels; inverted corners
  are swapped (`if bbox[0] > bbox[2]`, `if bbox[1] > bbox[3]`) before it is divided by the
  annotation's `image_size`, per axis;
- lines 164-169: the answer is the wrapper's point as a fraction of the screen; none is
  `wrong_format`, counted and wrong (`calc_metric_for_result_list_simple`, 139-148);
- line 171: `bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]`: edges count;
- lines 274-330: one test file (basic, functional or spatial) per run, scored by its overall accuracy.
  The README's "Final Avg" is the plain mean of the three files' accuracies (UI-TARS-7B: 20.10, 24.30,
  8.37 -> 17.60), so the headline is a mean over `setting`.

No refusal items: a refusal answer is wrong.
"""

from __future__ import annotations

from actions.grounding_protocols.base import (
    GroundingAnswer,
    GroundingCase,
    GroundingProtocol,
    GroundingVerdict,
    answer_fraction,
    fmt,
    hit,
    only_boxes,
    size_of,
    unanswered,
    unit_box,
)
from actions.regions import Box, point_in_box


def judge(case: GroundingCase, answer: GroundingAnswer) -> GroundingVerdict:
    box = only_boxes("ui-vision", case.target)
    missing = unanswered(answer)
    if missing is not None:
        return missing
    point = answer_fraction(answer, case.screen)
    swapped = Box(box.ordered(), box.units)  # the evaluator's swap of inverted corners
    inside = point_in_box(point, unit_box(swapped, size_of(case, "declared")))
    return hit(inside, f"{fmt(point)} of the screen {'inside' if inside else 'outside'} the box")


PROTOCOL = GroundingProtocol(
    name="ui-vision",
    source="uivision/UI-Vision eval/grounding/eval_uivision.py",
    definition="point in the box (inverted corners swapped), both as fractions of image_size",
    compare="fractions of the screen",
    screen_size="declared (the annotation's image_size)",
    edges="inclusive; inverted corners swapped first",
    refusal="no refusal items; a refusal answer is wrong",
    judge=judge,
    breakdowns=("setting", "platform", "element_type"),
    headline=("setting",),
    quirks=("a box with x1 > x2 or y1 > y2 is swapped, not rejected",),
    evidence=(
        "lines 155-160: inverted corners swapped, then divided by the annotation's `image_size`",
        "lines 164-169: no point is `wrong_format`, counted and wrong",
        "line 171: edges count",
        "lines 274-330: one file per run; the README's Final Avg is the plain mean of the three files "
        "(UI-TARS-7B: 20.10, 24.30, 8.37 -> 17.60)",
    ),
    checked="`process_element_eval` with `models/osatlas7b.py`'s parsing (its model replaced by 300 "
    "generated answers, a third of the boxes inverted) judges every item as this protocol does; same three "
    "accuracies",
)
