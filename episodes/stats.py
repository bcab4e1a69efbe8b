"""Summaries of an episode folder or a converted JSONL: what the data holds, at a glance.

Counts per action type and app, steps per episode, screen sizes and screenshots missing or
unreadable. It reads every record once, keeps only counters (memory does not grow with the data),
and reads each screenshot's header, never its pixels.
"""

from __future__ import annotations

import os
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from episodes.images import ImageSizes
from episodes.readers import iter_step_records


def compute_stats(
    root: str | os.PathLike[str], *, image_root: str | os.PathLike[str] | None = None, progress: bool = False
) -> dict[str, Any]:
    """The summary as a JSON-ready dict (keys documented in docs/data.md)."""
    action_types: Counter[str] = Counter()
    apps: Counter[str] = Counter()
    screens: Counter[str] = Counter()
    per_episode: Counter[str] = Counter()
    steps = bad_records = missing = unreadable = 0
    sizes = ImageSizes()
    records: Any = iter_step_records(root, strict=False, image_root=image_root, sizes=sizes)
    if progress:
        from tqdm import tqdm

        records = tqdm(records, desc="stats", unit=" steps", disable=None)
    counted: set[str] = set()
    last_episode = None
    for rec in records:
        steps += 1
        per_episode[rec.episode_id] += 1
        if rec.input is None or rec.output is None:  # not even a step's shape: counted, not summarised
            bad_records += 1
            continue
        if rec.episode_id != last_episode:
            # A step's previous screen is its predecessor's current one: count an episode's worth only.
            counted.clear()
            last_episode = rec.episode_id
        kind = rec.output.get("action_type") if isinstance(rec.output, dict) else None
        action_types[str(kind)] += 1
        apps[str(rec.input.get("app_name", ""))] += 1
        for image in rec.screenshots:
            key = os.fspath(image)
            if key in counted:
                continue
            counted.add(key)
            code = sizes.check(image)[1]  # already read by the record: a memo hit
            missing += code == "missing_image"
            unreadable += code == "unreadable_image"
        if rec.screen_size is not None:
            screens[f"{rec.screen_size[0]}x{rec.screen_size[1]}"] += 1
    lengths = sorted(per_episode.values())
    return {
        "root": str(Path(root)),
        "steps": steps,
        "episodes": len(per_episode),
        "bad_records": bad_records,
        "action_types": dict(action_types.most_common()),
        "apps": dict(apps.most_common()),
        "steps_per_episode": {
            "min": lengths[0] if lengths else 0,
            "max": lengths[-1] if lengths else 0,
            "mean": round(statistics.fmean(lengths), 2) if lengths else 0.0,
            "median": statistics.median(lengths) if lengths else 0,
            "histogram": {str(k): v for k, v in sorted(Counter(lengths).items())},
        },
        "screen_sizes": dict(screens.most_common()),
        "images_missing": missing,
        "images_unreadable": unreadable,
    }


def render_stats(stats: dict[str, Any]) -> None:
    """Print the summary as plain tables (rich) on stdout."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    overview = Table(title=f"episodes in {stats['root']}", box=box.SIMPLE, show_header=False)
    spe = stats["steps_per_episode"]
    for label, value in [
        ("steps", stats["steps"]),
        ("episodes", stats["episodes"]),
        (
            "steps per episode",
            f"min {spe['min']}, median {spe['median']}, mean {spe['mean']}, max {spe['max']}",
        ),
        ("images missing", stats["images_missing"]),
        ("images unreadable", stats["images_unreadable"]),
        ("unreadable records", stats["bad_records"]),
    ]:
        overview.add_row(label, str(value))
    console.print(overview)
    total = max(stats["steps"] - stats["bad_records"], 1)
    for title, counts in [
        ("action type", stats["action_types"]),
        ("app", stats["apps"]),
        ("screen size", stats["screen_sizes"]),
    ]:
        table = Table(box=box.SIMPLE)
        table.add_column(title)
        table.add_column("steps", justify="right")
        table.add_column("share", justify="right")
        for name, count in counts.items():
            table.add_row(name, str(count), f"{100 * count / total:.1f}%")
        console.print(table)
