"""`phone-r1 eval parity`: the same recorded steps, greedy, against two engines; how far the answers drift.

A checkpoint served by vLLM and the same checkpoint in transformers should give the same actions; when
they do not, boxes drift by some pixels (a different image resize, another attention kernel, bf16
rounding) and step accuracy changes for reasons that have nothing to do with the model. This command
asks both engines about the same N steps with one prompt, coordinate space and pixel budget, and
reports the share of identical answers (raw, and without control tokens), identical actions and
identical action types, and the coordinate drift in original pixels (median, p95, max) over the steps
where both answered with coordinates, listing the steps that differ.

An engine is an OpenAI-compatible endpoint (`http://host:port/v1`, with `--model`) or a checkpoint
folder run in-process by transformers (`--a-device` / `--b-device`: cpu, cuda:0, ...).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Chat-template control tokens (`<|im_end|>`, `<|quad_start|>`, ...). Engines differ in whether they
# skip them when detokenizing (transformers serve keeps them, `generate` + `skip_special_tokens` drops
# them) and in the leading space of the first token; neither changes what the answer says.
_CONTROL_TOKEN = re.compile(r"<\|[a-z_]+\|>")


def comparable_text(raw: str) -> str:
    """The answer text without control tokens and surrounding white space."""
    return _CONTROL_TOKEN.sub("", raw).strip()


@dataclass(frozen=True)
class StepPair:
    """One step's two answers (actions in original pixels, or None when the answer did not parse)."""

    step_id: str
    raw_a: str
    raw_b: str
    action_a: Any
    action_b: Any
    error_a: str | None = None
    error_b: str | None = None

    @property
    def same_raw(self) -> bool:
        return self.error_a is None and self.error_b is None and self.raw_a == self.raw_b

    @property
    def same_text(self) -> bool:
        ok = self.error_a is None and self.error_b is None
        return ok and comparable_text(self.raw_a) == comparable_text(self.raw_b)

    @property
    def same_action(self) -> bool:
        return self.error_a is None and self.error_b is None and _wire(self.action_a) == _wire(self.action_b)

    @property
    def same_type(self) -> bool:
        return _type(self.action_a) == _type(self.action_b) and self.error_a is None and self.error_b is None


def _wire(action: Any) -> Any:
    return action.to_json() if action is not None else None


def _type(action: Any) -> str | None:
    return action.action_type if action is not None else None


def _points(action: Any) -> list[tuple[float, float]] | None:
    """The points an action puts on the screen: a tap point, or a swipe's start and end."""
    if action is None:
        return None
    if hasattr(action, "start") and hasattr(action, "end"):
        return [tuple(action.start), tuple(action.end)]
    point = getattr(action, "point", None)
    return [tuple(point)] if point is not None else None


def coordinate_drift(a: Any, b: Any) -> float | None:
    """Largest distance in original pixels between the two actions' points; None unless both have the
    same kind of coordinates (two taps, or two swipes)."""
    pa, pb = _points(a), _points(b)
    if pa is None or pb is None or len(pa) != len(pb):
        return None
    return max(math.dist(p, q) for p, q in zip(pa, pb, strict=True))


def _percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method), on a sorted copy."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarize(pairs: list[StepPair], *, a: str, b: str) -> dict[str, Any]:
    """The parity figures of two engines over the same steps."""
    n = len(pairs)
    drifts = [d for p in pairs if (d := coordinate_drift(p.action_a, p.action_b)) is not None]
    differing = [
        {
            "step_id": p.step_id,
            "a": _wire(p.action_a) if p.error_a is None else {"error": p.error_a},
            "b": _wire(p.action_b) if p.error_b is None else {"error": p.error_b},
            "drift_px": coordinate_drift(p.action_a, p.action_b),
            "raw_a": p.raw_a[:2000],
            "raw_b": p.raw_b[:2000],
        }
        for p in pairs
        if not (p.same_action and p.same_text)
    ]

    def share(flag: str) -> float:
        return sum(getattr(p, flag) for p in pairs) / n if n else 0.0

    return {
        "a": a,
        "b": b,
        "steps": n,
        "identical_raw": share("same_raw"),
        "identical_text": share("same_text"),
        "identical_actions": share("same_action"),
        "identical_types": share("same_type"),
        "errors": {
            "a": sum(p.error_a is not None for p in pairs),
            "b": sum(p.error_b is not None for p in pairs),
        },
        "drift_px": {
            "steps_with_coordinates": len(drifts),
            "median": _percentile(drifts, 0.5) if drifts else None,
            "p95": _percentile(drifts, 0.95) if drifts else None,
            "max": max(drifts) if drifts else None,
        },
        "differing_steps": differing,
    }


def format_summary(summary: dict[str, Any], *, max_listed: int = 20) -> str:
    drift = summary["drift_px"]

    def px(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} px"

    lines = [
        f"A: {summary['a']}",
        f"B: {summary['b']}",
        f"{summary['steps']} steps; failed requests: A {summary['errors']['a']}, B {summary['errors']['b']}",
        f"identical answers (raw text)  {100 * summary['identical_raw']:6.1f}%",
        f"identical answers (text, control tokens and outer white space aside) "
        f"{100 * summary['identical_text']:6.1f}%",
        f"identical actions             {100 * summary['identical_actions']:6.1f}%",
        f"identical action types        {100 * summary['identical_types']:6.1f}%",
        f"coordinate drift over {drift['steps_with_coordinates']} step(s) with coordinates on both sides: "
        f"median {px(drift['median'])}, p95 {px(drift['p95'])}, max {px(drift['max'])}",
    ]
    differing = summary["differing_steps"]
    if differing:
        lines.append(f"steps whose actions differ ({len(differing)}):")
        for row in differing[:max_listed]:
            lines.append(f"  {row['step_id']:<16} A {json.dumps(row['a'], ensure_ascii=False)}")
            lines.append(f"  {'':<16} B {json.dumps(row['b'], ensure_ascii=False)}")
        if len(differing) > max_listed:
            lines.append(f"  ... {len(differing) - max_listed} more in the JSON output")
    return "\n".join(lines)


def _is_endpoint(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def _agent_for(side: str, device: str, args: argparse.Namespace, spec: Any) -> Any:
    """One engine of the comparison, greedy, with the shared settings `spec`."""
    if _is_endpoint(side):
        return spec.at("endpoint", side, model=args.model).build_agent(
            concurrency=args.concurrency, timeout=args.timeout, max_tokens=args.max_tokens, temperature=0.0
        )
    path = Path(side)
    if not path.is_dir():
        raise FileNotFoundError(
            f"{side}: expected an http(s):// endpoint or a checkpoint folder, found neither"
        )
    # Greedy, with the pixel budget the endpoint side uses, so both see the same pixels.
    return spec.at("local", path).build_agent(max_tokens=args.max_tokens, device=device)


def _settings(args: argparse.Namespace) -> Any:
    """The shared `AgentSpec`: the flags checked against `--checkpoint-meta` (default: a folder side's
    checkpoint), read as serving reads them, so both sides see the pixels the server sees."""
    from agent.spec import spec_from_args

    meta_dir = args.checkpoint_meta or next(
        (Path(s) for s in (args.a, args.b) if not _is_endpoint(s) and Path(s).is_dir()), None
    )
    return spec_from_args(args, checkpoint=meta_dir)


async def run_parity(agent_a: Any, agent_b: Any, steps: list[Any]) -> list[StepPair]:
    """Both engines answer every step (each engine bounds its own concurrency)."""
    import asyncio

    results_a, results_b = await asyncio.gather(agent_a.astep_many(steps), agent_b.astep_many(steps))
    return [
        StepPair(
            step_id=step.step_id,
            raw_a=ra.raw_text,
            raw_b=rb.raw_text,
            action_a=ra.action,
            action_b=rb.action,
            error_a=f"{ra.error.kind}: {ra.error.message}" if ra.error is not None else None,
            error_b=f"{rb.error.kind}: {rb.error.message}" if rb.error is not None else None,
        )
        for step, ra, rb in zip(steps, results_a, results_b, strict=True)
    ]


def register(sub: Any) -> None:
    """Add `eval parity` to the `phone-r1 eval` subcommands."""
    from agent.spec import add_agent_flags

    parser = sub.add_parser(
        "parity",
        help="the same steps, greedy, on two engines: identical actions and coordinate drift",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    parser.add_argument("--episodes", type=Path, required=True, help="raw episode folder or converted JSONL")
    parser.add_argument("--a", required=True, help="engine A: http(s)://host:port/v1, or a checkpoint folder")
    parser.add_argument("--b", required=True, help="engine B: http(s)://host:port/v1, or a checkpoint folder")
    parser.add_argument("--a-device", default="cpu", help="device for a checkpoint-folder A (default cpu)")
    parser.add_argument("--b-device", default="cpu", help="device for a checkpoint-folder B (default cpu)")
    parser.add_argument(
        "--model", default="phone-r1", help="served model name on endpoints (default phone-r1)"
    )
    add_agent_flags(
        parser,
        "checkpoint",
        "settings",
        "api-key-env",
        defaults={"api-key-env": "OPENAI_API_KEY"},
        help={
            "checkpoint-meta": "template, coordinate space and pixel budget from DIR/phone_r1.json "
            "(default: a folder side's)",
            "api-key-env": "environment variable holding the API key (default OPENAI_API_KEY)",
        },
    )
    parser.add_argument("--limit", type=int, default=32, help="steps to compare (default 32)")
    parser.add_argument("--max-tokens", type=int, default=256, help="completion token limit (default 256)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight per endpoint")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per request attempt")
    parser.add_argument(
        "-o", "--output", type=Path, help="also write the figures and differing steps as JSON"
    )
    parser.set_defaults(func=parity_command)


def parity_command(args: argparse.Namespace) -> int:
    from agent.loop import run
    from episodes.readers import iter_steps

    if args.limit < 1:
        print(f"phone-r1 eval parity: --limit must be >= 1, got {args.limit}", file=sys.stderr)
        return 2
    try:
        steps = []
        for step in iter_steps(args.episodes):
            if len(steps) >= args.limit:
                break
            steps.append(step)
        settings = _settings(args)
        agent_a = _agent_for(args.a, args.a_device, args, settings)
        agent_b = _agent_for(args.b, args.b_device, args, settings)
    except (OSError, ValueError) as exc:
        print(f"phone-r1 eval parity: {exc}", file=sys.stderr)
        return 2

    async def both() -> list[StepPair]:
        try:
            return await run_parity(agent_a, agent_b, steps)
        finally:
            await agent_a.aclose()
            await agent_b.aclose()

    summary = summarize(run(both()), a=args.a, b=args.b)
    print(format_summary(summary))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"parity: {args.output}")
    return 0
