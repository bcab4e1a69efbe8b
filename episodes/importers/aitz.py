"""AITZ (Android-In-The-Zoo), IMNearth/CoAT's layout: per-episode JSON lists plus one PNG per screen.

Source: IMNearth/CoAT `data-example/` and `coat/action_utils.py`: `{train,test}/<subset>/<SUBSET>-<id>/
<SUBSET>-<id>.json`, a list with one entry per screenshot (`image_path` relative to the split folder,
`result_action_type` with AITW ids, `result_touch_yx` / `result_lift_yx` as "[y, x]" normalised
strings, `ui_positions` a JSON string of [y, x, h, w] pixel boxes, `coat_action_desc`).

What differs:
- a DUAL_POINT is a tap when touch and lift are at most 0.04 apart (AITW's rule), at the touch point;
  otherwise a swipe touch -> lift, already the finger's path (not inverted); CoAT's direction word
  (finger, vertical when |dy| >= 0.9 |dx|) is kept in the context;
- a tap's gold box is the smallest `ui_positions` box holding the point (OCR and icon boxes, so a tap
  may miss them all: then the small square), all boxes kept in `ui_boxes` as given (not clipped);
- gold points and swipes keep the exact scaled values (touch_yx times the PNG size), not rounded;
- PRESS_HOME (6) and PRESS_ENTER (7) are the `home` and `enter` key presses;
- normalised points are scaled by each PNG's own size (the example PNGs are 270x600).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from episodes.importers import geometry as g
from episodes.importers.base import DatasetWriter, ImportOptions, Screen, SourceEpisode, SourceStep

FORMAT_VERSION = "AITZ (CoAT) per-episode JSON, AITW action ids"
TAP_DISTANCE = 0.04
NAMES = {
    3: "TYPE",
    4: "DUAL_POINT",
    5: "PRESS_BACK",
    6: "PRESS_HOME",
    7: "PRESS_ENTER",
    10: "STATUS_TASK_COMPLETE",
    11: "STATUS_TASK_IMPOSSIBLE",
}


def _yx(value: Any) -> tuple[float, float]:
    y, x = json.loads(value) if isinstance(value, str) else value
    return float(y), float(x)


def _boxes(entry: dict[str, Any]) -> list[g.Box]:
    raw = entry.get("ui_positions") or "[]"
    positions = json.loads(raw) if isinstance(raw, str) else raw
    return [(x, y, x + w, y + h) for y, x, h, w in positions]


def coat_direction(touch: tuple[float, float], lift: tuple[float, float]) -> str:
    """CoAT's scroll word for a finger path (y, x): vertical when |dy| >= 0.9 |dx|."""
    dy, dx = lift[0] - touch[0], lift[1] - touch[1]
    if abs(dy) >= 0.9 * abs(dx):
        return "up" if dy < 0 else "down"
    return "left" if dx < 0 else "right"


def convert_entry(
    entry: dict[str, Any], screen: tuple[int, int], description: str
) -> tuple[dict[str, Any] | None, str | None, dict[str, Any], str]:
    """`(wire action or None, drop reason, context, source type)` of one AITZ step."""
    kind = int(entry["result_action_type"])
    name = NAMES.get(kind, f"ACTION_{kind}")
    w, h = screen
    if kind == 4:
        touch, lift = _yx(entry["result_touch_yx"]), _yx(entry["result_lift_yx"])
        boxes = _boxes(entry)
        # As given (x, y, x + w, y + h), not clipped: CoAT, AgentCPM and AITW's rules enlarge and clip
        # them their own ways.
        ui = {"ui_boxes": [list(b) for b in boxes]}
        if math.dist(touch, lift) <= TAP_DISTANCE:
            wired, context, how = g.click(
                "click", (touch[1] * w, touch[0] * h), boxes, boxes, screen, description
            )
            return wired, None, {**context, **ui, "box_from": how}, "DUAL_POINT:tap"
        wired = g.swipe((touch[1] * w, touch[0] * h), (lift[1] * w, lift[0] * h), screen, description)
        context = {"scroll_direction": coat_direction(touch, lift), "scroll_direction_means": "finger", **ui}
        return wired, None, context, "DUAL_POINT:swipe"
    if kind == 3:
        return g.wire("type", str(entry.get("result_action_text", "")), description), None, {}, name
    if kind in (5, 6, 7):
        return g.wire({5: "back", 6: "home", 7: "enter"}[kind], "", description), None, {}, name
    if kind == 10:
        return g.wire("task_completed", "", description), None, {}, name
    if kind == 11:
        return g.wire("task_impossible", "", description), None, {}, name
    return None, f"unknown_action:{name}", {}, name


def _image(entry: dict[str, Any], split_dir: Path, json_path: Path) -> Path:
    rel = str(entry.get("image_path", ""))
    for candidate in (split_dir / rel, json_path.parent / Path(rel).name):
        if rel and candidate.is_file():
            return candidate
    raise FileNotFoundError(f"expected screenshot {split_dir / rel}, found no such file")


def episode_from(path: Path, split_dir: Path) -> SourceEpisode:
    from episodes.images import image_size

    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list) or not entries:
        raise ValueError("expected a non-empty JSON list with one entry per screenshot")
    entries = sorted(entries, key=lambda e: int(e.get("step_id", 0)))
    steps = []
    for i, entry in enumerate(entries):
        image = _image(entry, split_dir, path)
        screen = image_size(image)
        instruction = entry.get("coat_action_desc") or None
        description = instruction or NAMES.get(int(entry.get("result_action_type", -1)), "")
        try:
            wired, reason, context, kind = convert_entry(entry, screen, description)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"step {i}: bad action fields: {exc}") from exc
        steps.append(
            SourceStep(
                kind, Screen(path=image, ext=image.suffix or ".png"), wired, reason, context, instruction
            )
        )
    first = entries[0]
    return SourceEpisode(
        str(first.get("episode_id", path.stem)), str(first.get("instruction", "")), "", steps
    )


def import_episodes(src: Path, options: ImportOptions, writer: DatasetWriter) -> None:
    """Every episode JSON under `src/<split>` (or under `src` without `--split`) into `writer`."""
    from tqdm import tqdm

    split_dir = src / options.split if options.split else src
    if not split_dir.is_dir():
        raise FileNotFoundError(f"{split_dir}: expected the AITZ {options.split or ''} folder, found none")
    writer.convention(
        "scroll",
        "touch -> lift is already the finger's path (not inverted); context keeps "
        "CoAT's word for it (scroll_direction_means=finger)",
    )
    writer.convention(
        "tap",
        f"DUAL_POINT with touch-lift distance <= {TAP_DISTANCE} (normalised) is a click at "
        "the touch point, else a swipe",
    )
    writer.convention("click_box", g.GOLD_BOX_RULE + "; eligible and candidates: ui_positions boxes")
    writer.convention(
        "keys", "PRESS_BACK, PRESS_HOME and PRESS_ENTER are the back, home and enter key presses"
    )
    writer.convention("finish", "STATUS_TASK_COMPLETE / IMPOSSIBLE as given; no finish step added")
    writer.convention("step_instruction", "coat_action_desc")
    files = sorted(p for p in split_dir.rglob("*.json") if p.parent.name == p.stem)
    for path in tqdm(files, desc="aitz", unit=" episodes", disable=not options.progress):
        try:
            episode = episode_from(path, split_dir if options.split else path.parents[2])
        except (ValueError, FileNotFoundError, IndexError) as exc:
            writer.reject(str(path), None, str(exc))
            continue
        writer.write(episode)
        if writer.full:
            return
