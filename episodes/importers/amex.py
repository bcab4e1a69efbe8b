"""AMEX (Android Multi-annotation EXpo): `instruction_anno/`, `element_anno/`, `screenshot/`.

Source: the HF dataset card Yuxiang007/AMEX (layout) and the notes gathered in datasets.md card 4:
`instruction_anno/<episode>.json` holds `instruction` and a `steps` list, each step with `action`
(TAP, SWIPE, TYPE, PRESS_BACK, PRESS_HOME, PRESS_ENTER, TASK_COMPLETE, TASK_IMPOSSIBLE),
`touch_coord` / `lift_coord` as [x, y] pixels, `type_text` and its screenshot's file name
(`image_path`); `element_anno/<screenshot stem>.json` holds `clickable_elements` and
`scrollable_elements` with pixel `bbox` [x1, y1, x2, y2]. No AMEX repository with converter code was
found, so these names come from the dataset card and third-party notes; the screenshot key is also
accepted as `screenshot` or `image`.

What differs:
- SWIPE touch -> lift is already the finger's path (not inverted);
- a TAP's gold box is the smallest clickable element holding the point, else the small square;
- PRESS_HOME and PRESS_ENTER are the home and enter key presses; AMEX has no official split.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from actions.directions import main_direction
from episodes.importers import geometry as g
from episodes.importers.base import DatasetWriter, ImportOptions, Screen, SourceEpisode, SourceStep

FORMAT_VERSION = "AMEX v1 (instruction_anno, element_anno, screenshot)"
IMAGE_KEYS = ("image_path", "screenshot", "image")


def _elements(src: Path, image: Path) -> tuple[list[list[float]], list[list[float]]]:
    """(clickable boxes, every element box) from the screenshot's element annotation, when there is one."""
    path = src / "element_anno" / f"{image.stem}.json"
    if not path.is_file():
        return [], []
    data = json.loads(path.read_text(encoding="utf-8"))
    clickable = [e["bbox"] for e in data.get("clickable_elements", []) if e.get("bbox")]
    scrollable = [e["bbox"] for e in data.get("scrollable_elements", []) if e.get("bbox")]
    return clickable, clickable + scrollable


def convert_step(
    step: dict[str, Any], screen: tuple[int, int], clickable: list, every: list, description: str
) -> tuple[dict[str, Any] | None, str | None, dict[str, Any], str]:
    """`(wire action or None, drop reason, context, source type)` of one AMEX step."""
    action = str(step.get("action", "")).upper()
    ui = {"ui_boxes": [list(g.clip_box(b, screen)) for b in every]} if every else {}
    if action == "TAP":
        wired, context, how = g.click("click", step["touch_coord"], clickable, clickable, screen, description)
        return wired, None, {**context, **ui, "box_from": how}, action
    if action == "SWIPE":
        start, end = step["touch_coord"], step["lift_coord"]
        context = {
            "scroll_direction": main_direction(start, end, unit="pixel", zero="up"),
            "scroll_direction_means": "finger",
            **ui,
        }
        return g.swipe(start, end, screen, description), None, context, action
    if action == "TYPE":
        return g.wire("type", str(step.get("type_text", "")), description), None, {}, action
    if action in ("PRESS_BACK", "PRESS_HOME", "PRESS_ENTER"):
        return g.wire(action.removeprefix("PRESS_").lower(), "", description), None, {}, action
    if action == "TASK_COMPLETE":
        return g.wire("task_completed", "", description), None, {}, action
    if action == "TASK_IMPOSSIBLE":
        return g.wire("task_impossible", "", description), None, {}, action
    return None, f"unknown_action:{action}", {}, action


def episode_from(path: Path, src: Path) -> SourceEpisode:
    from episodes.images import image_size

    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise ValueError("expected an object with 'instruction' and a 'steps' list")
    steps = []
    for i, step in enumerate(data["steps"]):
        name = next((str(step[k]) for k in IMAGE_KEYS if step.get(k)), "")
        image = src / "screenshot" / Path(name).name
        if not name or not image.is_file():
            raise FileNotFoundError(f"step {i}: expected screenshot {image}, found no such file")
        screen = image_size(image)
        clickable, every = _elements(src, image)
        description = str(step.get("action", ""))
        try:
            wired, reason, context, kind = convert_step(step, screen, clickable, every, description)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"step {i}: bad {step.get('action')!r} step: {exc}") from exc
        steps.append(SourceStep(kind, Screen(path=image, ext=image.suffix or ".png"), wired, reason, context))
    episode_id = str(data.get("episode_id") or path.stem)
    return SourceEpisode(episode_id, str(data.get("instruction", "")), str(data.get("app", "")), steps)


def import_episodes(src: Path, options: ImportOptions, writer: DatasetWriter) -> None:
    """Every `instruction_anno/*.json` into `writer`."""
    from tqdm import tqdm

    if options.split:
        raise ValueError(f"AMEX has no official split: expected no --split, found {options.split!r}")
    ann = src / "instruction_anno"
    if not ann.is_dir():
        raise FileNotFoundError(f"{ann}: expected the AMEX instruction_anno folder, found none")
    writer.convention("scroll", "SWIPE touch_coord -> lift_coord is already the finger's path (not inverted)")
    writer.convention(
        "click_box", g.GOLD_BOX_RULE + "; eligible and candidates: element_anno clickable_elements"
    )
    writer.convention(
        "keys", "PRESS_BACK, PRESS_HOME and PRESS_ENTER are the back, home and enter key presses"
    )
    writer.convention("finish", "TASK_COMPLETE / TASK_IMPOSSIBLE as given; no finish step added")
    writer.convention(
        "episode_folder",
        "AMEX ids are not numbers: each folder is a 15-digit number from the id's "
        "SHA-1; context.source.episode_id keeps the id",
    )
    for path in tqdm(sorted(ann.glob("*.json")), desc="amex", unit=" episodes", disable=not options.progress):
        try:
            episode = episode_from(path, src)
        except (ValueError, FileNotFoundError) as exc:
            writer.reject(str(path), None, str(exc))
            continue
        writer.write(episode)
        if writer.full:
            return
