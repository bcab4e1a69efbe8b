"""`phone-r1 eval rescore`: re-judge a stored run under several match protocols without calling the model.

Each protocol gets one column (SR, TM, GR, episode success, steps counted, then its source's own figures
under their own names). A protocol that needs gold
context some step lacks is reported as refused, with the step and the missing key, never scored with
another rule. An own-history run is re-judged only under protocols that give every recorded step its
recorded verdict (`trajectory_change`); any other would have changed the prompts that followed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from eval.metrics import compute_metrics
from eval.results import Results

logger = logging.getLogger(__name__)

ROWS: tuple[tuple[str, str], ...] = (
    ("sr", "SR"),
    ("tm", "TM"),
    ("gr", "GR"),
    ("episode_success", "episode success"),
    ("n_steps", "steps counted"),
)


def trajectory_change(results: Results, protocol: str, contexts: Mapping[str, Any] | None) -> str | None:
    """Why an own-history run cannot be re-judged under `protocol`, or None when it can.

    In an own-history run each verdict decided what came next (where an `own` episode stopped, whether
    an `own-patched` history entry is the agent's or the gold), so a step judged otherwise under
    `protocol` would have led to other prompts. Only a protocol that gives every recorded step the
    verdict it had leaves the trajectory as it was; the first step it would judge otherwise is named.
    """
    from eval.metrics import rematch

    history = (results.header or {}).get("history", "gold")
    if history == "gold":
        return None
    for record in results.records.values():
        before = bool(record["verdict"].get("correct"))
        after = bool(rematch(record, protocol, contexts, results.header).get("correct"))
        if before != after:
            was, now = ("right", "wrong") if before else ("wrong", "right")
            return (
                f"{history!r}-history run: step {record['step_id']} was {was} under the run's protocol "
                f"and would be {now} under {protocol!r}, which changes what the agent was asked next; "
                "re-run with --protocol instead"
            )
    return None


def load_contexts(
    episodes: str | Path, results: Results | None = None, *, label: Any = "the results file"
) -> dict[str, Any]:
    """The gold context of every step of `episodes` that has one, by step id.

    With `results`, first checks that every recorded step is a step of `episodes` with the same gold
    action (`eval.results.EpisodesMismatch` otherwise): the wrong `--episodes` would be silently
    ignored, or lend its contexts to other steps that happen to share an id."""
    from episodes.readers import iter_steps
    from eval.results import check_records_in, step_golds

    steps = list(iter_steps(episodes, strict=False))
    if results is not None:
        check_records_in(results.records.values(), step_golds(steps), results=label, episodes=episodes)
    return {s.step_id: s.context for s in steps if s.context is not None}


def protocol_names(requested: Iterable[str]) -> list[str]:
    """`all` expands to every registered protocol; unknown names are a ValueError listing the known ones."""
    from actions.protocols import PROTOCOLS

    names: list[str] = []
    for name in requested:
        for n in PROTOCOLS if name == "all" else [PROTOCOLS.check_name(name)]:
            if n not in names:
                names.append(n)
    return names


def rescore(
    results: Results, protocols: Sequence[str], contexts: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One entry per protocol: the table's metrics, or `{"refused": reason}`."""
    from actions.protocols import MissingContext, get_protocol

    table: dict[str, Any] = {}
    for name in protocols:
        try:
            change = trajectory_change(results, name, contexts)
            if change is not None:
                table[name] = {"refused": change}
                continue
            m = compute_metrics(results, protocol=name, contexts=contexts)
        except MissingContext as err:
            table[name] = {"refused": str(err)}
            continue
        table[name] = {key: m[key] for key, _ in ROWS} | {
            "n_not_counted": m["n_not_counted"],
            "protocol_metrics": m["protocol_metrics"],
            "differs_from_box": get_protocol(name).differs_from_box,
        }
    return table


def _own_value(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{100 * value:.1f}%"
    return str(value)


def format_table(table: Mapping[str, Any]) -> str:
    """The per-protocol table as aligned text, refusals listed under it."""
    names = list(table)
    header = ["metric", *names]
    lines = [header]
    for key, label in ROWS:
        row = [label]
        for name in names:
            entry = table[name]
            value = entry.get(key) if "refused" not in entry else None
            if "refused" in entry:
                row.append("refused")
            elif key == "n_steps":
                row.append(str(value))
            else:
                row.append("–" if value is None else f"{100 * value:.1f}%")
        lines.append(row)
    # Each protocol's own figures under its source's names, blank where another protocol has none.
    own: list[str] = []
    for name in names:
        for key in table[name].get("protocol_metrics") or {}:
            if key not in own:
                own.append(key)
    for key in own:
        row = [key]
        for name in names:
            values = table[name].get("protocol_metrics") or {}
            row.append(_own_value(values[key]) if key in values else "")
        lines.append(row)
    widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in lines]
    for name in names:
        if "refused" in table[name]:
            text.append(f"{name}: {table[name]['refused']}")
    return "\n".join(text)
