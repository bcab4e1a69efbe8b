"""UI-Vision element grounding as released.

Source: ServiceNow/ui-vision on the Hugging Face hub:
`annotations/element_grounding/element_grounding_{basic,functional,spatial}.json` and `images/`.

Each item: `image_path` (relative to `images/`), `prompt_to_evaluate` (the instruction the evaluator
sends), `bbox` `[x1, y1, x2, y2]` in pixels, `image_size` `[w, h]`, `element_type`, `platform`,
`category` (fields read by `eval/grounding/eval_uivision.py` lines 155-161, 289-316). The box is kept
as written, inverted corners included (the evaluator swaps them; its protocol does too); categories:
`setting` (basic, functional or spatial: the file's), `platform`, `element_type`, `category`. Ids are
`<setting>/<index in the file>`. `--split basic|functional|spatial` imports one file.

What differs: layout grounding (`annotations/layout_grounding/`, scored by IoU) is not imported.
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

SETTINGS = ("basic", "functional", "spatial")


def import_items(src: Path, options: ImportOptions, writer: GroundingWriter) -> None:
    if options.split is not None and options.split not in SETTINGS:
        raise ValueError(f"--split: expected one of {list(SETTINGS)}, found {options.split!r}")
    folder = src / "annotations" / "element_grounding"
    if not folder.is_dir():
        folder = src
    wanted = SETTINGS if options.split is None else (options.split,)
    files = [(s, folder / f"element_grounding_{s}.json") for s in wanted]
    files = [(s, f) for s, f in files if f.is_file()]
    if not files:
        raise FileNotFoundError(
            f"{folder}: expected element_grounding_<basic|functional|spatial>.json, found none"
        )
    images = images_dir(src, options, ("images",))
    for setting, path in files:
        for index, raw in enumerate(records_of(load_json(path), path)):
            if writer.full:
                return
            try:
                item = _item(raw, setting, index, path, images)
            except ImportFailure as failure:
                writer.failed(failure)
                continue
            writer.write(item, str(path), index)


def _item(raw: object, setting: str, index: int, path: Path, images: Path) -> SourceItem:
    source = str(path)
    if not isinstance(raw, dict):
        raise ImportFailure(source, index, f"expected a JSON object, found {type(raw).__name__}")
    name = text(raw.get("image_path"), "image_path", source, index)
    box = numbers(raw.get("bbox"), 4, "bbox [x1, y1, x2, y2]", source, index)
    categories: dict[str, str | tuple[str, ...]] = {"setting": setting}
    for key in ("platform", "element_type", "category"):
        if isinstance(raw.get(key), str):
            categories[key] = raw[key]
    return SourceItem(
        id=f"{setting}/{index}",
        image=images / name,
        image_name=name,
        instruction=text(raw.get("prompt_to_evaluate"), "prompt_to_evaluate", source, index),
        target=Box(tuple(box)),  # type: ignore[arg-type]
        categories=categories,
        declared_screen=declared_size(raw.get("image_size"), source, index),
        origin=f"{path.name}#{index}",
    )


UI_VISION = GroundingImporter("ui-vision", "ui-vision", "2025-05", import_items)
