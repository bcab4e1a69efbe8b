"""The worker loop of an evaluation run: a pool of workers over units that are steps or episodes.

A teacher-forced run (`run_eval`) gives every step its gold history, so steps are independent: the
unit is one step and steps run in any order. An own-history run (`eval.own_history`) asks an
episode's steps in order, each with the agent's earlier answers: the unit is one episode. Both go
through `Evaluation`: `concurrency` workers pull units from a bounded queue (memory does not grow with
the test set), a step already in the results file is replayed instead of asked (failed ones are asked
again with `retry_errors`), every step must have a gold action, every record is appended as soon as
it is done, and one `RunSummary` counts what happened.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from eval.partial_reward import RewardMix
from eval.record import StepResult, score_step
from eval.results import ResultsWriter, RunHeader, step_correct

U = TypeVar("U")


@dataclass
class RunSummary:
    """What one run did, over the steps in scope (after `limit`)."""

    history: str = "gold"
    total: int = 0  # steps in scope
    skipped: int = 0  # already in the results file
    ran: int = 0  # asked in this run
    failed: int = 0  # asked in this run and the request failed
    errors: dict[str, int] = field(default_factory=dict)  # error kind -> steps whose latest record failed
    correct: int = 0  # over all steps in scope, old and new
    episodes: int = 0  # own-history runs: episodes in scope
    not_reached: int = 0  # `own` runs: steps after an episode stopped
    invalid: int = 0  # malformed step records skipped (`eval run --skip-invalid`)
    wall_s: float = 0.0
    step_ids: list[str] = field(default_factory=list)  # the steps in scope, in first-seen order

    @property
    def sr(self) -> float | None:
        """Right steps over all steps in scope, before the protocol's denominator rule; what a run reports
        is `eval.run.run_sr` (the protocol's rule, the number `eval report` and `eval rescore` give)."""
        return self.correct / self.total if self.total else None

    @property
    def every_request_failed(self) -> bool:
        """True when the run asked something and every request failed (a dead endpoint)."""
        return self.ran > 0 and self.failed == self.ran


def make_header(
    agent: Any,
    *,
    model: str,
    endpoint: str,
    protocol: str,
    rewards: RewardMix | None = None,
    history: str = "gold",
    episodes: str | None = None,
    fingerprint: str | None = None,
    extra: dict[str, Any] | None = None,
) -> RunHeader:
    """The results header for a `PhoneAgent`'s adapter, template, coordinate space, pixel budget and
    rewards; `extra` adds fields (the checkpoint the settings came from, overrides)."""
    from actions.coords import DEFAULT_BUDGET

    budget = agent.budget or DEFAULT_BUDGET
    return RunHeader(
        model=model,
        endpoint=endpoint,
        template_hash=agent.template_hash,
        coord_space=agent.coord_space,
        min_pixels=int(budget.min_pixels),
        max_pixels=int(budget.max_pixels),
        protocol=protocol,
        history=history,
        agent=agent.adapter.name,
        template=agent.template,
        episodes=episodes,
        episodes_fingerprint=fingerprint,
        extra={**(rewards or RewardMix.build()).to_json(), **(extra or {})},
    )


def require_gold(step: Any) -> None:
    """Refuse a step without a gold action: it cannot be scored."""
    if step.gold is None:
        raise ValueError(f"{step.source or step.step_id}: evaluation needs a gold action, found none")


def limited(steps: Iterable[Any], limit: int | None) -> Iterator[Any]:
    """The first `limit` steps (all when None)."""
    for i, step in enumerate(steps):
        if limit is not None and i >= limit:
            return
        yield step


async def run_pool(units: Iterable[U], handle: Callable[[U], Awaitable[None]], *, concurrency: int) -> None:
    """`handle` every unit with `concurrency` workers; the producer waits while the queue is full."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=2 * concurrency)
    done = object()

    async def produce() -> None:
        for unit in units:
            await queue.put(unit)
        for _ in range(concurrency):
            await queue.put(done)

    async def work() -> None:
        while (unit := await queue.get()) is not done:
            await handle(unit)

    await asyncio.gather(produce(), *(work() for _ in range(concurrency)))


class Evaluation:
    """One run's asking, scoring, writing and counting, whatever its unit.

    `agent` is anything with `async astep(step) -> AgentResult` (its `coord_space` and `budget`, when
    it has them, decide how the partial reward reads coordinates); `writer.done` holds the records of
    an earlier run of the same file.
    """

    def __init__(
        self,
        agent: Any,
        writer: ResultsWriter,
        *,
        protocol: str = "box",
        retry_errors: bool = False,
        rewards: RewardMix | None = None,
        history: str = "gold",
        progress: bool = True,
        total: int | None = None,
    ) -> None:
        from tqdm.auto import tqdm

        self.agent = agent
        self.writer = writer
        self.protocol = protocol
        self.retry_errors = retry_errors
        self.rewards = rewards or RewardMix.build()
        self.coord_space = getattr(agent, "coord_space", "original")
        self.budget = getattr(agent, "budget", None)
        self.adapter_name = getattr(getattr(agent, "adapter", None), "name", None)
        self.summary = RunSummary(history=history)
        self.progress = progress
        self._correct: dict[str, bool] = {}
        self._errors: dict[str, str] = {}
        self._n_correct = 0  # running sum of `_correct`, so the live SR costs O(1) per step
        desc = "eval" if history == "gold" else f"eval ({history} history)"
        self.bar = tqdm(total=total, desc=desc, unit="step", disable=not progress, dynamic_ncols=True)
        self._started = time.perf_counter()

    def stored(self, step: Any) -> dict[str, Any] | None:
        """The earlier record to replay for `step`, or None when it must be asked (again)."""
        done = self.writer.done.get(step.step_id)
        if done is None or (self.retry_errors and done.get("error")):
            return None
        return done

    async def ask(self, step: Any) -> tuple[Any, StepResult]:
        """Ask the agent about `step`: its `AgentResult` and the scored record (not yet written)."""
        result = await self.agent.astep(step)
        record = score_step(
            step,
            result,
            self.protocol,
            self.rewards,
            coord_space=self.coord_space,
            budget=self.budget,
            adapter_name=self.adapter_name,
        )
        return result, record

    def write(self, record: StepResult) -> dict[str, Any]:
        """Append a new record and count it; returns its JSON."""
        data = record.to_json()
        self.writer.write(data)
        self.summary.ran += 1
        if record.error is not None:
            self.summary.failed += 1
        self.note(data)
        return data

    def replay(self, record: dict[str, Any]) -> None:
        """Count a record of an earlier run as this run's answer for its step."""
        self.summary.skipped += 1
        self.note(record)

    def note(self, record: dict[str, Any]) -> None:
        step_id = record["step_id"]
        ok = step_correct(record)
        if step_id not in self._correct:
            self.summary.step_ids.append(step_id)
        self._n_correct += ok - self._correct.get(step_id, False)
        self._correct[step_id] = ok
        if record.get("error"):
            self._errors[step_id] = record["error"]["kind"]
        else:
            self._errors.pop(step_id, None)
        self.bar.update(1)
        if self.progress:
            self.bar.set_postfix(
                SR=f"{self._n_correct / len(self._correct):.3f}", errors=len(self._errors), refresh=False
            )

    async def run(
        self, units: Iterable[U], handle: Callable[[U], Awaitable[None]], concurrency: int
    ) -> RunSummary:
        """Handle every unit in the pool, then settle the summary."""
        try:
            await run_pool(units, handle, concurrency=concurrency)
        finally:
            self.bar.close()
        summary = self.summary
        summary.correct = self._n_correct
        summary.errors = {}
        for kind in self._errors.values():
            summary.errors[kind] = summary.errors.get(kind, 0) + 1
        summary.wall_s = time.perf_counter() - self._started
        return summary


async def run_eval(
    agent: Any,
    steps: Iterable[Any],
    writer: ResultsWriter,
    *,
    protocol: str = "box",
    concurrency: int = 32,
    retry_errors: bool = False,
    limit: int | None = None,
    total: int | None = None,
    progress: bool = True,
    rewards: RewardMix | None = None,
) -> RunSummary:
    """Teacher forcing: ask `agent` about every step not yet done, `concurrency` steps at once.

    Steps already in `writer.done` are replayed, except failed ones when `retry_errors`. Each record is
    written as soon as its step finishes. `total` (the number of steps, for the progress bar) and
    `rewards` (the partial reward's mix; default: format and action, weighed equally) are optional.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    bar_total = min(total, limit) if total is not None and limit is not None else (limit or total)
    run = Evaluation(
        agent,
        writer,
        protocol=protocol,
        retry_errors=retry_errors,
        rewards=rewards,
        progress=progress,
        total=bar_total,
    )

    def units() -> Iterator[Any]:
        for step in limited(steps, limit):
            run.summary.total += 1
            stored = run.stored(step)
            if stored is not None:
                run.replay(stored)
                continue
            require_gold(step)
            yield step

    async def handle(step: Any) -> None:
        _, record = await run.ask(step)
        run.write(record)

    return await run.run(units(), handle, concurrency)
