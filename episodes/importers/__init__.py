"""Dataset importers: public GUI-agent benchmarks to phone-r1 raw episodes (`phone-r1 data import`).

`IMPORTERS` is the one place importer names live: the CLI's choices and help, the docs and the tests
read it. Each entry is a module of this package with a docstring naming the source format it reads
and what differs, and a function `import_episodes(src, options, writer)`. A user's own importer is
named by dotted path, `my_pkg.my_module:import_episodes`, with the same signature.

Only the standard library is imported here, so the CLI's `--help` stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

# name -> (module under episodes.importers, one line for --help and the docs table)
IMPORTERS: dict[str, tuple[str, str]] = {
    "androidcontrol": ("androidcontrol", "AndroidControl GZIP TFRecord shards (+ splits.json)"),
    "androidcontrol-jsonl": (
        "androidcontrol_jsonl",
        "AndroidControl as per-episode JSONL (UI-S1 / Qwen2.5-VL eval layout)",
    ),
    "aitz": ("aitz", "AITZ (CoAT) per-episode JSON + PNG folders"),
    "gui-odyssey": ("gui_odyssey", "GUI-Odyssey annotations/ + screenshots/ + splits/ (v1 and v2 fields)"),
    "amex": ("amex", "AMEX instruction_anno/ + element_anno/ + screenshot/"),
}


def resolve(name: str) -> tuple[Callable[..., None], str]:
    """`(import_episodes function, format version)` for a registry name or a `module:function` path."""
    if name in IMPORTERS:
        module = importlib.import_module(f"{__name__}.{IMPORTERS[name][0]}")
        return module.import_episodes, getattr(module, "FORMAT_VERSION", "")
    if ":" in name:
        mod_name, _, attr = name.partition(":")
        module = importlib.import_module(mod_name)
        return getattr(module, attr), getattr(module, "FORMAT_VERSION", "")
    raise ValueError(
        f"unknown import format {name!r}: expected one of {sorted(IMPORTERS)} or module:function"
    )


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
