"""`eval run` on a grounding set: ask a grounding adapter about each item, judge it by a grounding protocol.

The same machinery as a navigation run: the agent spec decides the engine, the endpoint and the pixel
budget (`agent.spec`); the worker pool, the resume rule and the counting are `eval.loop.Evaluation`'s,
its unit one item; the results file is `eval.results`' (one header line, then one line per item, the
item's id as its `step_id`). What is grounding's own: the asking (`GroundingAgent`: the adapter's
prompt, the backend, the adapter's reader), the typed record (`GroundingResult`) and its scoring
(`score_item`: the protocol's verdict on the answered point).

The header records what decides whether a run reproduces a published one: the adapter's system and
user prompts, the image/text order, the coordinate grid, the prompt file, the temperature and the
pixel budget, besides the protocol and the set's fingerprint.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from actions.grounding_protocols.base import GroundingAnswer

logger = logging.getLogger(__name__)

TASK = "grounding"
PROG = "phone-r1 eval run"
# Malformed items named one per line before the run starts (the rest are counted).
SHOWN_INVALID = 5


@dataclass(frozen=True)
class Asked:
    """One item asked: the raw text, the answer read from it, the request's cost, or its failure."""

    raw: str
    answer: GroundingAnswer
    latency_s: float = 0.0
    usage: dict[str, int] = field(default_factory=dict)
    error: Any = None  # an `agent.errors.AgentError`
    prompt_hash: str = ""


class GroundingAgent:
    """A grounding adapter over a backend: one item in, one `Asked` out; never raises for a failed call.

    `language` picks the instruction sent (an item's `instructions` key; None: the main one).
    """

    def __init__(self, backend: Any, adapter: Any, *, language: str | None = None) -> None:
        self.backend = backend
        self.adapter = adapter
        self.language = language
        self.budget = getattr(adapter, "budget", None)
        self.coord_space = getattr(adapter, "space", "original")

    async def astep(self, item: Any) -> Asked:
        from agent.errors import AgentError, BackendError
        from agent.prompt import prompt_hash

        try:
            messages = self.adapter.messages(item, item.instruction_in(self.language))
        except (OSError, ValueError) as exc:
            error = AgentError("bad_input", f"{item.source or item.id}: {exc}")
            return Asked("", GroundingAnswer(problems=("not_asked",)), error=error)
        digest = prompt_hash(messages)
        started = time.perf_counter()
        try:
            completion = await self.backend.acomplete(messages, step=item)
        except BackendError as exc:
            latency = time.perf_counter() - started
            logger.warning("item %s: %s", item.id, exc.error.message)
            return Asked("", GroundingAnswer(), latency, error=exc.error, prompt_hash=digest)
        latency = time.perf_counter() - started
        answer = self.adapter.parse(completion.text, item.screen)
        return Asked(completion.text, answer, latency, dict(completion.usage), None, digest)

    async def aclose(self) -> None:
        await self.backend.aclose()


def item_gold(item: Any) -> dict[str, Any]:
    """What an item's answer is judged against (a results record's `gold`, and the set's fingerprint)."""
    return {"instruction": item.instruction, "target": item.target.to_json()}


def item_golds(items: Iterable[Any]) -> dict[str, str]:
    """`{item id: gold_key(item_gold(item))}`: what a results file's records must agree with."""
    from eval.results import gold_key

    return {item.id: gold_key(item_gold(item)) for item in items}


@dataclass(frozen=True)
class GroundingResult:
    """A grounding results file's item record (written with `"kind": "step"`, keyed by `step_id` = the
    item's id, so the results reader, the resume rule and the loop are the navigation run's)."""

    step_id: str
    benchmark: str | None
    instruction: str
    language: str | None
    image: str
    screen: tuple[int, int]
    declared_screen: tuple[int, int] | None
    target: dict[str, Any]
    categories: dict[str, Any]
    box_type: str
    gold: dict[str, Any]
    raw: str
    answer: dict[str, Any]
    verdict: dict[str, Any]
    latency_s: float
    usage: dict[str, int] = field(default_factory=dict)
    error: dict[str, str] | None = None
    prompt_hash: str = ""

    @property
    def correct(self) -> bool:
        return self.error is None and bool(self.verdict.get("correct"))

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["screen"] = list(self.screen)
        data["declared_screen"] = list(self.declared_screen) if self.declared_screen else None
        # `prediction` is the answered point as a click, so readers of navigation records (the replay
        # UI's marks, the failure thumbnails) show it without knowing grounding.
        point = self.answer.get("point")
        data["prediction"] = (
            {
                "action_type": "click",
                "action_parameter": {"click": f"{point[0]},{point[1]}"},
                "action_description": "",
            }
            if point is not None
            else None
        )
        data["problems"] = list(self.answer.get("problems") or [])
        return data


class Case:
    """The part of a stored record a protocol judges (target, screen, declared size)."""

    def __init__(self, record: Mapping[str, Any]) -> None:
        from actions.regions import region_from_json

        self.target = region_from_json(record["target"])
        self.screen = tuple(record["screen"])
        declared = record.get("declared_screen")
        self.declared_screen = tuple(declared) if declared else None


def judge_item(case: Any, answer: GroundingAnswer, protocol: str, *, error: Any = None) -> dict[str, Any]:
    """The verdict dict: a failed request is wrong (and counted as the protocol counts the item)."""
    from actions.grounding_protocols import get_grounding_protocol

    rule = get_grounding_protocol(protocol)
    if error is not None:
        kind = error["kind"] if isinstance(error, Mapping) else error.kind
        return {
            "correct": False,
            "outcome": "error",
            "reason": f"error: {kind}",
            "counted": bool(rule.counts(case)),
        }
    return rule.verdict(case, answer).to_json()


def rejudge(record: Mapping[str, Any], protocol: str) -> dict[str, Any]:
    """A stored record's verdict under another protocol (rescoring needs no model call)."""
    return judge_item(
        Case(record),
        GroundingAnswer.from_json(record.get("answer") or {}),
        protocol,
        error=record.get("error"),
    )


def score_item(item: Any, asked: Asked, protocol: str, *, language: str | None = None) -> GroundingResult:
    """The record of one asked item under `protocol`."""
    error = asked.error.to_json() if asked.error is not None else None
    return GroundingResult(
        step_id=item.id,
        benchmark=item.benchmark,
        instruction=item.instruction_in(language),
        language=language,
        image=str(item.image),
        screen=item.screen,
        declared_screen=item.declared_screen,
        target=item.target.to_json(),
        categories={k: v if isinstance(v, str) else list(v) for k, v in item.categories.items()},
        box_type=item.box_type,
        gold=item_gold(item),
        raw=asked.raw,
        answer=asked.answer.to_json(),
        verdict=judge_item(item, asked.answer, protocol, error=asked.error),
        latency_s=round(asked.latency_s, 4),
        usage=dict(asked.usage),
        error=error,
        prompt_hash=asked.prompt_hash,
    )


def check_protocol(items: Iterable[Any], protocol: str) -> Iterator[Any]:
    """The items, each checked for a target `protocol` can judge (`NotApplicable`, a ValueError, before
    any model call): every item's own centre is judged once."""
    from actions.grounding_protocols import get_grounding_protocol
    from actions.regions import region_center

    rule = get_grounding_protocol(protocol)
    for item in items:
        centre = region_center(item.target, item.screen)
        answer = GroundingAnswer(point=centre) if centre is not None else GroundingAnswer(refused=True)
        try:
            rule.verdict(item, answer)
        except ValueError as exc:
            raise ValueError(f"{item.source or item.id}: {exc}") from None
        yield item


# --- the run -------------------------------------------------------------------------------------


def grounding_header(
    adapter: Any,
    spec: Any,
    *,
    protocol: str,
    items: str | None,
    fingerprint: str,
    language: str | None,
    temperature: float,
    benchmark: str | None,
) -> Any:
    """The results header: what answered, every setting that decides reproduction, what judged it."""
    from actions.coords import DEFAULT_BUDGET
    from eval.results import RunHeader

    budget = getattr(adapter, "budget", None) or spec.budget or DEFAULT_BUDGET
    return RunHeader(
        model=spec.model_label(),
        endpoint=spec.endpoint_label(),
        template_hash=adapter.prompt_hash(),
        coord_space=adapter.space,
        min_pixels=int(budget.min_pixels),
        max_pixels=int(budget.max_pixels),
        protocol=protocol,
        agent=adapter.name,
        episodes=items,
        episodes_fingerprint=fingerprint,
        extra={
            "task": TASK,
            "language": language,
            "temperature": float(temperature),
            "benchmark": benchmark,
            "grounding": adapter.settings(),
            **spec.header_fields(),
        },
    )


def _evaluation_class() -> type:
    from eval.loop import Evaluation

    class GroundingEvaluation(Evaluation):
        """`Evaluation` with one item as its unit: asked by a `GroundingAgent`, scored by `score_item`."""

        async def ask(self, item: Any) -> tuple[Any, Any]:  # type: ignore[override]
            asked = await self.agent.astep(item)
            return asked, score_item(item, asked, self.protocol, language=self.agent.language)

    return GroundingEvaluation


async def run_grounding(
    agent: GroundingAgent,
    items: Iterable[Any],
    writer: Any,
    *,
    protocol: str,
    concurrency: int = 32,
    retry_errors: bool = False,
    limit: int | None = None,
    total: int | None = None,
    progress: bool = True,
) -> Any:
    """Ask `agent` about every item not yet in `writer.done`, `concurrency` at once; each record is written
    as soon as its item finishes (`eval.loop`'s pool, resume rule and counting)."""
    from eval.loop import limited

    bar_total = min(total, limit) if total is not None and limit is not None else (limit or total)
    run = _evaluation_class()(
        agent, writer, protocol=protocol, retry_errors=retry_errors, progress=progress, total=bar_total
    )
    run.bar.unit = "item"
    run.bar.set_description("eval (grounding)", refresh=False)

    def units() -> Iterator[Any]:
        for item in limited(items, limit):
            run.summary.total += 1
            stored = run.stored(item)
            if stored is not None:
                run.replay(stored)
                continue
            yield item

    async def handle(item: Any) -> None:
        _, record = await run.ask(item)
        run.write(record)

    return await run.run(units(), handle, concurrency)


def default_protocol(root: Any, items: list[Any]) -> str:
    """The protocol a set is scored under unless `--protocol` names one: its card's, else its items'
    benchmark's importer's, else `region`."""
    import json
    from pathlib import Path

    from actions.grounding_protocols import DEFAULT_GROUNDING_PROTOCOL

    folder = Path(root) if Path(root).is_dir() else Path(root).parent
    card = folder / "dataset_card.json"
    if card.is_file():
        try:
            found = json.loads(card.read_text(encoding="utf-8")).get("protocol")
        except (OSError, ValueError):
            found = None
        if isinstance(found, str) and found:
            return found
    return DEFAULT_GROUNDING_PROTOCOL


def make_grounding_agent(
    spec: Any,
    name: str,
    *,
    prompt_file: Any = None,
    language: str | None = None,
    budget_given: bool = False,
    concurrency: int = 8,
    timeout: float = 120.0,
    max_retries: int = 2,
    max_tokens: int = 1024,
    temperature: float = 0.0,
) -> GroundingAgent:
    """The grounding agent `name` (a grounding adapter) on `spec`'s engine, endpoint and pixel budget.
    `budget_given`: the pixel budget was stated (a flag or a checkpoint); an adapter answering in
    resized pixels refuses to run without it (ValueError), since only the server's budget maps its
    answers back."""
    from agent.adapters.grounding import GROUNDING_ADAPTERS

    name = GROUNDING_ADAPTERS.check_name(name)
    cls = GROUNDING_ADAPTERS.load(name)
    # phone-r1's own grammar answers in the checkpoint's space; the others' spaces are their own.
    space = spec.coord_space if name == "phone-r1" else None
    adapter = cls(budget=spec.budget, prompt_file=prompt_file, coord_space=space)
    if adapter.space == "resized" and not budget_given and spec.checkpoint is None:
        raise ValueError(
            f"--agent {name} answers in resized pixels (smart_resize of the screenshot), so its answers "
            "can only be mapped back with the server's pixel budget: pass --max-pixels (and --min-pixels) "
            "as the serving processor uses them"
        )
    # The spec's agent is built for its backend alone: one engine rule for navigation and grounding.
    backend = spec.build_agent(
        concurrency=concurrency,
        timeout=timeout,
        max_retries=max_retries,
        max_tokens=max_tokens,
        temperature=temperature,
    ).backend
    return GroundingAgent(backend, adapter, language=language)


def build_grounding_agent(args: Any) -> tuple[Any, GroundingAgent]:
    """The agent spec (engine, endpoint, pixel budget, checkpoint) and the grounding agent of `eval run`'s
    flags; ValueError/OSError for bad input (an unknown adapter, a bad prompt file, a missing budget)."""
    import argparse

    from agent.adapters.grounding import GROUNDING_ADAPTERS
    from agent.spec import engine_from_args, spec_from_args

    name = GROUNDING_ADAPTERS.check_name(args.agent)
    engine, location = engine_from_args(args)
    # The spec decides engine, endpoint, budget and checkpoint; the adapter is grounding's own.
    plain = argparse.Namespace(**{**vars(args), "agent": None, "agent_prompt": None})
    spec = spec_from_args(
        plain, checkpoint=args.local or args.checkpoint_meta, engine=engine, location=location
    )
    agent = make_grounding_agent(
        spec,
        name,
        prompt_file=args.agent_prompt,
        language=args.language,
        budget_given=args.max_pixels is not None,
        concurrency=args.concurrency if engine != "local" else 1,
        timeout=args.timeout,
        max_retries=args.max_retries,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
    )
    return spec, agent


def grounding_summary_line(summary: Any, results: Any, items: list[Any]) -> str:
    """The one line `eval run` prints for a grounding run: its accuracy is the protocol's micro (correct
    over the items it counts: OSWorld-G's no-refusal variant leaves the refusal items out)."""
    from eval.results import read_results

    records = read_results(results).records
    verdicts = [records[i.id]["verdict"] for i in items if i.id in records]
    counted = [v for v in verdicts if v.get("counted", True)]
    right = sum(1 for v in counted if v.get("correct"))
    accuracy = f"{right / len(counted):.4f}" if counted else "n/a"
    left_out = (
        f" ({len(verdicts) - len(counted)} not counted by the protocol)"
        if len(counted) < len(verdicts)
        else ""
    )
    errors = summary.errors or "none"
    invalid = f"; {summary.invalid} invalid item(s) skipped" if summary.invalid else ""
    return (
        f"{summary.total} items ({summary.ran} run, {summary.skipped} already done) in "
        f"{summary.wall_s:.1f} s; accuracy {accuracy}{left_out}; errors {errors}{invalid}"
    )


def run_grounding_command(args: Any) -> int:
    """`phone-r1 eval run` on a grounding set: resume or start the results file, ask and judge every item."""
    import sys
    from pathlib import Path

    from actions.grounding_protocols import GROUNDING_PROTOCOLS
    from agent.loop import run
    from episodes.grounding import read_grounding_items
    from eval.results import HeaderMismatchError, ResultsWriter, golds_fingerprint

    invalid: list[str] = []
    try:
        items = read_grounding_items(args.episodes, strict=not args.skip_invalid, skipped=invalid)
        if not items:
            raise ValueError(f"{args.episodes}: no grounding items found")
        protocol = GROUNDING_PROTOCOLS.check_name(args.protocol or default_protocol(args.episodes, items))
        if args.language:
            for item in items:
                item.instruction_in(args.language)
        items = list(check_protocol(items, protocol))
    except (OSError, ValueError) as exc:
        print(f"{PROG}: --episodes: {exc}", file=sys.stderr)
        return 2
    for line in invalid[:SHOWN_INVALID]:
        print(f"skipping invalid item: {line}", file=sys.stderr)
    if len(invalid) > SHOWN_INVALID:
        print(f"skipping {len(invalid) - SHOWN_INVALID} more invalid item(s)", file=sys.stderr)
    if args.history != "gold":
        print(f"{PROG}: --history {args.history}: a grounding item has no history", file=sys.stderr)
        return 2
    try:
        spec, agent = build_grounding_agent(args)
    except (OSError, ValueError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    if agent.adapter.space == "resized":
        # smart_resize imports transformers (seconds): once here, not inside the event loop's first request.
        agent.adapter.model_screen(items[0].screen)
    golds = item_golds(items)
    benchmarks = sorted({item.benchmark for item in items if item.benchmark})
    header = grounding_header(
        agent.adapter,
        spec,
        protocol=protocol,
        items=str(Path(args.episodes).resolve()),
        fingerprint=golds_fingerprint(golds),
        language=args.language,
        temperature=args.temperature,
        benchmark=",".join(benchmarks) or None,
    )
    try:
        writer = ResultsWriter(args.output, header, golds=golds)
    except HeaderMismatchError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        run(agent.aclose())
        return 2
    if writer.done:
        print(f"resuming {args.output}: {len(writer.done)} item(s) already recorded", file=sys.stderr)

    async def main() -> Any:
        try:
            return await run_grounding(
                agent,
                items,
                writer,
                protocol=protocol,
                concurrency=args.concurrency if spec.engine != "local" else 1,
                retry_errors=args.retry_errors,
                limit=args.limit,
                total=len(items),
                progress=not args.no_progress,
            )
        finally:
            await agent.aclose()

    try:
        summary = run(main())
    finally:
        writer.close()
    summary.invalid = len(invalid)
    print(grounding_summary_line(summary, args.output, items[: args.limit] if args.limit else items))
    if summary.errors:
        print("failed items count as wrong; rerun with --retry-errors to retry them", file=sys.stderr)
    print(f"results: {args.output} (protocol {protocol}; `phone-r1 eval report` for the breakdowns)")
    if summary.every_request_failed:
        print(
            f"{PROG}: every request failed ({summary.failed} of {summary.ran}): is the endpoint up?",
            file=sys.stderr,
        )
        return 1
    return 0
