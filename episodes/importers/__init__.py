"""Dataset importers: public GUI-agent benchmarks to phone-r1 raw episodes (`phone-r1 data import`).

`IMPORTERS` (an `actions.registry.Registry`) is the one place importer names live: the CLI's FORMAT
(names, help, exit 2 with a did-you-mean), the docs and the tests read it. Each entry is the
`import_episodes(src, options, writer)` function of a module of this package whose docstring names the
source format it reads and what differs. A user's own importer is named by dotted path,
`my_pkg.my_module:import_episodes`, with the same signature.

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
    return f"expected a function import_episodes(src, options, writer), found {obj!r}"


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
    },
    example="my_pkg.my_module:import_episodes",
    check=_is_importer,
    docs="docs/data.md",
)


def resolve(name: str) -> tuple[Callable[..., None], str]:
    """`(import_episodes function, format version)` for a registry name or a `module:function` path."""
    fn = IMPORTERS.load(name)
    return fn, getattr(sys.modules.get(fn.__module__), "FORMAT_VERSION", "")


def run_import(fmt: str, src: str | Path, out: str | Path, options: Any) -> dict[str, Any]:
    """Import `src` in format `fmt` into the raw episode folder `out`; returns the dataset card."""
    from episodes.importers.base import DatasetWriter

    fn, version = resolve(fmt)
    src, out = Path(src), Path(out)
    if not src.exists():
        raise FileNotFoundError(f"{src}: expected the {fmt} source, found no such file or folder")
    writer = DatasetWriter(out, fmt, options, source=src, version=version)
    fn(src, options, writer)
    return writer.finish()
