"""vLLM's own `serve` parser and GPU-less render server for a `vllm serve` argv (the vLLM check's probes).

Runs in the vLLM venv and imports nothing of phone-r1; `serving.vllm_probe` and `serving.vllm_probe_trl`
share it.
"""

from __future__ import annotations

import argparse
from typing import Any


def serve_parser() -> argparse.ArgumentParser:
    """The top-level `vllm` parser with its `serve` subcommand, as `vllm.entrypoints.cli.main` builds it."""
    from vllm.entrypoints.cli.serve import ServeSubcommand
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser(prog="vllm")
    subparsers = parser.add_subparsers(required=False, dest="subparser")
    ServeSubcommand().subparser_init(subparsers)
    return parser


def vllm_error(exc: BaseException, stderr: str) -> str:
    """vLLM's own message: the parser's last stderr line for a usage error, else the exception."""
    if isinstance(exc, SystemExit):
        lines = [line for line in stderr.splitlines() if line.strip()]
        return lines[-1] if lines else f"exit {exc.code}"
    return f"{type(exc).__name__}: {exc}"


def parse_command(argv: list[str]) -> tuple[Any, Any]:
    """Parsed namespace and model config of a `serve ...` argv; raises with vLLM's message."""
    from vllm.engine.arg_utils import AsyncEngineArgs
    from vllm.entrypoints.cli.serve import ServeSubcommand

    args = serve_parser().parse_args(argv)
    ServeSubcommand().validate(args)
    if getattr(args, "model_tag", None) is not None:
        args.model = args.model_tag  # what `vllm serve` does before starting
    engine_args = AsyncEngineArgs.from_cli_args(args)
    return args, engine_args.create_model_config()


class RenderServer:
    """vLLM's GPU-less render server for parsed `serve` arguments: chat requests in, engine inputs out."""

    def __init__(self, args: Any, model_config: Any) -> None:
        import asyncio

        from starlette.datastructures import State
        from vllm.config import VllmConfig
        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.entrypoints.launchers.render.app_state import init_render_app_state

        # As `vllm launch render` builds its config: no quantized kernels, no KV cache.
        model_config.quantization = None
        engine_args = AsyncEngineArgs.from_cli_args(args)
        self.vllm_config = VllmConfig(
            model_config=model_config,
            logging_config=engine_args.create_logging_config(),
            structured_outputs_config=engine_args.create_structured_outputs_config(),
        )
        self.state = State()
        asyncio.run(init_render_app_state(self.vllm_config, self.state, args))
        self.model = (args.served_model_name or [args.model])[0]
        self._rendered: list[Any] = []
        render_chat = self.state.online_renderer.render_chat

        # The engine input behind each rendered request (placeholders with their embedding masks).
        async def keep(*a: Any, **k: Any) -> Any:
            result = await render_chat(*a, **k)
            self._rendered.append(result)
            return result

        self.state.online_renderer.render_chat = keep

    @property
    def renderer(self) -> Any:
        return self.state.online_renderer.renderer

    def render(self, messages: list[dict[str, Any]], max_tokens: int = 1) -> tuple[Any, Any]:
        """(the `/v1/chat/completions/render` response, the engine input behind it) for one request."""
        import asyncio

        from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest

        self._rendered.clear()
        request = ChatCompletionRequest(model=self.model, messages=messages, max_tokens=max_tokens)
        response = asyncio.run(self.state.serving_render.render_chat_request(request))
        if not hasattr(response, "token_ids"):
            raise RuntimeError(f"render: {getattr(response, 'error', response)}")
        _, (engine_input,) = self._rendered[0]
        return response, engine_input


def trl_serve_command(words: list[str]) -> list[str]:
    """The `serve ...` argv `trl vllm-serve WORDS` execs (TRL's parser, then TRL's `build_command`)."""
    from trl.scripts.vllm_serve import build_command, make_parser

    script_args, extra = make_parser().parse_args_and_config(words, return_remaining_strings=True)
    command = build_command(script_args, extra)
    return command[command.index("serve") :]
