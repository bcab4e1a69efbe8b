"""Typed failures of a model call: what an agent records for a step instead of raising."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from actions.vocab import ERROR_KINDS

__all__ = ["ERROR_KINDS", "AgentError", "BackendError"]


@dataclass(frozen=True)
class AgentError:
    """Why a step got no completion. `kind` is one of `ERROR_KINDS`; `message` is for people."""

    kind: str
    message: str

    def __post_init__(self) -> None:
        if self.kind not in ERROR_KINDS:
            raise ValueError(f"AgentError.kind must be one of {ERROR_KINDS}, got {self.kind!r}")

    def to_json(self) -> dict[str, Any]:
        """The `error` object of a results record."""
        return asdict(self)


class BackendError(Exception):
    """Raised by a backend after its own retries are spent; the agent turns it into `AgentResult.error`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.error = AgentError(kind, message)
