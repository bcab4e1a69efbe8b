"""The vLLM side of `phone_r1.vllm_check`: run with the vLLM venv's python and `VLLM_TARGET_DEVICE=cpu`.

    VLLM_TARGET_DEVICE=cpu .venv-vllm/bin/python -m serving.vllm_probe PLAN.json RESULT.json

Imports nothing of phone-r1 (its pins conflict with vLLM's, so phone-r1 need not be importable here):
it reads the plan `phone_r1.vllm_check` wrote and answers with what vLLM's own code made of it, for
every model family in the plan.

- Each `vllm serve` argv goes through the parser `vllm serve` builds (`make_arg_parser` under vLLM's
  CLI), vLLM's post-parse validation, `AsyncEngineArgs.from_cli_args` and `create_model_config()`;
  LoRA modules are read by vLLM's `PEFTHelper` against the parsed `--max-lora-rank`. A rejection is
  reported with vLLM's message.
- Each prompt (OpenAI wire messages, screenshots as data URLs) goes to the render server vLLM builds
  from the same arguments without a GPU (`init_render_app_state`, what `vllm launch render` runs; its
  `render_chat_request` is the preprocessing `vllm serve` delegates chat requests to), so the chat
  template with `--default-chat-template-kwargs`, the image decoding and the multimodal processor with
  `--mm-processor-kwargs` act as in the server; the prompt token ids and each image's placeholder
  come back.
- The recipe's `trl vllm-serve` line goes through TRL's parser and `build_command`, and the `vllm serve`
  command TRL would exec is parsed like ours.
- TRL's GRPO generation inputs (`serving.vllm_probe_trl`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from serving.vllm_probe_trl import probe_generation
from serving.vllm_render import RenderServer, parse_command, trl_serve_command, vllm_error


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
    """One `vllm serve` argv through vLLM's parser and config; the namespace and model config kept."""
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
        return {"error": vllm_error(exc, err.getvalue())}
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
    if args.default_chat_template_kwargs:
        parts.append(f"chat_template_kwargs={args.default_chat_template_kwargs}")
    if getattr(args, "reasoning_parser", None):
        parts.append(f"reasoning_parser={args.reasoning_parser}")
    if loras:
        parts.append(f"lora={', '.join(loras)} max_rank={args.max_lora_rank}")
    if command["env"].get("VLLM_API_KEY"):
        parts.append("api key from VLLM_API_KEY")
    return {
        "summary": "; ".join(parts),
        "max_model_len": model_config.max_model_len,
        "parsed": (args, model_config),
    }


def count_tokens(server: RenderServer, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Prompt token ids and each image's placeholder length of one chat request, as the server renders it."""
    try:
        response, engine_input = server.render(messages)
    except Exception as exc:  # noqa: BLE001 - reported per prompt
        return {"error": f"{type(exc).__name__}: {exc}"}
    placeholders = engine_input.get("mm_placeholders", {}).get("image", [])
    return {"tokens": [p.length for p in placeholders], "prompt_ids": list(response.token_ids)}


def probe_trl(recipe: dict[str, Any]) -> dict[str, Any]:
    """The recipe's `trl vllm-serve` line: TRL's parser, TRL's `vllm serve` command, then vLLM's parser."""
    import importlib.util

    if importlib.util.find_spec("trl") is None:
        return {"error": "trl is not installed here"}
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            command = trl_serve_command(recipe["argv"])
            args, model_config = parse_command(command)
    except (Exception, SystemExit) as exc:  # noqa: BLE001
        return {"error": vllm_error(exc, err.getvalue())}
    config = recipe["config"]
    if args.port != config["vllm_server_port"]:
        return {"error": f"trl vllm-serve listens on {args.host}:{args.port}, the recipe asks {config}"}
    return {
        "summary": f"parsed `{' '.join(command[:2])} ...` ({len(command)} words); port {args.port}; "
        f"mm_processor_kwargs={model_config.multimodal_config.mm_processor_kwargs}",
    }


def probe_family(family: dict[str, Any]) -> dict[str, Any]:
    """Every command, chat prompt and TRL generation input of one model family."""
    commands = [probe_command(c) for c in family["commands"]]
    parsed = {c["name"]: r.get("parsed") for c, r in zip(family["commands"], commands, strict=True)}
    servers: dict[str, Any] = {}
    parity = []
    for case in family["parity"]:
        name = case["command"]
        if name not in servers:
            try:
                servers[name] = RenderServer(*parsed[name]) if parsed.get(name) else None
            except Exception as exc:  # noqa: BLE001
                servers[name] = f"{type(exc).__name__}: {exc}"
        server = servers[name]
        if not isinstance(server, RenderServer):
            missing = {"error": f"command {name!r}: {server or 'not parsed'}"}
            parity.append({"as_sent": missing, "resized": missing})
            continue
        parity.append(
            {
                "as_sent": count_tokens(server, case["messages"]),
                "resized": count_tokens(server, case["messages_resized"])
                if case["messages_resized"]
                else None,
            }
        )
    return {
        "family": family["family"],
        "commands": [{k: v for k, v in r.items() if k != "parsed"} for r in commands],
        "parity": parity,
        "generation": probe_generation(family["generation"]),
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
    # A recipe's --max-model-len (and the generation engine's) belongs to the model it names; the tiny
    # checkpoint standing in for that model has fewer positions, which vLLM otherwise rejects.
    os.environ["VLLM_ALLOW_LONG_MAX_MODEL_LEN"] = "1"
    result = {
        "versions": {name: _version(name) for name in ("vllm", "transformers", "torch", "trl")},
        "families": [probe_family(family) for family in plan["families"]],
        "trl": probe_trl(plan["trl"]),
    }
    with open(args.result, "w", encoding="utf-8") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
