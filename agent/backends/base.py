"""What the agent needs from a model: chat messages in, completion text and token usage out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from episodes.step import Step


@dataclass(frozen=True)
class Completion:
    """One model answer: the generated text and the token counts the server reported."""

    text: str
    usage: dict[str, int] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """A chat model. `acomplete` raises `agent.errors.BackendError` once its own retries are spent."""

    name: str

    async def acomplete(self, messages: list[dict[str, Any]], *, step: Step | None = None) -> Completion:
        """Answer generic chat messages (`agent.prompt.build_messages` layout) built for `step`.

        `step` is the `episodes.step.Step` the messages ask about (None when there is none); a
        backend answering from recorded outputs looks its answer up by `step.step_id`.
        """
        ...

    async def aclose(self) -> None:
        """Release clients or models; the backend may be used again afterwards."""
        ...
