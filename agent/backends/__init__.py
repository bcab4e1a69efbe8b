"""Model backends for the PhoneAgent: an OpenAI-compatible endpoint, a local transformers model, recorded
answers (predictions) and scripted ones.

Backends are imported lazily so that `import agent.backends` opens no client and loads no model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.backends.base import Backend, Completion

if TYPE_CHECKING:
    from agent.backends.openai_backend import OpenAIBackend
    from agent.backends.predictions import PredictionsBackend
    from agent.backends.scripted import ScriptedBackend
    from agent.backends.transformers_backend import TransformersBackend

__all__ = [
    "Backend",
    "Completion",
    "OpenAIBackend",
    "PredictionsBackend",
    "ScriptedBackend",
    "TransformersBackend",
]

_LAZY = {
    "OpenAIBackend": "agent.backends.openai_backend",
    "PredictionsBackend": "agent.backends.predictions",
    "ScriptedBackend": "agent.backends.scripted",
    "TransformersBackend": "agent.backends.transformers_backend",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'agent.backends' has no attribute {name!r}")
