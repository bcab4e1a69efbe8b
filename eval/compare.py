"""`phone-r1 eval compare A B`: headline metric deltas and the steps that flipped between two runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.adapters import DEFAULT_ADAPTER
from eval.metrics import HEADLINE, compute_metrics
from eval.results import gold_key, read_results, step_correct


def compare_files(a: str | Path, b: str | Path, *, protocol: str | None = None) -> dict[str, Any]:
    """Metrics of both runs on the steps they share, their deltas (B - A) and the flipped steps.

    Only shared steps (same step id and gold action) are compared, so a partial run is not measured
    against a complete one; the steps found in one file only are counted. Two runs with no step in
    common (made on different test sets) are a ValueError: their deltas would compare nothing.
    """
    ra, rb = read_results(a), read_results(b)
    both = [s for s in ra.records if s in rb.records]
    shared = [s for s in both if gold_key(ra.records[s].get("gold")) == gold_key(rb.records[s].get("gold"))]
    fingerprints = [(r.header or {}).get("episodes_fingerprint") for r in (ra, rb)]
    if not shared:
        seen = (
            f" (episodes fingerprints {fingerprints[0]} and {fingerprints[1]})" if all(fingerprints) else ""
        )
        other_gold = f"; {len(both)} step ids match with other gold actions" if both else ""
        raise ValueError(
            f"{a} and {b} share no step{other_gold}: they were run on different episodes{seen}; "
            "compare two runs made on the same test set"
        )
    if (
        protocol is None
        and ra.header
        and rb.header
        and ra.header.get("protocol") != rb.header.get("protocol")
    ):
        # Stored verdicts under different protocols are not comparable; rescore both under A's.
        protocol = ra.header.get("protocol")
    ma = compute_metrics([ra.records[s] for s in shared], protocol=protocol)
    mb = compute_metrics([rb.records[s] for s in shared], protocol=protocol)
    if protocol is None and ra.header:
        ma["protocol"] = mb["protocol"] = ra.header.get("protocol")
    deltas = {
        key: (mb[key] - ma[key]) if ma[key] is not None and mb[key] is not None else None
        for key, _ in HEADLINE
    }
    fixed, broken = [], []
    for step_id in shared:
        before, after = ra.records[step_id], rb.records[step_id]
        ok_a, ok_b = step_correct(before), step_correct(after)
        if ok_a == ok_b:
            continue
        entry = {
            "step_id": step_id,
            "gold": before["gold"],
            "a": {"prediction": before.get("prediction"), "reason": _why(before)},
            "b": {"prediction": after.get("prediction"), "reason": _why(after)},
        }
        (fixed if ok_b else broken).append(entry)
    return {
        "a": str(a),
        "b": str(b),
        "headers": {"a": ra.header, "b": rb.header},
        "shared_steps": len(shared),
        "only_a": len(ra.records) - len(both),
        "only_b": sum(1 for s in rb.records if s not in ra.records),
        "other_gold": len(both) - len(shared),  # same step id, another gold action: not compared
        "episodes_fingerprints": {"a": fingerprints[0], "b": fingerprints[1]},
        "metrics": {"a": ma, "b": mb},
        "deltas": deltas,
        "fixed": fixed,  # wrong in A, right in B
        "broken": broken,  # right in A, wrong in B
    }


def _why(record: dict[str, Any]) -> str:
    if record.get("error"):
        return f"error: {record['error']['kind']}"
    return str(record["verdict"]["reason"])


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{100 * value:+.1f}" if signed else f"{100 * value:.1f}"


def format_comparison(comparison: dict[str, Any], *, max_flips: int = 20) -> str:
    """The comparison as text for a terminal: a metric table then the flipped steps."""
    ma, mb = comparison["metrics"]["a"], comparison["metrics"]["b"]
    headers = comparison.get("headers") or {}
    agents = {side: (headers.get(side) or {}).get("agent") or DEFAULT_ADAPTER for side in ("a", "b")}
    lines = [
        f"A: {comparison['a']} (agent {agents['a']})",
        f"B: {comparison['b']} (agent {agents['b']})",
        f"{comparison['shared_steps']} shared steps (only in A: {comparison['only_a']}, only in B: "
        f"{comparison['only_b']}); protocol {ma.get('protocol')}",
    ]
    fingerprints = comparison.get("episodes_fingerprints") or {}
    if all(fingerprints.values()) and fingerprints.get("a") != fingerprints.get("b"):
        lines.append(
            f"warning: A and B were run on different episodes (fingerprints {fingerprints['a']} and "
            f"{fingerprints['b']}); only the shared steps are compared"
        )
    if comparison.get("other_gold"):
        lines.append(
            f"warning: {comparison['other_gold']} step ids are in both with different gold actions; "
            "they are left out"
        )
    lines += ["", f"{'metric':<22}{'A %':>8}{'B %':>8}{'B-A':>8}"]
    for key, name in HEADLINE:
        lines.append(
            f"{name:<22}{_pct(ma[key]):>8}{_pct(mb[key]):>8}{_pct(comparison['deltas'][key], True):>8}"
        )
    for title, entries in (
        ("fixed (wrong in A, right in B)", comparison["fixed"]),
        ("broken (right in A, wrong in B)", comparison["broken"]),
    ):
        lines += ["", f"{title}: {len(entries)}"]
        for entry in entries[:max_flips]:
            reason = entry["a"]["reason"] if title.startswith("fixed") else entry["b"]["reason"]
            lines.append(f"  {entry['step_id']:<16} gold {entry['gold']['action_type']:<15} {reason}")
        if len(entries) > max_flips:
            lines.append(f"  ... {len(entries) - max_flips} more (--max-flips, --json)")
    return "\n".join(lines)
