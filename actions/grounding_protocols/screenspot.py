"""`screenspot`: ScreenSpot and ScreenSpot-v2 as SeeClick's script scores them.

Source: njucckevin/SeeClick `pretrain/screenspot_test.py` (ScreenSpot-v2 ships the same schema and is
scored with the same script, OS-Copilot/ScreenSpot-v2):

- line 69: the box `[x, y, w, h]` becomes `[x, y, x + w, y + h]` (the importer does this addition);
- lines 66, 70-71: it is divided by the size of the screenshot file itself (`Image.open(...).size`),
  per axis, so box and point are compared as fractions of the screen;
- lines 81-86: the answer is a point in [0, 1] (a `<box>` answer's centre divided by 1000);
- line 87: `bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]`: edges count, corners as written;
- lines 102-108: an answer that cannot be read (the bare `except`) is wrong and counted;
- lines 89-98, 113-114: text accuracy over `data_type == 'text'`, every other type counted as icon;
  each file (mobile, desktop, web) reported on its own (line 110, `Action Acc`); no overall number.

The released files have no refusal items: a refusal answer is wrong. What differs: the answer is read
by the agent's grounding adapter, not by SeeClick's `pred_2_point`; an item of the HongxinLi/
ScreenSpot_v2 mirror (normalised boxes) is compared on its stored fractions as they are.
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
    box = only_boxes("screenspot", case.target)
    missing = unanswered(answer)
    if missing is not None:
        return missing
    size = size_of(case, "image")
    point = answer_fraction(answer, case.screen)
    inside = point_in_box(point, unit_box(box, size))
    return hit(inside, f"{fmt(point)} of the screen {'inside' if inside else 'outside'} the box")


PROTOCOL = GroundingProtocol(
    name="screenspot",
    source="njucckevin/SeeClick pretrain/screenspot_test.py",
    definition="point in the box, both as fractions of the screenshot file's size",
    compare="fractions of the screen",
    screen_size="image (the screenshot file's own size)",
    edges="inclusive; corners as written",
    refusal="no refusal items; a refusal answer is wrong",
    judge=judge,
    breakdowns=("platform", "ui_type", "platform/ui_type"),
    quirks=("every data_type other than 'text' is counted as icon",),
    evidence=(
        "line 69: the box `[x, y, w, h]` becomes corners (done at import)",
        "lines 66, 70-71: divided by the screenshot file's own size, per axis",
        "line 87: `bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]`",
        "lines 102-108: an answer that cannot be read is counted wrong",
        "lines 89-98, 110-114: text accuracy over `data_type == 'text'`, icon over the rest; one accuracy "
        "per file, no overall",
    ),
    checked="the script run on 360 generated answers (its model replaced by the answers) gives the same "
    "nine accuracies and wrong-format counts as this protocol",
    differs="the answer is read by the grounding adapter, not by SeeClick's own `pred_2_point`; the headline "
    "is the micro accuracy (papers average either way)",
)
