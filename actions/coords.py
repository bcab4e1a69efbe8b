"""Coordinate spaces: what the model sees versus the original screenshot pixels the gold is stored in.

- `original`: pass-through.
- `resized`: absolute pixels in the image Qwen2.5-VL's processor actually feeds the model, i.e. after
  `smart_resize(h, w, factor=28, min_pixels, max_pixels)`.
- `norm1000`: 0–1000 relative per axis (Qwen2-VL / Qwen3-VL grounding).

Each axis is mapped separately: rounding to multiples of 28 changes the aspect ratio slightly, so one
scale factor for both axes would drift at the far edge of the screen.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

from actions.types import Action, BoxAction, Swipe
from actions.vocab import COORD_SPACES, DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS

__all__ = ["COORD_SPACES", "PixelBudget", "model_screen_size", "to_model_space", "to_original_space"]
NORM_RANGE = 1000
PATCH_FACTOR = 28  # Qwen2.5-VL: 14-pixel patches merged 2×2.


@dataclass(frozen=True)
class PixelBudget:
    """The processor's pixel budget (Qwen2.5-VL defaults), shared by training, serving and eval."""

    min_pixels: int = DEFAULT_MIN_PIXELS
    max_pixels: int = DEFAULT_MAX_PIXELS

    def __post_init__(self) -> None:
        if not (isinstance(self.min_pixels, int) and isinstance(self.max_pixels, int)):
            raise ValueError(
                f"expected integer min_pixels/max_pixels, found {self.min_pixels!r}/{self.max_pixels!r}"
            )
        if not 0 < self.min_pixels <= self.max_pixels:
            raise ValueError(
                f"expected 0 < min_pixels <= max_pixels, found min_pixels={self.min_pixels} "
                f"max_pixels={self.max_pixels}"
            )


DEFAULT_BUDGET = PixelBudget()


def check_space(space: str) -> str:
    """Return `space` if it is one of `COORD_SPACES`, else raise a ValueError naming the choices."""
    if space not in COORD_SPACES:
        raise ValueError(f"expected coord_space in {list(COORD_SPACES)}, found {space!r}")
    return space


def check_screen(screen: tuple[int, int]) -> tuple[int, int]:
    """`(width, height)` as positive ints, or a ValueError naming what was found."""
    try:
        width, height = (int(v) for v in screen)
    except (TypeError, ValueError):
        raise ValueError(f"expected screen as (width, height) in pixels, found {screen!r}") from None
    if width <= 0 or height <= 0:
        raise ValueError(f"expected a positive screen size (width, height), found {screen!r}")
    return width, height


@functools.lru_cache(maxsize=4096)
def _resized(width: int, height: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    # Imported here: transformers takes seconds to import and `actions` must stay light.
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize

    new_height, new_width = smart_resize(
        height, width, factor=PATCH_FACTOR, min_pixels=min_pixels, max_pixels=max_pixels
    )
    return int(new_width), int(new_height)


def model_screen_size(
    space: str, screen: tuple[int, int], budget: PixelBudget | None = None
) -> tuple[int, int]:
    """`(width, height)` of the screen as the model sees it in `space` (the size a prompt states)."""
    check_space(space)
    width, height = check_screen(screen)
    if space == "original":
        return width, height
    if space == "norm1000":
        return NORM_RANGE, NORM_RANGE
    budget = budget or DEFAULT_BUDGET
    return _resized(width, height, budget.min_pixels, budget.max_pixels)


def _scales(space: str, screen: tuple[int, int], budget: PixelBudget | None) -> tuple[float, float]:
    """Model units per original pixel, per axis."""
    width, height = check_screen(screen)
    model_w, model_h = model_screen_size(space, screen, budget)
    return model_w / width, model_h / height


def _round(value: float, integer: bool) -> float:
    return int(round(value)) if integer else value


def point_to_model(
    point: tuple[float, float],
    space: str,
    screen: tuple[int, int],
    budget: PixelBudget | None = None,
    *,
    integer: bool = True,
) -> tuple[float, float]:
    """Original pixels → model space; rounded to integers unless `integer=False`."""
    sx, sy = _scales(space, screen, budget)
    return (_round(point[0] * sx, integer), _round(point[1] * sy, integer))


def point_to_original(
    point: tuple[float, float],
    space: str,
    screen: tuple[int, int],
    budget: PixelBudget | None = None,
    *,
    integer: bool = True,
    clamp: bool = True,
) -> tuple[float, float]:
    """Model space → original pixels, clamped to `[0, width] × [0, height]` unless `clamp=False`."""
    width, height = check_screen(screen)
    sx, sy = _scales(space, screen, budget)
    x, y = point[0] / sx, point[1] / sy
    if clamp:
        x, y = min(max(x, 0.0), float(width)), min(max(y, 0.0), float(height))
    return (_round(x, integer), _round(y, integer))


def box_to_model(
    box: tuple[float, float, float, float],
    space: str,
    screen: tuple[int, int],
    budget: PixelBudget | None = None,
    *,
    integer: bool = True,
) -> tuple[float, float, float, float]:
    """A box `(x1, y1, x2, y2)` from original pixels to model space (corner order kept)."""
    a = point_to_model(box[:2], space, screen, budget, integer=integer)
    b = point_to_model(box[2:], space, screen, budget, integer=integer)
    return (*a, *b)


def box_to_original(
    box: tuple[float, float, float, float],
    space: str,
    screen: tuple[int, int],
    budget: PixelBudget | None = None,
    *,
    integer: bool = True,
    clamp: bool = True,
) -> tuple[float, float, float, float]:
    """A box from model space to original pixels, each corner clamped to the screen."""
    a = point_to_original(box[:2], space, screen, budget, integer=integer, clamp=clamp)
    b = point_to_original(box[2:], space, screen, budget, integer=integer, clamp=clamp)
    return (*a, *b)


def to_model_space(
    action: Action,
    space: str,
    screen: tuple[int, int],
    budget: PixelBudget | None = None,
    *,
    integer: bool = True,
) -> Action:
    """The action with its coordinates mapped from original pixels into `space`.

    Integer coordinates by default, since these become training targets and prompt examples.
    Actions without coordinates are returned unchanged.
    """
    check_space(space)
    return _map_action(
        action,
        lambda p: point_to_model(p, space, screen, budget, integer=integer),
        lambda b: box_to_model(b, space, screen, budget, integer=integer),
    )


def to_original_space(
    action: Action,
    space: str,
    screen: tuple[int, int],
    budget: PixelBudget | None = None,
    *,
    integer: bool = True,
) -> Action:
    """The action with its coordinates mapped from `space` back to original pixels, clamped to the screen.

    Matching passes `integer=False` so that no precision is lost before distances are measured.
    """
    check_space(space)
    return _map_action(
        action,
        lambda p: point_to_original(p, space, screen, budget, integer=integer),
        lambda b: box_to_original(b, space, screen, budget, integer=integer),
    )


def _map_action(action: Action, point_fn, box_fn) -> Action:
    """The action with its box or swipe end points passed through the given mappings."""
    if isinstance(action, BoxAction):
        return dataclasses.replace(action, box=box_fn(action.box))
    if isinstance(action, Swipe):
        return dataclasses.replace(action, start=point_fn(action.start), end=point_fn(action.end))
    return action
