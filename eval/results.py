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

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from actions.vocab import DEFAULT_TILE
from agent.adapters import DEFAULT_ADAPTER

logger = logging.getLogger(__name__)

# Settings that change what a step's answer means; a resumed run must use the same ones. The endpoint is
# compared only when it names what answered (`local:` folder, `predictions:` file): a URL says only
# where a server listens, so a server moved to another port is the same run.
HEADER_FIELDS: tuple[str, ...] = (
    "model",
    "endpoint",
    "template_hash",
    "coord_space",
    "min_pixels",
    "max_pixels",
    "protocol",
    "history",
    "agent",
    "episodes_fingerprint",
    "task",
    "language",
    "temperature",
    "tile",
)
# Files written before a field existed were made with its default (before model families every run
# asked a Qwen2.5-VL processor, whose tile is 28 pixels).
HEADER_DEFAULTS: dict[str, Any] = {
    "tile": DEFAULT_TILE,
    "history": "gold",
    "agent": DEFAULT_ADAPTER,
    "task": "navigation",
    "language": None,
    "temperature": 0.0,
}


class HeaderMismatchError(ValueError):
    """Resuming a results file with settings other than the ones it was written with."""


def _is_url(endpoint: Any) -> bool:
    return isinstance(endpoint, str) and endpoint.startswith(("http://", "https://"))


@dataclass(frozen=True)
class RunHeader:
    """The first line of a results file: what was evaluated and how.

    `history` is the history mode (`gold`: teacher forcing; `own`, `own-patched`), `agent` the adapter
    asked through, `episodes_fingerprint` the `episodes_fingerprint` of the steps evaluated (None in
    files written before it existed) and `episodes` the folder or file they came from. `extra` adds
    untyped fields (rewards, the checkpoint, overrides).
    """

    model: str
    endpoint: str
    template_hash: str
    coord_space: str
    min_pixels: int
    max_pixels: int
    protocol: str
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    history: str = "gold"
    agent: str = DEFAULT_ADAPTER
    template: str | None = None
    episodes: str | None = None
    episodes_fingerprint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = {"kind": "header", **{k: v for k, v in asdict(self).items() if k != "extra"}}
        data.update(self.extra)
        return data

    def mismatches(self, existing: Mapping[str, Any]) -> list[str]:
        """Lines naming each field of HEADER_FIELDS whose value differs from `existing` (a file's
        header). A field the file lacks and has no default for (the episodes fingerprint of an older
        file) is not compared here; `ResultsWriter` checks such a file's records instead."""
        mine = {**HEADER_DEFAULTS, **self.to_json()}
        theirs = {**HEADER_DEFAULTS, **existing}
        lines = []
        for name in HEADER_FIELDS:
            if name not in theirs:
                continue
            if name == "endpoint" and _is_url(theirs.get(name)) and _is_url(mine.get(name)):
                continue
            if theirs.get(name) != mine.get(name):
                lines.append(f"{name}: file has {theirs.get(name)!r}, this run has {mine.get(name)!r}")
        return lines


def gold_key(gold: Any) -> str:
    """A gold action as canonical JSON text (wire JSON with sorted keys), for comparing and hashing."""
    wire = gold.to_json() if hasattr(gold, "to_json") else gold
    return json.dumps(wire, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def step_golds(steps: Iterable[Any]) -> dict[str, str]:
    """`{step_id: gold_key(step.gold)}` of steps (`episodes.step.Step`s); a step without gold maps to ""."""
    return {step.step_id: gold_key(step.gold) if step.gold is not None else "" for step in steps}


def golds_fingerprint(golds: Mapping[str, str]) -> str:
    """The fingerprint of a `step_golds` mapping (see `episodes_fingerprint`)."""
    digest = hashlib.sha256()
    for step_id in sorted(golds):
        digest.update(step_id.encode("utf-8") + b"\0" + golds[step_id].encode("utf-8") + b"\n")
    return digest.hexdigest()[:16]


def episodes_fingerprint(steps: Iterable[Any]) -> str:
    """What makes two step sets the same test set: a short sha256 over the sorted step ids, each with
    its gold action (canonical wire JSON). Order, screenshots and prompts do not enter it.

    `eval run` records it in the results header as `episodes_fingerprint` and refuses to resume a file
    made on other episodes. A reader holding episodes can compare: `episodes_fingerprint(
    episodes.readers.iter_steps(root)) == header["episodes_fingerprint"]`; for files from before the
    field existed, compare each record's `gold` with `step_golds(...)[record["step_id"]]` instead.
    """
    return golds_fingerprint(step_golds(steps))


def records_outside(records: Iterable[Mapping[str, Any]], golds: Mapping[str, str]) -> list[str]:
    """Step ids of `records` that are not among `golds` (`step_golds`) with the same gold action."""
    return [
        str(r["step_id"])
        for r in records
        if golds.get(str(r["step_id"])) is None or golds[str(r["step_id"])] != gold_key(r.get("gold"))
    ]


class EpisodesMismatch(ValueError):
    """A results file read against episodes that do not hold its steps (another test set)."""


def check_records_in(
    records: Iterable[Mapping[str, Any]], golds: Mapping[str, str], *, results: Any, episodes: Any
) -> None:
    """Raise EpisodesMismatch when a record's step is not among `golds` (`step_golds` of the episodes
    given with the results) with the same gold action: its metrics would be shown or rescored beside
    steps of another test set, and a gold context looked up by step id would be another step's."""
    records = list(records)
    outside = records_outside(records, golds)
    if outside:
        raise EpisodesMismatch(
            f"{results}: {len(outside)} of its {len(records)} recorded steps are not steps of {episodes} "
            f"with the same gold action (first: {', '.join(outside[:3])}); pass the episodes this run "
            "was made on"
        )


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
    difference) and cuts off a torn last line; `done` then holds the records already there. `golds`
    (`step_golds` of this run's episodes) checks a file written before headers carried the episodes
    fingerprint: each of its records must be one of these steps, with the same gold action.
    """

    def __init__(
        self, path: str | Path, header: RunHeader, *, golds: Mapping[str, str] | None = None
    ) -> None:
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
            if "episodes_fingerprint" not in scan.header and golds is not None:
                # A file from before the fingerprint: its records must be steps of these episodes.
                outside = records_outside(scan.records.values(), golds)
                if outside:
                    problems.append(
                        f"episodes: {len(outside)} recorded step(s) are not in this run's episodes with the "
                        f"same gold action (first: {', '.join(outside[:3])})"
                    )
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
