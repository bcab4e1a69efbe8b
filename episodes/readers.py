"""Read episodes from disk: every step record in order, or the typed `Step`s.

Two layouts are understood (see `episodes.records`): a raw episode folder
`ROOT/<episode_id>/step_<n>.json`, and the seed's converted JSONL; one `step_<n>.json` given on its own
is read as that one step. A path that is none of these (missing, one episode's folder instead of the
root, a folder without episodes) is refused by every reader, saying what was expected (`layout`,
`require_episodes`); listing the episode folders of an empty folder gives none.

Episodes are ordered as the seed's conversion script orders them: folders whose names are all digits
come first, by numeric value; other folders follow, sorted by name, with a logged warning because the
seed's script skips them. Hidden folders (starting with `.`) are ignored. Steps are ordered by `<n>`.

Everything streams: one step is held at a time, so memory does not grow with the number of steps.
Screen sizes come from the image header, once per image (`episodes.images.ImageSizes`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from episodes.images import ImageSizes
from episodes.records import STEP_FILE_RE, RecordError, StepRecord, read_record
from episodes.step import Step

log = logging.getLogger(__name__)


ROOT_SHAPE = "ROOT/<episode_id>/step_<n>.json"
STEP_FILE, JSONL, FOLDER = "step_file", "jsonl", "folder"


class NotEpisodes(ValueError):
    """A folder that holds no episodes where a folder of episodes was expected."""


def layout(path: str | os.PathLike[str]) -> str:
    """What `path` holds: one step file (`step_<n>.json`), a converted JSONL (any other file) or a
    folder of episodes; a path that does not exist is a FileNotFoundError saying what was expected."""
    path = Path(path)
    if path.is_file():
        return STEP_FILE if STEP_FILE_RE.match(path.name) else JSONL
    if not path.is_dir():
        raise FileNotFoundError(
            f"{path}: expected a folder of episodes ({ROOT_SHAPE}) or a converted JSONL file, "
            "found no such file or folder"
        )
    return FOLDER


def is_jsonl(path: str | os.PathLike[str]) -> bool:
    """True when `path` is a converted JSONL file rather than a folder of episodes or one step file."""
    return layout(path) == JSONL


def episode_sort_key(name: str) -> tuple[int, int, str]:
    """Seed order: numeric names by value first, then the others by name."""
    return (0, int(name), name) if name.isdigit() else (1, 0, name)


def list_episodes(root: str | os.PathLike[str]) -> list[Path]:
    """Episode folders under `root` in the seed's conversion order (see the module docstring)."""
    root = Path(root)
    return [root / n for n in episode_names(root)]


def episode_names(root: str | os.PathLike[str]) -> list[str]:
    """Episode folder names under `root` in the seed's order (names only: cheap at 17k episodes)."""
    root = Path(root)
    if layout(root) != FOLDER:
        raise NotEpisodes(f"{root}: expected a folder of episodes ({ROOT_SHAPE}), found a file")
    names = [e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith(".")]
    names.sort(key=episode_sort_key)
    odd = [n for n in names if not n.isdigit()]
    if odd:
        log.warning(
            "%s: %d episode folder(s) with non-numeric names (%s) are read after the numeric ones; "
            "the seed's conversion script skips them",
            root,
            len(odd),
            ", ".join(odd[:5]) + (", ..." if len(odd) > 5 else ""),
        )
    return names


def require_episodes(root: str | os.PathLike[str]) -> list[str]:
    """`episode_names(root)`, refusing a folder that holds none: read as zero steps, one episode's own
    folder or an empty folder would pass without a word (`NotEpisodes` names what was expected)."""
    root = Path(root)
    names = episode_names(root)
    if not names:
        if any(STEP_FILE_RE.match(e.name) for e in os.scandir(root)):
            found = (
                f"an episode folder (its step files); pass the folder holding it, {root.absolute().parent}"
            )
        else:
            found = "no episode folders"
        raise NotEpisodes(f"{root}: expected a folder of episodes ({ROOT_SHAPE}), found {found}")
    return names


def list_step_files(episode_dir: str | os.PathLike[str], strict: bool = True) -> list[tuple[int, Path]]:
    """`(n, path)` for each `step_<n>.json` in an episode folder, sorted by `n`.

    Files starting with `step_` and ending in `.json` whose middle is not a number are an error in
    strict mode (the seed's script would crash on them) and are skipped with a warning otherwise.
    """
    episode_dir = Path(episode_dir)
    found: list[tuple[int, Path]] = []
    for entry in os.scandir(episode_dir):
        name = entry.name
        if not (name.startswith("step_") and name.endswith(".json")):
            continue
        m = STEP_FILE_RE.match(name)
        if not m:
            msg = f"expected a step file named step_<n>.json with a number n, found {name!r}"
            if strict:
                raise RecordError(str(episode_dir / name), msg)
            log.warning("%s: %s; skipped", episode_dir / name, msg)
            continue
        found.append((int(m.group(1)), episode_dir / name))
    found.sort(key=lambda item: item[0])
    return found


def jsonl_lines(path: Path) -> Iterator[tuple[int, str]]:
    """`(line number, text)` for each non-blank line of a JSONL file."""
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                yield lineno, line


def iter_jsonl_records(
    path: Path, image_root: Path, sizes: ImageSizes, lines: Iterable[tuple[int, str]] | None = None
) -> Iterator[StepRecord]:
    """Every line of a converted JSONL as a `StepRecord`; an episode's index counts its records from 0."""
    position: dict[str, int] = {}
    for lineno, text in lines if lines is not None else jsonl_lines(path):
        yield read_record(path, line=lineno, text=text, image_root=image_root, sizes=sizes, position=position)


def iter_step_records(
    root: str | os.PathLike[str],
    *,
    strict: bool = True,
    image_root: str | os.PathLike[str] | None = None,
    sizes: ImageSizes | None = None,
) -> Iterator[StepRecord]:
    """Every step record of a raw folder or converted JSONL, in seed order, checked (`read_record`).

    `strict` only concerns step file names that are not `step_<n>.json` (raised vs skipped).
    """
    root = Path(root)
    sizes = sizes if sizes is not None else ImageSizes()
    kind = layout(root)
    if kind == STEP_FILE:
        yield read_record(root, sizes=sizes)
        return
    if kind == JSONL:
        yield from iter_jsonl_records(
            root, Path(image_root) if image_root is not None else root.parent, sizes
        )
        return
    for name in require_episodes(root):
        sizes.reset()  # episodes do not share screenshots
        for n, path in list_step_files(root / name, strict=strict):
            yield read_record(path, episode_id=name, index=n, sizes=sizes)


def iter_steps(
    root: str | os.PathLike[str], strict: bool = True, *, image_root: str | os.PathLike[str] | None = None
) -> Iterator[Step]:
    """Stream the steps of a raw episode folder or of a converted JSONL file, in seed order.

    strict=True: the first bad record raises `RecordError` (a `ValueError`) naming the file (and the
    line for JSONL) and what was expected vs found, including a missing or unreadable current
    screenshot. strict=False: bad records are logged and skipped (never replaced), and a step whose
    screenshot cannot be read gets `screen_size=None`.

    `image_root` (JSONL only) is the folder the records' image paths are relative to; it defaults to
    the JSONL file's folder.
    """
    for rec in iter_step_records(root, strict=strict, image_root=image_root):
        error = rec.strict_error()
        if error is not None and strict:
            raise error
        if rec.step is None:
            log.warning("skipped %s", error)
            continue
        yield rec.step


def read_steps(
    path: str | os.PathLike[str], strict: bool = True, *, image_root: str | os.PathLike[str] | None = None
) -> list[Step]:
    """All steps of `path` as a list (see `iter_steps`)."""
    return list(iter_steps(path, strict=strict, image_root=image_root))
