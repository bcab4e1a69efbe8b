"""`phone-r1 eval report`: metrics.json, report.md (with PNG plots) and a self-contained report.html."""

from __future__ import annotations

import base64
import html
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent.adapters import DEFAULT_ADAPTER
from eval.metrics import HEADLINE, compute_metrics, predicted_type
from eval.provenance import header_warnings
from eval.results import read_results, step_correct

logger = logging.getLogger(__name__)

FIGURE_TITLES = {
    "per_type": "Accuracy per action type",
    "confusion": "Action type confusion (gold x predicted)",
    "sr_by_step": "SR by step index",
    "failure_reasons": "Failure reasons",
}


def fmt(value: Any) -> str:
    """A metric for tables: rates as percentages, missing values as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{100 * value:.1f}%"
    return str(value)


def _headline_rows(metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    low, high = metrics["sr_ci95"]
    # The partial reward is a score in [0, 1], not a rate.
    rows = [
        (
            name,
            f"{metrics[key]:.3f}" if key == "mean_reward" and metrics[key] is not None else fmt(metrics[key]),
        )
        for key, name in HEADLINE
    ]
    rows.insert(1, ("SR 95% bootstrap interval", f"{fmt(low)} – {fmt(high)}"))
    rows += [
        ("steps", str(metrics["n_steps"])),
        ("episodes", str(metrics["n_episodes"])),
        ("grounding steps (click / long_click)", str(metrics["n_grounding"])),
        ("failed requests", f"{metrics['errors']['total']} {metrics['errors']['by_kind'] or ''}".strip()),
        (
            "answers with no counterpart (scored wrong)",
            f"{nc['total']} {nc['by_kind'] or ''}".strip() if (nc := metrics.get("no_counterpart")) else "0",
        ),
        (
            "gold steps the agent cannot express (scored wrong)",
            f"{gc['total']} {gc['by_kind'] or ''}".strip()
            if (gc := metrics.get("gold_no_counterpart"))
            else "0",
        ),
    ]
    return rows


def _tables(metrics: Mapping[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of each table of the report."""
    per_type = [[t, str(v["n"]), fmt(v["sr"]), fmt(v["tm"])] for t, v in metrics["per_type"].items()]
    per_app = [[a, str(v["n"]), fmt(v["sr"])] for a, v in metrics["per_app"].items()]
    return [
        *_own_metrics_table(metrics),
        ("Per action type", ["gold type", "steps", "SR", "TM"], per_type),
        ("Per app", ["app", "steps", "SR"], per_app),
        *_protocol_table(metrics),
    ]


def metric_value(value: Any) -> str:
    """A protocol's own figure: rates as percentages, counts as they are."""
    return fmt(value) if not isinstance(value, int) or isinstance(value, bool) else str(value)


def _own_metrics_table(metrics: Mapping[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """The run's protocol's own figures under its source's names (docs/eval.md, the protocol's card)."""
    from actions.protocols import get_protocol

    own = metrics.get("protocol_metrics") or {}
    if not own or not metrics.get("protocol"):
        return []
    protocol = get_protocol(metrics["protocol"])
    meaning = dict(protocol.metric_names)
    rows = [[name, metric_value(value), meaning.get(name, "")] for name, value in own.items()]
    return [(f"The source's own figures ({protocol.name})", ["name", "value", "meaning"], rows)]


def _protocol_table(metrics: Mapping[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    table = metrics.get("protocols")
    if not table:
        return []
    rows = []
    for name, entry in table.items():
        if "refused" in entry:
            rows.append([name, "refused", "", "", "", "", "", entry["refused"]])
            continue
        own = "; ".join(f"{k} {metric_value(v)}" for k, v in (entry.get("protocol_metrics") or {}).items())
        rows.append(
            [
                name,
                fmt(entry["sr"]),
                fmt(entry["tm"]),
                fmt(entry["gr"]),
                fmt(entry["episode_success"]),
                str(entry["n_steps"]),
                own,
                ("Compared with box, it " if name != "box" else "") + entry["differs_from_box"],
            ]
        )
    header = [
        "protocol",
        "SR",
        "TM",
        "GR",
        "episode success",
        "steps counted",
        "the source's own figures",
        "how it differs from box",
    ]
    return [("Per protocol (docs/eval.md)", header, rows)]


def _failures(records: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    return [r for r in records if not step_correct(r)][:limit]


def _describe(wire: Mapping[str, Any] | None) -> str:
    if not wire:
        return "—"
    value = next(iter((wire.get("action_parameter") or {}).values()), "")
    return f"{wire['action_type']} {value}".strip()


def render_markdown(
    header: Mapping[str, Any] | None,
    metrics: Mapping[str, Any],
    figures: list[str],
    failures: list[dict[str, Any]],
    section: str = "",
) -> str:
    """report.md: headline, `section` (an own-history run's), tables, plots (PNGs beside it), failed steps."""
    lines = ["# Evaluation report", ""]
    if header:
        lines += [
            f"- model: `{header.get('model')}` at `{header.get('endpoint')}`, agent adapter: "
            f"`{header.get('agent') or DEFAULT_ADAPTER}`",
            f"- protocol: `{metrics.get('protocol')}`, coordinate space: `{header.get('coord_space')}`, "
            f"pixels: {header.get('min_pixels')}–{header.get('max_pixels')}, "
            f"template hash: `{header.get('template_hash')}`",
            "",
        ]
        warnings = header_warnings(header)
        lines += [f"> **Checkpoint settings:** {w}" for w in warnings] + ([""] if warnings else [])
    lines += ["| metric | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in _headline_rows(metrics)]
    lines += ["", f"Note: {metrics['notes']}.", ""]
    if section:
        lines += [section.rstrip("\n"), ""]
    for title, head, rows in _tables(metrics):
        lines += [f"## {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in rows] + [""]
    for stem in figures:
        lines += [f"## {FIGURE_TITLES[stem]}", "", f"![{FIGURE_TITLES[stem]}](plots/{stem}.png)", ""]
    if failures:
        lines += [
            "## Failed steps (first shown)",
            "",
            "| step | gold | predicted | why |",
            "|---|---|---|---|",
        ]
        for r in failures:
            why = r["error"]["kind"] if r.get("error") else r["verdict"]["reason"]
            pred = _describe(r.get("prediction")) if r.get("prediction") else predicted_type(r)
            lines.append(f"| {r['step_id']} | {_describe(r['gold'])} | {pred} | {why} |".replace("\n", " "))
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}.figs img{max-width:100%;margin:0.5em 0}
.fails{display:flex;flex-wrap:wrap;gap:12px}
.fail{width:230px;font-size:12px;border:1px solid #ddd;padding:4px}
.fail img{width:220px}.gold{color:#0a0}.pred{color:#d00}
.warn{background:#fff3cd;border:1px solid #e0b000;padding:6px 10px}
"""


def _img(data: bytes, alt: str) -> str:
    return (
        f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'
    )


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


def render_html(
    header: Mapping[str, Any] | None,
    metrics: Mapping[str, Any],
    figures: Mapping[str, bytes],
    failures: list[dict[str, Any]],
    section: str = "",
) -> str:
    """report.html with every image inlined, so the file can be mailed or archived alone; `section` (an
    own-history run's) follows the headline table, since its episode metrics are that run's headline."""
    from eval.plots import thumbnail

    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>phone-r1 evaluation</title>"
        f"<style>{_CSS}</style></head><body><h1>Evaluation report</h1>"
    ]
    if header:
        parts.append(
            f"<p>model <code>{html.escape(str(header.get('model')))}</code> at "
            f"<code>{html.escape(str(header.get('endpoint')))}</code>; agent adapter "
            f"<code>{html.escape(str(header.get('agent') or DEFAULT_ADAPTER))}</code>; protocol "
            f"<code>{html.escape(str(metrics.get('protocol')))}</code>; coordinate space "
            f"<code>{html.escape(str(header.get('coord_space')))}</code>; pixels "
            f"{header.get('min_pixels')}–{header.get('max_pixels')}; created "
            f"{html.escape(str(header.get('created')))}</p>"
        )
        for warning in header_warnings(header):
            parts.append(f"<p class='warn'><b>Checkpoint settings:</b> {html.escape(warning)}</p>")
    parts.append(_html_table(["metric", "value"], [list(r) for r in _headline_rows(metrics)]))
    parts.append(f"<p><em>Note: {html.escape(metrics['notes'])}.</em></p>")
    parts.append(section)
    for title, head, rows in _tables(metrics):
        parts.append(f"<h2>{html.escape(title)}</h2>" + _html_table(head, rows))
    parts.append("<div class='figs'>")
    for stem, data in figures.items():
        parts.append(f"<h2>{FIGURE_TITLES[stem]}</h2>{_img(data, FIGURE_TITLES[stem])}")
    parts.append("</div>")
    if failures:
        parts.append(
            "<h2>Failed steps</h2><p><span class='gold'>green: gold</span>, "
            "<span class='pred'>red: prediction</span></p><div class='fails'>"
        )
        for r in failures:
            thumb = thumbnail(r)
            why = r["error"]["message"] if r.get("error") else r["verdict"]["reason"]
            pred = _describe(r.get("prediction")) if r.get("prediction") else predicted_type(r)
            parts.append(
                "<div class='fail'>"
                + (_img(thumb, r["step_id"]) if thumb else "<p>(no screenshot)</p>")
                + f"<div><b>{html.escape(r['step_id'])}</b> {html.escape(r.get('app') or '')}</div>"
                f"<div class='gold'>gold: {html.escape(_describe(r['gold']))}</div>"
                f"<div class='pred'>pred: {html.escape(pred)}</div><div>{html.escape(str(why))}</div></div>"
            )
        parts.append("</div>")
    parts.append("</body></html>")
    return "".join(parts)


def write_report(
    results: str | Path,
    out_dir: str | Path,
    *,
    protocol: str | None = None,
    max_failures: int = 24,
    against: str | Path | None = None,
    episodes: str | Path | None = None,
) -> list[Path]:
    """Write metrics.json, report.md (+ plots/*.png) and report.html into `out_dir`; returns their paths.

    For an own-history run the report gains its episode metrics; `against` (a teacher-forced run of the
    same agent) adds the gap between the two. A gold-history run is also re-judged under every
    registered protocol (`eval rescore`), with the gold context of `episodes` when given.
    """
    from actions.protocols import PROTOCOLS
    from eval.own_report import own_section
    from eval.plots import all_figures
    from eval.rescore import load_contexts, rescore

    loaded = read_results(results)
    records = list(loaded.records.values())
    contexts = load_contexts(episodes, loaded, label=results) if episodes else {}
    metrics = compute_metrics(loaded, protocol=protocol, contexts=contexts)
    metrics["protocols"] = rescore(loaded, list(PROTOCOLS), contexts)
    history = (loaded.header or {}).get("history", "gold")
    gold = read_results(against) if against is not None else None
    if gold is not None and (history == "gold" or (gold.header or {}).get("history", "gold") != "gold"):
        raise ValueError(
            f"--against: expected RESULTS from an own-history run and {against} from a teacher-forced one; "
            f"found {history!r} and {(gold.header or {}).get('history', 'gold')!r}"
        )
    section = own_section(loaded.header, records, gold) if history != "gold" else None
    out = Path(out_dir)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    figures = all_figures(metrics)
    if section is not None:
        metrics["own_history"] = section.metrics
    for stem, data in {**figures, **(section.figures if section else {})}.items():
        (out / "plots" / f"{stem}.png").write_bytes(data)
    failures = _failures(records, max_failures)
    metrics_path = out / "metrics.json"
    metrics_path.write_text(
        json.dumps(
            {
                "results": str(Path(results).resolve()),
                "header": loaded.header,
                "checkpoint_warnings": header_warnings(loaded.header),
                **metrics,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    md_path = out / "report.md"
    own_md = own_html = ""
    if section is not None:
        own_md = section.markdown
        own_html = section.html + "".join(_img(data, stem) for stem, data in section.figures.items())
    markdown = render_markdown(loaded.header, metrics, list(figures), failures, own_md)
    page = render_html(loaded.header, metrics, figures, failures, own_html)
    md_path.write_text(markdown, encoding="utf-8")
    html_path = out / "report.html"
    html_path.write_text(page, encoding="utf-8")
    logger.info("report for %s written to %s", results, out)
    return [metrics_path, md_path, html_path]
