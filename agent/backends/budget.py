"""The pixel budget a checkpoint was trained with, for serving and local inference."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def _saved_processor_budget(path: Path) -> tuple[int, int] | None:
    """`(min_pixels, max_pixels)` from the processor files, or None when they do not say."""
    for name in ("processor_config.json", "preprocessor_config.json"):
        file = path / name
        if not file.is_file():
            continue
        data = json.loads(file.read_text(encoding="utf-8"))
        config = data.get("image_processor", data) if isinstance(data, dict) else {}
        size = config.get("size") or {}
        low = config.get("min_pixels") or size.get("shortest_edge")
        high = config.get("max_pixels") or size.get("longest_edge")
        if isinstance(low, int) and isinstance(high, int):
            return low, high
    return None


def checkpoint_budget(path: str | Path) -> Any:
    """The `PixelBudget` of a checkpoint folder: `phone_r1.json` when present, else the processor's
    saved budget, else the Qwen2.5-VL defaults."""
    from actions.coords import PixelBudget
    from agent.checkpoint import META_FILENAME, CheckpointMeta

    path = Path(path)
    if (path / META_FILENAME).is_file():
        meta = CheckpointMeta.load(path)
        return PixelBudget(meta.min_pixels, meta.max_pixels)
    saved = _saved_processor_budget(path)
    if saved is not None:
        logger.info("%s: no %s; using the processor's saved pixel budget %s", path, META_FILENAME, saved)
        return PixelBudget(*saved)
    return PixelBudget()
