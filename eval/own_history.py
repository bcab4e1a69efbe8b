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

The history of step k is built by `episodes.history` (the builder semi-online training uses too): the
first step's recorded history followed by one entry per earlier step, the agent's own description or
`describe_action` of its typed action. Episodes run
concurrently, steps within one episode in order. Each record also carries the history the agent saw,
which of its entries were the agent's own, the episode's length and whether the episode stopped there,
so a killed run resumes exactly where it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from actions.vocab import HISTORY_MODES
from episodes.history import describe_action, gold_description, group_episodes, with_history
from eval.loop import Evaluation, RunSummary, require_gold
from eval.record import OwnHistory, StepResult

# Re-exported: the builder lives in the episodes layer so training asks the same prompts.
__all__ = ["OWN_MODES", "describe_action", "gold_description", "run_own_history", "with_history"]

OWN_MODES = tuple(mode for mode in HISTORY_MODES if mode != "gold")


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
) -> RunSummary:
    """Run every episode of `steps` in `mode` (`own` or `own-patched`), `concurrency` episodes at once.

    `limit` takes the episodes that hold the first `limit` steps (whole episodes). Records already in
    `writer.done` are replayed instead of asked (their stored history entry and verdict decide what
    comes next), except failed requests when `retry_errors`.
    """
    if mode not in OWN_MODES:
        raise ValueError(f"mode: expected one of {list(OWN_MODES)}, found {mode!r}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    run = Evaluation(
        agent,
        writer,
        protocol=protocol,
        retry_errors=retry_errors,
        rewards=rewards,
        history=mode,
        progress=progress,
    )
    summary = run.summary

    def units() -> Iterator[list[Any]]:
        for episode in group_episodes(steps):
            if limit is not None and summary.total >= limit:
                return
            for step in episode:
                require_gold(step)
            summary.episodes += 1
            summary.total += len(episode)
            yield episode

    async def run_episode(episode: list[Any]) -> None:
        history = list(episode[0].history)
        own: list[bool] = [False] * len(history)
        for position, step in enumerate(episode):
            stored = run.stored(step)
            if stored is not None:
                run.replay(stored)
                record = StepResult.from_json(stored)
            else:
                asked = with_history(step, history)
                result, record = await run.ask(asked)
                matched = record.correct
                own_entry = result.action is not None and matched
                record = record.with_own(
                    OwnHistory(
                        history=list(history),
                        history_own=list(own),
                        position=position,
                        episode_length=len(episode),
                        stopped=not matched and mode == "own",
                        # What this step adds to the next step's history, and whose it is.
                        next_history=describe_action(result.action, step.labels)
                        if own_entry
                        else gold_description(step),
                        next_history_own=own_entry,
                    )
                )
                run.write(record)
            if record.own is None:
                raise ValueError(
                    f"{writer.path}: step {step.step_id} has no own-history fields; the file was not written "
                    "by an own-history run"
                )
            if record.own.stopped:
                summary.not_reached += len(episode) - position - 1
                return
            history.append(record.own.next_history)
            own.append(record.own.next_history_own)

    return await run.run(units(), run_episode, concurrency)
