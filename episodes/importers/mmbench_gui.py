"""MMBench-GUI L2 element grounding as released.

Source: OpenGVLab/MMBench-GUI on the Hugging Face hub (open-compass/MMBench-GUI README "Data
prepare"): `L2_annotations.json` and `offline_images/<platform>/<image_path>`.

Each item: `image_path` (relative to its platform's folder: the evaluator prefixes `platform/`,
`benchmarks/l2_element_grounding.py` lines 66-70), `platform` (os_windows, os_mac, os_linux,
os_ios, os_android, os_web), `instruction`, `bbox` `[x1, y1, x2, y2]` normalised to [0, 1],
`data_type` (text or icon), `grounding_type` (basic or advanced), `app_name`, optionally `category`
and `image_size`. The box is kept as written: `unit` when its four values lie in [0, 1] (as the
evaluator decides, line 194), otherwise `pixel` (the evaluator then divides by the image's size, a
-1 read as 0). Categories: `grounding_type`, `platform`, `ui_type` (`data_type`), `app_name`,
`category`. Ids are the item's `index` where it has one, else its position.

What differs: nothing; the L1, L3 and L4 annotations are not grounding and are not read.
"""

from __future__ import annotations

from pathlib import Path

from actions.regions import Box
from episodes.importers.base import ImportFailure, ImportOptions
from episodes.importers.grounding_base import (
    GroundingImporter,
    GroundingWriter,
    SourceItem,
    declared_size,
    images_dir,
    load_json,
    numbers,
    records_of,
    text,
)

ANNOTATIONS = "L2_annotations.json"


def import_items(src: Path, options: ImportOptions, writer: GroundingWriter) -> None:
    folder = src / "MMBench-GUI" if (src / "MMBench-GUI" / ANNOTATIONS).is_file() else src
    path = src if src.is_file() else folder / ANNOTATIONS
    if not path.is_file():
        raise FileNotFoundError(f"{src}: expected {ANNOTATIONS}, found none")
    images = images_dir(path.parent, options, ("offline_images",))
    if options.split is not None and options.split not in ("basic", "advanced"):
        raise ValueError(f"--split: expected basic or advanced, found {options.split!r}")
    for index, raw in enumerate(records_of(load_json(path), path)):
        if writer.full:
            return
        if options.split is not None and isinstance(raw, dict) and raw.get("grounding_type") != options.split:
            continue
        try:
            item = _item(raw, index, path, images)
        except ImportFailure as failure:
            writer.failed(failure)
            continue
        writer.write(item, str(path), index)


def _item(raw: object, index: int, path: Path, images: Path) -> SourceItem:
    source = str(path)
    if not isinstance(raw, dict):
        raise ImportFailure(source, index, f"expected a JSON object, found {type(raw).__name__}")
    platform = text(raw.get("platform"), "platform", source, index)
    name = f"{platform}/{text(raw.get('image_path'), 'image_path', source, index)}"
    box = numbers(raw.get("bbox"), 4, "bbox [x1, y1, x2, y2]", source, index)
    units = "unit" if all(0 <= v <= 1 for v in box) else "pixel"
    categories: dict[str, str | tuple[str, ...]] = {
        "grounding_type": text(raw.get("grounding_type"), "grounding_type", source, index),
        "platform": platform,
        "ui_type": text(raw.get("data_type"), "data_type", source, index),
    }
    for key in ("app_name", "category"):
        if isinstance(raw.get(key), str):
            categories[key] = raw[key]
    declared = declared_size(raw["image_size"], source, index) if raw.get("image_size") is not None else None
    item_id = raw.get("index", index)
    return SourceItem(
        id=str(item_id),
        image=images / name,
        image_name=name,
        instruction=text(raw.get("instruction"), "instruction", source, index),
        target=Box(tuple(box), units),  # type: ignore[arg-type]
        categories=categories,
        declared_screen=declared,
        origin=f"{path.name}#{index}",
    )


MMBENCH_GUI = GroundingImporter("mmbench-gui", "mmbench-gui", "2025-06", import_items)
