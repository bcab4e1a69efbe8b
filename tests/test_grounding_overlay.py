"""Grounding marks on the replay screenshot: the target (box, polygon or refusal) and the answered point."""

from __future__ import annotations

from PIL import Image

from actions.grounding_protocols import GroundingAnswer
from actions.regions import Box, Polygon, Refusal
from tests.test_ui_overlay import GREY, color_bbox
from ui.overlay import GOLD_COLOR, PRED_COLOR, marks_for_point_answer, marks_for_region, render_overlay

SIZE = (800, 400)


def draw(marks):
    return render_overlay(Image.new("RGB", SIZE, GREY), marks, max_width=400, max_height=10_000)


def test_a_unit_box_and_a_polygon_land_on_their_scaled_pixels():
    out = draw(marks_for_region(Box((0.25, 0.5, 0.5, 0.75), "unit"), SIZE, GOLD_COLOR))
    assert color_bbox(out, GOLD_COLOR) == (100, 100, 200, 150)  # (200..400, 200..300) px shown at half size
    polygon = Polygon(((100, 100), (300, 100), (200, 300)))
    out = draw(marks_for_region(polygon, SIZE, GOLD_COLOR))
    x1, y1, x2, y2 = color_bbox(out, GOLD_COLOR)
    assert abs(x1 - 50) <= 2 and abs(y1 - 50) <= 2 and abs(x2 - 150) <= 2 and abs(y2 - 150) <= 2
    assert out.getpixel((100, 100)) == GREY  # an outline: the inside stays clear


def test_the_answered_point_and_the_captions():
    out = draw(marks_for_point_answer(GroundingAnswer(point=(600, 100)), PRED_COLOR))
    x1, y1, x2, y2 = color_bbox(out, PRED_COLOR)
    assert (x1 + x2) / 2 == 300 and (y1 + y2) / 2 == 50
    assert marks_for_point_answer({"point": None, "refused": True}, PRED_COLOR)[0].label == "refused"
    bad = marks_for_point_answer(
        {"point": None, "refused": False, "problems": ["no_box"]}, PRED_COLOR, "model"
    )
    assert bad[0].kind == "text" and bad[0].label == "model: no point (no_box)"
    refuse = marks_for_region(Refusal(), SIZE, GOLD_COLOR, "target")
    assert refuse[0].kind == "text" and "no element matches" in refuse[0].label
    assert color_bbox(draw(refuse + bad), PRED_COLOR) is not None  # captions are drawn
