"""The PhoneAgent: one step in, one typed action in original pixels out.

step → the adapter's messages (`agent.adapters`; by default the seed format: `agent.prompt.build_messages`)
→ backend → the adapter's parser (by default `actions.parse_completion`) → the action mapped from the
model's coordinate space back to the screenshot's pixels. A failed call never raises out of
`astep`: it comes back as `AgentResult.error`, so an evaluation run records it and goes on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.backends.base import Backend
from agent.errors import AgentError, BackendError
from agent.prompt import DEFAULT_TEMPLATE, prompt_hash, screen_size_of
from episodes.step import Step

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentResult:
    """What the agent answered for one step.

    `action` is a typed `actions.Action` in original pixels, or None when the call failed (`error`, an
    `AgentError`) or the answer did not parse. `problems` names what was wrong with the answer's form
    (so a failed call has none). `think` is the parsed `<think>` JSON, `raw_text` the model's text,
    `usage` the token counts (`prompt_tokens`, `completion_tokens`), `latency_s` the wall time of the
    call, `prompt_hash` the hash of the messages sent.
    """

    action: Any | None
    think: dict[str, Any] | None
    raw_text: str
    problems: list[str] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    latency_s: float = 0.0
    error: AgentError | None = None
    prompt_hash: str = ""

    @property
    def ok(self) -> bool:
        """True when the call succeeded and the answer parsed to an action."""
        return self.error is None and self.action is not None


class PhoneAgent:
    """Calls a backend for steps, in the coordinate space and with the prompt a checkpoint was trained on.

    `budget` is the `actions.coords.PixelBudget` the server's processor uses; it decides the screen size
    stated in the prompt for `resized` and the mapping back. Actions keep the exact original-pixel values
    the answer maps to (a match protocol decides its own rounding); `round_coords` rounds them to integers.
    `adapter` (an `agent.adapters.base.Adapter`) asks another agent in its own prompt and grammar; without
    one the seed format with `template` and `coord_space` is used.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        template: str = DEFAULT_TEMPLATE,
        coord_space: str = "original",
        budget: Any = None,
        round_coords: bool = False,
        adapter: Any = None,
    ) -> None:
        from agent.adapters.phone_r1 import PhoneR1Adapter

        if adapter is None:
            adapter = PhoneR1Adapter(
                budget, template=template, coord_space=coord_space, round_coords=round_coords
            )
        self.backend = backend
        self.adapter = adapter
        self.template = template if adapter.name == "phone-r1" else adapter.name
        self.coord_space = adapter.coord_space
        self.budget = budget
        self.round_coords = round_coords
        self.template_hash = adapter.template_hash()
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return (
            f"PhoneAgent(backend={self.backend!r}, template={self.template!r}, "
            f"coord_space={self.coord_space!r}, budget={self.budget!r}, adapter={self.adapter.name!r})"
        )

    @classmethod
    def from_endpoint(
        cls,
        base_url: str,
        model: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        template: str = DEFAULT_TEMPLATE,
        coord_space: str = "original",
        budget: Any = None,
        concurrency: int = 8,
        timeout: float = 120.0,
        max_retries: int = 2,
        max_tokens: int = 1024,
        temperature: float = 0.0,
        resize_images: bool = False,
        structured_outputs: bool = False,
        extra_body: dict[str, Any] | None = None,
        adapter: Any = None,
        chat_template_kwargs: dict[str, Any] | None = None,
        answer_prefix: str = "",
    ) -> PhoneAgent:
        """An agent on an OpenAI-compatible endpoint (`base_url` ends in `/v1`).

        `resize_images` sends screenshots already resized to `budget` (same pixels the server's
        processor would produce, fewer bytes); `structured_outputs` constrains vLLM's decoding to the
        think/answer shape; `chat_template_kwargs` and `answer_prefix` come from the checkpoint's
        `phone_r1.json` (`agent.thinking`). See `agent.backends.openai_backend.OpenAIBackend` for the rest.
        """
        from agent.backends.openai_backend import OpenAIBackend

        if resize_images and budget is None:
            from actions.coords import DEFAULT_BUDGET

            budget = DEFAULT_BUDGET
        backend = OpenAIBackend(
            base_url,
            model,
            api_key_env=api_key_env,
            concurrency=concurrency,
            timeout=timeout,
            max_retries=max_retries,
            max_tokens=max_tokens,
            temperature=temperature,
            image_budget=budget if resize_images else None,
            structured_outputs=structured_outputs,
            extra_body=extra_body,
            chat_template_kwargs=chat_template_kwargs,
            answer_prefix=answer_prefix,
        )
        return cls(backend, template=template, coord_space=coord_space, budget=budget, adapter=adapter)

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, *, device: str = "cpu", max_new_tokens: int = 512, **backend_kwargs: Any
    ) -> PhoneAgent:
        """An agent on a local transformers model; template, coordinate space, budget and the chat
        template's switches come from the checkpoint's `phone_r1.json` (without one: defaults, the
        family its `config.json` names and the processor's saved budget), by the rule every command
        uses (`agent.checkpoint.resolve_settings`, through `agent.spec`)."""
        from agent.backends.transformers_backend import TransformersBackend
        from agent.checkpoint import resolve_settings

        meta, _ = resolve_settings(path)
        budget = meta.budget
        backend_kwargs.setdefault("chat_template_kwargs", meta.chat_template_kwargs)
        backend = TransformersBackend(
            path, device=device, budget=budget, max_new_tokens=max_new_tokens, **backend_kwargs
        )
        return cls(backend, template=meta.prompt_template, coord_space=meta.coord_space, budget=budget)

    def messages(self, step: Step) -> list[dict[str, Any]]:
        """The generic chat messages this agent sends for `step`."""
        return self.adapter.messages(step, screen_size_of(step))

    async def astep(self, step: Step) -> AgentResult:
        """Ask the backend about one step. Never raises for a failed call or an unreadable answer."""
        try:
            screen = screen_size_of(step)
            if step.screen_size is None:  # read the header once, not again inside build_messages
                step = dataclasses.replace(step, screen_size=screen)
            messages = self.messages(step)
        except (OSError, ValueError) as exc:
            # An unreadable screenshot or a bad template: nothing was sent, so the step records why.
            return AgentResult(
                None, None, "", error=AgentError("bad_input", f"{step.source or step.step_id}: {exc}")
            )
        digest = prompt_hash(messages)
        started = time.perf_counter()
        try:
            completion = await self.backend.acomplete(messages, step=step)
        except BackendError as exc:
            latency = time.perf_counter() - started
            logger.warning("step %s: %s", step.step_id, exc.error.message)
            return AgentResult(None, None, "", latency_s=latency, error=exc.error, prompt_hash=digest)
        latency = time.perf_counter() - started
        reading = self.adapter.parse(completion.text, screen)
        return AgentResult(
            action=reading.action,
            think=reading.think,
            raw_text=completion.text,
            problems=list(reading.problems),
            usage=dict(completion.usage),
            latency_s=latency,
            error=None,
            prompt_hash=digest,
        )

    async def astep_many(self, steps: list[Step]) -> list[AgentResult]:
        """All steps concurrently (the backend bounds how many calls are in flight), results in order."""
        return list(await asyncio.gather(*(self.astep(step) for step in steps)))

    def step(self, step: Step) -> AgentResult:
        """Synchronous `astep` for scripts; not for use inside a running event loop."""
        return self._run(self.astep(step))

    def close(self) -> None:
        """Release the backend's clients and the private event loop of the synchronous API."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.run_until_complete(self.backend.aclose())
            self._loop.close()
        self._loop = None

    async def aclose(self) -> None:
        await self.backend.aclose()

    def _run(self, coroutine: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            coroutine.close()
            raise RuntimeError(
                "PhoneAgent.step() called inside a running event loop; await agent.astep() instead"
            )
        # One loop for the agent's lifetime keeps the backend's connection pool alive between steps.
        if self._loop is None or self._loop.is_closed():
            from agent.loop import new_event_loop

            self._loop = new_event_loop()
        return self._loop.run_until_complete(coroutine)

    def __enter__(self) -> PhoneAgent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
