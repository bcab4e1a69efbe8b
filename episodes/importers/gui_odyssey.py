"""GUI-Odyssey: `annotations/<episode>.json`, `screenshots/<file>`, `splits/<kind>_split.json`.

Source: OpenGVLab/GUI-Odyssey `introduction.md` (fields), `data/format_converter.py` (`decode_action`:
CLICK / LONG_PRESS with a list of [x, y] points or KEY_HOME / KEY_BACK / KEY_APPSELECT, SCROLL
[[x1, y1], [x2, y2]], TEXT, COMPLETE, INCOMPLETE) and `src/eval_mm/` (v2's per-step `sam2_bbox`).
v1 is HF OpenGVLab/GUI-Odyssey; v2 (hflqf88888/GUIOdyssey) adds per step `low_level_instruction`,
`context`, `intention` and `sam2_bbox`. The v1 documentation's names (TYPE, IMPOSSIBLE, HOME, BACK,
KEY_RECENT) are read too.

What differs:
- points and boxes are 0-1000 and scaled by each screenshot's own size (read from the image header),
  with the 0-1000 -> pixel mapping evaluation uses for 0-1000 answers, exact (not rounded);
- SCROLL is already the finger's path (not inverted); its direction word (finger) goes in the context,
  named as `decode_action` names it: the larger axis in 0-1000 units (a tie is vertical), UP only when
  the finger rises and LEFT only when it moves left (so a scroll of no length is DOWN);
- a click's gold box is v2's `sam2_bbox` (when it holds the point), else the small square around the
  point; v2's `sam2_bbox` itself is kept exact and unclipped as the click's `candidate_boxes` (the box
  the official matching checks first), none in v1;
- KEY_HOME / HOME and KEY_APPSELECT / KEY_RECENT are the home and recent-apps key presses (decode_action's
  PRESS_HOME and PRESS_RECENT);
- `context` and `intention` (v2) summarise the history and are not carried into the prompt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from actions.directions import main_direction
from episodes.importers import geometry as g
from episodes.importers.base import DatasetWriter, ImportOptions, Screen, SourceEpisode, SourceStep

FORMAT_VERSION = "GUI-Odyssey annotations (v1 and v2 field names)"
SPLIT_KINDS = ("random", "task", "device", "app")
V2_FIELDS = ("low_level_instruction", "sam2_bbox", "intention", "context")
# Key presses: CLICK info strings (the code's names) and the v1 documentation's action names.
KEYS = {
    "KEY_BACK": "back",
    "KEY_HOME": "home",
    "KEY_APPSELECT": "recent_apps",
    "BACK": "back",
    "HOME": "home",
    "KEY_RECENT": "recent_apps",
    "RECENT": "recent_apps",
    "APPSELECT": "recent_apps",
}


def split_files(src: Path, split: str | None) -> list[Path]:
    """Annotation files of `split` (`test`, `train`, or `KIND/PART` with KIND in random|task|device|app)."""
    ann = src / "annotations"
    if not ann.is_dir():
        raise FileNotFoundError(f"{ann}: expected the GUI-Odyssey annotations folder, found none")
    if not split:
        return sorted(ann.glob("*.json"))
    kind, _, part = split.rpartition("/")
    kind = (kind or "random").removesuffix("_split")
    if kind not in SPLIT_KINDS:
        raise ValueError(f"expected --split [KIND/]PART with KIND in {SPLIT_KINDS}, found {split!r}")
    path = src / "splits" / f"{kind}_split.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: expected the {kind} split file, found no such file")
    names = json.loads(path.read_text(encoding="utf-8"))
    if part not in names:
        raise ValueError(f"{path}: expected a part named {part!r}, found {sorted(names)}")
    return [ann / (n if n.endswith(".json") else f"{n}.json") for n in names[part]]


def _scale(point: Any, screen: tuple[int, int]) -> tuple[float, float]:
    from actions.coords import point_to_original

    # The mapping `eval` applies to a 0-1000 answer: equal 0-1000 values land on equal pixels.
    return point_to_original(
        (float(point[0]), float(point[1])), "norm1000", screen, integer=False, clamp=False
    )


def convert_step(
    step: dict[str, Any], screen: tuple[int, int], description: str
) -> tuple[dict[str, Any] | None, str | None, dict[str, Any], str]:
    """`(wire action or None, drop reason, context, source type)` of one Odyssey step."""
    action, info = str(step.get("action", "")).upper(), step.get("info")
    if action in ("CLICK", "LONG_PRESS") and isinstance(info, str):
        key = info.upper()
        if key in KEYS:
            return g.wire(KEYS[key], "", description), None, {}, f"{action}:{key}"
        return None, f"unknown_action:{action}:{key}", {}, f"{action}:{key}"
    if action in ("CLICK", "LONG_PRESS"):
        point = _scale(info[0], screen)
        sam = step.get("sam2_bbox")
        boxes = [(*_scale(sam[:2], screen), *_scale(sam[2:], screen))] if sam else []
        wired, context, how = g.click(
            "click" if action == "CLICK" else "long_click", point, boxes, boxes, screen, description
        )
        context["box_from"] = "sam2_bbox" if how == "element" else how
        if "sam2_bbox" in step:
            context["candidate_boxes"] = [list(b) for b in boxes]  # as given: corners, edges, off-screen
        else:
            context.pop("candidate_boxes", None)
        return wired, None, context, action
    if action == "SCROLL":
        start, end = _scale(info[0], screen), _scale(info[1], screen)
        # decode_action's word, from the 0-1000 points as given: larger axis, a tie vertical, no length down.
        context = {
            "scroll_direction": main_direction(info[0], info[1], unit="pixel", zero="down"),
            "scroll_direction_means": "finger",
        }
        return g.swipe(start, end, screen, description), None, context, action
    if action in ("TEXT", "TYPE"):
        return g.wire("type", str(info or ""), description), None, {}, action
    if action == "COMPLETE":
        return g.wire("task_completed", str(step.get("ps") or ""), description), None, {}, action
    if action in ("INCOMPLETE", "IMPOSSIBLE"):
        return g.wire("task_impossible", str(step.get("ps") or ""), description), None, {}, action
    if action in KEYS:
        return g.wire(KEYS[action], "", description), None, {}, action
    return None, f"unknown_action:{action}", {}, action


def episode_from(path: Path, src: Path) -> tuple[SourceEpisode, str]:
    from episodes.images import image_size

    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise ValueError("expected an object with 'task_info' and a 'steps' list")
    task = data.get("task_info") or {}
    version = "v2" if any(k in s for s in data["steps"] for k in V2_FIELDS) else "v1"
    steps = []
    for i, step in enumerate(sorted(data["steps"], key=lambda s: int(s.get("step", 0)))):
        image = src / "screenshots" / str(step.get("screenshot", ""))
        if not image.is_file():
            raise FileNotFoundError(f"step {i}: expected screenshot {image}, found no such file")
        screen = image_size(image)
        instruction = step.get("low_level_instruction") or None
        description = instruction or str(step.get("action", ""))
        try:
            wired, reason, context, kind = convert_step(step, screen, description)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ValueError(
                f"step {i}: bad {step.get('action')!r} info {step.get('info')!r}: {exc}"
            ) from exc
        steps.append(
            SourceStep(
                kind, Screen(path=image, ext=image.suffix or ".png"), wired, reason, context, instruction
            )
        )
    apps = task.get("app") or []
    app = ", ".join(apps) if isinstance(apps, list) else str(apps)
    goal = str(task.get("instruction") or task.get("task") or "")
    return SourceEpisode(str(data.get("episode_id", path.stem)), goal, app, steps), version


def import_episodes(src: Path, options: ImportOptions, writer: DatasetWriter) -> None:
    """The annotation files of the split (all without `--split`) into `writer`."""
    from tqdm import tqdm

    files = split_files(src, options.split)
    writer.convention(
        "coordinates", "0-1000 points and sam2_bbox scaled by each screenshot's size, exact (not rounded)"
    )
    writer.convention(
        "scroll",
        "SCROLL start -> end is already the finger's path (not inverted); scroll_direction_means=finger, "
        "the word as decode_action gives it (larger axis in 0-1000 units, a tie vertical, DOWN unless the "
        "finger rises)",
    )
    writer.convention(
        "click_box",
        g.GOLD_BOX_RULE + "; eligible: sam2_bbox (v2), none in v1; candidate_boxes: the v2 sam2_bbox as "
        "given (scaled, not clipped, even when it misses the point), none in v1",
    )
    writer.convention(
        "keys",
        "KEY_BACK, KEY_HOME and KEY_APPSELECT (v1: BACK, HOME, KEY_RECENT) are the back, home and "
        "recent_apps key presses",
    )
    writer.convention("finish", "COMPLETE / INCOMPLETE as given (ps as the summary); no finish step added")
    writer.convention("step_instruction", "low_level_instruction (v2; v1 has none, so Low equals High there)")
    writer.convention(
        "app_name", "task_info.app joined with ', ' (Odyssey names apps per task, not per step)"
    )
    versions: dict[str, int] = {}
    for path in tqdm(files, desc="gui-odyssey", unit=" episodes", disable=not options.progress):
        try:
            episode, version = episode_from(path, src)
        except (ValueError, FileNotFoundError, OSError) as exc:
            writer.reject(str(path), None, str(exc))
            continue
        versions[version] = versions.get(version, 0) + 1
        writer.write(episode)
        if writer.full:
            break
    writer.card["field_versions"] = versions
