"""Any OpenAI-compatible chat endpoint (vLLM, `transformers serve`, hosted APIs), via the `openai` client.

Retries, back-off and per-attempt timeouts are the `openai` client's own; this module bounds how many
requests are in flight, turns screenshots into data URLs, and maps the client's exceptions to the
typed `AgentError` kinds.

An evaluation keeps dozens of requests in flight from one event loop, so the client's CPU time per
request bounds the throughput. Requests therefore go through the client's generic `post` with the
wire body already built (the typed `chat.completions.create` walks every message part through its
parameter transform), and answers come back as plain JSON rather than validated models. One client
per event loop is reused, its connection pool sized to the concurrency. The client runs on its aiohttp
transport (`openai[aiohttp]`) when installed: the same retries and timeouts, and about a millisecond
less CPU per request than the default httpx pool, whose bookkeeping probes every idle connection on
each request.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from typing import Any

import orjson

from agent.backends.base import Completion
from agent.backends.images import cached_image_data_url, image_data_url
from agent.errors import BackendError
from agent.thinking import join_reasoning, reattach

logger = logging.getLogger(__name__)

DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
# vLLM and `transformers serve` accept any key; the client refuses to start without one.
NO_KEY = "EMPTY"
# The think/answer shape for vLLM structured outputs. `[^<>]` keeps the grammar simple for the regex
# engines vLLM uses (no lazy quantifiers) and stops each part at its closing tag.
THINK_ANSWER_REGEX = r"<think>\{[^<>]*\}</think>\n?<answer>\{[^<>]*\}</answer>"
# The client backs off at most 8 s between attempts (openai INITIAL/MAX_RETRY_DELAY); the outer guard
# allows for that so it only fires when something below ignores its own timeout.
_MAX_BACKOFF_S = 8.0


class _Secret:
    """Holds the API key so that no repr, log line or traceback locals print it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


class OpenAIBackend:
    """Chat completions against `base_url` (e.g. `http://127.0.0.1:8000/v1`) for `model`.

    - `api_key_env`: environment variable holding the key (default `OPENAI_API_KEY`); read once here
      and never logged. Servers that need no key get a placeholder.
    - `concurrency`: requests in flight at once (per event loop).
    - `timeout`: seconds per attempt; `max_retries`: the client's retries on connection errors,
      timeouts, 408/409/429 and 5xx, with exponential back-off.
    - `image_budget`: pre-resize screenshots to `smart_resize` of this `PixelBudget` (its family's
      tile) before sending, so the server's processor gets exactly the size it would produce and does
      not resample again; a family without a tile (InternVL) is sent as it is.
    - `structured_outputs`: ask vLLM to constrain decoding to the think/answer shape.
    - `chat_template_kwargs`: the chat template's switches for the checkpoint's family (Qwen3.5:
      `enable_thinking`), sent with every request as vLLM and `transformers serve` accept them.
    - `answer_prefix`: what the template's generation prompt opens (`"<think>\n"`), put back in front
      of every answer; an answer whose think block the server split into `reasoning_content` (or
      `reasoning`) is joined again (`agent.thinking`).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str = DEFAULT_API_KEY_ENV,
        concurrency: int = 8,
        timeout: float = 120.0,
        max_retries: int = 2,
        max_tokens: int = 1024,
        temperature: float = 0.0,
        image_budget: Any = None,
        structured_outputs: bool = False,
        extra_body: dict[str, Any] | None = None,
        chat_template_kwargs: dict[str, Any] | None = None,
        answer_prefix: str = "",
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"openai:{model}@{self.base_url}"
        self.api_key_env = api_key_env
        self._api_key = _Secret(os.environ.get(api_key_env) or NO_KEY)
        self.concurrency = concurrency
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.max_tokens = int(max_tokens)
        self.temperature = float(temperature)
        self.image_budget = image_budget
        self.structured_outputs = structured_outputs
        self.extra_body = dict(extra_body or {})
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self.answer_prefix = answer_prefix
        # Clients and semaphores belong to one event loop each; a sync caller may create several loops.
        self._per_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[Any, asyncio.Semaphore]
        ] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return (
            f"OpenAIBackend(base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key_env={self.api_key_env!r}, "
            f"concurrency={self.concurrency}, timeout={self.timeout}, max_retries={self.max_retries})"
        )

    def _state(self) -> tuple[Any, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        state = self._per_loop.get(loop)
        if state is None:
            import openai

            # One connection per request in flight: no request waits for a connection, and none are
            # opened beyond what the semaphore lets through.
            limits = type(openai.DEFAULT_CONNECTION_LIMITS)(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            )
            client = openai.AsyncOpenAI(
                base_url=self.base_url,
                api_key=self._api_key.get(),
                timeout=self.timeout,
                max_retries=self.max_retries,
                http_client=http_client_class()(limits=limits, timeout=self.timeout),
            )
            state = (client, asyncio.Semaphore(self.concurrency))
            self._per_loop[loop] = state
        return state

    async def _openai_messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Generic messages → OpenAI wire messages: image parts become `image_url` data URLs."""
        out: list[dict[str, Any]] = []
        for message in messages:
            content = message["content"]
            if isinstance(content, str):
                out.append({"role": message["role"], "content": content})
                continue
            parts: list[dict[str, Any]] = []
            for part in content:
                if part.get("type") == "image":
                    url = cached_image_data_url(part["image"], self.image_budget)
                    if url is None:  # decoding and resizing: off the event loop
                        url = await asyncio.to_thread(image_data_url, part["image"], self.image_budget)
                    parts.append({"type": "image_url", "image_url": {"url": url}})
                else:
                    parts.append(part)
            out.append({"role": message["role"], "content": parts})
        return out

    def request_body(self) -> dict[str, Any]:
        """Sampling parameters and extras sent with every request (messages excluded)."""
        body: dict[str, Any] = {"max_tokens": self.max_tokens, "temperature": self.temperature}
        extra = dict(self.extra_body)
        if self.chat_template_kwargs:
            extra.setdefault("chat_template_kwargs", dict(self.chat_template_kwargs))
        if self.structured_outputs:
            extra.setdefault("structured_outputs", {"regex": THINK_ANSWER_REGEX})
        if extra:
            body["extra_body"] = extra
        return body

    def wire_body(self, wire_messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The JSON body of one request: `request_body` with its extras merged in, as the client would."""
        body = {"model": self.model, "messages": wire_messages, **self.request_body()}
        extra = body.pop("extra_body", None)
        if extra:
            body.update(extra)  # the client's `extra_body` overrides the named parameters too
        return body

    async def acomplete(self, messages: list[dict[str, Any]], *, step: Any = None) -> Completion:
        """One chat completion; raises `BackendError` with a typed kind after the client's retries."""
        import openai

        try:
            wire = await self._openai_messages(messages)
        except OSError as exc:
            raise BackendError("bad_input", f"cannot read a screenshot for the request: {exc}") from exc
        body = _dumps(self.wire_body(wire))
        client, semaphore = self._state()
        # Per attempt `timeout`, `max_retries + 1` attempts, back-off between them.
        guard_s = (self.max_retries + 1) * (self.timeout + _MAX_BACKOFF_S) + 5.0
        async with semaphore:
            try:
                # Same endpoint, retries, timeouts and errors as `chat.completions.create`, without its
                # per-request parameter transform and response models (see the module docstring).
                response = await asyncio.wait_for(
                    client.post("/chat/completions", content=body, cast_to=object), timeout=guard_s
                )
            except (asyncio.TimeoutError, openai.APITimeoutError) as exc:
                cause = _refused_or_dropped(exc)
                if cause is not None:
                    raise BackendError(
                        "connection",
                        f"{self.base_url}: cannot connect after {self.max_retries} retries ({cause})",
                    ) from None
                raise BackendError(
                    "timeout",
                    f"{self.base_url}: no answer within {self.timeout:g} s per attempt "
                    f"after {self.max_retries} retries ({type(exc).__name__})",
                ) from None
            except openai.APIConnectionError as exc:
                raise BackendError(
                    "connection", f"{self.base_url}: cannot connect after {self.max_retries} retries ({exc})"
                ) from None
            except openai.APIStatusError as exc:
                kind = "http_5xx" if exc.status_code >= 500 else "http_4xx"
                detail = exc.body if exc.body is not None else exc.message
                raise BackendError(
                    kind, f"{self.base_url}: HTTP {exc.status_code} from the server: {_clip(str(detail))}"
                ) from None
            except openai.OpenAIError as exc:
                raise BackendError(
                    "bad_response", f"{self.base_url}: {type(exc).__name__}: {_clip(str(exc))}"
                ) from None
            except ValueError as exc:  # a 2xx answer whose body is not JSON
                raise BackendError(
                    "bad_response", f"{self.base_url}: answer is not JSON: {_clip(str(exc))}"
                ) from None
        return _completion_of(response, self.base_url, self.answer_prefix)

    async def aclose(self) -> None:
        """Close the client of the running event loop (others close with their loops)."""
        loop = asyncio.get_running_loop()
        state = self._per_loop.pop(loop, None)
        if state is not None:
            await state[0].close()


def http_client_class() -> Any:
    """openai's aiohttp-backed HTTP client when `aiohttp` is installed, else its default httpx one."""
    import openai

    try:
        import aiohttp  # noqa: F401 - only whether the transport can be used
    except ImportError:
        return openai.DefaultAsyncHttpxClient
    return openai.DefaultAioHttpClient


def _refused_or_dropped(exc: BaseException) -> BaseException | None:
    """The refused or dropped connection behind a client "timeout", if that is what it was.

    The aiohttp transport maps every `aiohttp.ClientConnectionError` (refused, reset, server
    disconnected) to a connect *timeout*; the original error is further down the exception chain.
    """
    try:
        import aiohttp
    except ImportError:
        return None
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        if isinstance(link, (TimeoutError, asyncio.TimeoutError)):
            return None
        if isinstance(link, aiohttp.ClientConnectionError):
            return link
        link = link.__cause__
    return None


def _dumps(body: dict[str, Any]) -> bytes:
    """The request body as UTF-8 JSON, the bytes the client itself would send (no spaces, no escaping).

    Screenshots make bodies hundreds of kilobytes; `orjson` encodes them about a hundred times faster
    than the standard library, which costs a millisecond or more per request.
    """
    return orjson.dumps(body)


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _field(obj: Any, name: str) -> Any:
    """`obj[name]` of a JSON object; None when missing or when `obj` is not an object."""
    return obj.get(name) if isinstance(obj, dict) else None


def _completion_of(response: Any, where: str, answer_prefix: str = "") -> Completion:
    """Text and usage from a chat completion's JSON; one without a text message is a `bad_response`.

    The text is the whole answer: a think block the server split out (`reasoning_content` from vLLM's
    reasoning parsers and `transformers serve`, `reasoning` from newer vLLM) is joined with the rest,
    and otherwise what the chat template opened (`answer_prefix`) is put back in front."""
    choices = _field(response, "choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    message = _field(first, "message") if first is not None else None
    if message is None or isinstance(message, (str, int, float, list)):
        raise BackendError(
            "bad_response",
            f"{where}: expected a chat completion with one choice, got {_clip(repr(response))}",
        )
    text = _field(message, "content")
    reasoning = next(
        (
            r
            for r in (_field(message, "reasoning_content"), _field(message, "reasoning"))
            if isinstance(r, str) and r
        ),
        None,
    )
    if reasoning is not None:
        text = join_reasoning(reasoning, text if isinstance(text, str) else None, answer_prefix)
    elif not isinstance(text, str):
        raise BackendError(
            "bad_response", f"{where}: expected message content as text, got {type(text).__name__}"
        )
    else:
        text = reattach(text, answer_prefix)
    usage: dict[str, int] = {}
    reported = _field(response, "usage")
    if reported is not None:
        for key in ("prompt_tokens", "completion_tokens"):
            value = _field(reported, key)
            if isinstance(value, int) and not isinstance(value, bool):
                usage[key] = value
    return Completion(text=text, usage=usage)
