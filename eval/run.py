"""`phone-r1 eval run`: wire the episodes, the agent spec and the results file; print; set the exit status.

The work itself is elsewhere: the agent and its settings come from `agent.spec` (one rule for flags and
the checkpoint's `phone_r1.json`), the worker loop from `eval.loop` (teacher forcing) and
`eval.own_history` (own history), the scoring from `eval.record`, the file from `eval.results`.

Exit status: 0 when the run finished, 2 for bad input (a flag, a malformed step, a results file made
with other settings or on other episodes), 1 when the run asked something and every request failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

PROG = "phone-r1 eval run"
# Malformed steps named one per line before the run starts (the rest are counted).
SHOWN_INVALID = 5
# How episodes are judged unless `--protocol` names another (a grounding set's default is its card's).
DEFAULT_PROTOCOL = "box"


@dataclass
class EpisodeSet:
    """The steps an evaluation reads, checked once before any model call.

    `golds` (`eval.results.step_golds`) gives the fingerprint and checks files from older runs;
    `invalid` names each malformed record skipped under `skip_invalid` (without it the first one is a
    ValueError naming file and line).
    """

    root: Path
    skip_invalid: bool = False
    golds: dict[str, str] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)

    @classmethod
    def scan(cls, root: Path, *, skip_invalid: bool, protocol: str) -> EpisodeSet:
        """Read every step once: malformed records, gold actions, and the gold context `protocol` needs."""
        from eval.results import step_golds

        found = cls(Path(root), skip_invalid)
        checked = check_context(found.steps(), protocol)
        found.golds = step_golds(checked)
        if not found.golds and not found.invalid:
            raise ValueError(
                f"{root}: no steps found (expected ROOT/<episode>/step_<n>.json or a converted JSONL)"
            )
        return found

    @property
    def fingerprint(self) -> str:
        from eval.results import golds_fingerprint

        return golds_fingerprint(self.golds)

    def steps(self) -> Iterator[Any]:
        """The valid steps in seed order; malformed ones raise, or are skipped and named in `invalid`."""
        from episodes.readers import iter_step_records

        self.invalid = []
        for rec in iter_step_records(self.root):
            error = rec.strict_error()
            if error is None and rec.step is not None:
                yield rec.step
            elif self.skip_invalid:
                self.invalid.append(str(error))
            else:
                raise error if error is not None else ValueError(f"{self.root}: unreadable step record")


def check_context(steps: Any, protocol: str) -> Iterator[Any]:
    """The steps, each checked for the gold context `protocol` needs: every gold action is judged
    against itself, which reaches every context the protocol reads for that step (`MissingContext`, a
    ValueError, before any model call)."""
    from actions import match_step
    from agent.prompt import screen_size_of

    for step in steps:
        if protocol != "box" and step.gold is not None:  # `box` needs no context
            match_step(
                step.gold,
                step.gold,
                screen_size_of(step),
                protocol,
                context=step.context,
                step_id=step.step_id,
            )
        yield step


def build(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """The agent spec, the agent and the reward mix of `eval run`'s flags (ValueError/OSError: bad input)."""
    from agent.spec import engine_from_args, spec_from_args
    from eval.partial_reward import RewardMix

    engine, location = engine_from_args(args)
    # A local checkpoint's own phone_r1.json decides; --checkpoint-meta names the folder otherwise.
    checkpoint = args.local or args.checkpoint_meta
    spec = spec_from_args(args, checkpoint=checkpoint, engine=engine, location=location)
    concurrency = args.concurrency if engine != "local" else 1
    agent = spec.build_agent(
        concurrency=concurrency,
        timeout=args.timeout,
        max_retries=args.max_retries,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
    )
    rewards = RewardMix.from_meta(spec.meta if spec.checkpoint is not None else None)
    return spec, agent, rewards


def header_for(spec: Any, agent: Any, episodes: EpisodeSet, args: argparse.Namespace, rewards: Any) -> Any:
    """The results header: what answered, how it was asked, how it is judged, on which steps."""
    from eval.loop import make_header

    return make_header(
        agent,
        model=spec.model_label(),
        endpoint=spec.endpoint_label(),
        protocol=args.protocol,
        rewards=rewards,
        history=args.history,
        episodes=str(Path(args.episodes).resolve()),
        fingerprint=episodes.fingerprint,
        extra={**spec.header_fields(), "tile": spec.budget.tile, "temperature": float(args.temperature)},
    )


def run_command(args: argparse.Namespace) -> int:
    """`phone-r1 eval run`: resume or start the results file, score the steps, print a summary."""
    from actions.protocols import PROTOCOLS
    from agent.adapters import ADAPTERS
    from agent.loop import run
    from episodes.grounding import is_grounding_set
    from eval.loop import run_eval
    from eval.results import HeaderMismatchError, ResultsWriter

    if args.concurrency < 1:
        print(f"{PROG}: --concurrency must be >= 1, got {args.concurrency}", file=sys.stderr)
        return 2
    if is_grounding_set(args.episodes):
        from eval.grounding_run import run_grounding_command

        return run_grounding_command(args)
    try:
        # `--agent` and `--protocol` also take grounding names; on episodes they must be navigation's.
        args.protocol = PROTOCOLS.check_name(args.protocol or DEFAULT_PROTOCOL)
        if args.agent is not None:
            args.agent = ADAPTERS.check_name(args.agent)
    except ValueError as exc:
        print(f"{PROG}: {exc} (a grounding name needs a grounding set as --episodes)", file=sys.stderr)
        return 2
    try:
        episodes = EpisodeSet.scan(args.episodes, skip_invalid=args.skip_invalid, protocol=args.protocol)
    except (OSError, ValueError) as exc:
        print(f"{PROG}: --episodes: {exc}", file=sys.stderr)
        return 2
    for line in episodes.invalid[:SHOWN_INVALID]:
        print(f"skipping invalid step: {line}", file=sys.stderr)
    if len(episodes.invalid) > SHOWN_INVALID:
        print(f"skipping {len(episodes.invalid) - SHOWN_INVALID} more invalid step(s)", file=sys.stderr)
    try:
        spec, agent, rewards = build(args)
    except (OSError, ValueError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    header = header_for(spec, agent, episodes, args, rewards)
    try:
        writer = ResultsWriter(args.output, header, golds=episodes.golds)
    except HeaderMismatchError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        run(agent.aclose())
        return 2
    if writer.done:
        print(f"resuming {args.output}: {len(writer.done)} step(s) already recorded", file=sys.stderr)
    concurrency = args.concurrency if spec.engine != "local" else 1

    async def main() -> Any:
        try:
            if args.history != "gold":
                from eval.own_history import run_own_history

                return await run_own_history(
                    agent,
                    episodes.steps(),
                    writer,
                    mode=args.history,
                    protocol=args.protocol,
                    concurrency=concurrency,
                    retry_errors=args.retry_errors,
                    limit=args.limit,
                    progress=not args.no_progress,
                    rewards=rewards,
                )
            return await run_eval(
                agent,
                episodes.steps(),
                writer,
                protocol=args.protocol,
                concurrency=concurrency,
                retry_errors=args.retry_errors,
                limit=args.limit,
                total=len(episodes.golds),
                progress=not args.no_progress,
                rewards=rewards,
            )
        finally:
            await agent.aclose()

    try:
        summary = run(main())
    finally:
        writer.close()
    summary.invalid = len(episodes.invalid)
    print(summary_line(summary, run_sr(args.output, summary.step_ids)))
    if summary.errors:
        print("failed steps count as wrong; rerun with --retry-errors to retry them", file=sys.stderr)
    print(f"results: {args.output}")
    if summary.every_request_failed:
        print(
            f"{PROG}: every request failed ({summary.failed} of {summary.ran}): is the endpoint up?",
            file=sys.stderr,
        )
        return 1
    return 0


def run_sr(path: Any, step_ids: Any) -> float | None:
    """SR of the steps `step_ids` of a results file under its protocol's own denominator rule: the number
    `eval report` and `eval rescore` give for the same steps."""
    from eval.metrics import compute_metrics
    from eval.results import Results, read_results

    results = read_results(path)
    wanted = set(step_ids)
    scope = {sid: r for sid, r in results.records.items() if sid in wanted}
    return compute_metrics(Results(results.header, scope), n_resamples=1)["sr"]


def summary_line(summary: Any, sr: float | None = None) -> str:
    """The one-line summary `eval run` prints; `sr` is the run's SR under its protocol (`run_sr`)."""
    errors = summary.errors or "none"
    invalid = f"; {summary.invalid} invalid step(s) skipped" if summary.invalid else ""
    if summary.history != "gold":
        return (
            f"{summary.episodes} episodes, {summary.total} steps with {summary.history} history "
            f"({summary.ran} run, {summary.skipped} already done, {summary.not_reached} not reached after a "
            f"stop) in {summary.wall_s:.1f} s; {summary.correct} steps right; errors {errors}{invalid}"
        )
    shown = f"{sr:.4f}" if sr is not None else "n/a"
    return (
        f"{summary.total} steps ({summary.ran} run, {summary.skipped} already done) in "
        f"{summary.wall_s:.1f} s; SR {shown}; errors {errors}{invalid}"
    )
