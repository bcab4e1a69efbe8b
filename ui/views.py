"""Turn one step (plus its records) into what the page shows: overlaid screenshots and Markdown.

Pure functions over `ReplayData`; the Gradio wiring in `ui.app` only routes their results to
components.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from actions.vocab import THINK_FIELDS
from episodes.step import Step
from ui.overlay import (
    GOLD_COLOR,
    PRED_B_COLOR,
    PRED_COLOR,
    Mark,
    marks_for_action,
    marks_for_point_answer,
    marks_for_region,
    placeholder,
    render_overlay,
)
from ui.replay import ReplayData, Run

logger = logging.getLogger(__name__)

RUN_COLORS = (PRED_COLOR, PRED_B_COLOR)
RUN_COLOR_NAMES = ("red", "blue")


@dataclass
class StepView:
    """Everything the page shows for one step."""

    header: str
    previous: Image.Image | None
    current: Image.Image | None
    gold: str
    runs: list[str] = field(default_factory=list)  # one Markdown panel per loaded run
    raw: list[str] = field(default_factory=list)  # raw model output per run
    verdicts: list[str] = field(default_factory=list)  # one line per run, also inside `runs`


def prediction_action(record: dict[str, Any] | None) -> Any | None:
    """The typed action stored in a record's `prediction` (wire JSON, original pixels), or None."""
    if not record or not record.get("prediction"):
        return None
    from actions import parse_action

    try:
        return parse_action(record["prediction"], strict=False)
    except ValueError as exc:
        logger.warning("step %s: stored prediction does not parse: %s", record.get("step_id"), exc)
        return None


def describe_action(action: Any | None) -> str:
    """One line for an action: its wire JSON (non-ASCII kept), or a dash."""
    if action is None:
        return "—"
    return "`" + json.dumps(action.to_json(), ensure_ascii=False) + "`"


def verdict_line(record: dict[str, Any] | None) -> str:
    """ "✔ correct" / "✘ wrong" / "⚠ error" with the matcher's reason; "not evaluated" without a record."""
    if record is None:
        return "not evaluated"
    error = record.get("error")
    verdict = record.get("verdict") or {}
    reason = verdict.get("reason", "")
    if error:
        return f"⚠ error ({error.get('kind', '?')}): {error.get('message', '')}"
    mark = "✔ correct" if verdict.get("correct") else "✘ wrong"
    if verdict.get("correct") is False and verdict.get("type_match"):
        mark += " (type matches)"
    return f"{mark} — {reason}" if reason else mark


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def reward_table(reward: dict[str, Any] | None) -> str:
    """The partial reward's parts as a Markdown list: each part's total, then its sub-scores."""
    if not reward:
        return "_no reward recorded_"
    lines = []
    for section in ("format", "action"):
        parts = reward.get(section)
        if isinstance(parts, dict):
            details = " · ".join(f"{k} {_number(v)}" for k, v in parts.items() if k != "total")
            lines.append(f"- {section} **{_number(parts.get('total', '—'))}**: {details}")
        elif parts is not None:
            lines.append(f"- {section} **{_number(parts)}**")
    return "\n".join(lines) or "_no breakdown recorded_"


def think_block(think: Any) -> str:
    """The four think fields, each under its name; other shapes shown as JSON."""
    if not think:
        return "_no think payload_"
    if not isinstance(think, dict):
        return "```\n" + str(think) + "\n```"
    lines = []
    for key in (*THINK_FIELDS, *[k for k in think if k not in THINK_FIELDS]):
        if key in think:
            lines.append(f"- **{key}**: {think[key]}")
    return "\n".join(lines)


def grounding_answer_line(record: dict[str, Any]) -> str:
    """A grounding record's answer: the point in screen pixels, a refusal, or what was missing."""
    answer = record.get("answer") or {}
    point = answer.get("point")
    if point is not None:
        return f"click at ({_number(float(point[0]))}, {_number(float(point[1]))}) px"
    if answer.get("refused"):
        return "refused (no element matches)"
    return "no point (" + ", ".join(map(str, answer.get("problems") or ["nothing parsed"])) + ")"


def grounding_panel(run: Run, record: dict[str, Any], title: str) -> str:
    """Markdown for one grounding run's answer on an item: verdict under the run's protocol, answer."""
    parts = [
        title,
        f"**Verdict ({run.header.get('protocol')}):** {verdict_line(record)}",
        f"**Answer:** {grounding_answer_line(record)}",
        f"**Instruction sent:** {record.get('instruction', '')}"
        + (f" ({record['language']})" if record.get("language") else ""),
    ]
    if record.get("latency_s") is not None:
        parts.append(f"_latency {_number(record.get('latency_s'))} s; adapter {run.header.get('agent')}_")
    return "\n\n".join(parts)


def run_panel(run: Run, record: dict[str, Any] | None, color_name: str) -> str:
    """Markdown for one run's answer on a step: prediction, verdict, reward, think, problems."""
    title = f"### {run.label} ({color_name}) — {run.header.get('model') or run.path.name}"
    own_run = run.header.get("history", "gold") != "gold"
    if record is None:
        why = "not reached: its episode stopped at an earlier mismatch" if own_run else "not evaluated"
        return f"{title}\n\n{why}"
    if run.grounding:
        return grounding_panel(run, record, title)
    parts = [
        title,
        f"**Verdict:** {verdict_line(record)}",
        f"**Prediction:** {describe_action(prediction_action(record))}",
    ]
    if "history" in record:
        parts.append("**History this step saw:** " + history_line(record))
    if record.get("stopped"):
        parts.append("**The episode stopped here** (first mismatch with the agent's own history).")
    if record.get("problems"):
        parts.append("**Problems:** " + ", ".join(map(str, record["problems"])))
    reward = record.get("reward") or {}
    parts.append(f"**Partial reward:** {_number(reward.get('total', '—'))}\n\n" + reward_table(reward))
    parts.append("**Think**\n\n" + think_block(record.get("think")))
    usage = record.get("usage") or {}
    if record.get("latency_s") is not None or usage:
        bits = [f"latency {_number(record.get('latency_s'))} s"]
        bits += [", ".join(f"{k} {v}" for k, v in usage.items())] if usage else []
        parts.append("_" + "; ".join(bits) + "_")
    return "\n\n".join(parts)


def history_line(record: dict[str, Any]) -> str:
    """The history an own-history step was asked with, each entry marked as the agent's own or gold."""
    history, own = record.get("history") or [], record.get("history_own") or []
    if not history:
        return "(none)"
    marks = [f"{entry} ({'own' if i < len(own) and own[i] else 'gold'})" for i, entry in enumerate(history)]
    return " → ".join(marks)


def step_header(step: Step, position: int, total: int) -> str:
    history = " → ".join(step.history) if step.history else "(none)"
    path = " → ".join(step.task_path[k] for k in sorted(step.task_path, key=lambda k: (len(k), k)))
    # An empty app name would render as `app ****` (bold around nothing).
    app = f"app **{step.app}**" if (step.app or "").strip() else "no app name recorded"
    return (
        f"**Episode {step.episode_id}, step {step.index}** ({position + 1} of {total} shown) · {app}\n\n"
        f"**Task:** {step.task}\n\n**Planned path:** {path or '—'}\n\n**Done so far:** {history}"
    )


def item_header(item: Any, position: int, total: int) -> str:
    """A grounding item's header: id, benchmark, instruction (and its other languages), categories."""
    categories = " · ".join(
        f"{k} **{v if isinstance(v, str) else ', '.join(v)}**" for k, v in item.categories.items()
    )
    others = "".join(f"\n\n**Instruction ({lang}):** {text}" for lang, text in item.instructions.items())
    return (
        f"**Item {item.id}** ({position + 1} of {total} shown) · {item.benchmark or 'grounding'} · "
        f"{item.screen[0]}x{item.screen[1]} · target **{item.box_type}**\n\n"
        f"**Instruction:** {item.instruction}{others}\n\n{categories}"
    )


def step_marks(data: ReplayData, step: Step) -> list[Mark]:
    """Gold (green) and each run's prediction (red, blue) for the current screenshot; on a grounding
    item, its target region and each run's answered point."""
    item = data.items.get(step.step_id)
    if item is not None:
        marks = marks_for_region(item.target, item.screen, GOLD_COLOR, "target")
        for run, color in zip(data.runs, RUN_COLORS, strict=False):
            record = run.record(step.step_id)
            if record is not None and not record.get("error"):
                marks += marks_for_point_answer(record.get("answer") or {}, color, run.label)
        return marks
    marks = marks_for_action(step.gold, GOLD_COLOR, label="gold", point=False, gold=True)
    for run, color in zip(data.runs, RUN_COLORS, strict=False):
        marks += marks_for_action(prediction_action(run.record(step.step_id)), color, label=run.label)
    return marks


def _screenshot(data: ReplayData, path: Any, marks: list[Mark], max_width: int) -> Image.Image | None:
    from ui.replay import screenshot_path

    if path is None:
        return None
    safe = screenshot_path(data, path)
    if safe is None:
        return None
    with Image.open(safe) as image:
        return render_overlay(image, marks, max_width=max_width, max_height=max_width * 3)


def render_step(
    data: ReplayData,
    episode_id: str,
    position: int,
    shown: list[int] | None = None,
    *,
    max_width: int = 360,
    extra_marks: list[Mark] | None = None,
) -> StepView:
    """Render the step at `position` of the shown steps (all steps when `shown` is None)."""
    steps = data.steps(episode_id)
    shown = list(range(len(steps))) if shown is None else shown
    if not shown:
        raise ValueError(f"episode {episode_id}: no step matches the filters")
    position = min(max(position, 0), len(shown) - 1)
    step = steps[shown[position]]
    marks = step_marks(data, step) + list(extra_marks or [])
    records = [run.record(step.step_id) for run in data.runs]
    item = data.items.get(step.step_id)
    if item is not None:
        header = item_header(item, position, len(shown))
        gold = f"### Target (green)\n\n`{json.dumps(item.target.to_json(), ensure_ascii=False)}`"
    else:
        header = step_header(step, position, len(shown))
        gold = f"### Gold (green)\n\n{describe_action(step.gold)}"
    current = _screenshot(data, step.current_screenshot, marks, max_width)
    previous = _screenshot(data, step.previous_screenshot, [], max_width)
    if previous is None and current is not None:
        why = (
            "first step:\nno previous screen"
            if step.previous_screenshot is None
            else "previous screen\nnot available"
        )
        previous = placeholder(current.size, why)
    return StepView(
        header=header,
        previous=previous,
        current=current,
        gold=gold,
        runs=[
            run_panel(run, rec, name)
            for run, rec, name in zip(data.runs, records, RUN_COLOR_NAMES, strict=False)
        ],
        raw=[(rec or {}).get("raw") or "" for rec in records],
        verdicts=[verdict_line(rec) for rec in records],
    )


# The headline numbers of compute_metrics, in the order `eval report` lists them.
SUMMARY_METRICS: tuple[tuple[str, str], ...] = (
    ("n_steps", "steps"),
    ("sr", "step success (SR)"),
    ("sr_ci95", "SR 95% CI"),
    ("tm", "type match (TM)"),
    ("gr", "grounding (GR)"),
    ("format_validity", "format validity"),
    ("episode_success", "episode success"),
    ("mean_reward", "mean partial reward"),
)


def _metric_cell(metrics: dict[str, Any] | None, key: str) -> str:
    value = (metrics or {}).get(key)
    if value is None:
        return "—"
    if key == "sr_ci95" and isinstance(value, (list, tuple)) and len(value) == 2:
        return f"{value[0]:.1%}–{value[1]:.1%}"
    if isinstance(value, float) and key != "mean_reward":
        return f"{value:.1%}"
    return _number(value)


def metrics_summary(columns: list[tuple[str, dict[str, Any] | None]], title: str) -> str:
    """compute_metrics headline numbers as one Markdown table, one column per run (label, metrics).
    The full dicts are shown as JSON beside it; nothing here is recomputed."""
    if not columns:
        return f"**{title}:** no results file loaded"
    if any("headline" in (metrics or {}) for _, metrics in columns):
        return grounding_summary(columns, title)
    head = "| metric | " + " | ".join(label for label, _ in columns) + " |"
    rule = "|---|" + "---|" * len(columns)
    rows = [
        f"| {name} | " + " | ".join(_metric_cell(metrics, key) for _, metrics in columns) + " |"
        for key, name in SUMMARY_METRICS
    ]
    return "\n".join([f"**{title}**", "", head, rule, *rows])


def _grounding_rows(metrics: dict[str, Any] | None) -> dict[str, str]:
    if not metrics:
        return {}

    def stat(value: dict[str, Any]) -> str:
        low, high = value["ci95"]
        return f"{value['value']:.1%} ({low:.1%}–{high:.1%})" if value["value"] is not None else "—"

    rows = {
        "protocol": str(metrics["protocol"]),
        "items counted": f"{metrics['counted']} of {metrics['items']}",
        f"headline ({metrics['headline']['definition']})": stat(metrics["headline"]),
        "micro (95% CI)": stat(metrics["micro"]),
    }
    for key, macro in metrics["macro"].items():
        rows[f"macro over {key} (95% CI)"] = stat(macro)
    return rows


def grounding_summary(columns: list[tuple[str, dict[str, Any] | None]], title: str) -> str:
    """`eval.grounding_metrics` numbers (headline, micro and every macro, named) as one table."""
    found = [(label, _grounding_rows(metrics)) for label, metrics in columns]
    names = list(dict.fromkeys(name for _, rows in found for name in rows))
    head = "| metric | " + " | ".join(label for label, _ in found) + " |"
    rule = "|---|" + "---|" * len(found)
    body = [f"| {name} | " + " | ".join(rows.get(name, "—") for _, rows in found) + " |" for name in names]
    return "\n".join([f"**{title}**", "", head, rule, *body])


def gallery_items(
    data: ReplayData, episode_id: str, shown: list[int]
) -> tuple[list[tuple[str, str]], list[int]]:
    """(screenshot path, caption) per shown step for the thumbnail strip, and the position in `shown`
    each thumbnail stands for (a step whose screenshot is unsafe or missing gets no thumbnail)."""
    from ui.replay import screenshot_path

    steps = data.steps(episode_id)
    items: list[tuple[str, str]] = []
    positions: list[int] = []
    for position, index in enumerate(shown):
        step = steps[index]
        safe = screenshot_path(data, step.current_screenshot)
        if safe is not None:
            items.append((str(safe), f"{step.index}: {getattr(step.gold, 'action_type', '?')}"))
            positions.append(position)
    return items, positions
