"""Reward columns as TRL passes them: one value per completion, and breakdown logging.

Shared by every reward module in `actions` so that a new reward reads its dataset columns and logs its
parts the same way as the others.
"""

from __future__ import annotations

from typing import Any

from actions.coords import DEFAULT_BUDGET, PixelBudget


def column(kwargs: dict[str, Any], name: str, n: int, default: Any = None) -> list[Any]:
    """One value per completion: a list column as is, a scalar broadcast, a missing one as `default`."""
    value = kwargs.get(name, default)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(
                f"expected column {name!r} with {n} values (one per completion), found {len(value)}"
            )
        return list(value)
    return [value] * n


# The reward column holding the processor's tile (patch × merge); 0 means the family has none.
TILE_COLUMN = "tile"


def budget_of(min_pixels: Any, max_pixels: Any, tile: Any = None) -> PixelBudget:
    """The processor geometry of a row; a missing bound or tile takes Qwen2.5-VL's default.

    A missing `tile` column means a dataset built before model families were recorded, all of which
    were Qwen2.5-VL's (tile 28); `0` is a family without a tile (InternVL: `resized` is refused).
    """
    return PixelBudget(
        int(min_pixels) if min_pixels is not None else DEFAULT_BUDGET.min_pixels,
        int(max_pixels) if max_pixels is not None else DEFAULT_BUDGET.max_pixels,
        DEFAULT_BUDGET.tile if tile is None else (int(tile) or None),
    )


def log_means(log_metric: Any, prefix: str, parts: dict[str, list[float]]) -> None:
    """Log the batch mean of each part as `<prefix><part>` through TRL's `log_metric`, when given."""
    if not callable(log_metric):
        return
    for name, values in parts.items():
        if values:
            log_metric(prefix + name, sum(values) / len(values))
