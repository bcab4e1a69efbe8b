"""Score an agent on episodes step by step, with the gold history (teacher forcing), concurrently.

Each step's own input already holds the gold history, so steps are independent and run in any
order: a pool of `concurrency` workers pulls steps from a bounded queue (memory does not grow with
the test set), asks the agent, scores the answer with `actions.match_step` / `action_score` /
`format_score` and appends the record to the results file as soon as it is done.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.partial_reward import RewardMix
from eval.results import ResultsWriter, RunHeader, step_correct

logger = logging.getLogger(__name__)


@dataclass
class RunSummary:
    """What one `run_eval` call did."""

    total: int = 0  # steps in scope (after --limit)
    skipped: int = 0  # already in the results file
    ran: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    correct: int = 0  # over all steps in scope, old and new
    wall_s: float = 0.0

    @property
    def sr(self) -> float | None:
        return self.correct / self.total if self.total else None


def build_record(
    step: Any,
    result: Any,
    protocol: str,
    rewards: RewardMix | None = None,
    *,
    coord_space: str = "original",
    budget: Any = None,
) -> dict[str, Any]:
    """The results-file record of one answered (or failed) step; the prediction is in original pixels.

    `reward.total` is the recipe's reward mix (`rewards`, default: format and action weighed equally)
    over the raw answer in the agent's `coord_space` and pixel `budget`.
    """
    from actions import action_score, format_score, match_step
    from actions.coords import DEFAULT_BUDGET
    from agent.prompt import screen_size_of

    screen = screen_size_of(step)
    prediction = result.action
    error = result.error.to_json() if result.error is not None else None
    if error is not None:
        verdict = {"correct": False, "type_match": False, "reason": f"error: {error['kind']}"}
    elif prediction is None:
        problems = ", ".join(result.problems) or "no action"
        verdict = {"correct": False, "type_match": False, "reason": f"unparseable: {problems}"}
    else:
        verdict = match_step(
            prediction, step.gold, screen, protocol, context=step.context, step_id=step.step_id
        ).as_dict()
    fmt = format_score(result.raw_text or "").as_dict()
    act = action_score(prediction if prediction is not None else "", step.gold, screen).as_dict()
    mix = rewards or RewardMix.build()
    total = mix.total(result.raw_text or "", step.gold, screen, coord_space, budget or DEFAULT_BUDGET)
    return {
        "step_id": step.step_id,
        "episode_id": step.episode_id,
        "index": step.index,
        "app": step.app,
        "task": step.task,
        "screen": [int(screen[0]), int(screen[1])],
        "screenshots": [str(p) for p in step.screenshots],
        "gold": step.gold.to_json(),
        "prediction": prediction.to_json() if prediction is not None else None,
        "raw": result.raw_text,
        "think": result.think,
        "problems": list(result.problems),
        "verdict": verdict,
        "reward": {"total": total, "format": fmt, "action": act},
        "latency_s": round(float(result.latency_s), 4),
        "usage": dict(result.usage),
        "error": error,
        "prompt_hash": result.prompt_hash,
    }


def count_steps(root: str | Path) -> int:
    """Number of steps under an episode folder (directory listings only) or in a converted JSONL."""
    from episodes.readers import JSONL, STEP_FILE, layout, list_episodes, list_step_files

    root = Path(root)
    if layout(root) == STEP_FILE:
        return 1
    if layout(root) == JSONL:
        with open(root, "rb") as f:
            return sum(1 for line in f if line.strip())
    return sum(len(list_step_files(ep, strict=False)) for ep in list_episodes(root))


def _limited(steps: Iterable[Any], limit: int | None) -> Iterator[Any]:
    for i, step in enumerate(steps):
        if limit is not None and i >= limit:
            return
        yield step


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
    """Ask `agent` (anything with `async astep(step) -> AgentResult`) about every step not yet done.

    Steps already in `writer.done` are skipped, except failed ones when `retry_errors`. Each record is
    written as soon as its step finishes. `rewards` is the partial reward's mix (default: format and
    action, weighed equally).
    """
    rewards = rewards or RewardMix.build()
    coord_space, budget = getattr(agent, "coord_space", "original"), getattr(agent, "budget", None)
    from tqdm.auto import tqdm

    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    summary = RunSummary()
    correct: dict[str, bool] = {}
    errors: dict[str, str] = {}
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=2 * concurrency)
    bar = tqdm(
        total=min(total, limit) if total is not None and limit is not None else (limit or total),
        desc="eval",
        unit="step",
        disable=not progress,
        dynamic_ncols=True,
    )
    started = time.perf_counter()

    n_correct = 0  # running sum of `correct`, so the live SR costs O(1) per step

    def note(record: dict[str, Any]) -> None:
        nonlocal n_correct
        ok = step_correct(record)
        n_correct += ok - correct.get(record["step_id"], False)
        correct[record["step_id"]] = ok
        if record.get("error"):
            errors[record["step_id"]] = record["error"]["kind"]
        else:
            errors.pop(record["step_id"], None)
        bar.update(1)
        if progress:
            bar.set_postfix(SR=f"{n_correct / len(correct):.3f}", errors=len(errors), refresh=False)

    async def produce() -> None:
        for step in _limited(steps, limit):
            summary.total += 1
            done = writer.done.get(step.step_id)
            if done is not None and not (retry_errors and done.get("error")):
                summary.skipped += 1
                note(done)
                continue
            if step.gold is None:
                raise ValueError(f"{step.source or step.step_id}: evaluation needs a gold action, found none")
            await queue.put(step)
        for _ in range(concurrency):
            await queue.put(None)

    async def work() -> None:
        while (step := await queue.get()) is not None:
            result = await agent.astep(step)
            record = build_record(step, result, protocol, rewards, coord_space=coord_space, budget=budget)
            writer.write(record)
            summary.ran += 1
            note(record)

    try:
        await asyncio.gather(produce(), *(work() for _ in range(concurrency)))
    finally:
        bar.close()
    summary.correct = n_correct
    summary.errors = {}
    for kind in errors.values():
        summary.errors[kind] = summary.errors.get(kind, 0) + 1
    summary.wall_s = time.perf_counter() - started
    return summary


class PredictionsBackend:
    """A backend answering with completions produced elsewhere: JSONL of `{"step_id", "raw"}`.

    The agent passes the step it asks about, so each answer is looked up by `step.step_id`, and the
    agent's own parsing and coordinate mapping score these answers exactly as they would a live
    model's.
    """

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

    async def acomplete(self, messages: list[dict[str, Any]], *, step: Any = None) -> Any:
        from agent.backends.base import Completion
        from agent.errors import BackendError

        step_id = step.step_id if step is not None else None
        if step_id is None or step_id not in self.raw:
            raise BackendError("bad_response", f"{self.path}: no prediction for step {step_id!r}")
        return Completion(text=self.raw[step_id])

    async def aclose(self) -> None:
        return None


def make_header(
    agent: Any,
    *,
    model: str,
    endpoint: str,
    protocol: str,
    rewards: RewardMix | None = None,
    history: str = "gold",
    extra: dict[str, Any] | None = None,
) -> RunHeader:
    """The results header for an agent's prompt template, coordinate space, pixel budget and rewards;
    `extra` adds fields (the checkpoint the settings came from, overrides)."""
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
        extra={
            "template": agent.template,
            "agent": agent.adapter.name,
            "history": history,
            **(rewards or RewardMix.build()).to_json(),
            **(extra or {}),
        },
    )


def checkpoint_meta(args: Any) -> Any:
    """The `CheckpointMeta` of `--local` or `--checkpoint-meta` (None when neither is given)."""
    from agent.checkpoint import CheckpointMeta

    meta_dir = args.local or args.checkpoint_meta
    return CheckpointMeta.load_or_default(meta_dir) if meta_dir else None


def _settings(args: Any) -> tuple[str, str, Any, dict[str, Any]]:
    """Template, coordinate space, pixel budget and the header fields naming the checkpoint and any
    overrides: the checkpoint's `phone_r1.json`, with flags that differ from it refused unless
    `--override-checkpoint-meta` (see `agent.checkpoint.resolve_settings`)."""
    from actions.coords import PixelBudget
    from agent.checkpoint import assumed_defaults_warning, resolve_settings

    meta_dir = args.local or args.checkpoint_meta
    meta, overrides = resolve_settings(
        meta_dir,
        allow_override=getattr(args, "override_checkpoint_meta", False),
        prompt_template=args.template,
        coord_space=args.coord_space,
        min_pixels=args.min_pixels,
        max_pixels=args.max_pixels,
    )
    extra: dict[str, Any] = {}
    if meta_dir is not None:
        extra["checkpoint"] = str(Path(meta_dir).resolve())
        warning = assumed_defaults_warning(meta_dir)
        if warning:
            logger.warning("%s", warning)
    if overrides:
        extra["overrides"] = overrides
    budget = PixelBudget(int(meta.min_pixels), int(meta.max_pixels))
    return meta.prompt_template, meta.coord_space, budget, extra


def build_adapter(args: Any, template: str, coord_space: str, budget: Any) -> Any:
    """The `--agent` adapter; one answering in resized pixels refuses to guess the serving pixel budget."""
    from agent.adapters import DEFAULT_ADAPTER, make_adapter

    name = getattr(args, "agent", None) or DEFAULT_ADAPTER
    prompt = getattr(args, "agent_prompt", None)
    if name == DEFAULT_ADAPTER:
        if prompt:
            raise ValueError(
                "--agent-prompt replaces another agent's prompt; the phone-r1 format uses --template"
            )
        return make_adapter(name, budget=budget, template=template, coord_space=coord_space)
    adapter = make_adapter(name, budget=budget, prompt_file=prompt)
    if adapter.needs_budget and not (args.max_pixels or args.local or args.checkpoint_meta):
        raise ValueError(
            f"--agent {name} answers in resized pixels (smart_resize of the screenshot), so its answers can "
            "only be mapped back with the server's pixel budget: pass --max-pixels (and --min-pixels) as the "
            "serving processor uses them"
        )
    return adapter


def build_agent(args: Any) -> tuple[Any, str, str, dict[str, Any]]:
    """The agent for `eval run`'s arguments, with the model name, endpoint and extra fields (checkpoint,
    overrides) for the header."""
    from agent.agent import PhoneAgent

    template, coord_space, budget, extra = _settings(args)
    adapter = build_adapter(args, template, coord_space, budget)
    if args.base_url:
        if not args.model:
            raise ValueError("--model is required with --base-url (the served model name)")
        agent = PhoneAgent.from_endpoint(
            args.base_url,
            args.model,
            api_key_env=args.api_key_env,
            template=template,
            coord_space=coord_space,
            budget=budget,
            concurrency=args.concurrency,
            timeout=args.timeout,
            max_retries=args.max_retries,
            max_tokens=args.max_tokens,
            adapter=adapter,
        )
        return agent, args.model, args.base_url, extra
    if args.local:
        from agent.backends.transformers_backend import TransformersBackend

        # The processor resizes at the resolved budget, the one the prompt states.
        local = TransformersBackend(args.local, budget=budget, max_new_tokens=args.max_tokens)
        agent = PhoneAgent(local, template=template, coord_space=coord_space, budget=budget, adapter=adapter)
        return agent, args.model or str(args.local), f"local:{Path(args.local).resolve()}", extra
    backend = PredictionsBackend(args.predictions)
    agent = PhoneAgent(backend, template=template, coord_space=coord_space, budget=budget, adapter=adapter)
    return agent, args.model or "predictions", f"predictions:{Path(args.predictions).resolve()}", extra


def check_context(steps: Iterable[Any], protocol: str) -> None:
    """Refuse, before any model call, a protocol that needs gold context some step lacks: each gold
    action is judged against itself, which reaches every context the protocol reads for that step."""
    from actions import match_step
    from agent.prompt import screen_size_of

    if protocol == "box":  # needs no context
        return
    for step in steps:
        if step.gold is not None:
            match_step(
                step.gold,
                step.gold,
                screen_size_of(step),
                protocol,
                context=step.context,
                step_id=step.step_id,
            )


def run_command(args: Any) -> int:
    """`phone-r1 eval run`: resume or start the results file, score the steps, print a summary."""
    from episodes.readers import iter_steps
    from eval.results import HeaderMismatchError

    if args.concurrency < 1:
        print(f"phone-r1 eval run: --concurrency must be >= 1, got {args.concurrency}", file=sys.stderr)
        return 2
    try:
        total = count_steps(args.episodes)
    except (OSError, ValueError) as exc:
        print(f"phone-r1 eval run: --episodes: {exc}", file=sys.stderr)
        return 2
    try:
        check_context(iter_steps(args.episodes), args.protocol)
        agent, model, endpoint, extra = build_agent(args)
        rewards = RewardMix.from_meta(checkpoint_meta(args))
    except (OSError, ValueError) as exc:
        print(f"phone-r1 eval run: {exc}", file=sys.stderr)
        return 2
    history = getattr(args, "history", "gold")
    header = make_header(
        agent,
        model=model,
        endpoint=endpoint,
        protocol=args.protocol,
        rewards=rewards,
        history=history,
        extra=extra,
    )
    try:
        writer = ResultsWriter(args.output, header)
    except HeaderMismatchError as exc:
        print(f"phone-r1 eval run: {exc}", file=sys.stderr)
        return 2
    concurrency = args.concurrency if args.base_url or args.predictions else 1
    if writer.done:
        print(f"resuming {args.output}: {len(writer.done)} step(s) already recorded", file=sys.stderr)

    async def main() -> Any:
        try:
            if history != "gold":
                from eval.own_history import run_own_history

                return await run_own_history(
                    agent,
                    iter_steps(args.episodes),
                    writer,
                    mode=history,
                    protocol=args.protocol,
                    concurrency=concurrency,
                    retry_errors=args.retry_errors,
                    limit=args.limit,
                    progress=not args.no_progress,
                    rewards=rewards,
                )
            return await run_eval(
                agent,
                iter_steps(args.episodes),
                writer,
                protocol=args.protocol,
                concurrency=concurrency,
                retry_errors=args.retry_errors,
                limit=args.limit,
                total=total,
                progress=not args.no_progress,
                rewards=rewards,
            )
        finally:
            await agent.aclose()

    from agent.loop import run

    try:
        summary = run(main())
    finally:
        writer.close()
    if history != "gold":
        print(_own_summary_line(summary, history))
        print(f"results: {args.output}")
        return 0
    sr = f"{summary.sr:.4f}" if summary.sr is not None else "n/a"
    print(
        f"{summary.total} steps ({summary.ran} run, {summary.skipped} already done) in "
        f"{summary.wall_s:.1f} s; "
        f"SR {sr}; errors {summary.errors or 'none'}"
    )
    if summary.errors:
        print("failed steps count as wrong; rerun with --retry-errors to retry them", file=sys.stderr)
    print(f"results: {args.output}")
    return 0


def _own_summary_line(summary: Any, history: str) -> str:
    errors = summary.errors or "none"
    return (
        f"{summary.episodes} episodes, {summary.total} steps with {history} history ({summary.ran} run, "
        f"{summary.skipped} already done, {summary.not_reached} not reached after a stop) in "
        f"{summary.wall_s:.1f} s; {summary.correct} steps right; errors {errors}"
    )
