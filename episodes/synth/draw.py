"""Drawing phone screens with Pillow: status bar, app bars, list rows, buttons, fields, dialogs, keyboard.

Every widget returns the box it was drawn in, in screen pixels; the synthetic episodes use those boxes
as gold, so a gold box is exactly the element on the screenshot. Sizes are given for a 1080-pixel-wide
screen and scaled to the canvas width.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]

# Where common systems keep a CJK font; PHONE_R1_FONT overrides the search.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)


@lru_cache(maxsize=1)
def font_path() -> str | None:
    """The CJK font used for labels, or None (then Pillow's built-in font, which has no Chinese glyphs)."""
    override = os.environ.get("PHONE_R1_FONT")
    for candidate in ([override] if override else []) + list(FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return candidate
    log.warning(
        "no CJK font found (looked for %s); Chinese labels will not render. Install fonts-wqy-microhei "
        "(Debian/Ubuntu) or set PHONE_R1_FONT to a .ttc/.ttf file",
        ", ".join(FONT_CANDIDATES[:2]),
    )
    return None


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_path()
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size=size)


@dataclass(frozen=True)
class Theme:
    """Colours of one app."""

    primary: tuple[int, int, int]
    background: tuple[int, int, int] = (245, 245, 247)
    surface: tuple[int, int, int] = (255, 255, 255)
    text: tuple[int, int, int] = (28, 28, 30)
    muted: tuple[int, int, int] = (130, 130, 138)
    divider: tuple[int, int, int] = (225, 225, 230)


class Canvas:
    """One screen being drawn."""

    def __init__(self, size: tuple[int, int], theme: Theme) -> None:
        self.width, self.height = size
        self.k = self.width / 1080
        self.theme = theme
        self.image = Image.new("RGB", size, theme.background)
        self.draw = ImageDraw.Draw(self.image)

    def s(self, value: float) -> int:
        """A 1080-wide design size scaled to this canvas."""
        return int(round(value * self.k))

    def text(self, xy: tuple[int, int], text: str, size: int, fill=None, anchor: str = "la") -> Box:
        f = font(self.s(size))
        self.draw.text(xy, text, font=f, fill=fill or self.theme.text, anchor=anchor)
        x1, y1, x2, y2 = self.draw.textbbox(xy, text, font=f, anchor=anchor)
        return (int(x1), int(y1), int(x2), int(y2))

    # --- chrome -----------------------------------------------------------------------------------

    def status_bar(self, clock: str, battery: int, dark: bool = False) -> int:
        """Time, signal and battery; returns the bar's bottom edge."""
        h = self.s(90)
        fg = (255, 255, 255) if dark else self.theme.text
        if dark:
            self.draw.rectangle((0, 0, self.width, h), fill=self.theme.primary)
        self.text((self.s(48), h // 2), clock, 34, fill=fg, anchor="lm")
        x = self.width - self.s(60)
        bw, bh = self.s(58), self.s(28)
        self.draw.rounded_rectangle(
            (x - bw, h // 2 - bh // 2, x, h // 2 + bh // 2),
            radius=self.s(6),
            outline=fg,
            width=max(1, self.s(3)),
        )
        fill_w = int((bw - self.s(8)) * battery / 100)
        self.draw.rectangle(
            (
                x - bw + self.s(4),
                h // 2 - bh // 2 + self.s(4),
                x - bw + self.s(4) + fill_w,
                h // 2 + bh // 2 - self.s(4),
            ),
            fill=fg,
        )
        self.text((x - bw - self.s(14), h // 2), f"{battery}%", 28, fill=fg, anchor="rm")
        sx = x - bw - self.s(120)
        for i in range(4):
            bar_h = self.s(10 + 6 * i)
            self.draw.rectangle(
                (
                    sx + i * self.s(12),
                    h // 2 + self.s(14) - bar_h,
                    sx + i * self.s(12) + self.s(8),
                    h // 2 + self.s(14),
                ),
                fill=fg,
            )
        return h

    def app_bar(self, top: int, title: str, back: bool = True, action: str | None = None) -> dict[str, Box]:
        """A coloured title bar; returns boxes of `back` and `action` when drawn, and `bar`."""
        h = self.s(150)
        self.draw.rectangle((0, top, self.width, top + h), fill=self.theme.primary)
        boxes: dict[str, Box] = {"bar": (0, top, self.width, top + h)}
        x_title = self.s(48)
        if back:
            b = (self.s(16), top + self.s(27), self.s(112), top + self.s(123))
            cx, cy = (b[0] + b[2]) // 2, (b[1] + b[3]) // 2
            self.draw.line(
                [
                    (cx + self.s(14), cy - self.s(24)),
                    (cx - self.s(12), cy),
                    (cx + self.s(14), cy + self.s(24)),
                ],
                fill=(255, 255, 255),
                width=max(2, self.s(7)),
                joint="curve",
            )
            boxes["back"] = b
            x_title = self.s(130)
        self.text((x_title, top + h // 2), title, 50, fill=(255, 255, 255), anchor="lm")
        if action:
            boxes["action"] = self.button(
                (self.width - self.s(250), top + self.s(35), self.width - self.s(36), top + self.s(115)),
                action,
                fill=(255, 255, 255),
                fg=self.theme.primary,
                size=36,
            )
        return boxes

    def bottom_nav(self, labels: list[str], selected: int) -> dict[str, Box]:
        h = self.s(170)
        top = self.height - h
        self.draw.rectangle((0, top, self.width, self.height), fill=self.theme.surface)
        self.draw.line((0, top, self.width, top), fill=self.theme.divider, width=max(1, self.s(2)))
        boxes = {}
        w = self.width / len(labels)
        for i, label in enumerate(labels):
            b = (int(i * w), top, int((i + 1) * w), self.height)
            color = self.theme.primary if i == selected else self.theme.muted
            cx = (b[0] + b[2]) // 2
            self.draw.ellipse(
                (cx - self.s(26), top + self.s(28), cx + self.s(26), top + self.s(80)),
                outline=color,
                width=max(2, self.s(5)),
            )
            self.text((cx, top + self.s(120)), label, 30, fill=color, anchor="mm")
            boxes[label] = b
        return boxes

    # --- widgets ----------------------------------------------------------------------------------

    def button(
        self, box: Box, label: str, fill=None, fg=(255, 255, 255), size: int = 42, radius: int = 24
    ) -> Box:
        self.draw.rounded_rectangle(box, radius=self.s(radius), fill=fill or self.theme.primary)
        self.text(((box[0] + box[2]) // 2, (box[1] + box[3]) // 2), label, size, fill=fg, anchor="mm")
        return box

    def text_field(self, box: Box, text: str, placeholder: str, focused: bool = False) -> Box:
        outline = self.theme.primary if focused else self.theme.divider
        self.draw.rounded_rectangle(
            box,
            radius=self.s(20),
            fill=self.theme.surface,
            outline=outline,
            width=max(2, self.s(4 if focused else 3)),
        )
        x, cy = box[0] + self.s(36), (box[1] + box[3]) // 2
        shown = text or placeholder
        end = self.text((x, cy), shown, 40, fill=self.theme.text if text else self.theme.muted, anchor="lm")
        if focused:
            cx = end[2] + self.s(6) if text else x
            self.draw.line(
                (cx, cy - self.s(28), cx, cy + self.s(28)), fill=self.theme.primary, width=max(2, self.s(4))
            )
        return box

    def search_bar(
        self, top: int, text: str, placeholder: str, focused: bool = False, with_button: bool = False
    ) -> dict[str, Box]:
        boxes = {}
        right = self.width - (self.s(220) if with_button else self.s(40))
        boxes["field"] = self.text_field(
            (self.s(40), top, right, top + self.s(120)), text, placeholder, focused
        )
        if with_button:
            boxes["search"] = self.button(
                (right + self.s(20), top + self.s(10), self.width - self.s(40), top + self.s(110)),
                "搜索",
                size=40,
            )
        return boxes

    def list_row(
        self,
        top: int,
        title: str,
        subtitle: str = "",
        icon: tuple[int, int, int] | None = None,
        height: int = 190,
        trailing: str = "",
    ) -> Box:
        h = self.s(height)
        box = (0, top, self.width, top + h)
        self.draw.rectangle(box, fill=self.theme.surface)
        x = self.s(48)
        if icon is not None:
            r = self.s(54)
            cy = top + h // 2
            self.draw.rounded_rectangle((x, cy - r, x + 2 * r, cy + r), radius=self.s(22), fill=icon)
            self.text((x + r, cy), title[:1], 44, fill=(255, 255, 255), anchor="mm")
            x += 2 * r + self.s(36)
        if subtitle:
            self.text((x, top + h // 2 - self.s(24)), title, 44, anchor="lm")
            self.text((x, top + h // 2 + self.s(34)), subtitle, 34, fill=self.theme.muted, anchor="lm")
        else:
            self.text((x, top + h // 2), title, 44, anchor="lm")
        if trailing:
            self.text(
                (self.width - self.s(60), top + h // 2), trailing, 34, fill=self.theme.muted, anchor="rm"
            )
        self.draw.line(
            (x, top + h - 1, self.width, top + h - 1), fill=self.theme.divider, width=max(1, self.s(2))
        )
        return box

    def toggle(self, right: int, cy: int, on: bool) -> Box:
        w, h = self.s(130), self.s(72)
        box = (right - w, cy - h // 2, right, cy + h // 2)
        self.draw.rounded_rectangle(box, radius=h // 2, fill=self.theme.primary if on else (200, 200, 205))
        knob = box[2] - h + self.s(6) if on else box[0] + self.s(6)
        self.draw.ellipse(
            (knob, box[1] + self.s(6), knob + h - self.s(12), box[3] - self.s(6)), fill=(255, 255, 255)
        )
        return box

    def card(self, box: Box, title: str, price: str, color: tuple[int, int, int]) -> Box:
        self.draw.rounded_rectangle(box, radius=self.s(24), fill=self.theme.surface)
        x1, y1, x2, y2 = box
        img_h = int((y2 - y1) * 0.62)
        self.draw.rounded_rectangle(
            (x1 + self.s(18), y1 + self.s(18), x2 - self.s(18), y1 + img_h), radius=self.s(18), fill=color
        )
        self.text((x1 + self.s(30), y1 + img_h + self.s(50)), title, 36, anchor="lm")
        self.text((x1 + self.s(30), y2 - self.s(50)), price, 40, fill=(230, 60, 40), anchor="lm")
        return box

    def dim(self) -> None:
        """Darken the screen behind a dialog."""
        overlay = Image.new("RGB", self.image.size, (0, 0, 0))
        self.image = Image.blend(self.image, overlay, 0.45)
        self.draw = ImageDraw.Draw(self.image)

    def dialog(
        self, title: str, message: str, buttons: list[str], field: tuple[str, str] | None = None
    ) -> dict[str, Box]:
        """A centred dialog; returns each button's box, plus `field` when a text field is shown."""
        self.dim()
        w = self.width - self.s(160)
        h = self.s(520 + (150 if field else 0))
        x1, y1 = (self.width - w) // 2, (self.height - h) // 2
        self.draw.rounded_rectangle((x1, y1, x1 + w, y1 + h), radius=self.s(40), fill=self.theme.surface)
        self.text((self.width // 2, y1 + self.s(90)), title, 50, anchor="mm")
        self.text((self.width // 2, y1 + self.s(190)), message, 38, fill=self.theme.muted, anchor="mm")
        boxes: dict[str, Box] = {}
        if field is not None:
            boxes["field"] = self.text_field(
                (x1 + self.s(50), y1 + self.s(260), x1 + w - self.s(50), y1 + self.s(380)),
                field[0],
                field[1],
                focused=True,
            )
        bw = (w - self.s(60) * (len(buttons) + 1)) // len(buttons)
        by = y1 + h - self.s(170)
        for i, label in enumerate(buttons):
            bx = x1 + self.s(60) + i * (bw + self.s(60))
            primary = i == len(buttons) - 1
            boxes[label] = self.button(
                (bx, by, bx + bw, by + self.s(120)),
                label,
                fill=self.theme.primary if primary else (232, 232, 236),
                fg=(255, 255, 255) if primary else self.theme.text,
            )
        return boxes

    def menu(self, anchor_y: int, items: list[str]) -> dict[str, Box]:
        """A pop-up menu (as after a long press) near `anchor_y`."""
        w, row = self.s(520), self.s(140)
        x1 = (self.width - w) // 2
        y1 = min(max(anchor_y, self.s(300)), self.height - row * len(items) - self.s(200))
        self.draw.rounded_rectangle(
            (x1 - self.s(4), y1 - self.s(4), x1 + w + self.s(4), y1 + row * len(items) + self.s(4)),
            radius=self.s(30),
            fill=(210, 210, 215),
        )
        self.draw.rounded_rectangle(
            (x1, y1, x1 + w, y1 + row * len(items)), radius=self.s(28), fill=self.theme.surface
        )
        boxes = {}
        for i, label in enumerate(items):
            b = (x1, y1 + i * row, x1 + w, y1 + (i + 1) * row)
            self.text((x1 + self.s(50), (b[1] + b[3]) // 2), label, 42, anchor="lm")
            boxes[label] = b
        return boxes

    def keyboard(self) -> Box:
        """A QWERTY keyboard over the bottom of the screen."""
        rows = ["QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"]
        key_h, gap = self.s(130), self.s(14)
        top = self.height - self.s(80) - (len(rows) + 1) * (key_h + gap) - gap
        self.draw.rectangle((0, top, self.width, self.height), fill=(210, 213, 219))
        key_w = (self.width - gap * 11) // 10
        y = top + gap
        for r, letters in enumerate(rows):
            x = gap + r * key_w // 2
            for ch in letters:
                self.draw.rounded_rectangle(
                    (x, y, x + key_w, y + key_h), radius=self.s(12), fill=(255, 255, 255)
                )
                self.text((x + key_w // 2, y + key_h // 2), ch, 40, anchor="mm")
                x += key_w + gap
            y += key_h + gap
        self.draw.rounded_rectangle(
            (self.width // 4, y, 3 * self.width // 4, y + key_h), radius=self.s(12), fill=(255, 255, 255)
        )
        self.text((self.width // 2, y + key_h // 2), "空格 space", 34, fill=self.theme.muted, anchor="mm")
        return (0, top, self.width, self.height)

    def home_screen(self, apps: list[tuple[str, tuple[int, int, int]]]) -> dict[str, Box]:
        """Launcher grid of app icons with labels over the background; returns each app's box."""
        top = self.s(400)
        cols, cell_w, cell_h = 4, self.width // 4, self.s(300)
        boxes = {}
        for i, (name, color) in enumerate(apps):
            c, r = i % cols, i // cols
            cx, y = c * cell_w + cell_w // 2, top + r * cell_h
            r_icon = self.s(80)
            self.draw.rounded_rectangle(
                (cx - r_icon, y, cx + r_icon, y + 2 * r_icon), radius=self.s(40), fill=color
            )
            self.text((cx, y + r_icon), name[:1], 64, fill=(255, 255, 255), anchor="mm")
            label = self.text((cx, y + 2 * r_icon + self.s(44)), name, 34, fill=(255, 255, 255), anchor="mm")
            boxes[name] = (min(cx - r_icon, label[0]), y, max(cx + r_icon, label[2]), label[3])
        return boxes

    def save(self, path: Path, quality: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.image.save(path, "JPEG", quality=quality, optimize=True)
