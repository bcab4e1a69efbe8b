"""The vLLM side of `phone_r1.vllm_check`: run with the vLLM venv's python and `VLLM_TARGET_DEVICE=cpu`.

    VLLM_TARGET_DEVICE=cpu .venv-vllm/bin/python -m serving.vllm_probe PLAN.json RESULT.json

Imports nothing of phone-r1 (its pins conflict with vLLM's, so phone-r1 need not be importable here):
it reads the plan `phone_r1.vllm_check` wrote and answers with what vLLM's own code made of it.

- Each `vllm serve` argv goes through the parser `vllm serve` builds (`make_arg_parser` under vLLM's
  CLI), vLLM's post-parse validation, `AsyncEngineArgs.from_cli_args` and `create_model_config()`;
  LoRA modules are read by vLLM's `PEFTHelper` against the parsed `--max-lora-rank`. A rejection is
  reported with vLLM's message.
- Each prompt (OpenAI wire messages, screenshots as data URLs) goes through vLLM's chat-message
  parser (which decodes the images) and the model's multimodal processor built from the model config
  of the command that serves it, so `--mm-processor-kwargs` acts as it does in the server.
- The recipe's `trl vllm-serve` line goes through TRL's parser and `build_command`, and the `vllm serve`
  command TRL would exec is parsed like ours.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any


def serve_parser() -> argparse.ArgumentParser:
    """The top-level `vllm` parser with its `serve` subcommand, as `vllm.entrypoints.cli.main` builds it."""
    from vllm.entrypoints.cli.serve import ServeSubcommand
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser(prog="vllm")
    subparsers = parser.add_subparsers(required=False, dest="subparser")
    ServeSubcommand().subparser_init(subparsers)
    return parser


def _vllm_error(exc: BaseException, stderr: str) -> str:
    if isinstance(exc, SystemExit):
        lines = [line for line in stderr.splitlines() if line.strip()]
        return lines[-1] if lines else f"exit {exc.code}"
    return f"{type(exc).__name__}: {exc}"


def parse_command(argv: list[str]) -> tuple[Any, Any]:
    """Parsed namespace and model config of a `vllm serve ...` argv; raises with vLLM's message."""
    from vllm.engine.arg_utils import AsyncEngineArgs
    from vllm.entrypoints.cli.serve import ServeSubcommand

    args = serve_parser().parse_args(argv)
    ServeSubcommand().validate(args)
    if getattr(args, "model_tag", None) is not None:
        args.model = args.model_tag  # what `vllm serve` does before starting
    engine_args = AsyncEngineArgs.from_cli_args(args)
    return args, engine_args.create_model_config()


def check_lora(args: Any, model_config: Any) -> list[str]:
    """Each `--lora-modules` adapter read by vLLM and checked against the parsed LoRA limits."""
    from vllm.config.lora import LoRAConfig
    from vllm.lora.peft_helper import PEFTHelper

    if not args.enable_lora:
        return []
    lora_config = LoRAConfig(max_lora_rank=args.max_lora_rank, max_loras=args.max_loras)
    seen = []
    for module in args.lora_modules or []:
        helper = PEFTHelper.from_local_dir(module.path, model_config.max_model_len)
        helper.validate_legal(lora_config)
        seen.append(f"{module.name} (r={helper.r})")
    return seen


def probe_command(command: dict[str, Any]) -> dict[str, Any]:
    import os

    argv = command["argv"]
    if argv[1:2] != ["serve"]:
        return {"error": f"expected `vllm serve ...`, found {argv[:2]}"}
    saved = {k: os.environ.get(k) for k in command["env"]}
    os.environ.update(command["env"])
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args, model_config = parse_command(argv[1:])
            loras = check_lora(args, model_config)
            import vllm.envs as envs

            if command["env"].get("VLLM_API_KEY") and envs.VLLM_API_KEY != command["env"]["VLLM_API_KEY"]:
                raise ValueError("VLLM_API_KEY from the environment does not reach vllm.envs")
            if args.api_key:
                raise ValueError("the API key is on the command line")
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - vLLM raises many types; report its message
        return {"error": _vllm_error(exc, err.getvalue())}
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    parts = [
        f"{model_config.architecture}",
        f"tp={args.tensor_parallel_size} dp={args.data_parallel_size}",
        f"max_model_len={model_config.max_model_len}",
        f"limit_mm={model_config.multimodal_config.limit_per_prompt}",
        f"mm_kwargs={model_config.multimodal_config.mm_processor_kwargs}",
    ]
    if loras:
        parts.append(f"lora={', '.join(loras)} max_rank={args.max_lora_rank}")
    if command["env"].get("VLLM_API_KEY"):
        parts.append("api key from VLLM_API_KEY")
    return {"summary": "; ".join(parts), "model_config": model_config}


def count_tokens(model_config: Any, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Image placeholder tokens and `image_grid_thw` of one chat request, by vLLM's own processing."""
    from vllm.multimodal import MULTIMODAL_REGISTRY
    from vllm.renderers.chat_utils.chat_message import parse_chat_messages

    try:
        conversation, mm_data, _ = parse_chat_messages(messages, model_config, content_format="openai")
        processor = MULTIMODAL_REGISTRY.create_processor(model_config)
        tokenizer = processor.info.get_tokenizer()
        text = tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
        out = processor(text, processor.info.parse_mm_data(mm_data))
    except Exception as exc:  # noqa: BLE001 - reported per prompt
        return {"error": f"{type(exc).__name__}: {exc}"}
    grid = [item["image_grid_thw"].data.tolist() for item in out["mm_kwargs"]["image"]]
    return {
        "tokens": [r.length for r in out["mm_placeholders"]["image"]],
        "grid_thw": grid,
        "placeholders": out["prompt_token_ids"].count(model_config.hf_config.image_token_id),
        "prompt_ids": list(out["prompt_token_ids"]),
    }


def probe_trl(trl: dict[str, Any]) -> dict[str, Any]:
    """The recipe's `trl vllm-serve` line: TRL's parser, TRL's `vllm serve` command, then vLLM's parser."""
    try:
        from trl.scripts.vllm_serve import build_command, make_parser
    except ImportError as exc:
        return {"error": f"trl is not importable here: {exc}"}
    import os

    # The recipe's --max-model-len belongs to the model it names; the tiny checkpoint standing in for
    # that model has fewer positions, which vLLM otherwise rejects.
    os.environ["VLLM_ALLOW_LONG_MAX_MODEL_LEN"] = "1"
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            script_args, extra = make_parser().parse_args_and_config(
                trl["argv"], return_remaining_strings=True
            )
            command = build_command(script_args, extra)
            serve_at = command.index("serve")
            args, model_config = parse_command(command[serve_at:])
    except (Exception, SystemExit) as exc:  # noqa: BLE001
        return {"error": _vllm_error(exc, err.getvalue())}
    config = trl["config"]
    if (args.host, args.port) != (
        config["vllm_server_host"],
        config["vllm_server_port"],
    ) and args.port != config["vllm_server_port"]:
        return {"error": f"trl vllm-serve listens on {args.host}:{args.port}, the recipe asks {config}"}
    return {
        "summary": f"parsed `{' '.join(command[serve_at : serve_at + 2])} ...` "
        f"({len(command) - serve_at} words); "
        f"port {args.port}; mm_processor_kwargs={model_config.multimodal_config.mm_processor_kwargs}",
        "model_config": model_config,
    }


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serving.vllm_probe")
    parser.add_argument("plan")
    parser.add_argument("result")
    args = parser.parse_args(argv)
    with open(args.plan, encoding="utf-8") as f:
        plan = json.load(f)
    commands = [probe_command(c) for c in plan["commands"]]
    configs = {c["name"]: r.get("model_config") for c, r in zip(plan["commands"], commands, strict=True)}
    parity = []
    for case in plan["parity"]:
        model_config = configs.get(case["command"])
        if model_config is None:
            missing = {"error": f"command {case['command']!r} was not parsed"}
            parity.append({"as_sent": missing, "resized": missing})
            continue
        parity.append(
            {
                "as_sent": count_tokens(model_config, case["messages"]),
                "resized": count_tokens(model_config, case["messages_resized"]),
            }
        )
    trl = probe_trl(plan["trl"])
    if trl.get("model_config") is not None:
        # TRL's server passes no --mm-processor-kwargs: the served folder's processor config decides.
        trl["parity"] = [
            count_tokens(trl["model_config"], case["messages"]) if case["budget"] == "checkpoint" else None
            for case in plan["parity"]
        ]
    result = {
        "versions": {name: _version(name) for name in ("vllm", "transformers", "torch", "trl")},
        "commands": [{k: v for k, v in r.items() if k != "model_config"} for r in commands],
        "parity": parity,
        "trl": {k: v for k, v in trl.items() if k != "model_config"},
    }
    with open(args.result, "w", encoding="utf-8") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
