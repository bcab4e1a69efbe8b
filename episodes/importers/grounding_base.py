"""What every grounding importer shares: the item it hands over and the writer of a grounding set.

A grounding importer reads a benchmark's released files and hands `SourceItem`s to `GroundingWriter`,
which copies (hard-links where it can) each screenshot under `OUT/images/` keeping the released
relative path, reads its size from the header, and writes `OUT/grounding.jsonl`
(`episodes.grounding`), `OUT/dataset_card.json` and, with `--skip-invalid`, `OUT/rejects.jsonl`. A
bad record is an `ImportFailure` naming the file, the record and the reason, as for the navigation
importers; with `--skip-invalid` it is written to the rejects file and the import goes on.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from actions.regions import Region
from episodes.grounding import GROUNDING_FILE, GroundingItem
from episodes.images import ImageSizes
from episodes.importers.base import CARD_NAME, REJECTS_NAME, ImportFailure, ImportOptions

log = logging.getLogger(__name__)
KIND = "grounding"


@dataclass
class SourceItem:
    """One released item: `image` is the screenshot's path in the source, `image_name` the relative
    path it is written under (`images/<image_name>`); the rest as `episodes.grounding.GroundingItem`."""

    id: str
    image: Path
    image_name: str
    instruction: str
    target: Region
    instructions: dict[str, str] = field(default_factory=dict)
    categories: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    declared_screen: tuple[int, int] | None = None
    origin: str | None = None


def declared_size(value: Any, source: str, record: int | str) -> tuple[int, int]:
    """An annotation's `[width, height]`; an `ImportFailure` when it is not two positive integers."""
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 and v == int(v) for v in value
        )
    ):
        return int(value[0]), int(value[1])
    raise ImportFailure(source, record, f"expected the image size as [width, height], found {value!r}")


def numbers(value: Any, count: int | None, what: str, source: str, record: int | str) -> list[float]:
    """A list of finite numbers (exactly `count` when given); an `ImportFailure` otherwise."""
    ok = isinstance(value, (list, tuple)) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")
        for v in value
    )
    if not ok or (count is not None and len(value) != count):
        shape = f"{count} numbers" if count is not None else "a list of numbers"
        raise ImportFailure(source, record, f"expected {what} as {shape}, found {value!r}")
    return [float(v) for v in value]


def text(value: Any, what: str, source: str, record: int | str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ImportFailure(source, record, f"expected {what} as a non-empty string, found {value!r}")
    return value


def load_json(path: Path) -> Any:
    """A released JSON file; an `ImportFailure` naming it when it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFailure(
            str(path), None, f"expected a readable JSON file, found {type(exc).__name__}: {exc}"
        ) from None


def records_of(data: Any, path: Path) -> list[Any]:
    if not isinstance(data, list):
        raise ImportFailure(str(path), None, f"expected a JSON list of items, found {type(data).__name__}")
    return data


class GroundingWriter:
    """Writes a grounding set (screenshots, `grounding.jsonl`, the card, the rejects) for one import."""

    def __init__(
        self,
        out: Path,
        fmt: str,
        options: ImportOptions,
        *,
        source: Path,
        version: str,
        benchmark: str,
        protocol: str,
    ) -> None:
        if out.exists() and any(out.iterdir()):
            raise FileExistsError(f"{out}: expected an empty or new output folder, found files in it")
        (out / "images").mkdir(parents=True, exist_ok=True)
        self.out, self.fmt, self.options = out, fmt, options
        self.benchmark = benchmark
        self._lines = (out / GROUNDING_FILE).open("w", encoding="utf-8")
        self._rejects = None
        self._sizes = ImageSizes()
        self._ids: set[str] = set()
        self._written: dict[str, Path] = {}
        self.card: dict[str, Any] = {
            "kind": KIND,
            "format": fmt,
            "format_version": version,
            "benchmark": benchmark,
            "protocol": protocol,
            "source": str(source),
            "split": options.split or "all",
            "limit": options.limit,
            "items_in": 0,
            "items_out": 0,
            "rejected": 0,
            "targets": Counter(),
            "categories": {},
            "conventions": {},
        }

    @property
    def full(self) -> bool:
        """True once `--limit` items are written."""
        return self.options.limit is not None and self.card["items_out"] >= self.options.limit

    def convention(self, key: str, text: str) -> None:
        """Record one convention applied (shown in the card)."""
        self.card["conventions"][key] = text

    def reject(self, source: str, record: int | str | None, reason: str) -> None:
        """A bad record: an `ImportFailure`, or a line of `rejects.jsonl` with `--skip-invalid`."""
        if not self.options.skip_invalid:
            raise ImportFailure(source, record, reason)
        if self._rejects is None:
            self._rejects = (self.out / REJECTS_NAME).open("w", encoding="utf-8")
        self._rejects.write(
            json.dumps({"source": source, "record": record, "reason": reason}, ensure_ascii=False) + "\n"
        )
        self.card["rejected"] += 1
        log.warning("%s: record %s: %s (skipped)", source, record, reason)

    def failed(self, failure: ImportFailure) -> None:
        """Route an `ImportFailure` raised while reading one record through `reject` (it counts as read)."""
        self.card["items_in"] += 1
        self.reject(failure.source, failure.record, failure.reason)

    def write(self, item: SourceItem, source: str, record: int | str) -> None:
        """Write one item (its screenshot once, however many items share it)."""
        self.card["items_in"] += 1
        if item.id in self._ids:
            self.reject(source, record, f"duplicate item id {item.id!r}")
            return
        name = PurePosixPath(item.image_name)
        if name.is_absolute() or ".." in name.parts:
            self.reject(
                source,
                record,
                f"expected a relative image path inside the release, found {item.image_name!r}",
            )
            return
        size, code, message = self._sizes.check(item.image)
        if size is None:
            self.reject(source, record, message or code or "unreadable image")
            return
        dest = self.out / "images" / name
        if str(name) not in self._written:
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(item.image, dest)  # a hard link costs no space where the file system allows it
            except OSError:
                shutil.copyfile(item.image, dest)
            self._written[str(name)] = item.image
        written = GroundingItem(
            id=item.id,
            image=dest,
            screen=(int(size[0]), int(size[1])),
            instruction=item.instruction,
            target=item.target,
            instructions=item.instructions,
            categories=item.categories,
            benchmark=self.benchmark,
            declared_screen=item.declared_screen,
            origin=item.origin,
        )
        self._lines.write(json.dumps(written.to_json(self.out), ensure_ascii=False) + "\n")
        self._ids.add(item.id)
        self.card["items_out"] += 1
        self.card["targets"][item.target.type] += 1
        for key, value in item.categories.items():
            counts = self.card["categories"].setdefault(key, Counter())
            counts.update([value] if isinstance(value, str) else value)

    def close(self) -> None:
        self._lines.close()
        if self._rejects is not None:
            self._rejects.close()

    def finish(self) -> dict[str, Any]:
        """Close the files and write `dataset_card.json`; returns the card."""
        self.close()
        if self._rejects is not None:
            self.card["rejects_file"] = REJECTS_NAME
        card = dict(self.card)
        card["targets"] = dict(sorted(card["targets"].items()))
        card["categories"] = {k: dict(sorted(v.items())) for k, v in sorted(card["categories"].items())}
        (self.out / CARD_NAME).write_text(
            json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        return card


def images_dir(src: Path, options: ImportOptions, candidates: tuple[str, ...]) -> Path:
    """The screenshots folder: `--screenshots`, else the first candidate under `src` that exists."""
    if options.screenshots is not None:
        if not Path(options.screenshots).is_dir():
            raise FileNotFoundError(f"--screenshots {options.screenshots}: expected a folder, found none")
        return Path(options.screenshots)
    for name in candidates:
        if (src / name).is_dir():
            return src / name
    raise FileNotFoundError(
        f"{src}: expected a screenshots folder ({' or '.join(candidates)}) or --screenshots DIR, found none"
    )


@dataclass(frozen=True)
class GroundingImporter:
    """A grounding importer (what the importer registry names): the benchmark it reads, the protocol
    its items are scored under by default, the release it was written against, and the reader."""

    benchmark: str
    protocol: str
    version: str
    read: Callable[[Path, ImportOptions, GroundingWriter], None]
    kind: str = KIND


def run_grounding_import(
    importer: GroundingImporter, fmt: str, src: str | Path, out: str | Path, options: ImportOptions
) -> dict[str, Any]:
    """Import `src` into the grounding set `out`; returns the dataset card."""
    src, out = Path(src), Path(out)
    if not src.exists():
        raise FileNotFoundError(f"{src}: expected the {fmt} release, found no such file or folder")
    writer = GroundingWriter(
        out,
        fmt,
        options,
        source=src,
        version=importer.version,
        benchmark=importer.benchmark,
        protocol=importer.protocol,
    )
    try:
        importer.read(src, options, writer)
    except BaseException:
        writer.close()  # no card: the folder is not a finished set
        raise
    return writer.finish()
