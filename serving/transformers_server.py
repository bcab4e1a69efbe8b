"""`transformers serve` for one phone-r1 checkpoint, as a process entry point.

    python -m serving.transformers_server CHECKPOINT --host 127.0.0.1 --port 8000 --served-model-name phone-r1

`transformers serve` loads processors through `AutoProcessor` inside its own process; on machines
without torchvision that silently yields a tokenizer and every image is dropped. So this entry runs
transformers' own CLI in-process after four adjustments, applied here (never at import):

1. `agent.processor.register_processor()`, so `AutoProcessor` builds an image-capable processor;
2. the pinned checkpoint's processor is loaded with `agent.processor.load_processor` and the
   checkpoint's pixel budget, as vLLM's `--mm-processor-kwargs` does;
3. requests naming `--served-model-name` are routed to the pinned checkpoint (transformers serve only
   accepts the exact path it was started with);
4. the pinned checkpoint's answers come back as generated, in `content`: transformers serve splits a
   Qwen model's `<think>` block into `reasoning_content` and strips the white space around it and any
   text before it, which loses what phone-r1 scores (the whole think + answer; with Qwen3.5's template
   the server returned an empty `content`). The client puts back what the template opened
   (`agent.thinking`), as it does for in-process generation, so both give the same text.

The chat template's switches (`--chat-template-kwargs`, Qwen3.5's `enable_thinking`) are passed to
`transformers serve` as its own flag. Adjustments 2 to 4 wrap `ModelManager._load_processor`,
`server.build_server` and `utils.get_response_template`; they can go once `transformers serve` takes
processor kwargs, a served name and a switch for reasoning parsing of its own.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

Asgi = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


def rewrite_model(body: bytes, alias: str, target: str) -> bytes:
    """The request body with `"model": alias` (or no model) replaced by `target`; other bodies unchanged."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict) or data.get("model", alias) != alias:
        return body
    data["model"] = target
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def alias_model(app: Asgi, alias: str, target: str) -> Asgi:
    """An ASGI app that rewrites the `model` of POST bodies from `alias` to `target`, then calls `app`."""

    async def wrapped(scope: dict, receive: Callable[[], Awaitable[dict]], send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # client went away before sending the body
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = rewrite_model(b"".join(chunks), alias, target)
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await app({**scope, "headers": headers}, replay, send)

    return wrapped


def pin_checkpoint(
    checkpoint: Path, served_name: str, min_pixels: int | None, max_pixels: int | None
) -> None:
    """Apply the adjustments of the module docstring to this process's transformers serve."""
    from transformers.cli.serving import model_manager, server, utils

    from agent.processor import load_processor, register_processor

    register_processor()
    target = str(checkpoint)

    original_load_processor = model_manager.ModelManager._load_processor

    def _load_processor(self: Any, model_id_and_revision: str, gguf_file: str | None = None) -> Any:
        model_id = model_id_and_revision.rsplit("@", 1)[0]
        if gguf_file is None and Path(model_id).resolve() == checkpoint:
            return load_processor(checkpoint, min_pixels=min_pixels, max_pixels=max_pixels)
        return original_load_processor(self, model_id_and_revision, gguf_file=gguf_file)

    model_manager.ModelManager._load_processor = _load_processor

    original_build_server = server.build_server

    def build_server(*args: Any, **kwargs: Any) -> Asgi:
        return alias_model(original_build_server(*args, **kwargs), served_name, target)

    server.build_server = build_server

    original_response_template = utils.get_response_template
    pinned_tokenizers: set[int] = set()

    def get_response_template(processor: Any, model: Any) -> Any:
        if id(getattr(processor, "tokenizer", processor)) in pinned_tokenizers:
            return None  # no parsing: the answer is returned as generated
        return original_response_template(processor, model)

    utils.get_response_template = get_response_template

    def _pinned_processor(self: Any, model_id_and_revision: str, gguf_file: str | None = None) -> Any:
        processor = _load_processor(self, model_id_and_revision, gguf_file=gguf_file)
        model_id = model_id_and_revision.rsplit("@", 1)[0]
        if gguf_file is None and Path(model_id).resolve() == checkpoint:
            pinned_tokenizers.add(id(getattr(processor, "tokenizer", processor)))
        return processor

    model_manager.ModelManager._load_processor = _pinned_processor


def build_parser() -> argparse.ArgumentParser:
    from agent.spec import port_number

    parser = argparse.ArgumentParser(
        prog="python -m serving.transformers_server", description=__doc__.splitlines()[0]
    )
    parser.add_argument("checkpoint", type=Path, help="checkpoint folder with full weights")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=port_number, default=8000, help="1-65535 (default 8000)")
    parser.add_argument("--served-model-name", default="phone-r1")
    parser.add_argument("--min-pixels", type=int)
    parser.add_argument("--max-pixels", type=int)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument(
        "--chat-template-kwargs",
        help="JSON object of chat-template switches the checkpoint was trained with (phone_r1.json)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    checkpoint = args.checkpoint.resolve()
    pin_checkpoint(checkpoint, args.served_model_name, args.min_pixels, args.max_pixels)
    from agent.processor import run_transformers_cli

    return run_transformers_cli(
        [
            "serve",
            str(checkpoint),
            "--host",
            args.host,
            "--port",
            str(args.port),
            "--device",
            args.device,
            "--dtype",
            args.dtype,
            "--log-level",
            args.log_level,
            *(["--chat-template-kwargs", args.chat_template_kwargs] if args.chat_template_kwargs else []),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
