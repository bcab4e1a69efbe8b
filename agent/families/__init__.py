"""Model families: the record of each base model phone-r1 trains, serves and evaluates.

`MODEL_FAMILIES` is the one registry, keyed by a checkpoint's `config.model_type`: training, the processor
loader, serving, evaluation, `phone-r1 train tiny --family` and the docs table all read it. A model
type without an entry is refused with the list of supported ones (a generic path would have to guess
the tile, the template and the coordinate grid, which is what made Qwen3 checkpoints train silently
wrong). A user's own family is a dotted path to a `ModelFamily` (`my_pkg.families:MY_VLM`), named by
`phone_r1.json`'s `family` or `--family`.

    from agent.families import family_for
    family = family_for("/path/to/checkpoint")     # reads config.json's model_type
    family.budget(), family.answer_space, family.opens_think
"""

from __future__ import annotations

import json
from pathlib import Path

from actions.registry import Registry, UnknownName
from agent.families.base import ModelFamily, is_family

__all__ = ["MODEL_FAMILIES", "DEFAULT_FAMILY", "ModelFamily", "family_of", "family_for", "read_model_type"]

MODEL_FAMILIES: Registry[ModelFamily] = Registry(
    "model family",
    {
        "qwen2_5_vl": ("agent.families.qwen_vl:QWEN2_5_VL", "Qwen2.5-VL: tile 28, resized pixels"),
        "qwen2_vl": ("agent.families.qwen_vl:QWEN2_VL", "Qwen2-VL: tile 28, 0-1000 grid"),
        "qwen3_vl": ("agent.families.qwen_vl:QWEN3_VL", "Qwen3-VL: tile 32, 0-1000 grid"),
        "qwen3_vl_moe": (
            "agent.families.qwen_vl:QWEN3_VL_MOE",
            "Qwen3-VL-MoE: tile 32, 0-1000 grid, LoRA on fused experts",
        ),
        "qwen3_5": (
            "agent.families.qwen3_5:QWEN3_5",
            "Qwen3.5: tile 32, 0-1000 grid, template opens <think>",
        ),
        "qwen3_5_moe": (
            "agent.families.qwen3_5:QWEN3_5_MOE",
            "Qwen3.5-MoE: tile 32, 0-1000 grid, template opens <think>, LoRA on fused experts",
        ),
        "internvl": ("agent.families.internvl:INTERNVL", "InternVL3/3.5 (-hf): 448-px tiles, 0-1000 grid"),
    },
    example="my_pkg.families:MY_VLM",
    check=is_family,
    docs="docs/families.md",
)

# The family of checkpoints that predate the family record (every phone-r1 checkpoint until then).
DEFAULT_FAMILY = "qwen2_5_vl"


def family_of(name: str) -> ModelFamily:
    """The record of a `config.model_type` (or a dotted path); UnknownName lists the supported ones."""
    try:
        return MODEL_FAMILIES.load(name)
    except UnknownName as err:
        raise UnknownName(
            f"{err}. phone-r1 reads each family's tile, pixel budget, chat template and coordinate grid "
            "from its record (agent/families/); add one for a new model type"
        ) from None


def read_model_type(path: str | Path) -> str:
    """`model_type` of a checkpoint folder's `config.json` (or of a hub id, through transformers)."""
    folder = Path(path)
    config = folder / "config.json"
    if config.is_file():
        data = json.loads(config.read_text(encoding="utf-8"))
        model_type = data.get("model_type") if isinstance(data, dict) else None
        if not isinstance(model_type, str):
            raise ValueError(f"{config}: expected a string model_type, found {model_type!r}")
        return model_type
    if folder.exists():
        raise FileNotFoundError(f"{folder}: no config.json, so its model family cannot be told")
    from transformers import AutoConfig  # a hub id: transformers knows where its config lives

    return str(AutoConfig.from_pretrained(str(path)).model_type)


def family_for(path: str | Path) -> ModelFamily:
    """The record of the checkpoint at `path` (its `config.json` model_type)."""
    return family_of(read_model_type(path))
