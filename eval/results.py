"""The results file of an evaluation run: one header line, then one JSON line per finished step.

Lines are appended and flushed to the operating system as each step finishes, so a run killed with
SIGKILL loses at most its in-flight steps. A kill can still tear the last line mid-write: readers
tolerate a torn last line and a resumed run cuts it off before appending. When a step appears more
than once (a `--retry-errors` rerun appends a new record), the latest record wins.

    {"kind": "header", "model": ..., "endpoint": ..., "template_hash": ..., "coord_space": ...,
     "min_pixels": ..., "max_pixels": ..., "protocol": ..., "created": ...}
    {"kind": "step", "step_id": "10001/3", ...}
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import orjson

logger = logging.getLogger(__name__)

# Settings that change what a step's answer means; a resumed run must use the same ones.
HEADER_FIELDS: tuple[str, ...] = (
    "model",
    "endpoint",
    "template_hash",
    "coord_space",
    "min_pixels",
    "max_pixels",
    "protocol",
    "history",
)
# Files written before a field existed were made with its default.
HEADER_DEFAULTS: dict[str, Any] = {"history": "gold"}


class HeaderMismatchError(ValueError):
    """Resuming a results file with settings other than the ones it was written with."""


@dataclass(frozen=True)
class RunHeader:
    """The first line of a results file: what was evaluated and how."""

    model: str
    endpoint: str
    template_hash: str
    coord_space: str
    min_pixels: int
    max_pixels: int
    protocol: str
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = {"kind": "header", **{k: v for k, v in asdict(self).items() if k != "extra"}}
        data.update(self.extra)
        return data

    def mismatches(self, existing: Mapping[str, Any]) -> list[str]:
        """Lines naming each field of HEADER_FIELDS whose value differs from `existing`."""
        mine = {**HEADER_DEFAULTS, **self.to_json()}
        theirs = {**HEADER_DEFAULTS, **existing}
        return [
            f"{name}: file has {theirs.get(name)!r}, this run has {mine.get(name)!r}"
            for name in HEADER_FIELDS
            if theirs.get(name) != mine.get(name)
        ]


class Results(NamedTuple):
    """A read results file: its header and the latest record per `step_id`, in first-seen order."""

    header: dict[str, Any] | None
    records: dict[str, dict[str, Any]]


@dataclass
class _Scan:
    header: dict[str, Any] | None
    records: dict[str, dict[str, Any]]
    step_lines: int
    good_bytes: int  # length of the file up to the end of its last complete line
    torn: bool


def _scan(path: Path) -> _Scan:
    data = path.read_bytes()
    header: dict[str, Any] | None = None
    records: dict[str, dict[str, Any]] = {}
    step_lines = 0
    offset = 0
    torn = False
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, start=1):
        is_last = number == len(lines)
        if is_last and not raw:
            break  # the file ended with a newline
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            if is_last:
                # A last line without its newline is a write cut short by a kill: drop it.
                logger.warning("%s:%d: ignoring a torn last line (%d bytes)", path, number, len(raw))
                torn = True
                break
            raise ValueError(
                f"{path}:{number}: expected a JSON object per line, found {raw[:80]!r}: {exc}"
            ) from exc
        if not isinstance(obj, dict):
            raise ValueError(f"{path}:{number}: expected a JSON object, found {type(obj).__name__}")
        kind = obj.get("kind")
        if kind == "header":
            if number != 1:
                raise ValueError(f"{path}:{number}: header line found after line 1")
            header = obj
        elif kind == "step":
            if "step_id" not in obj:
                raise ValueError(f"{path}:{number}: step record without a step_id")
            records[obj["step_id"]] = obj
            step_lines += 1
        else:
            raise ValueError(f"{path}:{number}: expected kind 'header' or 'step', found {kind!r}")
        offset += len(raw) + 1
    return _Scan(header, records, step_lines, min(offset, len(data)), torn)


def read_results(path: str | Path) -> Results:
    """Read a results file: header (None if the file has none) and the latest record per step_id.

    A torn last line (a kill mid-write) is ignored with a warning; any other bad line is a ValueError
    naming the file and line.
    """
    scan = _scan(Path(path))
    return Results(scan.header, scan.records)


def iter_records(results: Results | Mapping[str, dict[str, Any]] | Iterable[dict[str, Any]]) -> list[dict]:
    """The step records of whatever holds them: a Results, a step_id mapping or a plain iterable."""
    if isinstance(results, Results):
        return list(results.records.values())
    if isinstance(results, Mapping):
        return list(results.values())
    return list(results)


def step_correct(record: Mapping[str, Any]) -> bool:
    """Whether a step record counts as right: a correct verdict and no failed request."""
    return not record.get("error") and bool(record["verdict"]["correct"])


class ResultsWriter:
    """Appends step records to a results file, one flushed line each.

    Opening an existing file checks its header against this run's (HeaderMismatchError on any
    difference) and cuts off a torn last line; `done` then holds the records already there.
    """

    def __init__(self, path: str | Path, header: RunHeader) -> None:
        self.path = Path(path)
        self.header = header
        self.done: dict[str, dict[str, Any]] = {}
        scan = _scan(self.path) if self.path.exists() else None
        if scan is not None and (scan.header is not None or scan.records):
            if scan.header is None:
                raise HeaderMismatchError(
                    f"{self.path}: exists but has no header line; refusing to append to it"
                )
            problems = header.mismatches(scan.header)
            if problems:
                raise HeaderMismatchError(
                    f"{self.path} was written with other settings; resume needs the same ones "
                    f"(or write to a new file with -o):\n  " + "\n  ".join(problems)
                )
            if scan.good_bytes < self.path.stat().st_size:
                logger.warning("%s: cutting a torn last line off before resuming", self.path)
                os.truncate(self.path, scan.good_bytes)
            with open(self.path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                ends_with_newline = f.read(1) == b"\n"
            self.done = scan.records
            # Unbuffered: every record is one write to the OS, so a SIGKILL cannot hold it back.
            self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed in close()
            if not ends_with_newline:
                self._file.write(b"\n")
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "wb", buffering=0)  # noqa: SIM115 - closed in close()
            self._write(header.to_json())

    def _write(self, obj: Mapping[str, Any]) -> None:
        data = orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS)
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            view = view[written:]

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one finished step's record (`kind` is set to "step")."""
        self._write({"kind": "step", **record})

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
