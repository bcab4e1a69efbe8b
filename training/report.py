"""`phone-r1 train report RUN_DIR`: a GRPO run's curves, alarms and sample completions as HTML + PNG.

Reads `trainer_state.json` (the run folder's, else its latest checkpoint's) and, when the run logged
completions (`log_completions: true`), TRL's `completions/completions_<step>.parquet`. Writes
`report.html` and one PNG per panel into `RUN_DIR/report/` (or `-o DIR`); the alarms of
`training.alarms` are printed and shown at the top of the page.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.alarms import Alarm, AlarmSettings, Trend, find_alarms, series, train_entries, trend
from training.image_accounting import TOKENS_MAX, TOKENS_MEAN

# (file stem, title, [(key or regex, label)], y label)
PANELS: tuple[tuple[str, str, list[tuple[str, str]], str], ...] = (
    (
        "rewards",
        "Reward per function (mean) and total",
        [(r"^rewards/([^/]+)/mean$", r"\1"), ("reward", "total")],
        "",
    ),
    (
        "reward_std",
        "Reward spread",
        [("reward_std", "reward std"), ("frac_reward_zero_std", "zero-std groups")],
        "",
    ),
    ("kl_entropy", "KL to the reference and token entropy", [("kl", "kl"), ("entropy", "entropy")], "nats"),
    (
        "completions",
        "Completion length",
        [
            ("completions/mean_length", "mean"),
            ("completions/max_length", "max"),
            ("completions/mean_terminated_length", "mean terminated"),
        ],
        "tokens",
    ),
    (
        "clipped",
        "Completions clipped at max_completion_length",
        [("completions/clipped_ratio", "clipped")],
        "",
    ),
    ("image_tokens", "Image tokens per sample", [(TOKENS_MEAN, "mean"), (TOKENS_MAX, "max")], "tokens"),
)

# Semi-online GRPO's panels (docs/training.md, "Semi-online RL"), shown only for runs that logged them.
SEMI_ONLINE_PANELS: tuple[tuple[str, str, list[tuple[str, str]], str], ...] = (
    (
        "semi_online_return",
        "Semi-online: mean return by step index",
        [(r"^semi_online/return/step_(\d+)$", r"step \1")],
        "",
    ),
    (
        "semi_online_patches",
        "Semi-online: per rollout",
        [
            ("semi_online/patches", "patches"),
            ("semi_online/stopped", "stopped"),
            ("semi_online/no_divergence", "never diverged"),
            ("semi_online/steps", "steps"),
        ],
        "",
    ),
    (
        "semi_online_divergence",
        "Semi-online: share of rollouts first diverging at each step index",
        [(r"^semi_online/diverged_at/step_(\d+)$", r"step \1")],
        "",
    ),
)


class ReportError(ValueError):
    """A run folder that cannot be reported on; the message says what was expected and found."""


@dataclass
class Run:
    """What a run folder holds for the report."""

    folder: Path
    state_path: Path
    history: list[dict[str, Any]]
    completions: list[dict[str, Any]] = field(default_factory=list)


def find_state(run_dir: Path) -> Path:
    """The run's `trainer_state.json`: the folder's own, else that of the checkpoint with the most steps."""
    direct = run_dir / "trainer_state.json"
    if direct.is_file():
        return direct
    checkpoints = sorted(
        (
            p
            for p in run_dir.glob("checkpoint-*/trainer_state.json")
            if p.parent.name.split("-")[-1].isdigit()
        ),
        key=lambda p: int(p.parent.name.split("-")[-1]),
    )
    if not checkpoints:
        raise ReportError(
            f"{run_dir}: expected trainer_state.json in the run folder or in a checkpoint-N folder, "
            "found neither "
            "(is this the output_dir of a `phone-r1 train grpo` run?)"
        )
    return checkpoints[-1]


def read_run(run_dir: str | Path, max_completions: int = 8) -> Run:
    """Log history and a sample of logged completions (first and last logged step) of a run folder."""
    folder = Path(run_dir)
    if not folder.is_dir():
        raise ReportError(f"{folder}: expected a run folder, found no such directory")
    state_path = find_state(folder)
    try:
        history = json.loads(state_path.read_text(encoding="utf-8"))["log_history"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ReportError(
            f"{state_path}: expected a trainer state with log_history, could not read it: {err}"
        ) from None
    run = Run(folder, state_path, list(history))
    files = sorted((folder / "completions").glob("completions_*.parquet"))
    if files:
        import pandas as pd

        for path in dict.fromkeys([files[0], files[-1]]):
            frame = pd.read_parquet(path)
            for row in frame.head(max_completions // 2 if len(files) > 1 else max_completions).to_dict(
                "records"
            ):
                run.completions.append(row)
    return run


def _keys(entries: list[dict[str, Any]], pattern: str, label: str) -> list[tuple[str, str]]:
    if not pattern.startswith("^"):
        return [(pattern, label)] if any(pattern in e for e in entries) else []
    regex = re.compile(pattern)
    found = sorted({k for e in entries for k in e if regex.match(k)})
    return [(k, regex.sub(label, k)) for k in found]


def _part_groups(entries: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Breakdown parts a reward logged through `log_metric` (`rewards/<group>/<part>`), by group."""
    groups: dict[str, list[str]] = {}
    for key in sorted({k for e in entries for k in e}):
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == "rewards" and parts[2] not in ("mean", "std"):
            groups.setdefault(parts[1], []).append(key)
    return groups


def _plot(
    path: Path, title: str, lines: list[tuple[str, list[tuple[int, float]]]], ylabel: str, alarms: list[Alarm]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 3.2), dpi=100)
    for label, points in lines:
        ax.plot(
            [s for s, _ in points],
            [v for _, v in points],
            marker="." if len(points) < 40 else None,
            label=label,
        )
    for alarm in alarms:
        ax.axvspan(alarm.first_step, alarm.last_step, color="tab:red", alpha=0.08)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("step")
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if lines:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# TRL computes and logs `kl` only with beta > 0 (with beta = 0 it keeps no reference model), so a run
# without it has an entropy-only panel, and the panel says why.
NO_KL = "KL to the reference not logged: TRL computes it only when beta > 0 (this run: beta = 0)"


@dataclass
class Panel:
    stem: str
    title: str
    keys: list[str]
    note: str = ""  # why the panel has no plot
    caption: str = ""  # what a drawn panel leaves out


def write_plots(entries: list[dict[str, Any]], out: Path, alarms: list[Alarm]) -> list[Panel]:
    """One PNG per panel with data; panels without logged keys come back with a note instead."""
    panels: list[Panel] = []
    specs = list(PANELS)
    if any(key.startswith("semi_online/") for e in entries for key in e):
        specs += SEMI_ONLINE_PANELS
    for group, keys in _part_groups(entries).items():
        specs.insert(
            1, (f"parts_{group}", f"Reward parts: {group}", [(k, k.split("/")[-1]) for k in keys], "")
        )
    for stem, title, wanted, ylabel in specs:
        lines = [
            (label, series(entries, key))
            for pattern, lab in wanted
            for key, label in _keys(entries, pattern, lab)
        ]
        lines = [(label, pts) for label, pts in lines if pts]
        if not lines:
            missing = ", ".join(p for p, _ in wanted)
            panels.append(Panel(stem, title, [], f"not logged by this run ({missing})"))
            continue
        caption = ""
        if stem == "kl_entropy" and "kl" not in [label for label, _ in lines]:
            title, caption = "Token entropy (no KL: beta = 0)", NO_KL
        _plot(out / f"{stem}.png", title, lines, ylabel, alarms)
        panels.append(Panel(stem, title, [label for label, _ in lines], caption=caption))
    return panels


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        return "\n".join(
            _text(item.get("content", "")) if isinstance(item, dict) else _text(item) for item in items
        )
    return "" if value is None else str(value)


REPLACEMENT = "\ufffd"
SAMPLE_CHARS = 600


def _completion_html(text: str) -> tuple[str, bool]:
    """A completion for the page: escaped, cut at SAMPLE_CHARS (saying how much was left out), and each
    run of U+FFFD shown as a marked `[bytes]` chip. Those come from the tokenizer, not the page: a
    byte-level BPE model can emit part of a multi-byte character (an untrained model often does, and a
    completion stopped at max_completion_length can end inside one), which decodes to U+FFFD."""
    shown, rest = text[:SAMPLE_CHARS], len(text) - SAMPLE_CHARS
    parts = re.split(f"({REPLACEMENT}+)", shown)
    out = "".join(
        f'<span class="bytes" title="{len(part)} undecodable byte sequence(s)">[bytes]</span>'
        if part.startswith(REPLACEMENT)
        else html.escape(part)
        for part in parts
        if part
    )
    if rest > 0:
        out += f'<span class="cut"> … ({rest} more characters)</span>'
    return out, REPLACEMENT in shown


def render_html(
    run: Run,
    entries: list[dict[str, Any]],
    panels: list[Panel],
    alarms: list[Alarm],
    reward: Trend | None = None,
) -> str:
    """The report page: alarms first, then a summary line, the panels and sample completions."""
    esc = html.escape
    steps = [int(e["step"]) for e in entries]
    last = entries[-1] if entries else {}
    if alarms:
        alarm_html = "".join(
            f"<li><b>{esc(a.name)}</b> — steps {a.first_step}–{a.last_step}: {esc(a.message)}.<br>"
            f'<span class="cause">Likely cause: {esc(a.cause)}.</span></li>'
            for a in alarms
        )
        alarm_block = (
            f'<section class="alarms bad"><h2>Alarms ({len(alarms)})</h2><ul>{alarm_html}</ul></section>'
        )
    else:
        alarm_block = '<section class="alarms ok"><h2>Alarms</h2><p>None: no rule tripped.</p></section>'
    summary = (
        f"{len(entries)} logged steps ({steps[0]}–{steps[-1]})" if steps else "no training steps logged"
    ) + (f"; last reward {last['reward']:.3f}" if isinstance(last.get("reward"), (int, float)) else "")
    if reward is not None:
        summary += f"; {reward}"
    figures = "".join(
        f'<figure><img src="{esc(p.stem)}.png" alt="{esc(p.title)}">'
        + (f"<figcaption>{esc(p.caption)}.</figcaption>" if p.caption else "")
        + "</figure>"
        if not p.note
        else f'<figure class="empty"><figcaption>{esc(p.title)}: {esc(p.note)}</figcaption></figure>'
        for p in panels
    )
    rows = []
    undecodable = False
    for c in run.completions:
        scores = ", ".join(
            f"{k}={float(v):.2f}"
            for k, v in c.items()
            if k not in ("step", "prompt", "completion") and isinstance(v, (int, float))
        )
        text, bad = _completion_html(_text(c.get("completion")))
        undecodable |= bad
        rows.append(
            f"<tr><td>{esc(str(c.get('step', '')))}</td><td><pre>{text}</pre></td><td>{esc(scores)}</td></tr>"
        )
    legend = (
        '<p class="cause"><span class="bytes">[bytes]</span> marks tokens that decode to no valid UTF-8: '
        "the model emitted part of a multi-byte character (an untrained model often does; a completion "
        "stopped at max_completion_length can end inside one). The text was logged that way; the page "
        "does not cut it.</p>"
        if undecodable
        else ""
    )
    samples = (
        f"<h2>Sample completions</h2>{legend}<table><tr><th>step</th><th>completion</th><th>rewards</th></tr>"
        f"{''.join(rows)}</table>"
        if rows
        else "<h2>Sample completions</h2><p>None logged (set log_completions: true in the recipe).</p>"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>phone-r1 training report: {esc(run.folder.name)}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; max-width: 1500px; color: #222; }}
.alarms {{ padding: .6em 1em; border-radius: 6px; margin-bottom: 1em; }}
.bad {{ background: #fdecea; border: 1px solid #e0a0a0; }}
.ok {{ background: #eaf6ea; border: 1px solid #a0d0a0; }}
.cause {{ color: #555; }} li {{ margin-bottom: .5em; }}
.grid {{ display: flex; flex-wrap: wrap; gap: 10px; }} figure {{ margin: 0; }} img {{ width: 700px; }}
figcaption {{ width: 700px; font-size: 13px; color: #555; }}
figure.empty {{ width: 700px; padding: 1em; background: #f4f4f4; color: #666; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 4px; vertical-align: top; }}
pre {{ white-space: pre-wrap; max-width: 900px; margin: 0; font-size: 12px; }}
.bytes {{ background: #fde2c8; color: #8a4a00; border-radius: 3px; padding: 0 2px; font-size: 11px; }}
.cut {{ color: #777; }}
</style></head><body>
<h1>Training report: {esc(str(run.folder))}</h1>
{alarm_block}
<p>{esc(summary)}. Read from {esc(str(run.state_path))}.</p>
<div class="grid">{figures}</div>
{samples}
</body></html>
"""


def build_report(
    run_dir: str | Path, out_dir: str | Path | None = None, settings: AlarmSettings | None = None
) -> tuple[Path, list[Alarm]]:
    """Write the report of a run folder; returns the HTML path and the alarms."""
    run = read_run(run_dir)
    out = Path(out_dir) if out_dir is not None else run.folder / "report"
    out.mkdir(parents=True, exist_ok=True)
    entries = train_entries(run.history)
    alarms = find_alarms(run.history, settings)
    panels = write_plots(entries, out, alarms)
    reward = trend(entries)
    page = out / "report.html"
    page.write_text(render_html(run, entries, panels, alarms, reward), encoding="utf-8")
    (out / "alarms.json").write_text(json.dumps([a.as_dict() for a in alarms], indent=2), encoding="utf-8")
    # The reward's start and end, for scripts (the demo fails when GRPO's reward does not rise).
    (out / "trend.json").write_text(
        json.dumps({"reward": reward.as_dict() if reward else None}, indent=2), encoding="utf-8"
    )
    return page, alarms


def main(run_dir: str, out_dir: str | None, settings: AlarmSettings, fail_on_alarm: bool = False) -> int:
    """CLI entry: 0 written, 1 alarms with `--fail-on-alarm`, 2 a folder that is not a run."""
    import sys

    try:
        page, alarms = build_report(run_dir, out_dir, settings)
    except ReportError as err:
        print(f"phone-r1 train report: {err}", file=sys.stderr)
        return 2
    for alarm in alarms:
        print(f"ALARM {alarm}")
    reward = json.loads((page.parent / "trend.json").read_text(encoding="utf-8"))["reward"]
    if reward is not None:
        print(
            f"reward: first {reward['first']:.3f}, last {reward['last']:.3f} ({reward['rise']:+.3f}; "
            f"means over the first and last {reward['window']} of {reward['n_steps']} steps)"
        )
    print(f"phone-r1 train report: {len(alarms)} alarm(s); report written to {page}")
    return 1 if alarms and fail_on_alarm else 0
