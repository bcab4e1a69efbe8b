"""`screenspot-pro`: ScreenSpot-Pro as its own evaluator scores it.

Source: likaixin2000/ScreenSpot-Pro-GUI-Grounding `eval_screenspot_pro.py`:

- lines 137-142 (`eval_sample_positive_gt`): the box is `[x1, y1, x2, y2]` in pixels, divided by the
  annotation's own `img_size`, per axis;
- line 144: the answer is the model wrapper's point as a fraction of the screen (for example
  `models/qwen2_5vl.py` line 208: the answered pixel divided by the resized image's size);
- lines 146-147: no point is `wrong_format`, counted and wrong (`calc_metric_for_result_list`, 114-116);
- line 149: `bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]`: edges count, corners as written;
- lines 112-134, 267-310: accuracy over all items (`overall`), by `group` (the leaderboard's simple
  style), by `application` (detailed style), and text/icon (`ui_type`) within each.

Only positive items are released (`gt_type` negative is an evaluator option; `--gt_type positive` in
`run_ss_pro.sh`): a refusal answer is wrong. `instruction_cn` is the evaluator's `--language cn`.
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
from actions.regions import point_in_box


def judge(case: GroundingCase, answer: GroundingAnswer) -> GroundingVerdict:
    box = only_boxes("screenspot-pro", case.target)
    missing = unanswered(answer)
    if missing is not None:
        return missing
    point = answer_fraction(answer, case.screen)
    inside = point_in_box(point, unit_box(box, size_of(case, "declared")))
    return hit(inside, f"{fmt(point)} of the screen {'inside' if inside else 'outside'} the box")


PROTOCOL = GroundingProtocol(
    name="screenspot-pro",
    source="likaixin2000/ScreenSpot-Pro-GUI-Grounding eval_screenspot_pro.py",
    definition="point in the box, both as fractions of the annotation's img_size",
    compare="fractions of the screen",
    screen_size="declared (the annotation's img_size)",
    edges="inclusive; corners as written",
    refusal="no refusal items released; a refusal answer is wrong",
    judge=judge,
    breakdowns=("group", "ui_type", "group/ui_type", "application", "platform"),
    evidence=(
        "lines 137-142: the box divided by the annotation's `img_size`, per axis",
        "line 144: the wrapper's point as a fraction of the screen (`models/qwen2_5vl.py` line 208)",
        "lines 146-147, 114-116: no point is `wrong_format`, counted and wrong",
        "line 149: edges count, corners as written",
        "lines 112-134, 267-310: overall accuracy, by group, by application, text and icon within each",
    ),
    checked="`eval_screenspot_pro.py` with `models/qwen2_5vl.py`'s parsing (its model replaced by 360 "
    "generated answers, max_pixels 99999999) judges every item as this protocol does: same overall and "
    "group accuracies",
    differs="the negative items of `--gt_type negative` are not released, so they are not judged",
)
