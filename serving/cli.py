"""`phone-r1 serve CHECKPOINT` and `phone-r1 merge ADAPTER -o OUT`.

Engines and models load inside the handlers, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path
from typing import Any

from agent.spec import add_agent_flags

logger = logging.getLogger(__name__)

ENGINES = ("auto", "vllm", "transformers")


def register_merge(subparsers: Any) -> None:
    """Add `merge` to the `phone-r1` command."""
    parser = subparsers.add_parser(
        "merge",
        help="merge a LoRA adapter into its base model, as a folder any server can load",
        description="Merge a LoRA adapter into its base model (peft merge_and_unload), with the processor "
        "files and phone_r1.json, so that `phone-r1 serve` and other servers load it as full weights.",
    )
    parser.add_argument(
        "adapter", type=Path, metavar="ADAPTER", help="the adapter folder (adapter_config.json)"
    )
    parser.add_argument(
        "-o", "--output", type=Path, required=True, metavar="OUT", help="the new folder to write"
    )
    parser.add_argument("--base-model", help="base model of the adapter (default: from adapter_config.json)")
    parser.add_argument("--dtype", help="dtype to load the base model in (default auto)")
    parser.set_defaults(func=_merge)


def register(subparsers: Any) -> None:
    """Add `serve` to the `phone-r1` command."""
    parser = subparsers.add_parser(
        "serve",
        help="serve a checkpoint behind an OpenAI-compatible API",
        description="Serve a checkpoint behind an OpenAI-compatible API (vLLM on GPU, transformers serve on "
        "CPU). A LoRA adapter is served by vLLM as is, or merged first with --merge-lora.",
    )
    parser.add_argument(
        "checkpoint",
        type=Path,
        metavar="CHECKPOINT",
        help="checkpoint folder (full weights, or a LoRA adapter with adapter_config.json)",
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="vllm, transformers, or auto: vLLM when it is installed and a GPU is visible",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the server command and exit")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    add_agent_flags(parser, "port", defaults={"port": 8000}, help={"port": "port, 1-65535 (default 8000)"})
    parser.add_argument(
        "--served-model-name", default="phone-r1", help="the model name clients send (default phone-r1)"
    )
    parser.add_argument("--tp", type=int, default=1, help="vLLM tensor parallel size")
    parser.add_argument("--dp", type=int, default=1, help="vLLM data parallel size")
    parser.add_argument(
        "--max-model-len",
        type=int,
        help="vLLM context length (default: from phone_r1.json's recorded lengths, else the model's)",
    )
    add_agent_flags(
        parser,
        "pixels",
        help={
            "min-pixels": "pixel budget override (default: the checkpoint's)",
            "max-pixels": "pixel budget override (default: the checkpoint's)",
        },
    )
    parser.add_argument("--enable-lora", action="store_true", help="vLLM: allow LoRA adapters")
    parser.add_argument(
        "--lora-modules",
        nargs="+",
        default=[],
        metavar="NAME=PATH",
        help="vLLM: extra adapters served on CHECKPOINT (an adapter CHECKPOINT is added itself)",
    )
    parser.add_argument("--base-model", help="base model of an adapter (default: from adapter_config.json)")
    parser.add_argument(
        "--merge-lora",
        action="store_true",
        help="merge an adapter CHECKPOINT into its base first and serve the merged weights",
    )
    parser.add_argument(
        "--merged-dir", type=Path, help="where --merge-lora writes (default CHECKPOINT-merged)"
    )
    parser.add_argument(
        "--dtype", help="weights dtype (vLLM --dtype; transformers --dtype; merge load dtype)"
    )
    parser.add_argument("--gpu-memory-utilization", type=float, help="vLLM GPU memory fraction")
    parser.add_argument("--device", default="auto", help="transformers engine device (cpu, cuda:0, auto)")
    add_agent_flags(
        parser,
        "api-key-env",
        "override-checkpoint-meta",
        help={
            "api-key-env": "vLLM: require the API key held in environment variable VAR (never on the command "
            "line)",
            "override-checkpoint-meta": "serve with a pixel budget or context length that differs from the "
            "checkpoint's phone_r1.json",
        },
    )
    parser.add_argument("--ready-timeout", type=float, default=900.0, help="seconds to wait for /health")
    parser.add_argument(
        "--vllm-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument passed to vllm serve as is (repeatable)",
    )
    parser.set_defaults(func=_serve)


def _pick_engine(requested: str) -> str:
    if requested != "auto":
        return requested
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return "transformers"
    import torch

    return "vllm" if torch.cuda.is_available() else "transformers"


def _vllm_executable() -> str | None:
    """The `vllm` script of this environment (also when its bin folder is not on PATH), else PATH's."""
    import shutil

    beside = Path(sys.executable).with_name("vllm")
    return str(beside) if beside.is_file() else shutil.which("vllm")


def _merge(args: argparse.Namespace) -> int:
    from serving.merge import merge_adapter

    try:
        out = merge_adapter(args.adapter, args.output, base_model=args.base_model, dtype=args.dtype or "auto")
    except (ValueError, FileNotFoundError) as exc:
        print(f"phone-r1 merge: {exc}", file=sys.stderr)
        return 2
    print(f"merged checkpoint: {out}\nserve it with: phone-r1 serve {shlex.quote(str(out))}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    try:
        plan = _plan(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"phone-r1 serve: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        for line in plan["notes"]:
            print(f"# {line}")
        print(shlex.join(plan["cmd"]))
        return 0
    if plan["merge"] is not None:
        from serving.merge import merge_adapter

        try:
            merge_adapter(*plan["merge"], base_model=args.base_model, dtype=args.dtype or "auto")
        except (ValueError, FileNotFoundError) as exc:
            print(f"phone-r1 serve: --merge-lora: {exc}", file=sys.stderr)
            return 2
    from serving.launch import supervise

    return supervise(
        plan["cmd"],
        health_url=plan["health_url"],
        banner=plan["banner"],
        env=plan["env"],
        ready_timeout_s=args.ready_timeout,
    )


def _meta_source(checkpoint: Path, base_model: str | None) -> Path:
    """Where `phone_r1.json` and the pixel budget come from: the checkpoint, or an adapter's local base."""
    from agent.checkpoint import META_FILENAME
    from serving.adapter import Adapter

    adapter = Adapter.read(checkpoint)
    if adapter is None or (checkpoint / META_FILENAME).is_file():
        return checkpoint
    base = base_model or adapter.base_model
    return Path(base) if base and Path(base).is_dir() else checkpoint


def _max_model_len(args: argparse.Namespace, meta: Any, meta_dir: Path, notes: list[str]) -> int | None:
    """`--max-model-len`: the flag, else sized from the lengths training recorded in `phone_r1.json`."""
    from agent.checkpoint import OVERRIDE_FLAG
    from serving.vllm_command import CONTEXT_HEADROOM, context_length

    prompt, completion = meta.max_prompt_length, meta.max_completion_length
    if prompt is None or completion is None:
        if args.max_model_len is None:
            notes.append(
                "phone_r1.json records no prompt/completion lengths: vLLM uses the model's context length"
            )
        return args.max_model_len
    if args.max_model_len is None:
        length = context_length(prompt, completion)
        notes.append(
            f"--max-model-len {length}: longest training prompt {prompt} + completion limit {completion} "
            f"tokens ({meta_dir}/phone_r1.json), plus {CONTEXT_HEADROOM:.0%} headroom"
        )
        return length
    if args.max_model_len < prompt + completion and not args.override_checkpoint_meta:
        raise ValueError(
            f"--max-model-len {args.max_model_len}: {meta_dir}/phone_r1.json needs {prompt + completion} "
            f"tokens (longest training prompt {prompt} + completion limit {completion}); the longest prompts "
            f"would be rejected. Drop the flag, or pass {OVERRIDE_FLAG} to use it anyway"
        )
    return args.max_model_len


def _vllm_family_settings(
    args: argparse.Namespace, meta: Any, notes: list[str]
) -> tuple[tuple[int | None, int | None], dict[str, Any] | None]:
    """The family's part of the vLLM command: the pixel budget for its processor (none for a family
    without one) and the chat-template switches the checkpoint was trained with."""
    from agent.families import family_of

    family = family_of(meta.family)
    notes.append(f"family: {family.name} ({family.title})")
    if family.has_pixel_budget:
        budget: tuple[int | None, int | None] = (meta.min_pixels, meta.max_pixels)
    elif args.min_pixels is not None or args.max_pixels is not None:
        raise ValueError(
            f"--min-pixels/--max-pixels: the {family.title} processor has no pixel budget "
            f"({family.image_note or family.no_resized_reason}); drop them"
        )
    else:
        budget = (None, None)
    kwargs = dict(meta.chat_template_kwargs or {}) or None
    if kwargs:
        notes.append(
            f"--default-chat-template-kwargs: {kwargs}, as in training; no reasoning parser, so the "
            "whole answer comes back in `content` (clients put back phone_r1.json's answer_prefix "
            f"{meta.answer_prefix!r})"
        )
    return budget, kwargs


def _plan(args: argparse.Namespace) -> dict[str, Any]:
    """The command, environment, health URL, banner and any merge to do first (nothing is run here)."""
    import json
    import os

    from agent.spec import resolve_spec
    from serving.adapter import Adapter
    from serving.snippet import banner
    from serving.vllm_command import ServeOptions, build_vllm_command

    checkpoint: Path = args.checkpoint
    if not checkpoint.is_dir():
        raise FileNotFoundError(f"{checkpoint}: expected a checkpoint folder, found nothing there")
    engine = _pick_engine(args.engine)
    notes: list[str] = [f"engine: {engine}"]
    meta_dir = checkpoint
    merge: tuple[Path, Path] | None = None
    if Adapter.read(checkpoint) is not None and args.merge_lora:
        merged = args.merged_dir or checkpoint.with_name(checkpoint.name + "-merged")
        notes.append(f"merge {checkpoint} into {merged} first")
        merge = (checkpoint, merged)
        checkpoint = merged
    is_adapter = Adapter.read(checkpoint) is not None
    meta_dir = _meta_source(meta_dir, args.base_model)
    spec = resolve_spec(
        meta_dir,
        allow_override=args.override_checkpoint_meta,
        min_pixels=args.min_pixels,
        max_pixels=args.max_pixels,
        engine=engine,
        location=checkpoint,
        model=args.served_model_name,
        api_key_env=args.api_key_env,
    )
    meta = spec.meta
    assumed = spec.assumed_warning()
    if assumed:
        logger.warning("%s", assumed)
        notes.append(f"warning: {assumed}")
    notes.extend(spec.override_notes())
    if not spec.seed_format:
        notes.append(f"agent: {spec.adapter} (the grammar it was trained in; phone_r1.json)")
    budget = spec.budget  # checks 0 < min_pixels <= max_pixels; carries the family's tile
    min_pixels, max_pixels = budget.min_pixels, budget.max_pixels
    env = dict(os.environ)
    if engine == "vllm":
        vllm_budget, template_kwargs = _vllm_family_settings(args, meta, notes)
        options = ServeOptions(
            host=args.host,
            port=args.port,
            served_model_name=args.served_model_name,
            tensor_parallel_size=args.tp,
            data_parallel_size=args.dp,
            max_model_len=_max_model_len(args, meta, meta_dir, notes),
            min_pixels=vllm_budget[0],
            max_pixels=vllm_budget[1],
            chat_template_kwargs=template_kwargs,
            enable_lora=args.enable_lora,
            lora_modules=tuple(args.lora_modules),
            base_model=args.base_model,
            gpu_memory_utilization=args.gpu_memory_utilization,
            dtype=args.dtype,
            extra_args=tuple(args.vllm_arg),
        )
        cmd = build_vllm_command(checkpoint, options, vllm=_vllm_executable() or "vllm")
        if args.api_key_env:
            if not os.environ.get(args.api_key_env) and not args.dry_run:
                raise ValueError(f"--api-key-env {args.api_key_env}: that environment variable is empty")
            # vLLM reads VLLM_API_KEY; passing --api-key would show the key in `ps` and in --dry-run.
            env["VLLM_API_KEY"] = os.environ.get(args.api_key_env, "")
            notes.append(f"VLLM_API_KEY is set from ${args.api_key_env}")
        if not args.dry_run and _vllm_executable() is None:
            raise FileNotFoundError(
                "vllm is not installed here (pip install 'phone-r1[gpu]'); "
                "use --engine transformers on machines without a GPU"
            )
    else:
        if is_adapter:
            raise ValueError(
                f"{checkpoint} is a LoRA adapter; the transformers engine serves full weights: "
                "add --merge-lora, or run `phone-r1 merge` first"
            )
        if args.api_key_env or args.lora_modules or args.enable_lora or args.tp != 1 or args.dp != 1:
            raise ValueError("--api-key-env, --enable-lora/--lora-modules and --tp/--dp need --engine vllm")
        cmd = [
            sys.executable,
            "-m",
            "serving.transformers_server",
            str(checkpoint.resolve()),
            "--host",
            args.host,
            "--port",
            str(args.port),
            "--served-model-name",
            args.served_model_name,
            "--min-pixels",
            str(min_pixels),
            "--max-pixels",
            str(max_pixels),
            "--device",
            args.device,
            "--dtype",
            args.dtype or "auto",
        ]
        if meta.chat_template_kwargs:
            # The template's switches the checkpoint was trained with (Qwen3.5: enable_thinking).
            cmd += ["--chat-template-kwargs", json.dumps(meta.chat_template_kwargs, sort_keys=True)]
    client_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    base_url = f"http://{client_host}:{args.port}/v1"
    text = banner(
        engine=engine,
        base_url=base_url,
        model=args.served_model_name,
        checkpoint=meta_dir,
        coord_space=spec.coord_space,
        template=spec.template,
        min_pixels=min_pixels,
        max_pixels=max_pixels,
        api_key_env=args.api_key_env,
        tile=meta.tile,
        chat_template_kwargs=meta.chat_template_kwargs,
        answer_prefix=meta.answer_prefix,
        agent=None if spec.seed_format else spec.adapter,
    )
    return {
        "cmd": cmd,
        "env": env,
        "health_url": f"http://{client_host}:{args.port}/health",
        "banner": text,
        "notes": notes,
        "merge": merge,
    }
