"""ScreenSpot-Pro as released.

Source: likaixin/ScreenSpot-Pro on the Hugging Face hub: `annotations/` holds
one JSON per application and platform (`android_studio_macos.json`, ...), `images/` the screenshots
under the relative path each item names (`img_filename`).

Each item: `id`, `img_filename`, `bbox` `[x1, y1, x2, y2]` in pixels, `img_size` `[w, h]`,
`instruction`, `instruction_cn`, `ui_type` (text or icon), `group` (Dev, Creative, CAD, Scientific,
Office, OS), `platform`, `application` (fields read by `eval_screenspot_pro.py` lines 137-142 and
403-416). The box is kept as written; `img_size` is kept as the declared size (the protocol divides by
it); `instruction_cn` becomes the `cn` instruction (the evaluator's `--language cn`). `--split NAME`
imports `annotations/NAME.json` only.

What differs: nothing; the evaluator's negative items (`--gt_type negative`) are not in the release.
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

CATEGORY_KEYS = ("group", "application", "platform", "ui_type")


def import_items(src: Path, options: ImportOptions, writer: GroundingWriter) -> None:
    annotations = src / "annotations" if (src / "annotations").is_dir() else src
    files = sorted(annotations.glob("*.json"))
    if options.split is not None:
        files = [f for f in files if f.stem == options.split]
    if not files:
        wanted = f"{options.split}.json" if options.split else "*.json"
        raise FileNotFoundError(f"{annotations}: expected annotation files {wanted}, found none")
    images = images_dir(src, options, ("images",))
    for path in files:
        for index, raw in enumerate(records_of(load_json(path), path)):
            if writer.full:
                return
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
    name = text(raw.get("img_filename"), "img_filename", source, index)
    box = numbers(raw.get("bbox"), 4, "bbox [x1, y1, x2, y2]", source, index)
    categories = {key: text(raw.get(key), key, source, index) for key in CATEGORY_KEYS}
    instructions = {"cn": raw["instruction_cn"]} if isinstance(raw.get("instruction_cn"), str) else {}
    item_id = raw.get("id")
    return SourceItem(
        id=str(item_id) if isinstance(item_id, (str, int)) else f"{path.stem}/{index}",
        image=images / name,
        image_name=name,
        instruction=text(raw.get("instruction"), "instruction", source, index),
        target=Box(tuple(box)),  # type: ignore[arg-type]
        instructions=instructions,
        categories=categories,  # type: ignore[arg-type]
        declared_screen=declared_size(raw.get("img_size"), source, index),
        origin=f"{path.name}#{index}",
    )


SCREENSPOT_PRO = GroundingImporter("screenspot-pro", "screenspot-pro", "2025-01", import_items)
