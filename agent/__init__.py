"""The phone agent: prompt templates, backends, checkpoint metadata and the PhoneAgent.

Names are resolved on first use so that `import agent` loads no model library and opens no client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.agent import AgentResult, PhoneAgent
    from agent.checkpoint import CheckpointMeta
    from agent.errors import AgentError, BackendError
    from agent.prompt import build_messages
    from episodes.step import Step

_LAZY = {
    "PhoneAgent": "agent.agent",
    "AgentResult": "agent.agent",
    "AgentError": "agent.errors",
    "BackendError": "agent.errors",
    "build_messages": "agent.prompt",
    "Step": "episodes.step",
    "CheckpointMeta": "agent.checkpoint",
}

__all__ = [
    "AgentError",
    "AgentResult",
    "BackendError",
    "CheckpointMeta",
    "PhoneAgent",
    "Step",
    "build_messages",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'agent' has no attribute {name!r}")
