"""A backend that answers from a function: dry runs, replays of recorded outputs, and tests."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from agent.backends.base import Completion

Answer = str | Completion


class ScriptedBackend:
    """Answers each request with `respond(messages)`, which returns text or a `Completion`.

    `respond` may be async and may raise `agent.errors.BackendError` to simulate a failed call.
    Every request's messages are kept in `requests` for inspection.
    """

    def __init__(
        self, respond: Callable[[list[dict[str, Any]]], Answer | Awaitable[Answer]], name: str = "scripted"
    ) -> None:
        self.respond = respond
        self.name = name
        self.requests: list[list[dict[str, Any]]] = []

    def __repr__(self) -> str:
        return f"ScriptedBackend(name={self.name!r})"

    async def acomplete(self, messages: list[dict[str, Any]], *, step: Any = None) -> Completion:
        self.requests.append(messages)
        answer = self.respond(messages)
        if inspect.isawaitable(answer):
            answer = await answer
        return answer if isinstance(answer, Completion) else Completion(text=str(answer))

    async def aclose(self) -> None:
        return None
