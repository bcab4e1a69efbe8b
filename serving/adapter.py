"""A peft LoRA adapter folder, as serving (vLLM's `--lora-modules`) and `phone-r1 merge` see it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ADAPTER_CONFIG = "adapter_config.json"


@dataclass(frozen=True)
class Adapter:
    """A peft LoRA adapter folder: its base model and rank, from `adapter_config.json`."""

    path: Path
    base_model: str | None
    rank: int | None

    @classmethod
    def read(cls, path: str | Path) -> Adapter | None:
        """The adapter in `path`, or None when `path` holds full weights."""
        path = Path(path)
        config_path = path / ADAPTER_CONFIG
        if not config_path.is_file():
            return None
        config = json.loads(config_path.read_text(encoding="utf-8"))
        rank = config.get("r")
        return cls(
            path=path,
            base_model=config.get("base_model_name_or_path"),
            rank=int(rank) if isinstance(rank, int) else None,
        )
