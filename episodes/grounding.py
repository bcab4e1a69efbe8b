"""Grounding items on disk: one screenshot, an instruction, and the target region to point at.

A grounding set is a folder holding `grounding.jsonl` (one item per line) and the screenshots it
names, relative to the folder (`phone-r1 data import` writes it, with `dataset_card.json`); a path to
the `.jsonl` file itself works too. One line:

    {"id": "screenspot-pro/android_studio_macos/3", "benchmark": "screenspot-pro",
     "image": "images/android_studio_mac/screenshot_2024-11-28_16-03-07.png", "screen": [3840, 2160],
     "instruction": "Run the app", "instructions": {"cn": "运行应用"},
     "target": {"type": "box", "box": [3208, 107, 3240, 139], "units": "pixel"},
     "categories": {"group": "Dev", "application": "android_studio", "platform": "macos",
                    "ui_type": "icon"},
     "declared_screen": [3840, 2160], "origin": "annotations/android_studio_macos.json#3"}

- `screen` is the screenshot's own `(width, height)` from its header (`data validate` checks it);
  `declared_screen` is the size the benchmark's annotation states, kept when it has one, because some
  published rules divide by it rather than by the image's size;
- `target` is an `actions.regions` region, coordinates exactly as the benchmark releases them (box
  corners not reordered, `units` pixel or unit);
- `instructions` holds the instruction in other languages, keyed by a language tag;
- `categories` are the item's labels for the benchmark's breakdowns (a string, or a list when an item
  belongs to several groups, as OSWorld-G's capability classes);
- `benchmark` names the grounding protocol family the set comes from; `origin` where in the released
  files the importer found the item.

`read_grounding_line` is the one reader of a line; `iter_grounding_records`, `read_grounding_items`
and `validate_grounding` read whole sets.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actions.regions import Box, Polygon, Refusal, Region, region_from_json
from episodes.images import ImageSizes
from episodes.records import ERROR, WARNING, Problem, RecordError

GROUNDING_FILE = "grounding.jsonl"
ITEM_KEYS: tuple[str, ...] = ("id", "image", "screen", "instruction", "target")
OPTIONAL_KEYS: tuple[str, ...] = ("benchmark", "instructions", "categories", "declared_screen", "origin")
# Problems that leave no typed item: the line cannot be read as a grounding item at all.
BLOCKING = frozenset({"bad_json", "bad_record", "bad_target"})
# How far a target may reach past the screen, as a fraction of the screen, before validation flags it
# (released annotations are sometimes a pixel or two beyond the edge).
OUTSIDE_TOLERANCE = 0.01

CategoryValue = str | tuple[str, ...]


@dataclass(frozen=True)
class GroundingItem:
    """One grounding item (see the module docstring); `image` is an absolute path, `source` is
    `file.jsonl:17` for messages."""

    id: str
    image: Path
    screen: tuple[int, int]
    instruction: str
    target: Region
    instructions: dict[str, str] = field(default_factory=dict)
    categories: dict[str, CategoryValue] = field(default_factory=dict)
    benchmark: str | None = None
    declared_screen: tuple[int, int] | None = None
    origin: str | None = None
    source: str = ""

    @property
    def step_id(self) -> str:
        """The item's id under the name a step's key has (results records, recorded predictions)."""
        return self.id

    @property
    def refusal(self) -> bool:
        """True when no element matches the instruction (the right answer is to refuse)."""
        return isinstance(self.target, Refusal)

    @property
    def box_type(self) -> str:
        """`box`, `polygon` or `refuse`: the kind of target (a breakdown of its own)."""
        return self.target.type

    def instruction_in(self, language: str | None) -> str:
        """The instruction in `language` (None or absent from `instructions`: the main one is refused
        loudly rather than silently replaced)."""
        if not language:
            return self.instruction
        if language not in self.instructions:
            raise ValueError(
                f"{self.source or self.id}: no instruction in {language!r} (has {sorted(self.instructions)})"
            )
        return self.instructions[language]

    def category_values(self, key: str) -> tuple[str, ...]:
        """The item's labels under `key` as a tuple (`box_type` is derived from the target)."""
        if key == "box_type":
            return (self.box_type,)
        value = self.categories.get(key)
        if value is None:
            return ()
        return (value,) if isinstance(value, str) else tuple(value)

    def to_json(self, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """The item's line, its image path relative to `root` when given."""
        image = os.path.relpath(self.image, root) if root is not None else str(self.image)
        line: dict[str, Any] = {"id": self.id}
        if self.benchmark:
            line["benchmark"] = self.benchmark
        line.update(
            image=Path(image).as_posix(),
            screen=list(self.screen),
            instruction=self.instruction,
        )
        if self.instructions:
            line["instructions"] = dict(self.instructions)
        line["target"] = self.target.to_json()
        if self.categories:
            line["categories"] = {k: v if isinstance(v, str) else list(v) for k, v in self.categories.items()}
        if self.declared_screen is not None:
            line["declared_screen"] = list(self.declared_screen)
        if self.origin:
            line["origin"] = self.origin
        return line


@dataclass
class GroundingRecord:
    """What `read_grounding_line` found: the raw JSON, every problem, the item when it could be built."""

    source: str
    path: str = ""
    line: int = 0
    raw: Any = None
    problems: list[Problem] = field(default_factory=list)
    item: GroundingItem | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    def strict_error(self) -> RecordError | None:
        for p in self.problems:
            if p.code in BLOCKING:
                return RecordError(self.source, p.message)
        return None


def _size(value: Any, what: str) -> tuple[int, int]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise ValueError(f"expected {what} as [width, height] in positive integer pixels, found {value!r}")
    return int(value[0]), int(value[1])


def _categories(value: Any) -> dict[str, CategoryValue]:
    if not isinstance(value, dict):
        raise ValueError(f"expected categories to be a JSON object, found {type(value).__name__}")
    out: dict[str, CategoryValue] = {}
    for key, v in value.items():
        if isinstance(v, str):
            out[str(key)] = v
        elif isinstance(v, list) and all(isinstance(x, str) for x in v):
            out[str(key)] = tuple(v)
        else:
            raise ValueError(f"expected category {key!r} to be a string or a list of strings, found {v!r}")
    return out


def _instructions(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"expected instructions as {{language: text}}, found {value!r}")
    return {str(k): v for k, v in value.items()}


def read_grounding_line(
    text: str, *, path: str | os.PathLike[str], line: int, root: str | os.PathLike[str] | None = None
) -> GroundingRecord:
    """Read one line of a grounding set; images resolve against `root` (default: the file's folder).

    Never raises for bad data: every finding is a `Problem` with the file and line.
    """
    path = os.fspath(path)
    source = f"{path}:{line}"
    record = GroundingRecord(source, path, line)

    def problem(code: str, message: str, severity: str = ERROR) -> None:
        record.problems.append(Problem(path, line, code, message, severity))

    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        problem("bad_json", f"expected a JSON object per line, found invalid JSON: {exc.msg}")
        return record
    record.raw = raw
    if not isinstance(raw, dict):
        problem("bad_record", f"expected a JSON object, found {type(raw).__name__}")
        return record
    missing = [k for k in ITEM_KEYS if k not in raw]
    if missing:
        problem("bad_record", f"expected keys {list(ITEM_KEYS)}, missing {missing}")
        return record
    try:
        item_id, image, instruction = raw["id"], raw["image"], raw["instruction"]
        for key, value in (("id", item_id), ("image", image), ("instruction", instruction)):
            if not isinstance(value, str):
                raise ValueError(f"expected {key} to be a string, found {type(value).__name__}")
        screen = _size(raw["screen"], "screen")
        declared = raw.get("declared_screen")
        declared_screen = _size(declared, "declared_screen") if declared is not None else None
        instructions = _instructions(raw.get("instructions", {}))
        categories = _categories(raw.get("categories", {}))
        benchmark = raw.get("benchmark")
        origin = raw.get("origin")
        if benchmark is not None and not isinstance(benchmark, str):
            raise ValueError(f"expected benchmark to be a string, found {benchmark!r}")
        if origin is not None and not isinstance(origin, str):
            raise ValueError(f"expected origin to be a string, found {origin!r}")
    except ValueError as exc:
        problem("bad_record", str(exc))
        return record
    try:
        target = region_from_json(raw["target"])
    except ValueError as exc:
        problem("bad_target", str(exc))
        return record
    if not instruction.strip():
        problem("empty_instruction", "expected a non-empty instruction, found an empty one")
    base = Path(root) if root is not None else Path(path).parent
    image_path = Path(image) if os.path.isabs(image) else (base / image)
    record.problems.extend(_target_problems(target, screen, path, line))
    record.item = GroundingItem(
        id=item_id,
        image=image_path.resolve(),
        screen=screen,
        instruction=instruction,
        target=target,
        instructions=instructions,
        categories=categories,
        benchmark=benchmark,
        declared_screen=declared_screen,
        origin=origin,
        source=source,
    )
    return record


def _target_problems(target: Region, screen: tuple[int, int], path: str, line: int) -> list[Problem]:
    """Warnings for a target that reaches past the screen or has no area (kept: the benchmark's own
    rule decides what such a target means)."""
    if isinstance(target, Refusal):
        return []
    if isinstance(target, Box):
        x1, y1, x2, y2 = target.pixels(screen)
        xs, ys = (x1, x2), (y1, y2)
        flat = x1 == x2 or y1 == y2
    else:
        assert isinstance(target, Polygon)
        vertices = target.pixels(screen)
        xs, ys = tuple(p[0] for p in vertices), tuple(p[1] for p in vertices)
        flat = _area(vertices) == 0
    found: list[Problem] = []
    w, h = screen
    tol_x, tol_y = OUTSIDE_TOLERANCE * w, OUTSIDE_TOLERANCE * h
    if min(xs) < -tol_x or min(ys) < -tol_y or max(xs) > w + tol_x or max(ys) > h + tol_y:
        found.append(
            Problem(
                path,
                line,
                "target_outside_screen",
                f"expected the target within the {w}x{h} screen, found x {min(xs):g}..{max(xs):g}, "
                f"y {min(ys):g}..{max(ys):g}",
                WARNING,
            )
        )
    if flat:
        found.append(
            Problem(path, line, "empty_target", "expected a target with an area, found none", WARNING)
        )
    return found


def _area(vertices: tuple[tuple[float, float], ...]) -> float:
    twice = sum(
        vertices[i][0] * vertices[(i + 1) % len(vertices)][1]
        - vertices[(i + 1) % len(vertices)][0] * vertices[i][1]
        for i in range(len(vertices))
    )
    return abs(twice) / 2


def grounding_file(path: str | os.PathLike[str]) -> Path:
    """The `.jsonl` of a grounding set given the set's folder or the file itself."""
    p = Path(path)
    if p.is_dir():
        p = p / GROUNDING_FILE
    if not p.is_file():
        raise FileNotFoundError(f"expected a grounding set ({GROUNDING_FILE} or a .jsonl file), found no {p}")
    return p


def is_grounding_set(path: str | os.PathLike[str]) -> bool:
    """True for a folder holding `grounding.jsonl`, or a `.jsonl` whose first item has a `target`."""
    p = Path(path)
    if p.is_dir():
        return (p / GROUNDING_FILE).is_file()
    if p.suffix != ".jsonl" or not p.is_file():
        return False
    with p.open(encoding="utf-8") as fh:
        for text in fh:
            if text.strip():
                try:
                    first = json.loads(text)
                except json.JSONDecodeError:
                    return p.name == GROUNDING_FILE
                return isinstance(first, dict) and "target" in first and "instruction" in first
    return p.name == GROUNDING_FILE


def iter_grounding_records(path: str | os.PathLike[str]) -> Iterator[GroundingRecord]:
    """Every record of a set, blank lines skipped, in file order."""
    file = grounding_file(path)
    with file.open(encoding="utf-8") as fh:
        for number, text in enumerate(fh, start=1):
            if text.strip():
                yield read_grounding_line(text, path=file, line=number)


def read_grounding_items(
    path: str | os.PathLike[str], *, strict: bool = True, skipped: list[str] | None = None
) -> list[GroundingItem]:
    """The items of a set. Strict: the first bad line raises `RecordError` naming file and line;
    otherwise bad lines are skipped (validation reports them), each named in `skipped` when given."""
    items: list[GroundingItem] = []
    seen: dict[str, str] = {}
    for record in iter_grounding_records(path):
        error = record.strict_error()
        if error is None and record.item is not None and record.item.id in seen:
            error = RecordError(
                record.source, f"duplicate id {record.item.id!r} (first at {seen[record.item.id]})"
            )
        if error is not None:
            if strict:
                raise error
            if skipped is not None:
                skipped.append(str(error))
            continue
        assert record.item is not None
        seen[record.item.id] = record.source
        items.append(record.item)
    return items


@dataclass
class GroundingReport:
    """All problems found in a grounding set, plus how many items were looked at."""

    problems: list[Problem] = field(default_factory=list)
    items: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_grounding(path: str | os.PathLike[str], *, decode: bool = False) -> GroundingReport:
    """Every problem of a set: the per-line findings, duplicate ids, and each screenshot checked
    against the item's `screen` (missing, unreadable, or another size)."""
    report = GroundingReport()
    sizes = ImageSizes(decode=decode)
    seen: dict[str, str] = {}
    for record in iter_grounding_records(path):
        report.items += 1
        report.problems.extend(record.problems)
        item = record.item
        if item is None:
            continue
        file, line = record.path, record.line
        if item.id in seen:
            report.problems.append(
                Problem(
                    file,
                    line,
                    "duplicate_id",
                    f"expected unique ids, found {item.id!r} again (first at {seen[item.id]})",
                )
            )
        else:
            seen[item.id] = record.source
        size, code, message = sizes.check(item.image)
        if size is None:
            report.problems.append(Problem(file, line, code or "unreadable_image", message or ""))
        elif tuple(size) != item.screen:
            report.problems.append(
                Problem(
                    file,
                    line,
                    "screen_mismatch",
                    f"expected {item.image} to be {item.screen[0]}x{item.screen[1]} as the item says, "
                    f"found {size[0]}x{size[1]}",
                )
            )
    return report


def write_grounding_items(
    items: Iterable[GroundingItem],
    path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
) -> int:
    """Write items as a grounding `.jsonl` (image paths relative to `root`, default the file's folder)."""
    path = Path(path)
    base = Path(root) if root is not None else path.parent
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item.to_json(base), ensure_ascii=False) + "\n")
            count += 1
    return count
