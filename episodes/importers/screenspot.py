"""ScreenSpot and ScreenSpot-v2 as released: one JSON per platform, one screenshots folder.

Source: ScreenSpot (njucckevin/SeeClick README: the "ScreenSpot" annotations and `screenspot_imgs/`):
`screenspot_{mobile,desktop,web}.json`; ScreenSpot-v2 (OS-Copilot/ScreenSpot-v2 on the Hugging Face
hub): `screenspot_{mobile,desktop,web}_v2.json` beside `screenspotv2_image.zip`, extracted to
`screenspotv2_image/`. Each item: `img_filename`, `bbox` `[x, y, w, h]` in pixels, `instruction`,
`data_type` (text or icon), `data_source` (ios, android, macos, windows, gitlab, shop, forum, tool).

The box becomes `[x, y, x + w, y + h]` pixels (SeeClick's `screenspot_test.py` line 69 does the same
addition); categories: `platform` (the file's: mobile, desktop, web), `ui_type` (`data_type`),
`source` (`data_source`). Ids are `<platform>/<index in the file>`. `--split mobile|desktop|web`
imports one file.

What differs: nothing is dropped or changed beyond the box arithmetic; a box whose four values all lie
in [0, 1] is refused: that is the HongxinLi/ScreenSpot_v2 mirror's normalised `[x1, y1, x2, y2]`,
not this release's pixels.
"""

from __future__ import annotations

from pathlib import Path

from actions.regions import Box
from episodes.importers.base import ImportFailure, ImportOptions
from episodes.importers.grounding_base import (
    GroundingImporter,
    GroundingWriter,
    SourceItem,
    images_dir,
    load_json,
    numbers,
    records_of,
    text,
)

PLATFORMS = ("mobile", "desktop", "web")


def _files(src: Path, options: ImportOptions, suffix: str) -> list[tuple[str, Path]]:
    folder = src if src.is_dir() else src.parent
    platforms = PLATFORMS if options.split is None else (options.split,)
    if options.split is not None and options.split not in PLATFORMS:
        raise ValueError(f"--split: expected one of {list(PLATFORMS)}, found {options.split!r}")
    found = [(p, folder / f"screenspot_{p}{suffix}.json") for p in platforms]
    present = [(p, f) for p, f in found if f.is_file()]
    if not present:
        names = ", ".join(f.name for _, f in found)
        raise FileNotFoundError(f"{folder}: expected {names}, found none of them")
    return present


def import_items(src: Path, options: ImportOptions, writer: GroundingWriter, *, version: str = "") -> None:
    """Read every platform file present (or `--split`'s) in order."""
    suffix = "_v2" if version == "v2" else ""
    folder = src if src.is_dir() else src.parent
    candidates = ("screenspotv2_image",) if version == "v2" else ("screenspot_imgs",)
    images = images_dir(folder, options, (*candidates, "images"))
    writer.convention(
        "box", "[x, y, w, h] -> [x, y, x + w, y + h] pixels (SeeClick screenspot_test.py line 69)"
    )
    for platform, path in _files(src, options, suffix):
        for index, raw in enumerate(records_of(load_json(path), path)):
            if writer.full:
                return
            try:
                item = _item(raw, platform, index, path, images)
            except ImportFailure as failure:
                writer.failed(failure)
                continue
            writer.write(item, str(path), index)


def _item(raw: object, platform: str, index: int, path: Path, images: Path) -> SourceItem:
    source = str(path)
    if not isinstance(raw, dict):
        raise ImportFailure(source, index, f"expected a JSON object, found {type(raw).__name__}")
    name = text(raw.get("img_filename"), "img_filename", source, index)
    x, y, w, h = numbers(raw.get("bbox"), 4, "bbox [x, y, w, h]", source, index)
    if all(0 <= v <= 1 for v in (x, y, w, h)):
        raise ImportFailure(
            source,
            index,
            f"bbox {raw.get('bbox')} looks normalised (the HongxinLi/ScreenSpot_v2 mirror's form); "
            "expected [x, y, w, h] in pixels as the OS-Copilot / SeeClick release has it",
        )
    categories: dict[str, str | tuple[str, ...]] = {
        "platform": platform,
        "ui_type": text(raw.get("data_type"), "data_type", source, index),
    }
    if isinstance(raw.get("data_source"), str):
        categories["source"] = raw["data_source"]
    return SourceItem(
        id=f"{platform}/{index}",
        image=images / name,
        image_name=name,
        instruction=text(raw.get("instruction"), "instruction", source, index),
        target=Box((x, y, x + w, y + h)),
        categories=categories,
        origin=f"{path.name}#{index}",
    )


def import_items_v2(src: Path, options: ImportOptions, writer: GroundingWriter) -> None:
    """ScreenSpot-v2: the same schema in `screenspot_<platform>_v2.json` files."""
    import_items(src, options, writer, version="v2")


SCREENSPOT = GroundingImporter("screenspot", "screenspot", "seeclick-2024", import_items)
SCREENSPOT_V2 = GroundingImporter("screenspot-v2", "screenspot", "os-copilot-2024", import_items_v2)
