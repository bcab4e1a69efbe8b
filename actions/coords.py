"""Coordinate spaces: what the model sees versus the original screenshot pixels the gold is stored in.

- `original`: pass-through.
- `resized`: absolute pixels in the image the checkpoint's processor actually feeds the model, i.e.
  after `smart_resize(h, w, factor=tile, min_pixels, max_pixels)`, where the tile (patch × merge) is
  the model family's own: 28 for Qwen2/2.5-VL, 32 for Qwen3-VL and Qwen3.5 (`PixelBudget.tile`, read
  from the checkpoint through its family record, `agent.families`).
- `norm1000`: 0–1000 relative per axis (Qwen2-VL, Qwen3-VL, Qwen3.5, InternVL grounding).
- `norm999`: the 0–999 grid of Qwen3-VL's mobile cookbook (`x / 999 * W`).

Each axis is mapped separately: rounding to multiples of the tile changes the aspect ratio slightly, so
one scale factor for both axes would drift at the far edge of the screen.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field

from actions.types import Action, BoxAction, Swipe
from actions.vocab import COORD_SPACES, DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, DEFAULT_TILE

__all__ = ["COORD_SPACES", "PixelBudget", "model_screen_size", "to_model_space", "to_original_space"]
# Relative grids: the size a prompt states for each (both axes).
GRID_SIZES = {"norm1000": 1000, "norm999": 999}
# Qwen processors refuse images more elongated than this (transformers' smart_resize).
MAX_ASPECT_RATIO = 200


@dataclass(frozen=True)
class PixelBudget:
    """The processor's image geometry, shared by training, serving and eval.

    `min_pixels`/`max_pixels` is the pixel budget; `tile` is the side the processor rounds resized
    images to (patch size × spatial merge). The defaults are Qwen2.5-VL's; every other family's come
    from its record (`agent.families`). `tile=None`: the family does not resize to a tile multiple
    (InternVL cuts fixed 448-px tiles), so the `resized` space does not exist for it and is refused.
    """

    min_pixels: int = DEFAULT_MIN_PIXELS
    max_pixels: int = DEFAULT_MAX_PIXELS
    tile: int | None = DEFAULT_TILE
    # Why `tile` is None, for the refusal (the family's own words).
    no_tile_reason: str = field(default="", compare=False)

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
        if self.tile is not None and not (isinstance(self.tile, int) and self.tile > 0):
            raise ValueError(f"expected a positive integer tile (patch × merge), found {self.tile!r}")

    def with_tile(self, tile: int | None, reason: str = "") -> PixelBudget:
        """The same budget for a processor rounding to `tile` (None: no `resized` space, for `reason`)."""
        return dataclasses.replace(self, tile=tile, no_tile_reason=reason)


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


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """`(height, width)` the Qwen image processors resize an image to: each side a multiple of
    `factor`, the area within `[min_pixels, max_pixels]`, the aspect ratio kept as closely as possible.

    The same arithmetic as transformers' `smart_resize` (models/qwen2_vl/image_processing_pil_qwen2_vl.py),
    written here because importing transformers costs about 3 s, which `eval run` would pay inside its
    event loop at the first step (stalling every request in flight) and every light command too.
    `tests/test_actions_coords.py` checks it against transformers' over a grid of sizes, factors and
    budgets; Python's `round` (half to even) is kept on purpose, as transformers uses it.
    """
    if max(height, width) / min(height, width) > MAX_ASPECT_RATIO:
        raise ValueError(
            f"absolute aspect ratio must be smaller than {MAX_ASPECT_RATIO}, "
            f"got {max(height, width) / min(height, width)}"
        )
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


@functools.lru_cache(maxsize=4096)
def _resized(width: int, height: int, min_pixels: int, max_pixels: int, tile: int) -> tuple[int, int]:
    new_height, new_width = smart_resize(height, width, tile, min_pixels, max_pixels)
    return int(new_width), int(new_height)


def resized_size(screen: tuple[int, int], budget: PixelBudget | None = None) -> tuple[int, int]:
    """`(width, height)` the processor of `budget`'s family resizes a `screen`-sized image to.

    A ValueError when the family has no such size (`budget.tile` None), naming the reason."""
    budget = budget or DEFAULT_BUDGET
    if budget.tile is None:
        reason = f": {budget.no_tile_reason}" if budget.no_tile_reason else ""
        raise ValueError(f"coord_space 'resized' does not exist for this model family{reason}")
    width, height = check_screen(screen)
    return _resized(width, height, budget.min_pixels, budget.max_pixels, budget.tile)


def model_screen_size(
    space: str, screen: tuple[int, int], budget: PixelBudget | None = None
) -> tuple[int, int]:
    """`(width, height)` of the screen as the model sees it in `space` (the size a prompt states)."""
    check_space(space)
    width, height = check_screen(screen)
    if space == "original":
        return width, height
    if space in GRID_SIZES:
        return GRID_SIZES[space], GRID_SIZES[space]
    return resized_size((width, height), budget)


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
