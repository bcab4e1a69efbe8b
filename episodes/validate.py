"""Find every problem in a raw episode folder or a converted JSONL, each with its file and line.

Unlike the strict reader, which stops at the first bad record, validation goes on and collects all
of them: unreadable JSON, records of the wrong shape, unknown action types, bad action parameters,
missing or unreadable screenshots, boxes inverted or outside the screen, swipes leaving the screen
(all found per record by `episodes.records.read_record`), plus gaps in step numbering and screen
sizes that change within an episode.

Screenshots are checked from their headers by default (fast enough for 167k steps); `decode=True`
also decodes the pixels, which catches truncated files at a much higher cost.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from episodes.images import ImageSizes
from episodes.readers import JSONL, STEP_FILE, iter_jsonl_records, jsonl_lines, layout, require_episodes
from episodes.records import ERROR, STEP_FILE_RE, WARNING, Problem, StepRecord, read_record

log = logging.getLogger(__name__)

__all__ = ["ERROR", "WARNING", "Problem", "Report", "validate"]

SizeEntry = tuple[str, int | None, tuple[int, int]]


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


def size_entry(rec: StepRecord) -> SizeEntry | None:
    """`(path, line, current screen size)` of a record whose current screen could be read."""
    if rec.screen_size is None:
        return None
    return rec.path, rec.size_line, rec.screen_size


def _episode_sizes(episode: str, sized: list[SizeEntry]) -> list[Problem]:
    """A screen-size-mismatch problem for each step whose screenshots differ from the episode's first."""
    if not sized:
        return []
    first_path, _, first = sized[0]
    return [
        Problem(
            p,
            line,
            "screen_size_mismatch",
            f"expected every screenshot of episode {episode} to be {first[0]}x{first[1]} "
            f"(as in {first_path}), found {size[0]}x{size[1]}",
        )
        for p, line, size in sized[1:]
        if size != first
    ]


def _numbering(episode_dir: Path) -> tuple[list[Problem], list[tuple[int, Path]]]:
    """Problems of an episode's step file names and numbering, and its numbered files in order."""
    problems: list[Problem] = []
    numbered: list[tuple[int, Path]] = []
    for entry in sorted(os.scandir(episode_dir), key=lambda e: e.name):
        name = entry.name
        if name.startswith("step_") and name.endswith(".json"):
            m = STEP_FILE_RE.match(name)
            if m:
                numbered.append((int(m.group(1)), Path(entry.path)))
            else:
                message = f"expected step_<n>.json with a number n, found {name!r}"
                problems.append(Problem(entry.path, None, "bad_step_name", message))
    numbered.sort(key=lambda item: item[0])
    if not numbered:
        message = "expected step_<n>.json files, found none"
        problems.append(Problem(str(episode_dir), None, "empty_episode", message))
        return problems, numbered
    expected = numbered[0][0]
    if expected not in (0, 1):
        message = f"expected the first step to be step_0 or step_1, found step_{expected}"
        problems.append(Problem(str(numbered[0][1]), None, "step_gap", message))
    for n, path in numbered:
        if n == expected - 1:
            message = f"expected one file for step {n}, found another ({path.name})"
            problems.append(Problem(str(path), None, "duplicate_step", message))
            continue
        if n != expected:
            missing = f"step_{expected}" if n == expected + 1 else f"step_{expected}..step_{n - 1}"
            message = f"expected step_{expected}.json next, found step_{n}.json ({missing} missing)"
            problems.append(Problem(str(path), None, "step_gap", message))
        expected = n + 1
    return problems, numbered


def _validate_episode(episode_dir: Path, sizes: ImageSizes) -> tuple[list[Problem], int]:
    problems, numbered = _numbering(episode_dir)
    sized: list[SizeEntry] = []
    for n, path in numbered:
        rec = read_record(path, episode_id=episode_dir.name, index=n, sizes=sizes)
        problems += rec.problems
        entry = size_entry(rec)
        if entry is not None:
            sized.append(entry)
    problems += _episode_sizes(episode_dir.name, sized)
    return problems, len(numbered)


def _validate_jsonl(path: Path, image_root: Path, sizes: ImageSizes, progress: bool) -> Report:
    report = Report()
    episodes: dict[str, SizeEntry | None] = {}
    lines: Iterable[tuple[int, str]] = jsonl_lines(path)
    if progress:
        from tqdm import tqdm

        lines = tqdm(lines, desc="validate", unit=" lines", disable=None)
    for rec in iter_jsonl_records(path, image_root, sizes, lines):
        report.steps += 1
        report.problems += rec.problems
        if not rec.episode_id:
            continue
        entry = size_entry(rec)
        if entry is not None:
            # Only the episode's first size is kept, so memory stays flat on large files.
            first = episodes.setdefault(rec.episode_id, entry) or entry
            report.problems += _episode_sizes(rec.episode_id, [first, entry])
        else:
            episodes.setdefault(rec.episode_id, None)
    report.episodes = len(episodes)
    return report


def validate(
    root: str | os.PathLike[str],
    *,
    image_root: str | os.PathLike[str] | None = None,
    decode: bool = False,
    progress: bool = False,
) -> Report:
    """Every problem in a raw episode folder or a converted JSONL file (see the module docstring)."""
    root = Path(root)
    sizes = ImageSizes(decode)
    kind = layout(root)
    if kind == STEP_FILE:
        rec = read_record(root, sizes=sizes)
        return Report(problems=list(rec.problems), episodes=1, steps=1)
    if kind == JSONL:
        return _validate_jsonl(root, Path(image_root) if image_root else root.parent, sizes, progress)
    report = Report()
    episodes = [root / name for name in require_episodes(root)]
    for name in (e.name for e in episodes if not e.name.isdigit()):
        message = "episode folder name is not a number; the seed's conversion script skips it"
        report.problems.append(Problem(str(root / name), None, "non_numeric_episode", message, WARNING))
    iterator: Iterator[Path] | list[Path] = episodes
    if progress:
        from tqdm import tqdm

        iterator = tqdm(episodes, desc="validate", unit=" episodes", disable=None)
    for episode_dir in iterator:
        sizes.reset()
        found, steps = _validate_episode(episode_dir, sizes)
        report.problems += found
        report.steps += steps
        report.episodes += 1
    return report
