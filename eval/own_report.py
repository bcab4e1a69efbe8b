"""The own-history section of `eval report`: episode metrics, their gap to teacher forcing, two plots."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from eval.own_metrics import history_gap, own_history_metrics


@dataclass(frozen=True)
class OwnSection:
    """What `write_report` adds for an own-history run: metrics for metrics.json, text and figures."""

    metrics: dict[str, Any]
    markdown: str
    html: str
    figures: dict[str, bytes] = field(default_factory=dict)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _ci(pair: tuple[float, float]) -> str:
    return f"[{100 * pair[0]:.1f}, {100 * pair[1]:.1f}]"


def progress_figure(metrics: dict[str, Any]) -> Any:
    """The figure of `progress_histogram` (episodes counted in whole numbers)."""
    from eval.plots import _figure, whole_numbers

    values = [o["progress"] for o in metrics["outcomes"].values()]
    fig, ax = _figure(5.0, 2.8)
    ax.hist(values, bins=[i / 10 for i in range(11)], edgecolor="white")
    ax.set_xlabel("progress (matched prefix / episode length)")
    ax.set_ylabel("episodes")
    ax.set_xlim(0, 1)
    whole_numbers(ax.yaxis)
    return fig


def progress_histogram(metrics: dict[str, Any]) -> bytes:
    """Episodes by progress (matched prefix / length), in tenths."""
    from eval.plots import _png

    return _png(progress_figure(metrics))


def first_error_bars(metrics: dict[str, Any]) -> bytes:
    """Episodes by the step of their first error, stacked by the gold action type there."""
    from eval.plots import _png

    return _png(first_error_figure(metrics))


def first_error_figure(metrics: dict[str, Any]) -> Any:
    """The figure of `first_error_bars`: whole-number steps and episode counts, room around a lone step,
    and a sentence instead of empty axes when no episode has an error."""
    from eval.plots import _figure, around_one_value, whole_numbers

    steps: dict[int, dict[str, int]] = {}
    for o in metrics["outcomes"].values():
        if o["first_error_step"] is not None:
            row = steps.setdefault(int(o["first_error_step"]), {})
            row[o["first_error_type"]] = row.get(o["first_error_type"], 0) + 1
    types = sorted({t for row in steps.values() for t in row})
    xs = sorted(steps)
    fig, ax = _figure(max(5.0, 0.5 * len(xs) + 2), 2.8)
    bottom = [0] * len(xs)
    for kind in types:
        heights = [steps[x].get(kind, 0) for x in xs]
        ax.bar(xs, heights, bottom=bottom, label=kind)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_xlabel("step of the first error")
    ax.set_ylabel("episodes")
    whole_numbers(ax.xaxis)
    whole_numbers(ax.yaxis)
    if xs:
        around_one_value(ax, xs)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no episode has an error", ha="center", va="center", transform=ax.transAxes)
    if types:
        ax.legend(fontsize=7, title="gold type", title_fontsize=7)
    return fig


FIGURES = {
    "own_progress": ("Own history: progress per episode", progress_histogram),
    "own_first_error": ("Own history: first error by step and gold type", first_error_bars),
}


def own_section(
    header: dict[str, Any] | None, records: list[dict[str, Any]], against: Any = None
) -> OwnSection:
    """The section for an own-history run; `against` is a teacher-forced run's `Results`, or None."""
    mode = (header or {}).get("history", "gold")
    metrics = own_history_metrics(records)
    rows = [
        ("episodes", str(metrics["episodes"])),
        ("task success", f"{_pct(metrics['task_success'])} {_ci(metrics['task_success_ci95'])}"),
        ("progress", f"{_pct(metrics['progress'])} {_ci(metrics['progress_ci95'])}"),
    ]
    result: dict[str, Any] = {"history": mode, **{k: v for k, v in metrics.items() if k != "outcomes"}}
    gap = None
    if against is not None:
        gap = history_gap(metrics, against.records.values())
        result["against"] = gap
    first = ", ".join(f"{k}: {v}" for k, v in metrics["steps_to_first_error"].items())
    md = [f"## Own history (`{mode}`)", "", "| metric | value (95% CI) |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in rows]
    md += ["", f"Steps to the first error (episodes): {first}.", ""]
    page = [
        f"<h2>Own history ({html.escape(mode)})</h2><table><tr><th>metric</th><th>value (95% CI)</th></tr>"
    ]
    page += [f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows]
    page += [f"</table><p>Steps to the first error (episodes): {html.escape(first)}.</p>"]
    if gap is not None:
        side = [
            ("step success (SR)", _pct(gap["teacher_forced_sr"]), "—"),
            (
                "episode / task success",
                _pct(gap["teacher_forced_episode_success"]),
                _pct(gap["own_task_success"]),
            ),
            ("progress", "—", _pct(gap["own_progress"])),
        ]
        md += [
            f"### Teacher-forced vs own history ({gap['episodes']} shared episodes)",
            "",
            "| metric | teacher-forced | own history |",
            "|---|---|---|",
        ]
        md += [f"| {a} | {b} | {c} |" for a, b, c in side]
        page += [
            f"<h3>Teacher-forced vs own history ({gap['episodes']} shared episodes)</h3>"
            "<table><tr><th>metric</th><th>teacher-forced</th><th>own history</th></tr>"
        ]
        page += [f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in side]
        page += ["</table>"]
        flips = gap["flipped_episodes"]
        lines = [
            f"{f['episode_id']}: teacher-forced {'success' if f['teacher_forced'] else 'failure'}, own "
            f"{'success' if f['own'] else 'failure at ' + str(f['own_first_error'])}"
            for f in flips
        ]
        md += (
            ["", f"Episodes whose outcome flips ({len(flips)}):", ""] + [f"- {line}" for line in lines] + [""]
        )
        page += [f"<p>Episodes whose outcome flips ({len(flips)}):</p><ul>"]
        page += [f"<li>{html.escape(line)}</li>" for line in lines] + ["</ul>"]
    figures = {stem: draw(metrics) for stem, (_, draw) in FIGURES.items()}
    for stem, (title, _) in FIGURES.items():
        md += [f"### {title}", "", f"![{title}](plots/{stem}.png)", ""]
    return OwnSection(result, "\n".join(md) + "\n", "".join(page), figures)
