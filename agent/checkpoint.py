"""What a checkpoint must carry besides weights: the family, coordinate space, pixel budget and prompt.

`checkpoint_budget(path)` is the processor geometry a checkpoint was trained with (its family's tile
and the pixel budget), for serving and local inference.

Training writes `phone_r1.json` next to every checkpoint; serving and evaluation read it, so the
model is always asked in the space and at the resolution it was trained with.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from actions.vocab import (
    COORD_SPACES,
    DEFAULT_COORD_SPACE,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MIN_PIXELS,
    DEFAULT_TEMPLATE,
    DEFAULT_TILE,
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
    # Longest training prompt (text and image tokens) and the completion limit; serving sizes the
    # context from them (`serving.vllm_command.context_length`).
    max_prompt_length: int | None = None
    max_completion_length: int | None = None
    # The model family (`config.model_type`, `agent.families`), its processor's tile (None: no
    # `resized` space) and its own processor class. Files written before the family record hold none
    # of these: those checkpoints were all Qwen2.5-VL, which the defaults describe.
    family: str = "qwen2_5_vl"
    tile: int | None = DEFAULT_TILE
    processor_class: str | None = None
    # What the chat template is rendered with, and the think block its generation prompt opens
    # (`agent.thinking`); evaluation and serving use both, so the model is asked as it was trained.
    chat_template_kwargs: dict[str, Any] | None = None
    answer_prefix: str = ""
    # The agent adapter whose prompt and grammar the checkpoint was trained in (`agent.adapters`;
    # "phone-r1": the seed format) and the file that replaced its instruction text. None: a file written
    # before agents were recorded (all in the seed format); `eval run` and `serve` then take the flag.
    agent: str | None = None
    agent_prompt: str | None = None

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

    @property
    def budget(self) -> Any:
        """The `actions.coords.PixelBudget` the checkpoint was trained with (family tile included)."""
        from actions.coords import PixelBudget

        reason = "" if self.tile is not None else f"the {self.family} processor does not resize to a tile"
        return PixelBudget(int(self.min_pixels), int(self.max_pixels), self.tile, no_tile_reason=reason)

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
        """`phone_r1.json` of a folder, else what its `config.json` family and processor files say."""
        path = Path(directory) / META_FILENAME
        return cls.load(directory) if path.is_file() else default_meta(directory)


def saved_processor_budget(path: str | Path) -> tuple[int, int] | None:
    """`(min_pixels, max_pixels)` from the processor files, or None when they do not say."""
    path = Path(path)
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


def _family_of_folder(path: Path) -> Any:
    """The family record of a checkpoint folder without `phone_r1.json` (None without a config.json)."""
    from agent.families import family_for

    return family_for(path) if (path / "config.json").is_file() else None


def checkpoint_budget(path: str | Path) -> Any:
    """The `PixelBudget` of a checkpoint folder: `phone_r1.json` when present, else the processor's
    saved budget with the tile of the family its `config.json` names, else the Qwen2.5-VL defaults."""
    from actions.coords import PixelBudget

    path = Path(path)
    if (path / META_FILENAME).is_file():
        return CheckpointMeta.load(path).budget
    family = _family_of_folder(path)
    saved = saved_processor_budget(path)
    if saved is not None:
        logger.info("%s: no %s; using the processor's saved pixel budget %s", path, META_FILENAME, saved)
    if family is not None:
        return family.budget(*(saved or (None, None)))
    return PixelBudget(*saved) if saved is not None else PixelBudget()


def default_meta(path: str | Path) -> CheckpointMeta:
    """What a checkpoint folder without `phone_r1.json` is taken to hold: its family's facts (from
    `config.json`), the processor's saved budget, the default space and template."""
    path = Path(path)
    family = _family_of_folder(path)
    budget = checkpoint_budget(path)
    if family is None:
        return CheckpointMeta(min_pixels=budget.min_pixels, max_pixels=budget.max_pixels)
    return CheckpointMeta(
        min_pixels=budget.min_pixels,
        max_pixels=budget.max_pixels,
        family=family.name,
        tile=family.tile,
        processor_class=family.processor_class,
        chat_template_kwargs=dict(family.chat_template_kwargs) or None,
        answer_prefix=family.think_prefix,
    )


# The settings a command line may also give; each must match the checkpoint's unless overridden.
SETTINGS = ("coord_space", "prompt_template", "min_pixels", "max_pixels", "agent")
OVERRIDE_FLAG = "--override-checkpoint-meta"


class CheckpointMismatchError(ValueError):
    """A setting given on the command line that differs from the checkpoint's `phone_r1.json`."""


def resolve_settings(
    directory: str | Path | None, *, allow_override: bool = False, **given: Any
) -> tuple[CheckpointMeta, dict[str, dict[str, Any]]]:
    """The checkpoint's settings with the command line's `given` ones (None = not given) applied.

    A given value that differs from what `directory/phone_r1.json` records is refused, naming both
    values and the file, unless `allow_override`; then it is used and returned among the overrides
    (`{setting: {"checkpoint": old, "given": new}}`) for the results header. Without a checkpoint
    (`directory` None, or no `phone_r1.json` there) the given values apply over the defaults and
    nothing is an override.
    """
    unknown = sorted(set(given) - set(SETTINGS))
    if unknown:
        raise TypeError(f"resolve_settings: unknown settings {unknown}; expected some of {list(SETTINGS)}")
    path = Path(directory) / META_FILENAME if directory is not None else None
    recorded = path is not None and path.is_file()
    if recorded:
        meta = CheckpointMeta.load(directory)
    elif directory is not None:
        meta = default_meta(directory)  # the family's facts and the processor's saved budget
    else:
        meta = CheckpointMeta()
    wanted = {name: value for name, value in given.items() if value is not None}
    overrides = {
        name: {"checkpoint": getattr(meta, name), "given": value}
        for name, value in wanted.items()
        # A setting the file does not record (an agent, before agents were recorded) is not overridden.
        if recorded and getattr(meta, name) is not None and getattr(meta, name) != value
    }
    if overrides and not allow_override:
        lines = "; ".join(
            f"{name}: the checkpoint has {o['checkpoint']!r}, the command line gives {o['given']!r}"
            for name, o in overrides.items()
        )
        raise CheckpointMismatchError(
            f"{path}: {lines}. The model would be asked in another space, template, resolution or grammar "
            f"than it was trained with; drop the flag, or pass {OVERRIDE_FLAG} to use it anyway "
            "(it is recorded)"
        )
    return replace(meta, **wanted), overrides


def assumed_defaults_warning(directory: str | Path) -> str | None:
    """The warning for a checkpoint without `phone_r1.json`, naming the defaults assumed (None with one)."""
    if (Path(directory) / META_FILENAME).is_file():
        return None
    default = CheckpointMeta()
    return (
        f"{directory}: no {META_FILENAME}; assuming coord_space {default.coord_space!r}, prompt_template "
        f"{default.prompt_template!r} and the processor's saved pixel budget (else {default.min_pixels}.."
        f"{default.max_pixels}); write the file with the training settings to silence this"
    )
