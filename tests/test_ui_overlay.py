"""Overlay drawing: marks given in original pixels land on the right pixels of the resized copy."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from actions import Click, Swipe, TypeText, Wait
from ui.overlay import (
    GOLD_COLOR,
    PRED_COLOR,
    Mark,
    display_size,
    marks_for_action,
    render_overlay,
    scale_coords,
)

GREY = (128, 128, 128)


def color_bbox(image: Image.Image, color: tuple[int, int, int]) -> tuple[int, int, int, int] | None:
    """(x1, y1, x2, y2) inclusive bounds of the pixels of exactly `color`, or None."""
    pixels = np.asarray(image)
    ys, xs = np.nonzero(np.all(pixels == np.array(color, dtype=np.uint8), axis=-1))
    if not len(xs):
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


@pytest.mark.parametrize(
    ("size", "box", "max_width"),
    [
        ((1080, 2400), (49, 721, 1368 // 2, 1008), 360),  # typical phone, 1/3 scale
        ((1440, 3200), (100, 2900, 1400, 3150), 360),  # near the bottom edge: per-axis drift shows here
        ((1179, 2556), (7, 13, 1170, 2550), 333),  # odd sizes: the two axes scale differently
        ((400, 800), (10, 20, 30, 40), 800),  # small image: never enlarged, drawn 1:1
    ],
)
def test_gold_box_lands_on_scaled_pixels(size, box, max_width):
    image = Image.new("RGB", size, GREY)
    out = render_overlay(
        image,
        marks_for_action(Click(box=box), GOLD_COLOR, gold=True, point=False),
        max_width=max_width,
        max_height=10_000,
    )
    shown = display_size(size, max_width, 10_000)
    assert out.size == shown
    sx, sy = shown[0] / size[0], shown[1] / size[1]
    expected = (round(box[0] * sx), round(box[1] * sy), round(box[2] * sx), round(box[3] * sy))
    assert color_bbox(out, GOLD_COLOR) == expected
    # the source image is left as it was
    assert image.getpixel((box[0], box[1])) == GREY


def test_point_and_arrow_centres():
    size = (1080, 2400)
    image = Image.new("RGB", size, GREY)
    click = Click(box=(100, 200, 300, 400))
    out = render_overlay(image, marks_for_action(click, PRED_COLOR), max_width=360, max_height=800)
    sx, sy = 360 / 1080, 800 / 2400
    # the tap point (box centre) is a filled dot; a predicted box's outline lies outside its edge
    assert out.getpixel((round(200 * sx), round(300 * sy))) == PRED_COLOR
    grow = 2  # line width 3
    assert color_bbox(out, PRED_COLOR) == (
        round(100 * sx) - grow,
        round(200 * sy) - grow,
        round(300 * sx) + grow,
        round(400 * sy) + grow,
    )
    # a 1-px white line runs just inside the stroke; further in the screen is untouched
    assert out.getpixel((round(100 * sx) + 1, round(300 * sy))) == (255, 255, 255)
    assert out.getpixel((round(100 * sx) + 2, round(300 * sy))) == GREY

    swipe = Swipe(start=(540, 2000), end=(540, 400))
    out = render_overlay(image, marks_for_action(swipe, PRED_COLOR), max_width=360, max_height=800)
    bbox = color_bbox(out, PRED_COLOR)
    assert bbox is not None
    x1, y1, x2, y2 = bbox
    # the shaft runs from the start to the arrowhead's tip at the end point
    assert abs(y1 - 400 * sy) <= 1 and abs(y2 - 2000 * sy) <= 5
    assert x1 <= 540 * sx <= x2


def test_text_actions_become_captions():
    marks = marks_for_action(TypeText(text="无锡 weather"), PRED_COLOR, label="A")
    assert marks == [Mark("text", PRED_COLOR, (), 'A: type "无锡 weather"')]
    assert [m.label for m in marks_for_action(Wait(), GOLD_COLOR)] == ["wait"]
    assert marks_for_action(None, GOLD_COLOR) == []
    out = render_overlay(Image.new("RGB", (540, 1080), GREY), marks, max_width=270, max_height=540)
    assert color_bbox(out, PRED_COLOR) is not None  # the caption is drawn in the run's colour


def test_captions_sit_at_the_bottom_clear_of_the_image_label():
    # Gradio lays the image's label ("Current screen") over its top-left corner: a caption of a
    # coordinate-less action drawn there was hidden behind it.
    marks = marks_for_action(TypeText(text="无锡"), GOLD_COLOR, label="gold") + marks_for_action(
        Wait(), PRED_COLOR, label="A"
    )
    out = render_overlay(Image.new("RGB", (540, 1080), GREY), marks, max_width=270, max_height=540)
    gold, pred = color_bbox(out, GOLD_COLOR), color_bbox(out, PRED_COLOR)
    assert gold is not None and pred is not None
    assert gold[1] > out.height // 2 and pred[1] > out.height // 2, (gold, pred)
    assert pred[3] < out.height - 1 and gold[3] < pred[1]  # stacked in order, inside the image


def test_scale_coords_per_axis():
    assert scale_coords((10, 10, 20, 40), (100, 200), (50, 50)) == (5, 2.5, 10, 10)
    assert display_size((100, 200), 360, 800) == (100, 200)
    assert display_size((1080, 2400), 360, 600) == (270, 600)


def test_unknown_mark_kind_is_an_error():
    with pytest.raises(ValueError, match="unknown mark kind"):
        render_overlay(Image.new("RGB", (10, 10)), [Mark("circle", GOLD_COLOR, (1, 1))])


def test_inquiry_and_finish_captions():
    from actions import Inquiry, TaskCompleted

    inquiry = Inquiry(question="选哪个?", candidates=("甲", "乙"), answer_index=1)
    assert marks_for_action(inquiry, GOLD_COLOR)[0].label == "inquiry 选哪个? → 乙"
    done = TaskCompleted(summary="已完成" * 20)
    label = marks_for_action(done, GOLD_COLOR, label="gold")[0].label
    assert label.startswith("gold: task_completed 已完成") and label.endswith("…") and len(label) < 60
