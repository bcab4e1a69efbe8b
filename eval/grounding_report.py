"""Reports on grounding runs: `eval report`, `eval rescore` and `eval compare` when the results file's
header says `"task": "grounding"`.

- report: metrics.json, report.md and a self-contained report.html: the benchmark's headline as its
  protocol defines it, the micro and every macro average (each named, with its 95% bootstrap
  interval), the benchmark's breakdowns (`eval.grounding_metrics`), the settings that decide whether
  the run reproduces a published one (from the header), the table of every applicable grounding
  protocol, and the wrong items drawn: target in green, answered point in red.
- rescore: the stored answers re-judged under each grounding protocol (no model call). A protocol that
  cannot judge some item (a box-only rule on a polygon target) is listed as not applicable, naming
  the item, never scored with another rule.
- compare: two runs on the items they share, under one protocol: headline, micro and macro deltas
  (B - A), a paired bootstrap interval for the micro delta, and the items that flipped.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.grounding_metrics import N_RESAMPLES, format_grounding_metrics, grounding_metrics
from eval.results import Results, read_results

logger = logging.getLogger(__name__)

TASK = "grounding"
GOLD_COLOUR = (0, 170, 0)
ANSWER_COLOUR = (220, 0, 0)
# Header fields that decide whether a run reproduces a published setting (docs/eval.md, reproduction).
SETTINGS: tuple[tuple[str, str], ...] = (
    ("agent", "adapter"),
    ("model", "model"),
    ("endpoint", "endpoint"),
    ("coord_space", "coordinate grid"),
    ("min_pixels", "min_pixels"),
    ("max_pixels", "max_pixels"),
    ("temperature", "temperature"),
    ("language", "instruction language"),
)


def is_grounding(results: Results) -> bool:
    """True for a results file written by `eval run` on a grounding set."""
    return (results.header or {}).get("task") == TASK


def records_under(results: Results, protocol: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """`(protocol, records)`: the stored records, each re-judged when `protocol` is not the run's.
    A protocol that cannot judge some item raises `NotApplicable` naming it."""
    from actions.grounding_protocols import GROUNDING_PROTOCOLS
    from eval.grounding_run import rejudge

    run_protocol = (results.header or {}).get("protocol")
    name = GROUNDING_PROTOCOLS.check_name(protocol or run_protocol or "region")
    records = list(results.records.values())
    if name == run_protocol:
        return name, records
    rejudged = []
    for record in records:
        try:
            verdict = rejudge(record, name)
        except ValueError as exc:
            raise type(exc)(f"item {record['step_id']}: {exc}") from None
        rejudged.append({**record, "verdict": verdict})
    return name, rejudged


def metrics_of(results: Results, protocol: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """`grounding_metrics` of a run under `protocol` (default: the run's)."""
    from actions.grounding_protocols import get_grounding_protocol

    name, records = records_under(results, protocol)
    return grounding_metrics(records, get_grounding_protocol(name), **kwargs)


# --- rescore -------------------------------------------------------------------------------------


def grounding_protocol_names(requested: Iterable[str]) -> list[str]:
    """`all` expands to every registered grounding protocol; an unknown name is a ValueError."""
    from actions.grounding_protocols import GROUNDING_PROTOCOLS

    names: list[str] = []
    for name in requested:
        for n in GROUNDING_PROTOCOLS if name == "all" else [GROUNDING_PROTOCOLS.check_name(name)]:
            if n not in names:
                names.append(n)
    return names


def grounding_rescore(results: Results, protocols: Sequence[str]) -> dict[str, Any]:
    """One entry per protocol: headline, micro and counts, or `{"not_applicable": reason}`."""
    from actions.grounding_protocols import NotApplicable

    run_protocol = (results.header or {}).get("protocol")
    table: dict[str, Any] = {}
    for name in protocols:
        try:
            m = metrics_of(results, name)
        except NotApplicable as exc:
            table[name] = {"not_applicable": str(exc)}
            continue
        table[name] = {
            "headline": m["headline"]["value"],
            "headline_definition": m["headline"]["definition"],
            "headline_ci95": m["headline"]["ci95"],
            "micro": m["micro"]["value"],
            "counted": m["counted"],
            "items": m["items"],
            "correct": m["correct"],
            "run_protocol": name == run_protocol,
        }
    return table


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{100 * value:+.2f}" if signed else f"{100 * value:.2f}"


def format_grounding_rescore(table: Mapping[str, Any]) -> str:
    """The per-protocol table as aligned text (one row per protocol), the inapplicable ones under it."""
    rows = [["protocol", "headline %", "95% CI", "micro %", "counted", "headline is"]]
    for name, entry in table.items():
        if "not_applicable" in entry:
            continue
        low, high = entry["headline_ci95"]
        interval = f"[{100 * low:.1f}, {100 * high:.1f}]" if entry["headline"] is not None else "–"
        mark = " (the run's)" if entry["run_protocol"] else ""
        rows.append(
            [
                f"{name}{mark}",
                _pct(entry["headline"]),
                interval,
                _pct(entry["micro"]),
                f"{entry['counted']}/{entry['items']}",
                entry["headline_definition"],
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    text = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    for name, entry in table.items():
        if "not_applicable" in entry:
            text.append(f"{name}: not applicable: {entry['not_applicable']}")
    return "\n".join(text)


# --- compare -------------------------------------------------------------------------------------


def paired_delta_ci(
    fixed: int, broken: int, n: int, *, n_resamples: int = N_RESAMPLES, seed: int = 0
) -> list[float]:
    """95% paired bootstrap interval of a micro-accuracy difference over `n` shared items, `fixed` of
    them right only in B and `broken` right only in A. Resampling items keeps each item's pair of
    outcomes, so only the two discordant counts move: one multinomial draw per resample."""
    if n == 0:
        return [0.0, 0.0]
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, [fixed / n, broken / n, (n - fixed - broken) / n], size=n_resamples)
    deltas = (draws[:, 0] - draws[:, 1]) / n
    return [float(v) for v in np.percentile(deltas, [2.5, 97.5])]


def grounding_compare(a: Results, b: Results, *, protocol: str | None = None) -> dict[str, Any]:
    """Both runs on the items they share, judged under one protocol (`protocol`, else A's)."""
    from actions.grounding_protocols import get_grounding_protocol

    name = protocol or (a.header or {}).get("protocol") or "region"
    _, ra = records_under(a, name)
    _, rb = records_under(b, name)
    by_a = {r["step_id"]: r for r in ra}
    by_b = {r["step_id"]: r for r in rb}
    shared = [s for s in by_a if s in by_b]
    rule = get_grounding_protocol(name)
    ma = grounding_metrics([by_a[s] for s in shared], rule)
    mb = grounding_metrics([by_b[s] for s in shared], rule)
    fixed, broken = [], []
    for item_id in shared:
        before, after = by_a[item_id], by_b[item_id]
        if not before["verdict"].get("counted", True):
            continue
        ok_a, ok_b = bool(before["verdict"].get("correct")), bool(after["verdict"].get("correct"))
        if ok_a == ok_b:
            continue
        entry = {
            "id": item_id,
            "instruction": before.get("instruction"),
            "a": {"answer": before.get("answer"), "reason": before["verdict"].get("reason")},
            "b": {"answer": after.get("answer"), "reason": after["verdict"].get("reason")},
        }
        (fixed if ok_b else broken).append(entry)

    def delta(x: float | None, y: float | None) -> float | None:
        return y - x if x is not None and y is not None else None

    return {
        "protocol": name,
        "headers": {"a": a.header, "b": b.header},
        "shared_items": len(shared),
        "only_a": len(by_a) - len(shared),
        "only_b": sum(1 for s in by_b if s not in by_a),
        "metrics": {"a": ma, "b": mb},
        "deltas": {
            "headline": delta(ma["headline"]["value"], mb["headline"]["value"]),
            "micro": delta(ma["micro"]["value"], mb["micro"]["value"]),
            **{
                f"macro over {key}": delta(ma["macro"][key]["value"], mb["macro"].get(key, {}).get("value"))
                for key in ma["macro"]
            },
        },
        "micro_delta_ci95": paired_delta_ci(len(fixed), len(broken), ma["counted"]),
        "fixed": fixed,  # wrong in A, right in B
        "broken": broken,  # right in A, wrong in B
    }


def format_grounding_comparison(comparison: Mapping[str, Any], *, max_flips: int = 20) -> str:
    """The comparison as text for a terminal: the averages, then the flipped items."""
    ma, mb = comparison["metrics"]["a"], comparison["metrics"]["b"]
    headers = comparison["headers"]
    lines = [
        f"A: agent {(headers['a'] or {}).get('agent')}, model {(headers['a'] or {}).get('model')}",
        f"B: agent {(headers['b'] or {}).get('agent')}, model {(headers['b'] or {}).get('model')}",
        f"{comparison['shared_items']} shared items (only in A: {comparison['only_a']}, only in B: "
        f"{comparison['only_b']}); protocol {comparison['protocol']}",
        "",
        f"{'average':<36}{'A %':>8}{'B %':>8}{'B-A':>8}",
    ]
    rows = [(f"headline ({ma['headline']['definition']})", ma["headline"], mb["headline"], "headline")]
    rows.append(("micro", ma["micro"], mb["micro"], "micro"))
    rows += [
        (f"macro over {k}", ma["macro"][k], mb["macro"].get(k, {}), f"macro over {k}") for k in ma["macro"]
    ]
    for label, x, y, key in rows:
        lines.append(
            f"{label:<36}{_pct(x.get('value')):>8}{_pct(y.get('value')):>8}"
            f"{_pct(comparison['deltas'][key], True):>8}"
        )
    low, high = comparison["micro_delta_ci95"]
    lines.append(f"micro B-A paired bootstrap 95% CI: [{100 * low:+.2f}, {100 * high:+.2f}]")
    for title, entries, side in (
        ("fixed (wrong in A, right in B)", comparison["fixed"], "a"),
        ("broken (right in A, wrong in B)", comparison["broken"], "b"),
    ):
        lines += ["", f"{title}: {len(entries)}"]
        for entry in entries[:max_flips]:
            lines.append(f"  {entry['id']:<24} {entry[side]['reason']}")
        if len(entries) > max_flips:
            lines.append(f"  ... {len(entries) - max_flips} more (--max-flips, --json)")
    return "\n".join(lines)


# --- report --------------------------------------------------------------------------------------


def settings_rows(header: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The recorded settings that decide reproduction, as (name, value) rows."""
    header = header or {}
    rows = [(label, str(header.get(key))) for key, label in SETTINGS]
    grounding = header.get("grounding") or {}
    rows += [
        ("image/text order", str(grounding.get("image_text_order"))),
        ("prompt file", str(grounding.get("prompt_file") or "none: the adapter's own wording")),
        ("prompt hash", str(grounding.get("prompt_hash"))),
        ("system prompt", str(grounding.get("system_prompt") or "none")),
        ("user prompt", str(grounding.get("user_prompt"))),
    ]
    return rows


def item_thumbnail(record: Mapping[str, Any], width: int = 260) -> bytes | None:
    """The item's screenshot with its target (green outline) and the answered point (red), or None."""
    from PIL import Image, ImageDraw

    from actions.regions import Box, Polygon, region_from_json

    try:
        with Image.open(record["image"]) as source:
            image = source.convert("RGB")
    except OSError as exc:
        logger.warning("item %s: cannot draw %s: %s", record.get("step_id"), record.get("image"), exc)
        return None
    screen = tuple(record["screen"])
    # Screen pixels to thumbnail pixels (the file may not be the declared screen size).
    sx, sy = width / screen[0], width * image.height / image.width / screen[1]
    image = image.resize((width, max(1, round(image.height * width / image.width))))
    draw = ImageDraw.Draw(image)
    target = region_from_json(record["target"])
    if isinstance(target, Box):
        x1, y1, x2, y2 = Box(target.pixels(screen)).ordered()
        draw.rectangle([x1 * sx, y1 * sy, x2 * sx, y2 * sy], outline=GOLD_COLOUR, width=2)
    elif isinstance(target, Polygon):
        points = [(x * sx, y * sy) for x, y in target.pixels(screen)]
        draw.line([*points, points[0]], fill=GOLD_COLOUR, width=2)
    point = (record.get("answer") or {}).get("point")
    if point is not None:
        cx, cy, r = point[0] * sx, point[1] * sy, 5
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=ANSWER_COLOUR, outline=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _md_table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    def cell(value: str) -> str:
        return value.replace("|", "\\|").replace("\n", " ")

    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(cell(c) for c in row) + " |" for row in rows),
        "",
    ]


def _averages(metrics: Mapping[str, Any]) -> list[list[str]]:
    def ci(stat: Mapping[str, Any]) -> str:
        if stat["value"] is None:
            return "–"
        low, high = stat["ci95"]
        return f"[{100 * low:.1f}, {100 * high:.1f}]"

    rows = [
        [
            f"headline ({metrics['headline']['definition']})",
            _pct(metrics["headline"]["value"]),
            ci(metrics["headline"]),
        ],
        ["micro (all counted items)", _pct(metrics["micro"]["value"]), ci(metrics["micro"])],
    ]
    for key, macro in metrics["macro"].items():
        rows.append([f"macro over {key} ({len(macro['over'])} values)", _pct(macro["value"]), ci(macro)])
    return rows


def _breakdown_rows(table: Mapping[str, Any]) -> list[list[str]]:
    return [
        [value, _pct(cell["accuracy"]), f"{cell['correct']}/{cell['n']}"] for value, cell in table.items()
    ]


def _rescore_rows(table: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for name, entry in table.items():
        if "not_applicable" in entry:
            rows.append([name, "not applicable", "", "", entry["not_applicable"]])
            continue
        mark = " (the run's)" if entry["run_protocol"] else ""
        rows.append(
            [
                name + mark,
                _pct(entry["headline"]),
                _pct(entry["micro"]),
                f"{entry['counted']}/{entry['items']}",
                entry["headline_definition"],
            ]
        )
    return rows


def render_grounding_markdown(
    header: Mapping[str, Any] | None,
    metrics: Mapping[str, Any],
    failures: list[tuple[dict[str, Any], str | None]],
) -> str:
    """report.md: settings, averages, breakdowns, the protocol table and the wrong items."""
    lines = ["# Grounding evaluation report", ""]
    lines += [
        f"{metrics['items']} items, {metrics['counted']} counted by `{metrics['protocol']}`, "
        f"{metrics['correct']} correct. Micro: over every counted item; macro over KEY: the plain mean "
        "of KEY's values (docs/eval.md, Grounding).",
        "",
    ]
    lines += [
        "## Averages",
        "",
        *_md_table(["average", "accuracy %", "95% bootstrap CI"], _averages(metrics)),
    ]
    outcomes = ", ".join(f"{k} {v}" for k, v in metrics["outcomes"].items())
    lines += [f"Outcomes: {outcomes}.", ""]
    if metrics["uncounted"]["n"]:
        u = metrics["uncounted"]
        lines += [f"Not counted by this protocol: {u['n']} items ({u['correct']} answered right).", ""]
    for key, table in metrics["breakdowns"].items():
        if table:  # a category no item has gets no table
            lines += [
                f"## By {key}",
                "",
                *_md_table([key, "accuracy %", "correct/n"], _breakdown_rows(table)),
            ]
    lines += [
        "## Every grounding protocol (eval rescore)",
        "",
        *_md_table(
            ["protocol", "headline %", "micro %", "counted", "headline is"],
            _rescore_rows(metrics["protocols"]),
        ),
    ]
    lines += ["## Settings recorded", "", *_md_table(["setting", "value"], settings_rows(header))]
    if failures:
        lines += ["## Wrong items (first shown; green: target, red: answer)", ""]
        for record, picture in failures:
            why = record["error"]["kind"] if record.get("error") else record["verdict"]["reason"]
            lines.append(f"- `{record['step_id']}` {record.get('instruction', '')!r}: {why}")
            if picture:
                lines.append(f"  ![{record['step_id']}]({picture})")
        lines.append("")
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}.fails{display:flex;flex-wrap:wrap;gap:12px}
.fail{width:270px;font-size:12px;border:1px solid #ddd;padding:4px}.fail img{width:260px}
.gold{color:#0a0}.pred{color:#d00}pre{white-space:pre-wrap;margin:0}
"""


def _html_table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td><pre>{html.escape(c)}</pre></td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{cells}</tr>{body}</table>"


def render_grounding_html(
    header: Mapping[str, Any] | None,
    metrics: Mapping[str, Any],
    failures: list[tuple[dict[str, Any], bytes | None]],
) -> str:
    """report.html with every picture inlined."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>phone-r1 grounding evaluation</title>"
        f"<style>{_CSS}</style></head><body><h1>Grounding evaluation report</h1>",
        f"<p>{metrics['items']} items, {metrics['counted']} counted by "
        f"<code>{html.escape(metrics['protocol'])}</code>, {metrics['correct']} correct.</p>",
        "<h2>Averages</h2>" + _html_table(["average", "accuracy %", "95% bootstrap CI"], _averages(metrics)),
    ]
    for key, table in metrics["breakdowns"].items():
        if not table:
            continue
        parts.append(
            f"<h2>By {html.escape(key)}</h2>"
            + _html_table([key, "accuracy %", "correct/n"], _breakdown_rows(table))
        )
    parts.append(
        "<h2>Every grounding protocol</h2>"
        + _html_table(
            ["protocol", "headline %", "micro %", "counted", "headline is"],
            _rescore_rows(metrics["protocols"]),
        )
    )
    parts.append("<h2>Settings recorded</h2>" + _html_table(["setting", "value"], settings_rows(header)))
    if failures:
        parts.append(
            "<h2>Wrong items</h2><p><span class='gold'>green: target</span>, "
            "<span class='pred'>red: answer</span></p><div class='fails'>"
        )
        for record, data in failures:
            why = record["error"]["message"] if record.get("error") else record["verdict"]["reason"]
            picture = (
                f"<img alt='{html.escape(record['step_id'])}' src='data:image/png;base64,"
                f"{base64.b64encode(data).decode('ascii')}'>"
                if data
                else "<p>(no screenshot)</p>"
            )
            parts.append(
                f"<div class='fail'>{picture}<div><b>{html.escape(record['step_id'])}</b></div>"
                f"<div>{html.escape(str(record.get('instruction', '')))}</div>"
                f"<div class='pred'>{html.escape(str(record.get('raw', ''))[:200])}</div>"
                f"<div>{html.escape(str(why))}</div></div>"
            )
        parts.append("</div>")
    parts.append("</body></html>")
    return "".join(parts)


def write_grounding_report(
    results: str | Path, out_dir: str | Path, *, protocol: str | None = None, max_failures: int = 24
) -> list[Path]:
    """Write metrics.json, report.md (+ failures/*.png) and report.html; returns their paths."""
    from actions.grounding_protocols import get_grounding_protocol

    loaded = read_results(results)
    name, records = records_under(loaded, protocol)
    metrics = grounding_metrics(records, get_grounding_protocol(name))
    metrics["protocols"] = grounding_rescore(loaded, grounding_protocol_names(["all"]))
    out = Path(out_dir)
    (out / "failures").mkdir(parents=True, exist_ok=True)
    wrong = [r for r in records if r["verdict"].get("counted", True) and not r["verdict"].get("correct")]
    pictures: list[tuple[dict[str, Any], bytes | None]] = [
        (r, item_thumbnail(r)) for r in wrong[:max_failures]
    ]
    linked: list[tuple[dict[str, Any], str | None]] = []
    for n, (record, data) in enumerate(pictures):
        if data is None:
            linked.append((record, None))
            continue
        relative = f"failures/{n:03d}.png"
        (out / relative).write_bytes(data)
        linked.append((record, relative))
    metrics_path = out / "metrics.json"
    payload = {"results": str(Path(results).resolve()), "header": loaded.header, **metrics}
    metrics_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md_path = out / "report.md"
    md_path.write_text(render_grounding_markdown(loaded.header, metrics, linked), encoding="utf-8")
    html_path = out / "report.html"
    html_path.write_text(render_grounding_html(loaded.header, metrics, pictures), encoding="utf-8")
    logger.info("grounding report for %s written to %s", results, out)
    return [metrics_path, md_path, html_path]


def summary_text(results: str | Path, protocol: str | None = None) -> str:
    """The metrics as text, as `eval report` prints them."""
    return format_grounding_metrics(metrics_of(read_results(results), protocol))
