"""Find every problem in a raw episode folder or a converted JSONL, each with its file and line.

Unlike the strict reader, which stops at the first bad record, validation goes on and collects all
of them: unreadable JSON, records of the wrong shape, unknown action types, bad action parameters,
missing or unreadable screenshots, boxes inverted or outside the screen, swipes leaving the screen,
gaps in step numbering and screen sizes that change within an episode.

Screenshots are checked from their headers by default (fast enough for 167k steps); `decode=True`
also decodes the pixels, which catches truncated files at a much higher cost.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.data.readers import (
    STEP_FILE_RE,
    RecordError,
    check_input,
    extract_input_json,
    is_jsonl,
    list_episodes,
    screen_names,
)

log = logging.getLogger(__name__)

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    """One finding: where (`path`, 1-based `line` or None), a stable `code`, and what is wrong."""

    path: str
    line: int | None
    code: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: [{self.code}] {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "code": self.code, "message": self.message,
                "severity": self.severity}


@dataclass
class Report:
    """All problems found, plus how much was looked at."""

    problems: list[Problem] = field(default_factory=list)
    episodes: int = 0
    steps: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors


class ImageChecker:
    """Checks each screenshot once (consecutive steps share them) and remembers its size."""

    def __init__(self, decode: bool) -> None:
        self.decode = decode
        self.seen: dict[str, tuple[tuple[int, int] | None, str | None, str | None]] = {}

    def check(self, path: Path) -> tuple[tuple[int, int] | None, str | None, str | None]:
        """(size, problem code, message); size is None when the image cannot be used."""
        key = os.fspath(path)
        if key not in self.seen:
            self.seen[key] = self._check(path)
        return self.seen[key]

    def _check(self, path: Path) -> tuple[tuple[int, int] | None, str | None, str | None]:
        from PIL import Image, UnidentifiedImageError

        if not path.is_file():
            return None, "missing_image", f"expected screenshot {path}, found no such file"
        try:
            with Image.open(path) as image:
                size = image.size
                if self.decode:
                    image.load()
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            # Pillow raises SyntaxError for some malformed headers.
            return None, "unreadable_image", f"expected a readable image at {path}, found {type(exc).__name__}: {exc}"
        return size, None, None

    def reset(self) -> None:
        # Episodes do not share screenshots, so the memo is dropped per episode to keep memory flat.
        self.seen.clear()


def _line_of(text: str | None, needle: str) -> int | None:
    if text is None:
        return None
    pos = text.find(needle)
    return text.count("\n", 0, pos) + 1 if pos >= 0 else None


def _geometry(action: Any, size: tuple[int, int]) -> list[tuple[str, str]]:
    """Problems of a gold action against the screen `(width, height)`."""
    width, height = size
    found: list[tuple[str, str]] = []
    kind = action.action_type
    if kind in ("click", "long_click"):
        x1, y1, x2, y2 = action.box
        if x1 > x2 or y1 > y2:
            found.append(("box_inverted", f"expected {kind} box x1<=x2 and y1<=y2, found {action.wire_parameter()!r}"))
        if min(x1, y1, x2, y2) < 0 or max(x1, x2) > width or max(y1, y2) > height:
            found.append(("box_outside_screen",
                          f"expected {kind} box inside the {width}x{height} screen, found {action.wire_parameter()!r}"))
    elif kind == "swipe":
        xs, ys = (action.start[0], action.end[0]), (action.start[1], action.end[1])
        if min(xs + ys) < 0 or max(xs) > width or max(ys) > height:
            found.append(("swipe_outside_screen",
                          f"expected swipe points inside the {width}x{height} screen, found {action.wire_parameter()!r}"))
    return found


def check_step(inp: Any, output: Any, images: list[Path], *, path: str, text: str | None, line: int | None,
                checker: ImageChecker) -> tuple[list[Problem], tuple[int, int] | None]:
    """Problems of one step record and its current screen size (None if unreadable); `line` is fixed (JSONL) or found in
    `text` (step files)."""
    from actions import parse_action
    from actions.types import ACTION_TYPES

    def at(needle: str) -> int | None:
        return line if line is not None else _line_of(text, needle)

    problems: list[Problem] = []
    try:
        check_input(inp, path)
    except RecordError as exc:
        problems.append(Problem(path, at('"input"'), "bad_record", exc.message))
    size: tuple[int, int] | None = None
    for image in images:
        size, code, message = checker.check(image)
        if code:
            problems.append(Problem(path, at(f'"{image.name}"'), code, message))
    if not images:
        problems.append(Problem(path, at('"input"'), "missing_image",
                                "expected at least the current screenshot (screen_path2), found none"))
    if not isinstance(output, dict):
        problems.append(Problem(path, at('"output"'), "bad_record",
                                f"expected the output to be a JSON object, found {type(output).__name__}"))
        return problems, size
    action_type = output.get("action_type")
    if action_type not in ACTION_TYPES:
        problems.append(Problem(path, at('"action_type"'), "unknown_action_type",
                                f"expected action_type in {list(ACTION_TYPES)}, found {action_type!r}"))
        return problems, size
    try:
        action = parse_action(output, strict=True)
    except ValueError as exc:
        problems.append(Problem(path, at('"action_parameter"'), "bad_action", str(exc)))
        return problems, size
    # Boxes are in the current screen's pixels (the last image).
    if size is not None:
        for code, message in _geometry(action, size):
            problems.append(Problem(path, at('"action_parameter"'), code, message))
    return problems, size


def _episode_sizes(episode: str, sized: list[tuple[str, int | None, tuple[int, int]]]) -> list[Problem]:
    """A screen-size-mismatch problem for each step whose screenshots differ from the episode's first."""
    if not sized:
        return []
    first_path, _, first = sized[0]
    return [
        Problem(p, line, "screen_size_mismatch",
                f"expected every screenshot of episode {episode} to be {first[0]}x{first[1]} (as in {first_path}), "
                f"found {size[0]}x{size[1]}")
        for p, line, size in sized[1:]
        if size != first
    ]


def check_step_file(path: Path, checker: ImageChecker
                    ) -> tuple[dict[str, Any] | None, list[Problem], tuple[str, int | None, tuple[int, int]] | None]:
    """Problems of one raw step file: `(record, problems, (path, line, current screen size))`.

    The record is None when it cannot be used at all (not UTF-8, not JSON, not an object with
    `input` and `output`); the size entry is None when the current screenshot cannot be read.
    """
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(src, None, "bad_json", f"expected UTF-8 text, found undecodable bytes ({exc.reason})")], None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [Problem(src, exc.lineno, "bad_json",
                              f"expected JSON, found a syntax error: {exc.msg} (column {exc.colno})")], None
    if not isinstance(record, dict) or "input" not in record or "output" not in record:
        found = sorted(record) if isinstance(record, dict) else type(record).__name__
        return None, [Problem(src, 1, "bad_record", f"expected an object with 'input' and 'output', found {found}")], None
    problems: list[Problem] = []
    inp = record["input"]
    images: list[Path] = []
    if isinstance(inp, dict):
        try:
            images = [path.parent / n for n in screen_names(inp)]
        except ValueError as exc:
            problems.append(Problem(src, _line_of(text, '"screen_path'), "bad_record", str(exc)))
    found, size = check_step(inp, record["output"], images, path=src, text=text, line=None, checker=checker)
    problems += found
    return record, problems, (None if size is None else (src, _line_of(text, '"screen_path2"'), size))


def _validate_episode(episode_dir: Path, checker: ImageChecker) -> tuple[list[Problem], int]:
    problems: list[Problem] = []
    numbered: list[tuple[int, Path]] = []
    for entry in sorted(os.scandir(episode_dir), key=lambda e: e.name):
        name = entry.name
        if name.startswith("step_") and name.endswith(".json"):
            m = STEP_FILE_RE.match(name)
            if m:
                numbered.append((int(m.group(1)), Path(entry.path)))
            else:
                problems.append(Problem(entry.path, None, "bad_step_name",
                                        f"expected step_<n>.json with a number n, found {name!r}"))
    numbered.sort(key=lambda item: item[0])
    if not numbered:
        problems.append(Problem(str(episode_dir), None, "empty_episode", "expected step_<n>.json files, found none"))
        return problems, 0
    expected = numbered[0][0]
    if expected not in (0, 1):
        problems.append(Problem(str(numbered[0][1]), None, "step_gap",
                                f"expected the first step to be step_0 or step_1, found step_{expected}"))
    for n, path in numbered:
        if n == expected - 1:
            problems.append(Problem(str(path), None, "duplicate_step",
                                    f"expected one file for step {n}, found another ({path.name})"))
            continue
        if n != expected:
            missing = f"step_{expected}" if n == expected + 1 else f"step_{expected}..step_{n - 1}"
            problems.append(Problem(str(path), None, "step_gap",
                                    f"expected step_{expected}.json next, found step_{n}.json ({missing} missing)"))
        expected = n + 1

    sized: list[tuple[str, int | None, tuple[int, int]]] = []
    for _, path in numbered:
        _, found, entry = check_step_file(path, checker)
        problems += found
        if entry is not None:
            sized.append(entry)
    problems += _episode_sizes(episode_dir.name, sized)
    return problems, len(numbered)


def _validate_jsonl(path: Path, image_root: Path, checker: ImageChecker, progress: bool) -> Report:
    report = Report()
    episodes: dict[str, tuple[str, int | None, tuple[int, int]] | None] = {}
    last_episode = None
    with path.open(encoding="utf-8") as f:
        lines: Iterable[str] = f
        if progress:
            from tqdm import tqdm

            lines = tqdm(f, desc="validate", unit=" lines", disable=None)
        for lineno, text in enumerate(lines, 1):
            if not text.strip():
                continue
            report.steps += 1
            src = str(path)
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                report.problems.append(Problem(src, lineno, "bad_json", f"expected a JSON object per line, found a syntax error: {exc.msg}"))
                continue
            conv = record.get("conversations") if isinstance(record, dict) else None
            images = record.get("image") if isinstance(record, dict) else None
            if isinstance(images, str):
                images = [images]
            if (not isinstance(conv, list) or len(conv) < 2 or not all(isinstance(c, dict) for c in conv[:2])
                    or not isinstance(images, list) or not all(isinstance(i, str) for i in images)):
                report.problems.append(Problem(src, lineno, "bad_record",
                                               "expected {'id', 'image': [paths], 'conversations': [human, gpt]}"))
                continue
            try:
                inp = extract_input_json(str(conv[0].get("value", "")))
            except ValueError as exc:
                report.problems.append(Problem(src, lineno, "bad_record", str(exc)))
                continue
            try:
                output = json.loads(str(conv[1].get("value", "")))
            except json.JSONDecodeError as exc:
                report.problems.append(Problem(src, lineno, "bad_json", f"expected the gpt value to be the output JSON: {exc.msg}"))
                continue
            episode = images[0].replace("\\", "/").split("/")[0] if images else ""
            if episode != last_episode:
                # Episodes are contiguous in the file, so finished ones can be dropped.
                checker.reset()
                last_episode = episode
            found, size = check_step(inp, output, [image_root / i for i in images], path=src, text=None,
                                       line=lineno, checker=checker)
            report.problems += found
            if size is not None:
                # Only the episode's first size is kept, so memory stays flat on large files.
                first = episodes.setdefault(episode, (src, lineno, size))
                report.problems += _episode_sizes(episode, [first, (src, lineno, size)])
            else:
                episodes.setdefault(episode, None)
    report.episodes = len(episodes)
    return report


def validate(root: str | os.PathLike[str], *, image_root: str | os.PathLike[str] | None = None,
             decode: bool = False, progress: bool = False) -> Report:
    """Every problem in a raw episode folder or a converted JSONL file (see the module docstring)."""
    root = Path(root)
    checker = ImageChecker(decode)
    if is_jsonl(root):
        return _validate_jsonl(root, Path(image_root) if image_root else root.parent, checker, progress)
    report = Report()
    episodes = list_episodes(root)
    for name in (e.name for e in episodes if not e.name.isdigit()):
        report.problems.append(Problem(str(root / name), None, "non_numeric_episode",
                                       "episode folder name is not a number; the seed's conversion script skips it",
                                       WARNING))
    iterator: Iterator[Path] | list[Path] = episodes
    if progress:
        from tqdm import tqdm

        iterator = tqdm(episodes, desc="validate", unit=" episodes", disable=None)
    for episode_dir in iterator:
        checker.reset()
        found, steps = _validate_episode(episode_dir, checker)
        report.problems += found
        report.steps += steps
        report.episodes += 1
    return report
