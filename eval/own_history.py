"""Own-history evaluation: each step is asked with the agent's own earlier answers as its history.

Teacher-forced step accuracy gives every step the gold history, so one wrong step never affects the
next; whether the agent finishes a task living with its own answers is another question, and the two
rank models differently. On recorded episodes (no emulator) the recorded screens stay valid only while
the agent's actions match the gold, so:

- `own`: an episode runs step by step; step k's `history_path_all` holds the descriptions of the
  agent's answers at the episode's steps before k, and the episode stops at its first mismatch (or
  failed request), as in UI-S1's semi-online evaluation;
- `own-patched`: a mismatched step is recorded, then its gold description takes its place in the
  history and the episode goes on, so every step gets a verdict on a history holding the agent's own
  earlier right answers.

The history of step k is the first step's recorded history (what happened before the episode's first
recorded step) followed by one entry per earlier step: the description the agent wrote
(`action_description`), or, when it wrote none, `describe_action` of its typed action. Episodes run
concurrently, steps within one episode in order. Each record also carries the history the agent saw,
which of its entries were the agent's own, the episode's length and whether the episode stopped there,
so a killed run resumes exactly where it was.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterable, Iterator
from typing import Any

from actions.vocab import HISTORY_MODES

OWN_MODES = tuple(mode for mode in HISTORY_MODES if mode != "gold")


def describe_action(action: Any, labels: dict[str, str] | None = None) -> str:
    """The history entry for an answer: its own description, else one built from the typed action.

    `labels` is the step's `action_type_list` (the names the prompt uses for each type, e.g. 点击), so
    the generated entry reads like the recorded ones ("点击 (540,1210)", "输入充电宝").
    """
    if action.description:
        return str(action.description)
    label = (labels or {}).get(action.action_type, action.action_type)
    kind = action.action_type
    if kind in ("click", "long_click"):
        x, y = action.point
        return f"{label} ({round(x)},{round(y)})"
    if kind == "swipe":
        from actions.directions import main_direction

        return f"{label} {main_direction(action.start, action.end, unit='pixel', zero='up')}"
    text = getattr(action, "text", None) or getattr(action, "app", None)
    if text:
        return f"{label}{text}"
    return label


def gold_description(step: Any) -> str:
    return describe_action(step.gold, step.labels)


def _episodes(steps: Iterable[Any]) -> Iterator[list[Any]]:
    """Steps grouped by episode, in index order; readers give each episode's steps together."""
    current: list[Any] = []
    for step in steps:
        if current and step.episode_id != current[0].episode_id:
            yield sorted(current, key=lambda s: s.index)
            current = []
        current.append(step)
    if current:
        yield sorted(current, key=lambda s: s.index)


def with_history(step: Any, history: list[str]) -> Any:
    """`step` asked with `history` instead of its recorded one (its input JSON is derived from it)."""
    return dataclasses.replace(step, history=list(history))


@dataclasses.dataclass
class OwnSummary:
    """What one own-history run did: steps and episodes in scope, asked, resumed."""

    episodes: int = 0
    total: int = 0  # steps in the episodes in scope
    ran: int = 0
    skipped: int = 0  # answered in an earlier run of the same file
    not_reached: int = 0  # after an `own` episode stopped
    correct: int = 0
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    wall_s: float = 0.0


async def run_own_history(
    agent: Any,
    steps: Iterable[Any],
    writer: Any,
    *,
    mode: str,
    protocol: str = "box",
    concurrency: int = 32,
    retry_errors: bool = False,
    limit: int | None = None,
    progress: bool = True,
    rewards: Any = None,
) -> OwnSummary:
    """Run every episode of `steps` in `mode` (`own` or `own-patched`), `concurrency` episodes at once.

    `limit` takes the episodes that hold the first `limit` steps (whole episodes). Records already in
    `writer.done` are replayed instead of asked (their stored history entry and verdict decide what
    comes next), except failed requests when `retry_errors`.
    """
    from tqdm.auto import tqdm

    from eval.results import step_correct
    from eval.runner import build_record

    if mode not in OWN_MODES:
        raise ValueError(f"mode: expected one of {list(OWN_MODES)}, found {mode!r}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    coord_space, budget = getattr(agent, "coord_space", "original"), getattr(agent, "budget", None)
    summary = OwnSummary()
    started = time.perf_counter()
    queue: asyncio.Queue[list[Any] | None] = asyncio.Queue(maxsize=2 * concurrency)
    bar = tqdm(desc=f"eval ({mode} history)", unit="step", disable=not progress, dynamic_ncols=True)

    async def produce() -> None:
        for episode in _episodes(steps):
            if limit is not None and summary.total >= limit:
                break
            for step in episode:
                if step.gold is None:
                    raise ValueError(
                        f"{step.source or step.step_id}: evaluation needs a gold action, found none"
                    )
            summary.episodes += 1
            summary.total += len(episode)
            await queue.put(episode)
        for _ in range(concurrency):
            await queue.put(None)

    async def run_episode(episode: list[Any]) -> None:
        history = list(episode[0].history)
        own: list[bool] = [False] * len(history)
        for position, step in enumerate(episode):
            done = writer.done.get(step.step_id)
            if done is not None and not (retry_errors and done.get("error")):
                record = done
                summary.skipped += 1
            else:
                asked = with_history(step, history)
                result = await agent.astep(asked)
                record = build_record(
                    asked, result, protocol, rewards, coord_space=coord_space, budget=budget
                )
                matched = step_correct(record)
                stops = not matched and mode == "own"
                own_entry = result.action is not None and matched
                record.update(
                    history=list(history),
                    history_own=list(own),
                    position=position,
                    episode_length=len(episode),
                    stopped=stops,
                    # What this step adds to the next step's history, and whose it is.
                    next_history=describe_action(result.action, step.labels)
                    if own_entry
                    else gold_description(step),
                    next_history_own=own_entry,
                )
                writer.write(record)
                summary.ran += 1
            bar.update(1)
            if step_correct(record):
                summary.correct += 1
            elif record.get("error"):
                kind = record["error"]["kind"]
                summary.errors[kind] = summary.errors.get(kind, 0) + 1
            if record.get("stopped"):
                summary.not_reached += len(episode) - position - 1
                return
            history.append(record["next_history"])
            own.append(bool(record["next_history_own"]))

    async def work() -> None:
        while (episode := await queue.get()) is not None:
            await run_episode(episode)

    try:
        await asyncio.gather(produce(), *(work() for _ in range(concurrency)))
    finally:
        bar.close()
    summary.wall_s = time.perf_counter() - started
    return summary
