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
    _keep_used_weight_conversions(model)
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


def _keep_used_weight_conversions(model: Any) -> None:
    """Save in the layout the model was loaded from, also when it was loaded under DeepSpeed ZeRO-3.

    `save_pretrained` reverses the key renamings recorded at load time. transformers' plain loading
    records the renamings that matched the checkpoint; its ZeRO-3 loading records the model's whole
    mapping, legacy renamings included, and reversing those writes Qwen2.5-VL's decoder as
    `model.model.*` instead of `model.*` (transformers reads that back, other loaders need not).
    """
    conversions = getattr(model, "_weight_conversions", None)
    if conversions and all(hasattr(c, "was_used") for c in conversions):
        model._weight_conversions = [c for c in conversions if c.was_used()]


def fused_expert_parameters(model: Any) -> list[str]:
    """Names of the decoder's fused MoE expert weights: 3-D parameters held by a module that is not a
    convolution (Qwen3-VL-MoE's and Qwen3.5-MoE's `mlp.experts.gate_up_proj` / `down_proj`).

    `nn.Linear` target modules never reach them, so without peft's `target_parameters` LoRA on an MoE
    model adapts attention and dense layers only."""
    import torch

    convolutions = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)
    decoder = language_model(model)
    prefix = _qualified_name(model, decoder)
    names = []
    for module_name, module in decoder.named_modules():
        if isinstance(module, convolutions):
            continue
        for param_name, param in module.named_parameters(recurse=False):
            if param.ndim == 3:
                names.append(".".join(part for part in (prefix, module_name, param_name) if part))
    return names


def _expert_targets(model: Any, model_args: Any, family: Any) -> None:
    """Put the family's fused experts into `lora_target_parameters` (unless the recipe names its own),
    and warn loudly where fused experts stay unadapted."""
    found = fused_expert_parameters(model)
    wanted = list(getattr(family, "fused_experts", ()) or ())
    if wanted and model_args.lora_target_parameters is None:
        model_args.lora_target_parameters = wanted
        logger.info("LoRA target parameters (fused MoE experts): %s", wanted)
    targets = model_args.lora_target_parameters or []
    missed = [name for name in found if not any(name.endswith(t) for t in targets)]
    if missed:
        logger.warning(
            "LoRA adapts only attention and dense layers of %s: its fused MoE expert weights (%d tensors, "
            "e.g. %s) are not nn.Linear modules; name them in lora_target_parameters (peft "
            "target_parameters) to adapt them too",
            type(model).__name__,
            len(missed),
            missed[0],
        )


def peft_config_for(model: Any, model_args: Any, include_vision: bool, family: Any = None) -> Any | None:
    """LoRA config from a TRL `ModelConfig`; target modules (and, for MoE families, the fused expert
    parameters of the family record) are found on the model unless the recipe names them."""
    if not model_args.use_peft:
        return None
    from trl import get_peft_config

    if not model_args.lora_target_modules:
        model_args.lora_target_modules = lora_target_regex(model, include_vision=include_vision)
        logger.info("LoRA target modules: %s", model_args.lora_target_modules)
    _expert_targets(model, model_args, family)
    return get_peft_config(model_args)
