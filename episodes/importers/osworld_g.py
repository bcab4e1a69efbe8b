"""OSWorld-G as released.

Source: xlang-ai/OSWorld-G `benchmark/`: `OSWorld-G.json`, `images/` and `classification_result.json`.

Each item: `id`, `image_path` (relative to `images/`), `image_size` `[w, h]`, `instruction`,
`box_type` (`bbox`, `polygon` or `refusal`), `box_coordinates` (`bbox`: `[x, y, w, h]` pixels, the
corner and the size, as the official evaluation's callers split it; `polygon`: a flat
`[x1, y1, x2, y2, ...]`; `refusal`: unused), `GUI_types`. `classification_result.json`
(`{"classified": {class: [{"id": ...}, ...]}}`) names each item's capability classes; an item may be
in several, and one in none is `unclassified` (as the official scripts count it).

A box becomes `[x, y, x + w, y + h]` pixels, a polygon its vertices in order, a refusal item the
`refuse` target; categories: `capability` (a list), `gui_types` (a list). The source may also be the
JSON file itself (for a refined variant of the set), with `images/` and `classification_result.json`
beside it.

What differs: the `[x, y, w, h]` reading of `bbox` items comes from the official evaluation's callers
(the evaluator itself could not be read here).
"""

from __future__ import annotations

from pathlib import Path

from actions.regions import Box, Polygon, Refusal, Region
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

ANNOTATIONS = "OSWorld-G.json"
CLASSES = "classification_result.json"


def _classes(folder: Path) -> dict[str, list[str]] | None:
    path = folder / CLASSES
    if not path.is_file():
        return None
    data = load_json(path)
    classified = data.get("classified") if isinstance(data, dict) else None
    if not isinstance(classified, dict):
        raise ImportFailure(str(path), None, 'expected {"classified": {class: [{"id": ...}]}}')
    by_id: dict[str, list[str]] = {}
    for name, members in classified.items():
        for member in members if isinstance(members, list) else []:
            if isinstance(member, dict) and "id" in member:
                by_id.setdefault(str(member["id"]), []).append(str(name))
    return by_id


def import_items(src: Path, options: ImportOptions, writer: GroundingWriter) -> None:
    path = src if src.is_file() else src / ANNOTATIONS
    if not path.is_file():
        raise FileNotFoundError(f"{src}: expected {ANNOTATIONS} (or the annotation file itself), found none")
    folder = path.parent
    images = images_dir(folder, options, ("images",))
    classes = _classes(folder)
    if classes is None:
        writer.convention("capability", f"no {CLASSES} beside the annotations: items carry no capability")
    for index, raw in enumerate(records_of(load_json(path), path)):
        if writer.full:
            return
        try:
            item = _item(raw, index, path, images, classes)
        except ImportFailure as failure:
            writer.failed(failure)
            continue
        writer.write(item, str(path), index)


def _target(raw: dict, source: str, index: int) -> Region:
    kind = raw.get("box_type")
    if kind == "refusal":
        return Refusal()
    if kind == "bbox":
        x, y, w, h = numbers(
            raw.get("box_coordinates"), 4, "bbox box_coordinates [x, y, w, h]", source, index
        )
        return Box((x, y, x + w, y + h))
    if kind == "polygon":
        flat = numbers(raw.get("box_coordinates"), None, "polygon box_coordinates", source, index)
        if len(flat) < 6 or len(flat) % 2:
            raise ImportFailure(
                source, index, f"expected a polygon of at least 3 x, y pairs, found {len(flat)} numbers"
            )
        return Polygon(tuple(zip(flat[0::2], flat[1::2], strict=True)))
    raise ImportFailure(source, index, f"expected box_type bbox, polygon or refusal, found {kind!r}")


def _item(
    raw: object, index: int, path: Path, images: Path, classes: dict[str, list[str]] | None
) -> SourceItem:
    source = str(path)
    if not isinstance(raw, dict):
        raise ImportFailure(source, index, f"expected a JSON object, found {type(raw).__name__}")
    item_id = raw.get("id")
    if not isinstance(item_id, (str, int)):
        raise ImportFailure(source, index, f"expected an id, found {item_id!r}")
    name = text(raw.get("image_path"), "image_path", source, index)
    categories: dict[str, str | tuple[str, ...]] = {}
    if classes is not None:
        categories["capability"] = tuple(classes.get(str(item_id), ["unclassified"]))
    gui_types = raw.get("GUI_types")
    if isinstance(gui_types, list) and all(isinstance(t, str) for t in gui_types) and gui_types:
        categories["gui_types"] = tuple(gui_types)
    return SourceItem(
        id=str(item_id),
        image=images / name,
        image_name=name,
        instruction=text(raw.get("instruction"), "instruction", source, index),
        target=_target(raw, source, index),
        categories=categories,
        declared_screen=declared_size(raw.get("image_size"), source, index),
        origin=f"{path.name}#{index}",
    )


OSWORLD_G = GroundingImporter("osworld-g", "osworld-g", "2025-05", import_items)
