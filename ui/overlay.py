"""Draw actions over a screenshot for display.

Screenshots are shown shrunk (a phone screen is 1080×2400 or more); marks are given in original
pixels and scaled per axis onto the resized copy, because rounding the resized size changes the
aspect ratio slightly and one shared factor would drift by a few pixels at the far edge.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

logger = logging.getLogger(__name__)

GOLD_COLOR = (22, 163, 74)  # green
PRED_COLOR = (220, 38, 38)  # red: the results file
PRED_B_COLOR = (37, 99, 235)  # blue: the second results file
LIVE_COLOR = (234, 88, 12)  # orange: "Run this step"
HALO_COLOR = (255, 255, 255)

# Fonts that draw Chinese labels; the first one found is used, else Pillow's built-in font.
_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)

BOX_TYPES = ("click", "long_click")


@dataclass(frozen=True)
class Mark:
    """One thing to draw, in original screenshot pixels.

    kind: `box` (x1, y1, x2, y2), `point` (x, y), `arrow` (x1, y1, x2, y2: from, to), `polygon`
    (x1, y1, x2, y2, ...: its vertices) or `text` (no coordinates; drawn as a caption at the bottom of
    the screen, clear of the label badge Gradio lays over an image's top-left corner). Gold boxes are
    drawn inside their
    edge and predicted ones outside, so a prediction equal to the gold box leaves both visible.
    """

    kind: str
    color: tuple[int, int, int]
    coords: tuple[float, ...] = ()
    label: str = ""
    inside: bool = True  # box outline drawn inside its edge (gold) or outside it (predictions)


def marks_for_action(
    action: Any, color: tuple[int, int, int], *, label: str = "", point: bool = True, gold: bool = False
) -> list[Mark]:
    """Marks for a typed action from `actions`: box (and tap point) for click and long_click, an arrow
    for swipe, a caption for typed text and the other non-spatial types. None gives no marks.
    `gold` draws box outlines inside the box edge (predictions go outside)."""
    if action is None:
        return []
    kind = getattr(action, "action_type", "")
    prefix = f"{label}: " if label else ""
    if kind in BOX_TYPES:
        marks = [Mark("box", color, tuple(float(v) for v in action.box), label, inside=gold)]
        if point:
            marks.append(Mark("point", color, tuple(float(v) for v in action.point), label))
        return marks
    if kind == "swipe":
        return [Mark("arrow", color, (*map(float, action.start), *map(float, action.end)), label)]
    if kind == "type":
        return [Mark("text", color, (), f'{prefix}type "{action.text}"')]
    if kind == "open_app":
        return [Mark("text", color, (), f"{prefix}open_app {action.app}")]
    if kind == "inquiry":
        index = action.answer_index
        choice = (
            action.candidates[index] if index is not None and 0 <= index < len(action.candidates) else "?"
        )
        return [Mark("text", color, (), f"{prefix}inquiry {_clip(action.question)} → {choice}")]
    if kind in ("task_completed", "task_impossible"):
        text = action.summary if kind == "task_completed" else action.reason
        return [Mark("text", color, (), f"{prefix}{kind} {_clip(text)}")]
    return [Mark("text", color, (), f"{prefix}{kind}")]


def marks_for_region(
    region: Any, screen: tuple[int, int], color: tuple[int, int, int], label: str = ""
) -> list[Mark]:
    """Marks for a grounding target (`actions.regions`): its box or polygon in screen pixels, or a
    caption for a refusal item (no element matches the instruction)."""
    from actions.regions import Box, Polygon

    if isinstance(region, Box):
        return [Mark("box", color, tuple(float(v) for v in region.pixels(screen)), label, inside=True)]
    if isinstance(region, Polygon):
        flat = tuple(float(v) for point in region.pixels(screen) for v in point)
        return [Mark("polygon", color, flat, label)]
    prefix = f"{label}: " if label else ""
    return [Mark("text", color, (), f"{prefix}no element matches (refuse)")]


def marks_for_point_answer(answer: Any, color: tuple[int, int, int], label: str = "") -> list[Mark]:
    """Marks for a grounding answer (a `GroundingAnswer` or its JSON): the point, or a caption for a
    refusal or an answer that gave no point."""
    get = answer.get if isinstance(answer, dict) else lambda key: getattr(answer, key, None)
    prefix = f"{label}: " if label else ""
    point = get("point")
    if point is not None:
        return [Mark("point", color, (float(point[0]), float(point[1])), label)]
    if get("refused"):
        return [Mark("text", color, (), f"{prefix}refused")]
    problems = ", ".join(get("problems") or ()) or "unreadable"
    return [Mark("text", color, (), f"{prefix}no point ({_clip(problems, 40)})")]


def _clip(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def display_size(size: tuple[int, int], max_width: int, max_height: int) -> tuple[int, int]:
    """The (width, height) an image of `size` is shown at: shrunk to fit, never enlarged."""
    width, height = size
    scale = min(1.0, max_width / width, max_height / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def scale_coords(
    coords: tuple[float, ...], original: tuple[int, int], shown: tuple[int, int]
) -> tuple[float, ...]:
    """Map (x, y, x, y, ...) from original pixels onto the resized image, each axis on its own."""
    sx = shown[0] / original[0]
    sy = shown[1] / original[1]
    return tuple(value * (sx if i % 2 == 0 else sy) for i, value in enumerate(coords))


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            try:
                return ImageFont.truetype(candidate, size)
            except OSError as exc:
                logger.debug("font %s not usable: %s", candidate, exc)
    return ImageFont.load_default(size)


def _arrow(
    draw: ImageDraw.ImageDraw, coords: tuple[float, ...], color: tuple[int, int, int], width: int
) -> None:
    x1, y1, x2, y2 = coords
    draw.line((x1, y1, x2, y2), fill=color, width=width)
    dx, dy = x2 - x1, y2 - y1
    length = (dx * dx + dy * dy) ** 0.5
    if length < 1:
        return
    head = max(8.0, 4.0 * width)
    ux, uy = dx / length, dy / length
    # Two barbs at ±~27° from the shaft, drawn as a filled triangle at the end point.
    left = (x2 - head * ux + head * 0.5 * uy, y2 - head * uy - head * 0.5 * ux)
    right = (x2 - head * ux - head * 0.5 * uy, y2 - head * uy + head * 0.5 * ux)
    draw.polygon([(x2, y2), left, right], fill=color)
    r = width + 1
    draw.ellipse((x1 - r, y1 - r, x1 + r, y1 + r), outline=color, width=max(1, width // 2))


def render_overlay(
    image: Image.Image | str | Path,
    marks: list[Mark],
    *,
    max_width: int = 360,
    max_height: int = 800,
    line_width: int = 3,
) -> Image.Image:
    """Return a resized RGB copy of `image` with `marks` drawn on it. The source image is not changed.

    A box edge lands on its scaled coordinates (rounded to the nearest pixel): the outline's outer
    edge for gold boxes, its inner edge for predicted ones.
    """
    source = Image.open(image) if isinstance(image, (str, Path)) else image
    original = source.size
    shown = display_size(original, max_width, max_height)
    canvas = source.convert("RGB").resize(shown, Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(canvas)
    captions: list[tuple[str, tuple[int, int, int]]] = []
    for mark in marks:
        if mark.kind == "text":
            captions.append((mark.label, mark.color))
            continue
        coords = scale_coords(mark.coords, original, shown)
        if mark.kind == "box":
            x1, y1, x2, y2 = (round(v) for v in coords)
            x1, x2 = sorted((x1, x2))
            y1, y2 = sorted((y1, y2))
            grow = 0 if mark.inside else line_width - 1
            draw.rectangle((x1 - grow, y1 - grow, x2 + grow, y2 + grow), outline=mark.color, width=line_width)
            # A 1-px white line along the inner side of the stroke keeps the box visible on a button of
            # its own colour; it never touches the stroke's own pixels.
            inner = line_width - grow
            if x2 - x1 > 2 * inner and y2 - y1 > 2 * inner:
                draw.rectangle((x1 + inner, y1 + inner, x2 - inner, y2 - inner), outline=HALO_COLOR, width=1)
        elif mark.kind == "point":
            x, y = coords
            r = line_width + 3
            draw.ellipse((x - r, y - r, x + r, y + r), fill=mark.color, outline=(255, 255, 255), width=1)
        elif mark.kind == "arrow":
            _arrow(draw, coords, mark.color, line_width)
        elif mark.kind == "polygon":
            vertices = [(coords[i], coords[i + 1]) for i in range(0, len(coords) - 1, 2)]
            draw.line([*vertices, vertices[0]], fill=mark.color, width=line_width, joint="curve")
        else:
            raise ValueError(f"unknown mark kind {mark.kind!r}; expected box, point, arrow, polygon or text")
    if captions:
        _captions(draw, captions, shown)
    return canvas


def _captions(
    draw: ImageDraw.ImageDraw, captions: list[tuple[str, tuple[int, int, int]]], shown: tuple[int, int]
) -> None:
    """Stack the captions upwards from the bottom edge: the top-left corner is where Gradio draws the
    image's label ("Current screen"), which would hide a caption there."""
    font = _font(max(12, shown[0] // 22))
    y = shown[1] - 4
    for text, color in reversed(captions):
        left, top, right, bottom = draw.textbbox((6, 0), text, font=font)
        y -= bottom
        draw.rectangle((left - 3, y + top - 2, right + 3, y + bottom + 2), fill=(255, 255, 255))
        draw.text((6, y), text, fill=color, font=font)
        y -= 6


def placeholder(size: tuple[int, int], text: str) -> Image.Image:
    """A plain grey picture of `size` saying `text`, shown where a screenshot does not exist (the
    previous screen of a first step): an empty image slot reads as a broken image."""
    canvas = Image.new("RGB", size, (236, 236, 236))
    draw = ImageDraw.Draw(canvas)
    font = _font(max(12, size[0] // 24))
    lines = text.split("\n")
    heights = [draw.textbbox((0, 0), line, font=font)[3] for line in lines]
    y = (size[1] - sum(heights) - 6 * (len(lines) - 1)) / 2
    for line, height in zip(lines, heights, strict=True):
        width = draw.textlength(line, font=font)
        draw.text(((size[0] - width) / 2, y), line, fill=(110, 110, 110), font=font)
        y += height + 6
    return canvas
