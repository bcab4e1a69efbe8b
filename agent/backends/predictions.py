"""A backend answering with completions produced elsewhere: JSONL of `{"step_id", "raw"}`.

The agent passes the step it asks about, so each answer is looked up by `step.step_id`, and the
agent's own parsing and coordinate mapping score these answers exactly as they would a live model's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent.backends.base import Completion
from agent.errors import BackendError


class PredictionsBackend:
    """Recorded answers, read once; a step without one is a `bad_response` error for that step."""

    name = "predictions"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.raw: dict[str, str] = {}
        with open(self.path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                    self.raw[str(obj["step_id"])] = str(obj["raw"])
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise ValueError(
                        f"{self.path}:{number}: expected a JSON object with 'step_id' and 'raw', found "
                        f"{line[:80]!r}"
                    ) from exc

    async def acomplete(self, messages: list[dict[str, Any]], *, step: Any = None) -> Completion:
        step_id = step.step_id if step is not None else None
        if step_id is None or step_id not in self.raw:
            raise BackendError("bad_response", f"{self.path}: no prediction for step {step_id!r}")
        return Completion(text=self.raw[step_id])

    async def aclose(self) -> None:
        return None
