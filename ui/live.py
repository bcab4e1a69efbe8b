""" "Run this step": ask the configured endpoint about the shown step through `PhoneAgent` and score
the new answer with the same matcher the eval uses.

The agent is built once per app from `LiveConfig`; tests pass their own factory. The API key is read
from the environment variable the user names and never shown or logged.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from episodes.step import Step

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveConfig:
    """Where "Run this step" sends the step. `run_header` is the shown results file's header, whose
    coordinate space, pixel budget and protocol the live call reuses so both answers are comparable."""

    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    run_header: dict[str, Any] | None = None
    # The checkpoint whose phone_r1.json the live call must match (default: the one the header names).
    checkpoint_meta: Path | None = None
    override_checkpoint_meta: bool = False
    agent: str | None = None  # adapter name (agent.adapters); default: the shown run's, else the default

    @property
    def protocol(self) -> str:
        return str((self.run_header or {}).get("protocol") or "box")


@dataclass(frozen=True)
class LiveAnswer:
    action: Any | None
    markdown: str
    raw: str


def unavailable_reason(config: LiveConfig) -> str | None:
    """Why "Run this step" cannot run with this configuration, or None when it can."""
    if not config.base_url:
        return "No endpoint configured: start the UI with --base-url URL --model NAME to run steps live."
    if not config.model:
        return f"No model name for {config.base_url}: add --model NAME."
    if config.api_key_env and not os.environ.get(config.api_key_env):
        return f"Environment variable {config.api_key_env} (from --api-key-env) is not set."
    from agent.checkpoint import CheckpointMismatchError

    try:
        live_spec(config)
    except CheckpointMismatchError as exc:
        return f"The shown run's settings differ from the checkpoint's: {exc}"
    except ValueError as exc:
        return f"The live step cannot ask this agent: {exc}"
    return None


def live_spec(config: LiveConfig) -> Any:
    """The `AgentSpec` of the live call: the shown run's agent (or `config.agent`), with the run's
    pixel budget and, for a run in the seed format, its template and coordinate space, checked against
    the checkpoint's `phone_r1.json` (`--checkpoint-meta`, else the checkpoint the header names) by the
    rule every command uses; raises `CheckpointMismatchError` unless overriding."""
    from agent.spec import default_adapter, resolve_spec

    header = config.run_header or {}
    default = default_adapter()
    # Another agent's run records its own grammar's template and space; only the budget is comparable.
    seed_run = (header.get("agent") or default) == default
    return resolve_spec(
        config.checkpoint_meta or header.get("checkpoint"),
        allow_override=config.override_checkpoint_meta,
        template=header.get("template") if seed_run else None,
        coord_space=header.get("coord_space") if seed_run else None,
        min_pixels=header.get("min_pixels"),
        max_pixels=header.get("max_pixels"),
        adapter=config.agent or header.get("agent") or default,
        engine="endpoint",
        location=config.base_url,
        model=config.model,
        api_key_env=config.api_key_env,
    )


def endpoint_agent(config: LiveConfig) -> Any:
    """A `PhoneAgent` on the configured endpoint, asked with the shown run's template, coordinate space
    and pixel budget (from its results header, checked against the checkpoint) so the live answer is
    comparable with the stored one; in the shown run's agent grammar unless `config.agent` names one."""
    return live_spec(config).build_agent()


AgentFactory = Callable[[LiveConfig], Any]


def _score(action: Any, step: Step, protocol: str, answer: Any = None) -> tuple[str, str]:
    """(verdict line, action reward) of a live answer against the step's gold, judged as `eval run`
    judges (`eval.record.judge`, the raw `answer` included)."""
    if step.gold is None or step.screen_size is None:
        return "no gold action to compare with", "—"
    if action is None and answer is None:
        return "✘ wrong — answer did not parse", "0.000"
    from actions import action_score
    from actions.protocols import MissingContext
    from eval.record import judge

    breakdown = action_score(action if action is not None else "", step.gold, step.screen_size)
    try:
        verdict = judge(step, action, protocol, answer=answer)
    except MissingContext as err:
        return f"not judged — {err}", f"{breakdown.total:.3f}"
    mark = "✔ correct" if verdict["correct"] else "✘ wrong"
    return f"{mark} — {verdict['reason']}", f"{breakdown.total:.3f}"


async def run_live(
    agent: Any, step: Step, *, protocol: str = "box", title: str = "Live answer"
) -> LiveAnswer:
    """Run `agent.astep(step)` and describe the answer (verdict, reward, think, problems, latency)."""
    result = await agent.astep(step)
    lines = [f"### {title} (orange)"]
    if result.error is not None:
        lines.append(f"**Verdict:** ⚠ error ({result.error.kind}): {result.error.message}")
        return LiveAnswer(None, "\n\n".join(lines), result.raw_text or "")
    from eval.raw_answer import answer_of

    action = result.action
    adapter = getattr(getattr(agent, "adapter", None), "name", None)
    answer = None
    if step.screen_size is not None:
        answer = answer_of(
            result.raw_text, adapter, step.screen_size, agent.coord_space, getattr(agent, "budget", None)
        )
    verdict, reward = _score(action, step, protocol, answer)
    wire = json.dumps(action.to_json(), ensure_ascii=False) if action is not None else "—"
    lines += [f"**Verdict:** {verdict}", f"**Prediction:** `{wire}`", f"**Action reward:** {reward}"]
    if result.problems:
        lines.append("**Problems:** " + ", ".join(map(str, result.problems)))
    from ui.views import think_block

    lines.append("**Think**\n\n" + think_block(result.think))
    usage = ", ".join(f"{k} {v}" for k, v in (result.usage or {}).items())
    lines.append(f"_latency {result.latency_s:.2f} s; {usage}_")
    return LiveAnswer(action, "\n\n".join(lines), result.raw_text or "")
