"""What one model family's record holds: the facts phone-r1 must not assume from Qwen2.5-VL.

A record is chosen from a checkpoint's `config.model_type` (`agent.families.family_of`). It says how
the family's processor resizes screenshots (the tile, the default pixel budget), what its released
processor files hold (class names, video-processor defaults), which coordinate grid its released
instruct models answer in, what its chat template does at the generation prompt, and where LoRA finds
the weights to adapt. Only the standard library is imported: CLIs and `phone_r1.json` readers use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from actions.vocab import COORD_SPACES


@dataclass(frozen=True)
class ModelFamily:
    """One `config.model_type` and the facts that differ between families (see the module docstring).

    - `tile`: the side (pixels) the processor rounds resized images to, patch size × spatial merge;
      None where the processor does not resize to a multiple of anything (InternVL's fixed tiles):
      then the `resized` coordinate space does not exist and `no_resized_reason` says why.
    - `min_pixels`/`max_pixels`: the released processor's pixel budget (`size.shortest_edge` /
      `size.longest_edge`); None where the processor has no pixel budget.
    - `processor_class`, `video_processor`: what the released checkpoints' processor files name and
      hold; a checkpoint keeps its own class, and on machines without torchvision phone-r1 builds the
      same class without its video processor (`agent.processor`).
    - `answer_space`: the coordinate grid the released instruct models answer in (`answer_space_note`
      says where that is documented).
    - `think_prefix`: what the released chat template's generation prompt ends in when it opens a
      `<think>` block ("" when it opens none); `chat_template_kwargs` are what training, evaluation
      and serving pass to the template so that the whole answer stays one
      `<think>…</think><answer>…</answer>` (`agent.thinking`).
    - `fused_experts`: parameter names of the decoder's fused MoE expert weights (3-D tensors, not
      `nn.Linear`), adapted by LoRA through peft's `target_parameters`; empty for dense families.
    """

    name: str
    title: str
    processor_class: str
    config_class: str
    tile: int | None
    min_pixels: int | None
    max_pixels: int | None
    answer_space: str
    answer_space_note: str
    video_processor: dict[str, Any] = field(default_factory=dict)
    no_resized_reason: str = ""
    think_prefix: str = ""
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)
    fused_experts: tuple[str, ...] = ()
    image_note: str = ""

    def __post_init__(self) -> None:
        if self.answer_space not in COORD_SPACES:
            raise ValueError(
                f"family {self.name}: answer_space must be one of {COORD_SPACES}, found {self.answer_space!r}"
            )
        if self.tile is None and not self.no_resized_reason:
            raise ValueError(f"family {self.name}: a family without a tile must say why (no_resized_reason)")

    @property
    def opens_think(self) -> bool:
        return bool(self.think_prefix)

    @property
    def has_pixel_budget(self) -> bool:
        return self.min_pixels is not None and self.max_pixels is not None

    def budget(self, min_pixels: int | None = None, max_pixels: int | None = None) -> Any:
        """The `actions.coords.PixelBudget` of this family: its tile, the given budget or its default.

        A family without a pixel budget (InternVL) gets the Qwen2.5-VL defaults as placeholders, which
        nothing reads: its `tile` is None, so no size is ever computed from them.
        """
        from actions.coords import PixelBudget

        defaults = PixelBudget()
        low = min_pixels if min_pixels is not None else (self.min_pixels or defaults.min_pixels)
        high = max_pixels if max_pixels is not None else (self.max_pixels or defaults.max_pixels)
        return PixelBudget(int(low), int(high), self.tile, no_tile_reason=self.no_resized_reason)

    def check_space(self, space: str) -> str:
        """`space` if this family can answer in it; a ValueError naming why not (`resized` without a tile)."""
        if space == "resized" and self.tile is None:
            raise ValueError(
                f"coord_space 'resized' is refused for {self.title} ({self.name}): {self.no_resized_reason}; "
                f"use {self.answer_space} (what its released models answer in) or original"
            )
        return space

    def summary(self) -> dict[str, Any]:
        """The record as plain data (docs table, `phone-r1 train tiny --help`)."""
        return {
            "family": self.name,
            "title": self.title,
            "tile": self.tile,
            "budget": [self.min_pixels, self.max_pixels],
            "answer_space": self.answer_space,
            "opens_think": self.opens_think,
            "lora": "linear layers + fused experts" if self.fused_experts else "linear layers",
        }


def is_family(obj: Any) -> str | None:
    """The registry's check: a problem sentence for anything that is not a `ModelFamily`."""
    return None if isinstance(obj, ModelFamily) else f"expected a ModelFamily, found {type(obj).__name__}"
