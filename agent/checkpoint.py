"""What a checkpoint must carry besides weights: the coordinate space, pixel budget and prompt.

Training writes `phone_r1.json` next to every checkpoint; serving and evaluation read it, so the
model is always asked in the space and at the resolution it was trained with.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

META_FILENAME = "phone_r1.json"
COORD_SPACES = ("original", "resized", "norm1000")

# Qwen2.5-VL processor defaults (56*56 and 28*28*16384 pixels).
DEFAULT_MIN_PIXELS = 3136
DEFAULT_MAX_PIXELS = 12845056


@dataclass(frozen=True)
class CheckpointMeta:
    coord_space: str = "original"
    min_pixels: int = DEFAULT_MIN_PIXELS
    max_pixels: int = DEFAULT_MAX_PIXELS
    prompt_template: str = "zh"
    base_model: str | None = None

    def __post_init__(self) -> None:
        if self.coord_space not in COORD_SPACES:
            raise ValueError(f"coord_space must be one of {COORD_SPACES}, got {self.coord_space!r}")
        if not (0 < self.min_pixels <= self.max_pixels):
            raise ValueError(
                f"pixel budget must satisfy 0 < min_pixels <= max_pixels, got {self.min_pixels}, {self.max_pixels}"
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
