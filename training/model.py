"""Model loading for training: attention backend, vision freezing and LoRA targets found on the model."""

from __future__ import annotations

import importlib.util
import logging
import re
from typing import Any

logger = logging.getLogger(__name__)


def pick_attn_implementation(requested: str | None) -> str:
    """`requested` when given; else flash-attn 2 when it is installed and a GPU is present, else sdpa."""
    if requested:
        return requested
    import torch

    if importlib.util.find_spec("flash_attn") is not None and torch.cuda.is_available():
        return "flash_attention_2"
    return "sdpa"


def _dtype(name: str | None) -> Any:
    import torch

    if name in (None, "auto"):
        return "auto" if name == "auto" else None
    value = getattr(torch, name, None)
    if not isinstance(value, torch.dtype):
        raise ValueError(f"dtype: expected auto, float32, bfloat16 or float16, found {name!r}")
    return value


def vision_tower(model: Any) -> Any | None:
    """The vision encoder (with its merger) of a Qwen-VL style model, or None for a text-only model."""
    for owner in (getattr(model, "model", None), model):
        if owner is not None and getattr(owner, "visual", None) is not None:
            return owner.visual
    return None


def language_model(model: Any) -> Any:
    """The text decoder of a VLM (the model itself when it has no separate decoder)."""
    inner = getattr(model, "model", None)
    if inner is not None and getattr(inner, "language_model", None) is not None:
        return inner.language_model
    return model.get_decoder() if hasattr(model, "get_decoder") else model


def _qualified_name(model: Any, module: Any) -> str:
    for name, candidate in model.named_modules():
        if candidate is module:
            return name
    raise ValueError(f"module {type(module).__name__} is not part of {type(model).__name__}")


def _linear_leaves(module: Any) -> list[str]:
    import torch

    return sorted(
        {
            name.rsplit(".", 1)[-1]
            for name, m in module.named_modules()
            if isinstance(m, torch.nn.Linear) and "." in name
        }
    )


def lora_target_regex(model: Any, include_vision: bool = False) -> str:
    """A peft `target_modules` regex covering the linear layers of the language model.

    Found on the model rather than listed by hand, so any Qwen-VL size (and the tiny test model) gets
    every projection of its decoder. The vision tower joins only with `include_vision`; `lm_head`
    never does (it lives outside the decoder).
    """
    parts: list[str] = []
    owners = [language_model(model)]
    tower = vision_tower(model)
    if include_vision and tower is not None:
        owners.append(tower)
    for owner in owners:
        prefix = _qualified_name(model, owner)
        leaves = _linear_leaves(owner)
        if not leaves:
            continue
        parts.append(rf"{re.escape(prefix)}\..*\.({'|'.join(re.escape(leaf) for leaf in leaves)})")
    if not parts:
        raise ValueError(f"found no linear layers to adapt in {type(model).__name__}")
    return "|".join(f"(?:{p})" for p in parts)


def freeze(module: Any) -> int:
    """Stop gradients for every parameter of `module`; returns how many parameters were frozen."""
    count = 0
    for param in module.parameters():
        param.requires_grad_(False)
        count += param.numel()
    return count


def load_model(model_args: Any, *, freeze_vision_tower: bool, gradient_checkpointing: bool = False) -> Any:
    """Load the VLM named by a TRL `ModelConfig`, with the attention backend picked and vision frozen."""
    from transformers import AutoModelForImageTextToText

    attn = pick_attn_implementation(model_args.attn_implementation)
    kwargs: dict[str, Any] = {"attn_implementation": attn, "revision": model_args.model_revision}
    dtype = _dtype(model_args.dtype)
    if dtype is not None:
        kwargs["dtype"] = dtype
    model = AutoModelForImageTextToText.from_pretrained(model_args.model_name_or_path, **kwargs)
    if gradient_checkpointing:
        # The trainer turns checkpointing on; the KV cache must be off for it to take effect.
        model.config.use_cache = False
    if freeze_vision_tower:
        tower = vision_tower(model)
        if tower is None:
            logger.warning("freeze_vision_tower: %s has no vision tower", type(model).__name__)
        else:
            logger.info("froze %d vision-tower parameters", freeze(tower))
    logger.info("model %s loaded with %s attention", model_args.model_name_or_path, attn)
    return model


def peft_config_for(model: Any, model_args: Any, include_vision: bool) -> Any | None:
    """LoRA config from a TRL `ModelConfig`; target modules are found on the model unless named."""
    if not model_args.use_peft:
        return None
    from trl import get_peft_config

    if not model_args.lora_target_modules:
        model_args.lora_target_modules = lora_target_regex(model, include_vision=include_vision)
        logger.info("LoRA target modules: %s", model_args.lora_target_modules)
    return get_peft_config(model_args)
