"""A scripted OpenAI-compatible chat server: dry runs of a pipeline, tests, benchmarks and the demo.

It serves `POST /v1/chat/completions`, `GET /v1/models` and `GET /health` (Starlette on uvicorn) and
answers each request with a scripted reply: by default the gold action of the step whose input JSON
it finds in the prompt, or whatever a reply function returns. Faults are injected per request:
fixed latency, HTTP 500 answers, answers delayed past the client's timeout and connections dropped
without an answer. Fault draws are seeded per step and attempt (not per arrival order), so a run at
any concurrency sees the same faults for the same steps.

    with StubServer(gold_replies(steps), faults=Faults(latency_s=0.1)) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="x")

`python -m eval.testing.stub_server --episodes DIR` (or `--grounding SET --agent NAME`) runs one in its
own process (`StubServerProcess`), which keeps the server's work off the caller's interpreter, as in the
throughput benchmark.
"""

import argparse
import asyncio
import hashlib
import itertools
import logging
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from eval.testing.stub_replies import (  # noqa: F401 - re-exported: the stub server's public API
    ReplyFn,
    find_step_input,
    gold_replies,
    key_of_input,
    render_reply,
    scripted_replies,
    step_key,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Faults:
    """Per-request fault rates (each in [0, 1]) and timings, drawn from `seed`."""

    latency_s: float = 0.0
    error_rate: float = 0.0  # answered with HTTP 500
    delay_rate: float = 0.0  # answered only after delay_s, meant to be past the client's timeout
    delay_s: float = 30.0
    drop_rate: float = 0.0  # connection closed without an answer
    seed: int = 0

    def draw(self, key: str, attempt: int) -> str:
        """The fate of one request: `ok`, `error`, `delay` or `drop`."""
        digest = hashlib.sha256(f"{self.seed}|{key}|{attempt}".encode()).digest()
        u = random.Random(digest).random()
        for fate, rate in (("error", self.error_rate), ("delay", self.delay_rate), ("drop", self.drop_rate)):
            if u < rate:
                return fate
            u -= rate
        return "ok"


class _DropConnection(Exception):
    """Raised after the response has started, which makes uvicorn close the socket mid-answer."""


class _DropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], _DropConnection))


def split_reasoning(text: str) -> dict[str, Any]:
    """The message a server with a reasoning parser returns (vLLM `--reasoning-parser`, `transformers
    serve`): the think block's text in `reasoning_content`, white space stripped, the rest in `content`;
    without a closing tag everything is reasoning and there is no content."""
    head, close, rest = text.partition("</think>")
    reasoning = head.split("<think>", 1)[-1].strip()
    if not close:
        return {"role": "assistant", "content": None, "reasoning_content": reasoning}
    return {"role": "assistant", "content": rest.strip(), "reasoning_content": reasoning}


def build_app(
    reply: ReplyFn,
    faults: Faults,
    model: str,
    api_key: str | None,
    stats: Counter,
    stopping: threading.Event,
    reasoning: bool = False,
) -> Any:
    """The ASGI app; `stats` counts requests by fate (and the most in flight at once); `stopping` cuts
    injected delays short; `reasoning` answers as a server with a reasoning parser (`split_reasoning`).
    Plain Starlette: three fixed routes need no request validation, and every microsecond here is taken
    from the clients sharing the machine in benchmarks."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    class DroppedResponse(Response):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4096")]}
            )
            raise _DropConnection("stub server drops this connection on purpose")

    attempts: Counter[str] = Counter()
    ids = itertools.count(1)

    async def health(request: Any) -> Response:
        return JSONResponse({"status": "ok"})

    async def models(request: Any) -> Response:
        return JSONResponse(
            {
                "object": "list",
                "data": [{"id": model, "object": "model", "created": 0, "owned_by": "phone-r1"}],
            }
        )

    async def chat(request: Any) -> Response:
        if api_key is not None and request.headers.get("authorization") != f"Bearer {api_key}":
            stats["unauthorized"] += 1
            return JSONResponse({"error": {"message": "bad API key", "type": "auth"}}, status_code=401)
        raw = await request.body()
        body = orjson.loads(raw)
        messages = body.get("messages") or []
        step_input = find_step_input(messages)
        # Without a step's input (a grounding prompt) the whole conversation is the key: two items on one
        # screenshot differ only in their instruction, after the image.
        key = key_of_input(step_input) if step_input else hashlib.sha256(orjson.dumps(messages)).hexdigest()
        attempts[key] += 1
        fate = faults.draw(key, attempts[key])
        stats[fate] += 1
        stats["requests"] += 1
        stats["in_flight"] += 1
        stats["max_in_flight"] = max(stats["max_in_flight"], stats["in_flight"])
        try:
            return await answer(fate, step_input, messages, body, len(raw))
        finally:
            stats["in_flight"] -= 1

    async def answer(
        fate: str,
        step_input: dict[str, Any] | None,
        messages: list[dict[str, Any]],
        body: dict[str, Any],
        body_bytes: int,
    ) -> Any:
        if faults.latency_s:
            await asyncio.sleep(faults.latency_s)
        if fate == "error":
            return JSONResponse(
                {"error": {"message": "injected failure", "type": "server_error"}}, status_code=500
            )
        if fate == "drop":
            return DroppedResponse()
        if fate == "delay":
            # Polled rather than one long sleep so that stop() does not wait on (or cancel) these.
            deadline = time.monotonic() + faults.delay_s
            while time.monotonic() < deadline and not stopping.is_set():
                await asyncio.sleep(0.05)
        text = reply(step_input, messages)
        # Token counts are stand-ins (a quarter of the bytes), deterministic for a given request.
        usage = {"prompt_tokens": body_bytes // 4, "completion_tokens": max(1, len(text) // 4)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        completion = {
            "id": f"chatcmpl-stub-{next(ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", model),
            "choices": [
                {
                    "index": 0,
                    "message": split_reasoning(text) if reasoning else {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage,
        }
        return Response(orjson.dumps(completion), media_type="application/json")

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ]
    )


class StubServer:
    """The stub server on 127.0.0.1 in a background thread; `start()` returns its `/v1` base URL."""

    def __init__(
        self,
        reply: ReplyFn | None = None,
        *,
        faults: Faults = Faults(),
        model: str = "stub-model",
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        reasoning: bool = False,
    ) -> None:
        self.reply = reply or scripted_replies({}, default="")
        self.reasoning = reasoning
        self.faults = faults
        self.model = model
        self.api_key = api_key
        self.host = host
        self.port = port
        self.stats: Counter[str] = Counter()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._filter = _DropFilter()
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def start(self, timeout: float = 30.0) -> str:
        import uvicorn

        self._stopping.clear()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        app = build_app(
            self.reply, self.faults, self.model, self.api_key, self.stats, self._stopping, self.reasoning
        )
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
            backlog=2048,
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        logging.getLogger("uvicorn.error").addFilter(self._filter)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"stub-server-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"stub server on {self.url} did not start within {timeout} s")
            time.sleep(0.01)
        logger.info("stub server listening on %s", self.url)
        return self.base_url

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        logging.getLogger("uvicorn.error").removeFilter(self._filter)
        self._server = self._thread = None

    def __enter__(self) -> "StubServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class StubServerProcess:
    """`python -m eval.testing.stub_server` in a child process; `start()` returns its `/v1` base URL."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""

    def start(self, timeout: float = 60.0) -> str:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "eval.testing.stub_server", *self.args], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        for line in self.proc.stdout:
            if line.startswith("READY "):
                self.base_url = line.split()[1]
                return self.base_url
            if time.monotonic() > deadline:
                break
        self.stop()
        raise RuntimeError(f"stub server process {self.args} did not report READY")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def __enter__(self) -> "StubServerProcess":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    from agent.spec import port_or_zero

    parser = argparse.ArgumentParser(
        description="scripted OpenAI-compatible chat server answering gold actions"
    )
    parser.add_argument("--episodes", type=Path, help="answer the gold action of these episodes' steps")
    parser.add_argument(
        "--grounding",
        type=Path,
        metavar="SET",
        help="answer each item of this grounding set with its target's centre, in --agent's grammar",
    )
    parser.add_argument("--language", help="--grounding: the instruction language the client sends (e.g. cn)")
    parser.add_argument(
        "--miss-rate",
        type=float,
        default=0.0,
        help="--grounding: answer a point outside the target on this share of the items (seeded by --seed)",
    )
    parser.add_argument("--coord-space", default="original")
    parser.add_argument("--min-pixels", type=int)
    parser.add_argument("--max-pixels", type=int)
    parser.add_argument("--model", default="stub-model")
    from actions.registry import argument_across
    from agent.adapters import ADAPTERS
    from agent.adapters.grounding import GROUNDING_ADAPTERS

    parser.add_argument(
        "--agent",
        **argument_across(
            [ADAPTERS, GROUNDING_ADAPTERS],
            "answer in this adapter's grammar (an agent adapter with --episodes, a grounding adapter with "
            "--grounding)",
        ),
    )
    parser.add_argument("--port", type=port_or_zero, default=0, help="1-65535, or 0 (default): a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds slept per request")
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--delay-rate", type=float, default=0.0)
    parser.add_argument("--delay", type=float, default=30.0)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    reply = None
    if args.episodes and args.grounding:
        parser.error("--episodes and --grounding: pass one")
    if args.grounding:
        from actions.coords import PixelBudget
        from agent.adapters.grounding import make_grounding_adapter
        from episodes.grounding import read_grounding_items
        from eval.testing.grounding_replies import grounding_replies, missing_answers

        try:
            name = GROUNDING_ADAPTERS.check_name(args.agent or "phone-r1")
        except ValueError as exc:
            parser.error(f"--agent: {exc}")
        given = {"min_pixels": args.min_pixels, "max_pixels": args.max_pixels}
        budget = PixelBudget(**{k: v for k, v in given.items() if v}) if args.max_pixels else None
        adapter = make_grounding_adapter(name, budget=budget)
        answer = missing_answers(adapter, args.miss_rate, args.seed) if args.miss_rate else None
        items = read_grounding_items(args.grounding)
        reply = grounding_replies(items, adapter, language=args.language, answer=answer)
    elif args.episodes:
        from episodes.readers import iter_steps

        if args.agent:
            try:
                ADAPTERS.check_name(args.agent)
            except ValueError as exc:
                parser.error(f"--agent: {exc}")
            from actions.coords import PixelBudget
            from agent.adapters import make_adapter
            from eval.testing.stub_replies import adapter_gold_replies

            pixels = (args.min_pixels, args.max_pixels)
            adapter = make_adapter(args.agent, budget=PixelBudget(*pixels) if all(pixels) else None)
            reply = adapter_gold_replies(iter_steps(args.episodes), adapter)
        else:
            reply = gold_replies(
                iter_steps(args.episodes),
                coord_space=args.coord_space,
                min_pixels=args.min_pixels,
                max_pixels=args.max_pixels,
            )
    faults = Faults(args.latency, args.error_rate, args.delay_rate, args.delay, args.drop_rate, args.seed)
    server = StubServer(reply, faults=faults, model=args.model, port=args.port)
    base_url = server.start()
    # terminate() from StubServerProcess ends the sleep below like Ctrl-C, so the server stops cleanly.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"READY {base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
