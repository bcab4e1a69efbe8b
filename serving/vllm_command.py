"""The `vllm serve` command line for a checkpoint, with the flags a phone-r1 checkpoint needs.

Two screenshots per prompt, the checkpoint's pixel budget for the processor (so the server resizes
images exactly as training did; none for a family without one), the chat-template switches training
used (Qwen3.5's `enable_thinking`), prefix caching for the shared system prompt, vLLM's own sampling
defaults instead of the checkpoint's `generation_config.json`, and LoRA adapters either served as a
module on their base model or merged first (`serving.merge`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serving.adapter import ADAPTER_CONFIG, Adapter

DEFAULT_SERVED_NAME = "phone-r1"
IMAGES_PER_PROMPT = 2
# Context beyond the longest training prompt plus the completion limit: evaluation prompts run a little
# longer (longer histories, screens of other sizes in the system text). Rounded up to whole blocks.
CONTEXT_HEADROOM = 0.10
CONTEXT_BLOCK = 256


def context_length(max_prompt_length: int, max_completion_length: int) -> int:
    """`--max-model-len` for a checkpoint trained on prompts up to `max_prompt_length` tokens."""
    need = (max_prompt_length + max_completion_length) * (1 + CONTEXT_HEADROOM)
    return math.ceil(need / CONTEXT_BLOCK) * CONTEXT_BLOCK


@dataclass(frozen=True)
class ServeOptions:
    """What `phone-r1 serve` was asked for; `None` leaves a value to the engine's default."""

    host: str = "127.0.0.1"
    port: int = 8000
    served_model_name: str = DEFAULT_SERVED_NAME
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    max_model_len: int | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    enable_lora: bool = False
    lora_modules: tuple[str, ...] = ()
    base_model: str | None = None
    max_lora_rank: int | None = None
    # The chat template's switches (Qwen3.5: enable_thinking), as vLLM's default for every request.
    chat_template_kwargs: dict[str, Any] | None = None
    gpu_memory_utilization: float | None = None
    dtype: str | None = None
    extra_args: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.tensor_parallel_size < 1 or self.data_parallel_size < 1:
            raise ValueError(
                f"--tp and --dp must be >= 1, got tp={self.tensor_parallel_size} dp={self.data_parallel_size}"
            )
        if not 0 < self.port < 65536:
            raise ValueError(f"--port must be in 1..65535, got {self.port}")


# The ranks vLLM accepts for --max-lora-rank.
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


def vllm_lora_rank(rank: int) -> int:
    """The smallest `--max-lora-rank` vLLM accepts that holds an adapter of `rank`."""
    for allowed in VLLM_LORA_RANKS:
        if rank <= allowed:
            return allowed
    raise ValueError(
        f"LoRA rank {rank} exceeds vLLM's largest --max-lora-rank {VLLM_LORA_RANKS[-1]}; merge it first"
    )


def lora_module(name: str, path: str | Path) -> str:
    """A `--lora-modules` entry: `name=path`."""
    return f"{name}={Path(path).resolve()}"


def build_vllm_command(checkpoint: str | Path, options: ServeOptions, *, vllm: str = "vllm") -> list[str]:
    """The argv of `vllm serve` for `checkpoint` (full weights, or a LoRA adapter served on its base).

    The pixel budget is `options.min_pixels/max_pixels` (the CLI fills them from the checkpoint's
    `phone_r1.json`). For an adapter folder the base model comes from `options.base_model`, else the
    adapter's `base_model_name_or_path`; the adapter is then served under `served_model_name` and the
    base under `<served_model_name>-base`.
    """
    checkpoint = Path(checkpoint)
    adapter = Adapter.read(checkpoint)
    lora_modules = list(options.lora_modules)
    served_name = options.served_model_name
    max_lora_rank = options.max_lora_rank
    if adapter is not None:
        base = options.base_model or adapter.base_model
        if not base:
            raise ValueError(
                f"{checkpoint / ADAPTER_CONFIG}: no base_model_name_or_path; pass --base-model, "
                f"or merge first with `phone-r1 merge {checkpoint} -o OUT`"
            )
        model = str(base)
        lora_modules.insert(0, lora_module(served_name, checkpoint))
        served_name = f"{served_name}-base"
        if max_lora_rank is None and adapter.rank is not None:
            max_lora_rank = vllm_lora_rank(adapter.rank)
    else:
        model = str(checkpoint.resolve()) if checkpoint.exists() else str(checkpoint)
    enable_lora = options.enable_lora or bool(lora_modules)

    cmd = [
        vllm,
        "serve",
        model,
        "--host",
        options.host,
        "--port",
        str(options.port),
        "--served-model-name",
        served_name,
        "--tensor-parallel-size",
        str(options.tensor_parallel_size),
        "--data-parallel-size",
        str(options.data_parallel_size),
        # JSON form: the `image=2` form is deprecated and rejected by newer vLLM releases.
        "--limit-mm-per-prompt",
        json.dumps({"image": IMAGES_PER_PROMPT}),
        "--enable-prefix-caching",
        # vLLM's sampling defaults; a training run's generation_config.json would override the request.
        "--generation-config",
        "vllm",
    ]
    mm_kwargs: dict[str, Any] = {}
    if options.min_pixels is not None:
        mm_kwargs["min_pixels"] = int(options.min_pixels)
    if options.max_pixels is not None:
        mm_kwargs["max_pixels"] = int(options.max_pixels)
    if mm_kwargs:
        cmd += ["--mm-processor-kwargs", json.dumps(mm_kwargs)]
    if options.chat_template_kwargs:
        # No --reasoning-parser: it would move the think block into `reasoning_content` and strip the
        # white space around it; without one the answer comes back as generated, and clients put back
        # what the template opened (`agent.thinking`), which gives exactly the text training scored.
        cmd += ["--default-chat-template-kwargs", json.dumps(options.chat_template_kwargs, sort_keys=True)]
    if options.max_model_len is not None:
        cmd += ["--max-model-len", str(options.max_model_len)]
    if options.dtype is not None:
        cmd += ["--dtype", options.dtype]
    if options.gpu_memory_utilization is not None:
        cmd += ["--gpu-memory-utilization", str(options.gpu_memory_utilization)]
    if enable_lora:
        cmd.append("--enable-lora")
        if lora_modules:
            cmd += ["--lora-modules", *lora_modules]
        if max_lora_rank is not None:
            cmd += ["--max-lora-rank", str(max_lora_rank)]
    cmd += list(options.extra_args)
    return cmd
