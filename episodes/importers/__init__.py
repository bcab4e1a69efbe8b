"""Dataset importers: public GUI-agent benchmarks to phone-r1 raw episodes (`phone-r1 data import`).

`IMPORTERS` (an `actions.registry.Registry`) is the one place importer names live: the CLI's FORMAT
(names, help, exit 2 with a did-you-mean), the docs and the tests read it. Each entry is the
`import_episodes(src, options, writer)` function of a module of this package whose docstring names the
source format it reads and what differs; a grounding benchmark's entry is a
`grounding_base.GroundingImporter`, which writes a grounding set instead of episodes. A user's own
importer is named by dotted path, `my_pkg.my_module:import_episodes`, with the same signature.

Only the standard library is imported here, so the CLI's `--help` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from actions.registry import Registry


def _is_importer(obj: Any) -> str | None:
    if callable(obj) and not isinstance(obj, type):
        return None
    if is_grounding_importer(obj):  # checked by name: its module loads only when used
        return None
    return (
        "expected a function import_episodes(src, options, writer) or an "
        f"episodes.importers.grounding_base.GroundingImporter, found {obj!r}"
    )


IMPORTERS: Registry[Callable[..., None]] = Registry(
    "import format",
    {
        "androidcontrol": (
            "episodes.importers.androidcontrol:import_episodes",
            "AndroidControl GZIP TFRecord shards (+ splits.json)",
        ),
        "androidcontrol-jsonl": (
            "episodes.importers.androidcontrol_jsonl:import_episodes",
            "AndroidControl as per-episode JSONL (UI-S1 / Qwen2.5-VL eval layout)",
        ),
        "aitz": ("episodes.importers.aitz:import_episodes", "AITZ (CoAT) per-episode JSON + PNG folders"),
        "gui-odyssey": (
            "episodes.importers.gui_odyssey:import_episodes",
            "GUI-Odyssey annotations/ + screenshots/ + splits/ (v1 and v2 fields)",
        ),
        "amex": (
            "episodes.importers.amex:import_episodes",
            "AMEX instruction_anno/ + element_anno/ + screenshot/",
        ),
        "screenspot": (
            "episodes.importers.screenspot:SCREENSPOT",
            "grounding: ScreenSpot screenspot_<platform>.json + screenspot_imgs/",
        ),
        "screenspot-v2": (
            "episodes.importers.screenspot:SCREENSPOT_V2",
            "grounding: ScreenSpot-v2 screenspot_<platform>_v2.json + screenspotv2_image/",
        ),
        "screenspot-pro": (
            "episodes.importers.screenspot_pro:SCREENSPOT_PRO",
            "grounding: ScreenSpot-Pro annotations/<app>_<platform>.json + images/",
        ),
        "osworld-g": (
            "episodes.importers.osworld_g:OSWORLD_G",
            "grounding: OSWorld-G benchmark/ (OSWorld-G.json, images/, classification_result.json)",
        ),
        "ui-vision": (
            "episodes.importers.ui_vision:UI_VISION",
            "grounding: UI-Vision annotations/element_grounding/*.json + images/",
        ),
        "mmbench-gui": (
            "episodes.importers.mmbench_gui:MMBENCH_GUI",
            "grounding: MMBench-GUI L2_annotations.json + offline_images/<platform>/",
        ),
    },
    example="my_pkg.my_module:import_episodes",
    check=_is_importer,
    docs="docs/data.md",
)


def resolve(name: str) -> tuple[Callable[..., None], str]:
    """`(import function, format version)` for a registry name or a `module:function` path (a grounding
    importer's reader and the release it was written against)."""
    fn = IMPORTERS.load(name)
    if is_grounding_importer(fn):
        return fn.read, fn.version  # type: ignore[attr-defined]
    return fn, getattr(sys.modules.get(fn.__module__), "FORMAT_VERSION", "")


def is_grounding_importer(obj: Any) -> bool:
    """True for a `grounding_base.GroundingImporter` (it writes a grounding set, not episodes)."""
    return type(obj).__name__ == "GroundingImporter"


def grounding_formats() -> list[str]:
    """The names of the formats that import grounding benchmarks."""
    return [name for name in IMPORTERS if is_grounding_importer(IMPORTERS.load(name))]


def run_import(fmt: str, src: str | Path, out: str | Path, options: Any) -> dict[str, Any]:
    """Import `src` in format `fmt` into the raw episode folder `out` (or, for a grounding benchmark, the
    grounding set `out`); returns the dataset card."""
    from episodes.importers.base import DatasetWriter
    from episodes.importers.grounding_base import GroundingImporter, run_grounding_import

    if isinstance(importer := IMPORTERS.load(fmt), GroundingImporter):
        return run_grounding_import(importer, fmt, src, out, options)
    fn, version = resolve(fmt)
    src, out = Path(src), Path(out)
    if not src.exists():
        raise FileNotFoundError(f"{src}: expected the {fmt} source, found no such file or folder")
    writer = DatasetWriter(out, fmt, options, source=src, version=version)
    fn(src, options, writer)
    return writer.finish()
