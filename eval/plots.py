"""Report figures (matplotlib, Agg) and failed-step thumbnails (Pillow), as PNG bytes."""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

GOLD_COLOUR = (0, 170, 0)
PRED_COLOUR = (220, 0, 0)


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def _figure(width: float, height: float) -> tuple[Any, Any]:
    # A bare Figure renders with Agg without touching pyplot's global backend or figure registry.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def whole_numbers(axis: Any) -> None:
    """Ticks at whole numbers only, on an axis that counts (episodes, steps, step indices): left alone,
    matplotlib puts a tick at 0.5 when the counts are small."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def around_one_value(ax: Any, xs: list[int]) -> None:
    """Half a unit on each side of a lone whole-number value, so its own tick is the only one:
    matplotlib's autoscale of one point is a few hundredths around it (−0.055…0.055 at 0)."""
    if len(set(xs)) == 1:
        ax.set_xlim(xs[0] - 0.5, xs[0] + 0.5)


def per_type_figure(metrics: Mapping[str, Any]) -> Any:
    """The figure of `per_type_bars`: one row per type, names level on the y axis. Side by side under
    vertical bars, the long names (task_completed, task_impossible) ran into each other."""
    per_type = metrics["per_type"]
    names = list(per_type)
    fig, ax = _figure(6.0, max(2.4, 0.42 * len(names) + 1.2))
    ys = range(len(names))
    ax.barh([y - 0.2 for y in ys], [per_type[n]["sr"] or 0 for n in names], height=0.4, label="SR")
    ax.barh([y + 0.2 for y in ys], [per_type[n]["tm"] or 0 for n in names], height=0.4, label="TM")
    ax.set_yticks(list(ys), [f"{n} (n={per_type[n]['n']})" for n in names], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("accuracy")
    ax.set_title("accuracy per gold action type")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def per_type_bars(metrics: Mapping[str, Any]) -> bytes:
    """SR and TM per gold action type, with the number of steps beside each type's name."""
    return _png(per_type_figure(metrics))


def confusion_heatmap(metrics: Mapping[str, Any]) -> bytes:
    """Gold (rows) x predicted (columns) action-type counts."""
    import numpy as np

    conf = metrics["confusion"]
    counts = np.asarray(conf["counts"], dtype=float)
    fig, ax = _figure(max(4.0, 0.7 * len(conf["predicted"]) + 2), max(3.0, 0.5 * len(conf["gold"]) + 1.5))
    ax.imshow(counts if counts.size else np.zeros((1, 1)), cmap="Blues")
    ax.set_xticks(range(len(conf["predicted"])), conf["predicted"], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(conf["gold"])), conf["gold"], fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    high = counts.max() if counts.size else 0
    for (i, j), value in np.ndenumerate(counts):
        if value:
            ax.text(
                j,
                i,
                int(value),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if value > high / 2 else "black",
            )
    ax.set_title("action type confusion")
    return _png(fig)


def sr_by_step_figure(metrics: Mapping[str, Any]) -> Any:
    """The figure of `sr_by_step_index`: whole-number step indices, room around a lone one."""
    by_index = metrics["sr_by_step_index"]
    xs = [int(i) for i in by_index]
    fig, ax = _figure(5.5, 3.0)
    ax.plot(xs, [by_index[str(i)]["sr"] for i in xs], marker="o")
    ax.set_xlabel("step index in episode")
    ax.set_ylabel("SR")
    ax.set_ylim(0, 1.05)
    ax.set_title("SR by step index")
    ax.grid(alpha=0.3)
    whole_numbers(ax.xaxis)
    around_one_value(ax, xs)
    return fig


def sr_by_step_index(metrics: Mapping[str, Any]) -> bytes:
    """SR against the step's position in its episode."""
    return _png(sr_by_step_figure(metrics))


def failure_reasons(metrics: Mapping[str, Any]) -> bytes:
    """Why steps were wrong: request errors by kind and the matcher's reasons."""
    reasons = metrics["failure_reasons"] or {"(no failures)": 0}
    names = list(reasons)[:15]
    fig, ax = _figure(6.0, max(2.0, 0.35 * len(names) + 1))
    ax.barh(
        range(len(names)),
        [reasons[n] for n in names],
        color=["tab:red" if n.startswith("error:") else "tab:orange" for n in names],
    )
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("steps")
    whole_numbers(ax.xaxis)
    ax.set_title("failure reasons (red: request errors)")
    return _png(fig)


def _mark(
    draw: Any,
    wire: Mapping[str, Any] | None,
    colour: tuple[int, int, int],
    scale: float,
    width: int,
    point_only: bool,
) -> None:
    """Draw a box (gold) or its centre point (prediction), or a swipe arrow, for a wire action."""
    from actions import BoxAction, Swipe, parse_action

    if not wire:
        return
    try:
        action = parse_action(dict(wire), strict=False)
    except ValueError:
        return
    if isinstance(action, BoxAction):
        x1, y1, x2, y2 = (v * scale for v in action.box)
        if point_only:
            cx, cy, r = (x1 + x2) / 2, (y1 + y2) / 2, max(5, width * 3)
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=colour, width=width)
            draw.line([cx - r, cy, cx + r, cy], fill=colour, width=1)
            draw.line([cx, cy - r, cx, cy + r], fill=colour, width=1)
        else:
            draw.rectangle([min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)], outline=colour, width=width)
    elif isinstance(action, Swipe):
        (sx, sy), (ex, ey) = ((v * scale for v in action.start), (v * scale for v in action.end))
        draw.line([sx, sy, ex, ey], fill=colour, width=width)
        draw.ellipse([ex - 4, ey - 4, ex + 4, ey + 4], fill=colour)


def thumbnail(record: Mapping[str, Any], width: int = 220) -> bytes | None:
    """The step's current screenshot with the gold mark (green) and the prediction (red), or None."""
    from PIL import Image, ImageDraw

    shots = record.get("screenshots") or []
    if not shots:
        return None
    path = Path(shots[-1])
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
    except OSError as exc:
        logger.warning("step %s: cannot open %s for a thumbnail: %s", record.get("step_id"), path, exc)
        return None
    scale = width / image.width
    image = image.resize((width, max(1, round(image.height * scale))))
    draw = ImageDraw.Draw(image)
    _mark(draw, record.get("gold"), GOLD_COLOUR, scale, 2, point_only=False)
    prediction = record.get("prediction")
    _mark(
        draw,
        prediction,
        PRED_COLOUR,
        scale,
        2,
        point_only=bool(prediction and "click" in prediction["action_type"]),
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def all_figures(metrics: Mapping[str, Any]) -> dict[str, bytes]:
    """The report's figures by file stem."""
    return {
        "per_type": per_type_bars(metrics),
        "confusion": confusion_heatmap(metrics),
        "sr_by_step": sr_by_step_index(metrics),
        "failure_reasons": failure_reasons(metrics),
    }
