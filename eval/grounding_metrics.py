"""Accuracy of a grounding run: micro and macro averages side by side, each benchmark's own breakdowns,
and 95% bootstrap intervals.

Papers mix the two averages (SeeClick's ScreenSpot "Avg" is the plain mean of its six platform x type
cells, OS-Atlas's the accuracy over all 1,272 items), so both are always printed and named:

- `micro`: correct / counted over every counted item;
- `macro over KEY`: the plain mean of the accuracies of KEY's values (an item with several values, as
  OSWorld-G's capability classes, counts in each);
- `headline`: the number the benchmark's own report leads with, as its protocol defines it (micro, or
  a macro over the protocol's `headline` keys: UI-Vision's mean over its three settings,
  MMBench-GUI's mean over basic and advanced).

Intervals are percentile bootstraps over items: a micro accuracy resamples all counted items; a
macro resamples within each value of its key (a stratified bootstrap, so no value drops out of a
resample). Each resample of n 0/1 outcomes with success rate p is drawn as Binomial(n, p) / n, which
is the same distribution as resampling indices and needs no n x resamples matrix.

A record is a dict with `categories` (key -> string or list), `box_type` and `verdict` (`correct`,
`counted`, `outcome`); uncounted items (OSWorld-G's refusal items under `osworld-g-no-refusal`) are
left out of every accuracy and reported apart.
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from actions.grounding_protocols.base import OUTCOMES, GroundingProtocol

N_RESAMPLES = 2000


def values_of(record: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """The record's labels under `key` (`box_type` from the record itself; lists kept as several)."""
    if key == "box_type":
        return (str(record.get("box_type", "")),) if record.get("box_type") else ()
    value = (record.get("categories") or {}).get(key)
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


def _ci_micro(correct: int, n: int, rng: np.random.Generator, resamples: int) -> list[float]:
    if n == 0:
        return [0.0, 0.0]
    draws = rng.binomial(n, correct / n, size=resamples) / n
    return [float(v) for v in np.percentile(draws, [2.5, 97.5])]


def _ci_macro(strata: Sequence[tuple[int, int]], rng: np.random.Generator, resamples: int) -> list[float]:
    strata = [(c, n) for c, n in strata if n]
    if not strata:
        return [0.0, 0.0]
    means = np.mean([rng.binomial(n, c / n, size=resamples) / n for c, n in strata], axis=0)
    return [float(v) for v in np.percentile(means, [2.5, 97.5])]


def _cell(correct: int, n: int) -> dict[str, Any]:
    return {"n": n, "correct": correct, "accuracy": correct / n if n else None}


def grounding_metrics(
    records: Iterable[Mapping[str, Any]],
    protocol: GroundingProtocol,
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """The metrics dict of one run under one protocol (see the module docstring)."""
    rows = list(records)
    counted = [r for r in rows if r["verdict"].get("counted", True)]
    outcomes = Counter(r["verdict"].get("outcome", "wrong") for r in counted)
    correct = sum(1 for r in counted if r["verdict"].get("correct"))

    def rng(name: str) -> np.random.Generator:
        # One stream per statistic, so an interval depends only on its own cells (the same accuracy gets
        # the same interval under every protocol, whatever breakdowns come before it).
        return np.random.default_rng([seed, zlib.crc32(name.encode())])

    breakdowns: dict[str, dict[str, Any]] = {}
    macros: dict[str, dict[str, Any]] = {}
    for key in protocol.breakdowns:
        cells = _cells(counted, key.split("/"))
        breakdowns[key] = {"/".join(k): _cell(*v) for k, v in sorted(cells.items())}
        if "/" not in key and cells:
            macros[key] = _macro(cells, rng(key), n_resamples)

    micro = {
        "value": correct / len(counted) if counted else None,
        "ci95": _ci_micro(correct, len(counted), rng("micro"), n_resamples),
    }
    if protocol.headline:
        key = "/".join(protocol.headline)
        if key not in macros:  # a headline over keys the breakdowns do not list alone
            macros[key] = _macro(_cells(counted, protocol.headline), rng(key), n_resamples)
        found = macros[key]
        missing = "" if found["over"] else f" (no item has {key})"
        headline = {"definition": f"macro over {key}{missing}", **found}
    else:
        headline = {"definition": "micro", **micro}
    uncounted = [r for r in rows if not r["verdict"].get("counted", True)]
    return {
        "protocol": protocol.name,
        "items": len(rows),
        "counted": len(counted),
        "correct": correct,
        "headline": headline,
        "micro": micro,
        "macro": macros,
        "breakdowns": breakdowns,
        "outcomes": {o: outcomes.get(o, 0) for o in OUTCOMES},
        "uncounted": {
            "n": len(uncounted),
            "correct": sum(1 for r in uncounted if r["verdict"].get("correct")),
            "box_types": dict(Counter(str(r.get("box_type")) for r in uncounted)),
        },
    }


def _cells(counted: list[Mapping[str, Any]], keys: Sequence[str]) -> dict[tuple[str, ...], list[int]]:
    """`[correct, n]` per combination of the keys' values (an item counts in each of its values)."""
    cells: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0])
    for r in counted:
        combos: list[tuple[str, ...]] = [()]
        for key in keys:
            combos = [c + (v,) for c in combos for v in values_of(r, key)]
        for combo in combos:
            cells[combo][0] += int(bool(r["verdict"].get("correct")))
            cells[combo][1] += 1
    return cells


def _macro(
    cells: Mapping[tuple[str, ...], list[int]], rng: np.random.Generator, resamples: int
) -> dict[str, Any]:
    strata = [(c, n) for c, n in cells.values()]
    return {
        "value": float(np.mean([c / n for c, n in strata])) if strata else None,
        "over": ["/".join(k) for k in sorted(cells)],
        "ci95": _ci_macro(strata, rng, resamples),
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _ci(ci: Sequence[float]) -> str:
    return f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def _value(stat: Mapping[str, Any]) -> str:
    if stat["value"] is None:
        return "-"
    return f"{_pct(stat['value'])}  95% CI {_ci(stat['ci95'])}"


def format_grounding_metrics(metrics: Mapping[str, Any]) -> str:
    """The metrics as plain text (the CLI prints it): headline, micro, every macro, every breakdown."""
    head = metrics["headline"]
    lines = [
        f"protocol {metrics['protocol']}: {metrics['counted']} of {metrics['items']} items counted, "
        f"{metrics['correct']} correct",
        f"headline ({head['definition']}): {_value(head)}",
        f"micro (all counted items): {_value(metrics['micro'])}",
    ]
    for key, macro in metrics["macro"].items():
        lines.append(f"macro over {key} ({len(macro['over'])} values): {_value(macro)}")
    outcomes = ", ".join(f"{k} {v}" for k, v in metrics["outcomes"].items())
    lines.append(f"outcomes: {outcomes}")
    if metrics["uncounted"]["n"]:
        u = metrics["uncounted"]
        lines.append(f"not counted by this protocol: {u['n']} items ({u['correct']} answered right)")
    for key, table in metrics["breakdowns"].items():
        if not table:  # no item has this category
            continue
        lines.append(f"by {key}:")
        for value, cell in table.items():
            lines.append(f"  {value:<32} {_pct(cell['accuracy']):>7}  ({cell['correct']}/{cell['n']})")
    return "\n".join(lines)
