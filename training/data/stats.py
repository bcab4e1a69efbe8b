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

from training.data.records import iter_records


def compute_stats(root: str | os.PathLike[str], *, image_root: str | os.PathLike[str] | None = None,
                  progress: bool = False) -> dict[str, Any]:
    """The summary as a JSON-ready dict (keys documented in docs/data.md)."""
    from PIL import Image, UnidentifiedImageError

    action_types: Counter[str] = Counter()
    apps: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    per_episode: Counter[str] = Counter()
    steps = bad_records = missing = unreadable = 0
    records: Any = iter_records(root, image_root=image_root)
    if progress:
        from tqdm import tqdm

        records = tqdm(records, desc="stats", unit=" steps", disable=None)
    checked: dict[str, str | None] = {}
    last_episode = None
    for episode, _, inp, output, images in records:
        steps += 1
        per_episode[episode] += 1
        if inp is None:
            bad_records += 1
            continue
        if episode != last_episode:
            # A step's previous screen is its predecessor's current one: remember an episode's worth only.
            checked.clear()
            last_episode = episode
        kind = output.get("action_type") if isinstance(output, dict) else None
        action_types[str(kind)] += 1
        apps[str(inp.get("app_name", ""))] += 1
        for i, image in enumerate(images):
            key = os.fspath(image)
            if key not in checked:
                try:
                    with Image.open(image) as im:
                        checked[key] = f"{im.size[0]}x{im.size[1]}"
                except FileNotFoundError:
                    checked[key] = None
                    missing += 1
                except (UnidentifiedImageError, OSError, SyntaxError):
                    checked[key] = ""
                    unreadable += 1
            if i == len(images) - 1 and checked[key]:
                sizes[checked[key]] += 1
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
        "screen_sizes": dict(sizes.most_common()),
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
        ("steps per episode", f"min {spe['min']}, median {spe['median']}, mean {spe['mean']}, max {spe['max']}"),
        ("images missing", stats["images_missing"]),
        ("images unreadable", stats["images_unreadable"]),
        ("unreadable records", stats["bad_records"]),
    ]:
        overview.add_row(label, str(value))
    console.print(overview)
    total = max(stats["steps"] - stats["bad_records"], 1)
    for title, counts in [("action type", stats["action_types"]), ("app", stats["apps"]),
                          ("screen size", stats["screen_sizes"])]:
        table = Table(box=box.SIMPLE)
        table.add_column(title)
        table.add_column("steps", justify="right")
        table.add_column("share", justify="right")
        for name, count in counts.items():
            table.add_row(name, str(count), f"{100 * count / total:.1f}%")
        console.print(table)
