"""AMEX (Android Multi-annotation EXpo): `instruction_anno/`, `element_anno/`, `screenshot/`.

Source: the authors' converter, YuxiangChai/AMEX-data-sample `data_utils/amex_to_qa.py` [code], and the
HF dataset card Yuxiang007/AMEX (layout). `instruction_anno/<episode>.json` holds `instruction` and a
`steps` list, each step with `action` (TAP, SWIPE, TYPE, PRESS_BACK, PRESS_HOME, PRESS_ENTER,
TASK_COMPLETE, TASK_IMPOSSIBLE), `touch_coord` / `lift_coord` as [x, y] in the pixels of the step's
`device_dim` [width, height], `type_text` and its screenshot's file name `image_path`; each
`element_anno/*.json` names the screenshot it describes in its own `image_path` field and holds
`clickable_elements` and `scrollable_elements` with `bbox` [x1, y1, x2, y2] in the screenshot's pixels.
The converter's level-3 test split is the tasks "Open <app>. ..." for ten apps (`TEST_APPS`).

What differs:
- touch and lift points are scaled from `device_dim` to the screenshot's own size (a step without
  `device_dim` is taken to be in screenshot pixels), exact (not rounded);
- SWIPE touch -> lift is already the finger's path (not inverted); its word is the converter's
  (`parse_swipe_direction`: the larger axis divided by the device's size, a tie vertical, UP unless the
  finger moves down);
- a TAP's gold box is the smallest clickable element holding the point, else the small square; every
  element box is kept, as given, in `ui_boxes`;
- PRESS_HOME and PRESS_ENTER are the home and enter key presses.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from actions.directions import main_direction
from episodes.importers import geometry as g
from episodes.importers.base import DatasetWriter, ImportOptions, Screen, SourceEpisode, SourceStep

FORMAT_VERSION = "AMEX v1 (instruction_anno, element_anno, screenshot)"
IMAGE_KEYS = ("image_path", "screenshot", "image")
SPLITS = ("train", "test")
# amex_to_qa.py's level-3 test apps: a task "Open <app>. ..." for one of these is in the test split.
TEST_APPS = frozenset(
    (
        "citymapper",
        "gmail",
        "booking",
        "microsoft to do",
        "yelp",
        "signal",
        "youtube music",
        "shein",
        "nbc news",
    )
)
_OPEN = re.compile(r"Open (.+?)\.")


def split_of(instruction: str) -> str:
    """The converter's level-3 split of a task: `test` for "Open <app>." with one of `TEST_APPS`."""
    if instruction.startswith("Open"):
        found = _OPEN.findall(instruction)
        if found and found[0].lower() in TEST_APPS:
            return "test"
    return "train"


class ElementFiles:
    """The element annotation of each screenshot, found by the `image_path` each file names.

    The file named after the screenshot is tried first and kept when its `image_path` agrees; otherwise
    every file is read once to index them by `image_path`.
    """

    def __init__(self, src: Path) -> None:
        self.folder = src / "element_anno"
        self._index: dict[str, Path] | None = None

    @staticmethod
    def _image(path: Path) -> tuple[str, dict[str, Any]]:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Path(str(data.get("image_path", ""))).name, data

    def find(self, image: Path) -> dict[str, Any] | None:
        guess = self.folder / f"{image.stem}.json"
        if guess.is_file():
            name, data = self._image(guess)
            if name == image.name:
                return data
        if self._index is None:
            self._index = {}
            for path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else ():
                self._index.setdefault(self._image(path)[0], path)
        path = self._index.get(image.name)
        return self._image(path)[1] if path is not None else None

    def boxes(self, image: Path) -> tuple[list[list[float]], list[list[float]]]:
        """(clickable boxes, every element box) of the screenshot; none without an annotation."""
        data = self.find(image)
        if data is None:
            return [], []
        clickable = [e["bbox"] for e in data.get("clickable_elements", []) if e.get("bbox")]
        scrollable = [e["bbox"] for e in data.get("scrollable_elements", []) if e.get("bbox")]
        return clickable, clickable + scrollable


def _to_screen(point: Any, device: tuple[float, float], screen: tuple[int, int]) -> tuple[float, float]:
    return float(point[0]) * screen[0] / device[0], float(point[1]) * screen[1] / device[1]


def convert_step(
    step: dict[str, Any], screen: tuple[int, int], clickable: list, every: list, description: str
) -> tuple[dict[str, Any] | None, str | None, dict[str, Any], str]:
    """`(wire action or None, drop reason, context, source type)` of one AMEX step."""
    action = str(step.get("action", "")).upper()
    ui = {"ui_boxes": [list(b) for b in every]} if every else {}
    device = tuple(step.get("device_dim") or screen)
    if len(device) != 2 or not all(v > 0 for v in device):
        raise ValueError(f"expected device_dim [width, height] > 0, found {step.get('device_dim')!r}")
    if action == "TAP":
        point = _to_screen(step["touch_coord"], device, screen)
        wired, context, how = g.click("click", point, clickable, clickable, screen, description)
        return wired, None, {**context, **ui, "box_from": how}, action
    if action == "SWIPE":
        touch, lift = step["touch_coord"], step["lift_coord"]
        start, end = _to_screen(touch, device, screen), _to_screen(lift, device, screen)
        context = {
            # parse_swipe_direction: each axis divided by the device's size; a tie and no length vertical.
            "scroll_direction": main_direction(touch, lift, unit="norm", screen=device, zero="up"),
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


def episode_from(path: Path, src: Path, elements: ElementFiles | None = None) -> SourceEpisode:
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
        clickable, every = (elements or ElementFiles(src)).boxes(image)
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

    if options.split and options.split not in SPLITS:
        raise ValueError(
            f"expected --split in {list(SPLITS)} (amex_to_qa.py's level-3 split), found {options.split!r}"
        )
    ann = src / "instruction_anno"
    if not ann.is_dir():
        raise FileNotFoundError(f"{ann}: expected the AMEX instruction_anno folder, found none")
    writer.convention(
        "coordinates",
        "touch_coord and lift_coord scaled from each step's device_dim to the screenshot's size, exact",
    )
    writer.convention(
        "scroll",
        "SWIPE touch_coord -> lift_coord is already the finger's path (not inverted); the word as "
        "amex_to_qa.py's parse_swipe_direction gives it",
    )
    writer.convention(
        "split",
        "amex_to_qa.py's level-3 split: test = 'Open <app>.' tasks for its ten apps"
        if options.split
        else "every episode (no --split)",
    )
    writer.convention("element_anno", "each screenshot's element file found by the file's image_path field")
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
    elements = ElementFiles(src)
    for path in tqdm(sorted(ann.glob("*.json")), desc="amex", unit=" episodes", disable=not options.progress):
        if options.split:
            try:
                instruction = str(json.loads(path.read_text(encoding="utf-8")).get("instruction", ""))
            except (ValueError, AttributeError) as exc:
                writer.reject(str(path), None, f"expected an object with 'instruction': {exc}")
                continue
            if split_of(instruction) != options.split:
                continue
        try:
            episode = episode_from(path, src, elements)
        except (ValueError, FileNotFoundError) as exc:
            writer.reject(str(path), None, str(exc))
            continue
        writer.write(episode)
        if writer.full:
            return
