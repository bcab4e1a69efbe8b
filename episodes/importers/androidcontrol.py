"""AndroidControl as released: GZIP TFRecord shards, one `tf.train.Example` per episode, plus `splits.json`.

Source: google-research/google-research `android_control/README.md` (features `episode_id`, `goal`,
`screenshots` (PNG), `accessibility_trees` (android_env `AndroidAccessibilityForest`),
`screenshot_widths/heights`, `actions` (JSON, one fewer than screenshots), `step_instructions`);
`splits.json` is `{"train", "validation", "test": [episode ids]}`.

What differs from the published converters (all recorded in the card):
- scroll `direction` names where the content moves, so the finger swipe is inverted on both axes
  ("down" is a swipe from 0.75H to 0.25H); UI-S1 inverts only up/down, AgentCPM all four;
- clicks get a gold box from the forest (`geometry.GOLD_BOX_RULE`), eligible nodes being visible nodes
  that are clickable, long-clickable, focusable or leaves; the point and every containing visible
  node are kept, and `ui_boxes` holds every `bounds_in_screen` rectangle of the forest as stored (windows'
  too, in the forest's order: the boxes AgentCPM's `process_ac.py` reads); AgentCPM instead turns
  long_press into a tap and drops open_app (we keep both);
- navigate_home is the home key press; no finish step unless `--add-finish`;
- the older README's `type` action {x, y, text} becomes a type of its text (its tap is not kept);
- `app_name` is the package of the active application window (AndroidControl names no app per step).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from episodes.importers import geometry as g
from episodes.importers.base import DatasetWriter, ImportOptions, Screen, SourceEpisode, SourceStep
from episodes.importers.tfrecord import (
    FramingError,
    Node,
    every_bounds,
    iter_records,
    parse_example,
    parse_forest,
)

FORMAT_VERSION = "android_control TFRecord (GZIP), README of google-research/android_control"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REQUIRED = ("episode_id", "goal", "screenshots", "accessibility_trees", "actions")


def shard_files(src: Path) -> list[Path]:
    """The shards: `src` itself, or the `android_control*` files (else every non-JSON file) in the folder."""
    if src.is_file():
        return [src]
    files = sorted(p for p in src.glob("android_control*") if p.is_file() and p.suffix != ".json")
    return files or sorted(
        p for p in src.iterdir() if p.is_file() and p.suffix != ".json" and not p.name.startswith(".")
    )


def split_ids(src: Path, split: str | None) -> set[int] | None:
    """Episode ids of `split` from `splits.json` beside the shards (None: every episode)."""
    if not split:
        return None
    path = (src if src.is_dir() else src.parent) / "splits.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: expected splits.json for --split {split}, found no such file")
    splits = json.loads(path.read_text(encoding="utf-8"))
    if split not in splits:
        raise ValueError(f"{path}: expected a split named {split!r}, found {sorted(splits)}")
    return {int(i) for i in splits[split]}


def png_size(data: bytes) -> tuple[int, int]:
    """`(width, height)` from a PNG's IHDR chunk."""
    if data[:8] != PNG_SIGNATURE or len(data) < 24:
        raise ValueError("expected PNG screenshot bytes, found another format")
    return struct.unpack(">II", data[16:24])


def app_of(windows: list) -> str:
    for window in windows:
        if window.window_type == 1 and window.active and window.nodes:
            return window.nodes[0].package
    for window in windows:
        if window.window_type == 1 and window.nodes:
            return window.nodes[0].package
    return ""


def _boxes(nodes: list[Node]) -> tuple[list[g.Box], list[g.Box]]:
    """(eligible gold boxes, every visible box)."""
    visible = [n for n in nodes if n.visible]
    # Interactive: a click/long-click flag or action (AccessibilityAction ids 16 and 32), or focusable.
    eligible = [
        n.bounds
        for n in visible
        if n.clickable
        or n.long_clickable
        or n.focusable
        or n.children == 0
        or 16 in n.action_ids
        or 32 in n.action_ids
    ]
    return eligible, [n.bounds for n in visible]


def convert_action(
    action: dict[str, Any], windows: list, screen: tuple[int, int], description: str
) -> tuple[dict[str, Any] | None, str | None, dict[str, Any]]:
    """`(wire action or None, drop reason, context)` of one AndroidControl action."""
    kind = action.get("action_type")
    if kind in ("click", "long_press"):
        nodes = [n for w in windows for n in w.nodes]
        eligible, visible = _boxes(nodes)
        wired, context, how = g.click(
            "click" if kind == "click" else "long_click",
            (action["x"], action["y"]),
            eligible,
            visible,
            screen,
            description,
        )
        # Every bounds_in_screen rectangle of the forest, windows' included, as stored (not clipped,
        # duplicates and empty ones kept, in the forest's order): AgentCPM's candidates.
        context["ui_boxes"] = [list(b) for b in every_bounds(windows)]
        context["box_from"] = how
        return wired, None, context
    if kind == "scroll":
        start, end = g.finger_swipe(action["direction"], screen, means="content")
        context = {"scroll_direction": action["direction"], "scroll_direction_means": "content"}
        return g.swipe(start, end, screen, description), None, context
    if kind in ("input_text", "type"):
        return g.wire("type", str(action["text"]), description), None, {}
    if kind == "open_app":
        return g.wire("open_app", str(action["app_name"]), description), None, {}
    if kind == "wait":
        return g.wire("wait", "", description), None, {}
    if kind in ("navigate_back", "navigate_home"):
        return g.wire(kind.removeprefix("navigate_"), "", description), None, {}
    return None, f"unknown_action:{kind}", {}


def episode_from(ex: dict[str, list]) -> SourceEpisode:
    """A `SourceEpisode` from a decoded Example; a `ValueError` says what is wrong with it."""
    missing = [k for k in REQUIRED if k not in ex]
    if missing:
        raise ValueError(f"expected features {list(REQUIRED)}, missing {missing}")
    shots, trees, actions = ex["screenshots"], ex["accessibility_trees"], ex["actions"]
    instructions = [b.decode("utf-8") for b in ex.get("step_instructions", [])]
    if len(actions) != len(shots) - 1 or len(trees) != len(shots):
        raise ValueError(
            f"expected len(actions) = len(screenshots) - 1 = len(accessibility_trees) - 1, found "
            f"{len(actions)} actions, {len(shots)} screenshots, {len(trees)} trees"
        )
    episode_id = str(ex["episode_id"][0])
    steps: list[SourceStep] = []
    for i, raw in enumerate(actions):
        try:
            action = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"step {i}: expected action JSON, found {raw[:60]!r} ({exc})") from exc
        try:
            screen = png_size(shots[i])
        except ValueError as exc:
            raise ValueError(f"screenshot {i}: {exc}") from exc
        windows = parse_forest(trees[i])
        instruction = instructions[i] if i < len(instructions) else None
        description = instruction or str(action.get("action_type", ""))
        try:
            wired, reason, context = convert_action(action, windows, screen, description)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"step {i}: bad {action.get('action_type')!r} action {action}: {exc}") from exc
        steps.append(
            SourceStep(
                str(action.get("action_type")),
                Screen(data=shots[i]),
                wired,
                reason,
                context,
                instruction,
                app_of(windows),
            )
        )
    goal = ex["goal"][0].decode("utf-8") if ex["goal"] else ""
    return SourceEpisode(episode_id, goal, "", steps, final_screen=Screen(data=shots[-1]))


def _records(files: list[Path], writer: DatasetWriter) -> Iterator[tuple[str, int, bytes]]:
    for path in files:
        for number, data in iter_records(path):
            if isinstance(data, FramingError):
                writer.reject(data.path, data.record, data.reason)
                if not data.recoverable:
                    break
                continue
            yield str(path), number, data


def import_episodes(src: Path, options: ImportOptions, writer: DatasetWriter) -> None:
    """Stream every shard record by record into `writer` (`options.workers` shards at a time)."""
    wanted = split_ids(src, options.split)
    files = shard_files(src)
    if not files:
        raise FileNotFoundError(f"{src}: expected android_control TFRecord shards, found none")
    _conventions(writer, options)
    if options.workers > 1 and len(files) > 1 and options.limit is None:
        _parallel(files, wanted, options, writer)
    else:
        _serial(files, wanted, options, writer, desc="androidcontrol")


def _conventions(writer: DatasetWriter, options: ImportOptions) -> None:
    writer.convention(
        "scroll",
        "AndroidControl's direction names where the content moves: the finger swipe "
        "is inverted on both axes, 0.25-0.75 of the screen through its centre "
        "(down -> finger up). context.scroll_direction keeps the word, scroll_direction_means=content",
    )
    writer.convention(
        "click_box",
        g.GOLD_BOX_RULE + "; eligible: visible a11y nodes that are clickable, "
        "long-clickable (flag or action), focusable or leaves; candidates: every visible node; ui_boxes: "
        "every bounds_in_screen rectangle of the forest (windows' too), as stored, in the forest's order",
    )
    writer.convention("keys", "navigate_back and navigate_home are the back and home key presses")
    writer.convention(
        "finish",
        "task_completed appended on the last screenshot of every episode"
        if options.add_finish
        else "no finish step added (AndroidControl has no terminal action)",
    )
    writer.convention("app_name", "package of the active application window of each step's forest")
    writer.convention(
        "screenshots", "PNG bytes written as stored in the shard (no re-encode); size from the PNG header"
    )
    writer.convention("task_path", "empty: the step instructions would give the answers away")
    writer.convention("history", "action_description of each kept step is its step instruction")


def _serial(
    files: list[Path], wanted: set[int] | None, options: ImportOptions, writer: DatasetWriter, desc: str
) -> None:
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit=" episodes", disable=not options.progress)
    try:
        for path, number, data in _records(files, writer):
            try:
                if wanted is not None:
                    # Most records of a shard are outside a split: read the id alone before decoding the rest.
                    ids = parse_example(data, frozenset(("episode_id",))).get("episode_id") or [-1]
                    if int(ids[0]) not in wanted:
                        continue
                episode = episode_from(parse_example(data))
            except (ValueError, IndexError, UnicodeDecodeError) as exc:
                writer.reject(path, number, str(exc))
                continue
            writer.write(episode)
            bar.update(1)
            if writer.full:
                return
    finally:
        bar.close()


def _shard_job(job: tuple[Path, set[int] | None, ImportOptions, Path, int]) -> tuple[dict[str, Any], Path]:
    """One shard in a worker process: episodes go straight into the output folder; counts come back."""
    from dataclasses import replace

    path, wanted, options, out, index = job
    rejects = f"rejects.{index}.jsonl"
    writer = DatasetWriter(
        out,
        "androidcontrol",
        replace(options, progress=False),
        source=path,
        version=FORMAT_VERSION,
        fresh=False,
        rejects_name=rejects,
    )
    _serial([path], wanted, writer.options, writer, desc=path.name)
    return writer.close(), out / rejects


def _parallel(
    files: list[Path], wanted: set[int] | None, options: ImportOptions, writer: DatasetWriter
) -> None:
    """Shards in `options.workers` processes: decompressing the gzip streams is most of the time."""
    import multiprocessing

    from tqdm import tqdm

    jobs = [(path, wanted, options, writer.out, i) for i, path in enumerate(files)]
    with multiprocessing.get_context("spawn").Pool(min(options.workers, len(files))) as pool:
        for card, rejects in tqdm(
            pool.imap_unordered(_shard_job, jobs),
            total=len(jobs),
            desc="androidcontrol",
            unit=" shards",
            disable=not options.progress,
        ):
            writer.merge(card, rejects)
