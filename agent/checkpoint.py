"""What a checkpoint must carry besides weights: the coordinate space, pixel budget and prompt.

`checkpoint_budget(path)` is the pixel budget a checkpoint was trained with, for serving and local
inference.

Training writes `phone_r1.json` next to every checkpoint; serving and evaluation read it, so the
model is always asked in the space and at the resolution it was trained with.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from actions.vocab import (
    COORD_SPACES,
    DEFAULT_COORD_SPACE,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MIN_PIXELS,
    DEFAULT_TEMPLATE,
)

logger = logging.getLogger(__name__)

META_FILENAME = "phone_r1.json"


@dataclass(frozen=True)
class CheckpointMeta:
    coord_space: str = DEFAULT_COORD_SPACE
    min_pixels: int = DEFAULT_MIN_PIXELS
    max_pixels: int = DEFAULT_MAX_PIXELS
    prompt_template: str = DEFAULT_TEMPLATE
    base_model: str | None = None
    # The recipe's `reward_funcs` and `reward_weights` (None: not a GRPO checkpoint, or TRL's 1.0 each);
    # `eval run` weighs its partial reward with them.
    rewards: list[str] | None = None
    reward_weights: list[float] | None = None

    def __post_init__(self) -> None:
        if self.coord_space not in COORD_SPACES:
            raise ValueError(f"coord_space must be one of {COORD_SPACES}, got {self.coord_space!r}")
        if not (0 < self.min_pixels <= self.max_pixels):
            raise ValueError(
                f"pixel budget must satisfy 0 < min_pixels <= max_pixels, got {self.min_pixels}, "
                f"{self.max_pixels}"
            )
        if self.rewards is not None and self.reward_weights is not None:
            if len(self.rewards) != len(self.reward_weights):
                raise ValueError(
                    f"expected one reward weight per reward {self.rewards}, found {self.reward_weights}"
                )

    def save(self, directory: str | Path) -> Path:
        path = Path(directory) / META_FILENAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> CheckpointMeta:
        """Read `phone_r1.json` from a checkpoint folder; a missing file raises FileNotFoundError."""
        path = Path(directory) / META_FILENAME
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{path}: unknown keys {unknown}; expected some of {sorted(known)}")
        return cls(**data)

    @classmethod
    def load_or_default(cls, directory: str | Path) -> CheckpointMeta:
        path = Path(directory) / META_FILENAME
        return cls.load(directory) if path.is_file() else cls()


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

    path = Path(path)
    if (path / META_FILENAME).is_file():
        meta = CheckpointMeta.load(path)
        return PixelBudget(meta.min_pixels, meta.max_pixels)
    saved = _saved_processor_budget(path)
    if saved is not None:
        logger.info("%s: no %s; using the processor's saved pixel budget %s", path, META_FILENAME, saved)
        return PixelBudget(*saved)
    return PixelBudget()
