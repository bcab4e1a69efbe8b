"""Read episodes from disk as typed `agent.step.Step` records.

Two layouts are understood:

- a raw episode folder, `ROOT/<episode_id>/step_<n>.json`, each file holding
  `{"input": {...}, "output": {...}}` with screenshot paths relative to the episode folder;
- the seed's converted JSONL, one `{"id", "image": [..], "conversations": [human, gpt]}` per line,
  whose human value ends with the step's input JSON and whose gpt value is the output JSON.

Episodes are ordered as the seed's conversion script orders them: folders whose names are all digits
come first, by numeric value; other folders follow, sorted by name, with a logged warning because the
seed's script skips them. Hidden folders (starting with `.`) are ignored. Steps are ordered by `<n>`.

Everything streams: `iter_steps` holds one step at a time, so memory does not grow with the number of
steps. Screen sizes come from the image header (Pillow opens lazily and never decodes pixels here),
behind a bounded cache because consecutive steps share screenshots.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from agent.step import DEFAULT_ACTION_TYPE_LIST, Step

log = logging.getLogger(__name__)

STEP_FILE_RE = re.compile(r"^step_(\d+)\.json$")
INPUT_KEYS = ("task_content", "task_path", "history_path_all", "app_name")
IMAGE_KEYS = ("screen_path1", "screen_path2")

# Bounded so the cache cannot grow with the data set; a step reuses its predecessor's screen,
# so even a small cache turns most look-ups into hits.
_SIZE_CACHE = 8192


class RecordError(ValueError):
    """A bad record: `source` is `path` or `path:line`, `message` says what was expected vs found."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


@lru_cache(maxsize=_SIZE_CACHE)
def _cached_size(path: str, mtime_ns: int) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:  # reads the header only; pixels are never decoded here
        return image.size


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """`(width, height)` of an image from its header.

    Raises `FileNotFoundError` for a missing file and `ValueError` for a file Pillow cannot identify.
    """
    from PIL import UnidentifiedImageError

    p = os.fspath(path)
    stat = os.stat(p)
    try:
        return _cached_size(p, stat.st_mtime_ns)
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{p}: expected a readable image, found {type(exc).__name__}: {exc}") from exc


def is_jsonl(path: str | os.PathLike[str]) -> bool:
    """True when `path` is a file (the converted JSONL layout) rather than an episode folder."""
    return Path(path).is_file()


def episode_sort_key(name: str) -> tuple[int, int, str]:
    """Seed order: numeric names by value first, then the others by name."""
    return (0, int(name), name) if name.isdigit() else (1, 0, name)


def list_episodes(root: str | os.PathLike[str]) -> list[Path]:
    """Episode folders under `root` in the seed's conversion order (see the module docstring)."""
    root = Path(root)
    return [root / n for n in episode_names(root)]


def episode_names(root: str | os.PathLike[str]) -> list[str]:
    """Episode folder names under `root` in the seed's conversion order (names only: cheap at 17k episodes)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: expected a folder of episodes, found no such folder")
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


def load_json_file(path: Path) -> Any:
    """Parse a JSON file; a decode error becomes a `RecordError` naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(str(path), f"expected UTF-8 text, found undecodable bytes ({exc.reason})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}:{exc.lineno}", f"expected JSON, found a syntax error: {exc.msg} (column {exc.colno})") from exc


def check_input(inp: Any, source: str) -> dict[str, Any]:
    """Check the shape of a step's input JSON and return it."""
    if not isinstance(inp, dict):
        raise RecordError(source, f"expected the input to be a JSON object, found {type(inp).__name__}")
    missing = [k for k in INPUT_KEYS if k not in inp]
    if missing:
        raise RecordError(source, f"expected input keys {list(INPUT_KEYS)}, missing {missing}")
    if not isinstance(inp["task_content"], str):
        raise RecordError(source, f"expected task_content to be a string, found {type(inp['task_content']).__name__}")
    if not isinstance(inp["task_path"], dict):
        raise RecordError(source, f"expected task_path to be an object, found {type(inp['task_path']).__name__}")
    if not isinstance(inp["history_path_all"], list):
        raise RecordError(
            source, f"expected history_path_all to be a list, found {type(inp['history_path_all']).__name__}"
        )
    if not isinstance(inp["app_name"], str):
        raise RecordError(source, f"expected app_name to be a string, found {type(inp['app_name']).__name__}")
    if "action_type_list" in inp and not isinstance(inp["action_type_list"], dict):
        raise RecordError(source, "expected action_type_list to be an object")
    return inp


def parse_gold(output: Any, source: str) -> Any:
    """The typed gold action from a step's output JSON (strict: errors name the source)."""
    from actions import parse_action

    if not isinstance(output, dict):
        raise RecordError(source, f"expected the output to be a JSON object, found {type(output).__name__}")
    try:
        return parse_action(output, strict=True)
    except ValueError as exc:
        raise RecordError(source, f"bad gold action: {exc}") from exc


def screen_names(inp: dict[str, Any]) -> list[str]:
    """The non-empty screenshot names of an input, previous screen first (as the seed's script)."""
    names = []
    for key in IMAGE_KEYS:
        value = inp.get(key)
        if value:
            if not isinstance(value, str):
                raise ValueError(f"expected {key} to be a file name, found {type(value).__name__}")
            names.append(value)
    return names


def _make_step(
    *,
    episode_id: str,
    index: int,
    inp: dict[str, Any],
    output: Any,
    screenshots: list[Path],
    source: str,
    strict: bool,
    context: Any = None,
) -> Step:
    gold = parse_gold(output, source)
    gold_context = None
    if context is not None:
        from actions.context import GoldContext

        try:
            gold_context = GoldContext.from_json(context, source)
        except ValueError as exc:
            raise RecordError(source, str(exc).removeprefix(f"{source}: ")) from exc
    screen_size: tuple[int, int] | None = None
    if screenshots:
        try:
            screen_size = image_size(screenshots[-1])
        except FileNotFoundError as exc:
            if strict:
                raise RecordError(source, f"expected screenshot {screenshots[-1]}, found no such file") from exc
        except ValueError as exc:
            if strict:
                raise RecordError(source, str(exc)) from exc
    elif strict:
        raise RecordError(source, "expected at least the current screenshot (screen_path2), found none")
    return Step(
        episode_id=episode_id,
        index=index,
        task=inp["task_content"],
        task_path={str(k): str(v) for k, v in inp["task_path"].items()},
        history=[str(h) for h in inp["history_path_all"]],
        app=inp["app_name"],
        screenshots=tuple(screenshots),
        screen_size=screen_size,
        gold=gold,
        action_type_list=dict(inp.get("action_type_list") or DEFAULT_ACTION_TYPE_LIST),
        input=inp,
        source=source,
        context=gold_context,
    )


def read_raw_step(path: str | os.PathLike[str], *, episode_id: str | None = None, index: int | None = None,
                  strict: bool = True) -> Step:
    """One `step_<n>.json` file as a Step (episode id and index default to the folder and `n`)."""
    path = Path(path)
    source = str(path)
    if episode_id is None:
        episode_id = path.parent.name
    if index is None:
        m = STEP_FILE_RE.match(path.name)
        if not m:
            raise RecordError(source, f"expected a file named step_<n>.json, found {path.name!r}")
        index = int(m.group(1))
    return raw_step(load_json_file(path), path, episode_id=episode_id, index=index, strict=strict)


def raw_step(record: Any, path: Path, *, episode_id: str, index: int, strict: bool = True) -> Step:
    """A Step from the already-parsed content of the step file at `path`."""
    source = str(path)
    if not isinstance(record, dict) or "input" not in record or "output" not in record:
        found = sorted(record) if isinstance(record, dict) else type(record).__name__
        raise RecordError(source, f"expected an object with 'input' and 'output', found {found}")
    inp = check_input(record["input"], source)
    try:
        names = screen_names(inp)
    except ValueError as exc:
        raise RecordError(source, str(exc)) from exc
    episode_dir = os.path.dirname(source)
    # Built from strings: pathlib joins cost more than the JSON parse at 167k steps.
    shots = [Path(os.path.abspath(os.path.join(episode_dir, n))) for n in names]
    return _make_step(episode_id=episode_id, index=index, inp=inp, output=record["output"], context=record.get("context"),
                      screenshots=shots, source=source, strict=strict)


def extract_input_json(human: str) -> dict[str, Any]:
    """The step's input JSON object that ends the human turn of a converted record.

    The prompt before it contains JSON examples of its own, so this looks for the object that ends
    exactly at the end of the text and carries `task_content`, trying `{` positions from the right.
    """
    text = human.rstrip()
    if not text.endswith("}"):
        raise ValueError(f"expected the human value to end with the input JSON object, found ...{text[-40:]!r}")
    decoder = json.JSONDecoder()
    pos = text.rfind("{")
    while pos >= 0:
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            obj, end = None, -1
        if end == len(text) and isinstance(obj, dict) and "task_content" in obj:
            return obj
        pos = text.rfind("{", 0, pos)
    raise ValueError("expected the human value to end with a JSON object holding task_content, found none")


def jsonl_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """`(line number, parsed record or None, syntax error or None)` for each non-blank line of a JSONL file."""
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield lineno, None, f"expected a JSON object per line, found a syntax error: {exc.msg} (column {exc.colno})"
                continue
            yield lineno, record, None


def jsonl_step(record: Any, *, source: str, image_root: Path, position: dict[str, int], strict: bool) -> Step:
    """One converted JSONL record as a Step.

    The episode id is the folder part of the first image path (`43688/43688_2.jpg` → `43688`), as
    the seed's script writes it; the index counts the episode's records in file order from 0.
    `position` carries those counters between calls.
    """
    if not isinstance(record, dict):
        raise RecordError(source, f"expected a JSON object, found {type(record).__name__}")
    images = record.get("image")
    conv = record.get("conversations")
    if isinstance(images, str):
        images = [images]
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise RecordError(source, f"expected 'image' to be a list of paths, found {images!r:.80}")
    if not isinstance(conv, list) or len(conv) < 2 or not all(isinstance(c, dict) for c in conv[:2]):
        raise RecordError(source, "expected 'conversations' to be [human, gpt] objects")
    human, gpt = conv[0].get("value"), conv[1].get("value")
    if not isinstance(human, str) or not isinstance(gpt, str):
        raise RecordError(source, "expected string 'value' in both conversation turns")
    try:
        inp = extract_input_json(human)
    except ValueError as exc:
        raise RecordError(source, str(exc)) from exc
    inp = check_input(inp, source)
    try:
        output = json.loads(gpt)
    except json.JSONDecodeError as exc:
        raise RecordError(source, f"expected the gpt value to be the output JSON, found a syntax error: {exc.msg}") from exc
    if not images:
        raise RecordError(source, "expected at least one image path, found none")
    head = images[0].replace("\\", "/").split("/")
    if len(head) < 2:
        raise RecordError(source, f"expected image paths as <episode_id>/<file>, found {images[0]!r}")
    episode_id = head[0]
    index = position.get(episode_id, 0)
    position[episode_id] = index + 1
    shots = [Path(os.path.abspath(image_root / p)) for p in images]
    return _make_step(episode_id=episode_id, index=index, inp=inp, output=output, screenshots=shots,
                      source=source, strict=strict)


def _iter_raw(root: Path, strict: bool) -> Iterator[Step]:
    for name in episode_names(root):
        for n, path in list_step_files(root / name, strict=strict):
            try:
                yield read_raw_step(path, episode_id=name, index=n, strict=strict)
            except RecordError as exc:
                if strict:
                    raise
                log.warning("skipped %s", exc)


def _iter_jsonl(path: Path, strict: bool, image_root: Path) -> Iterator[Step]:
    position: dict[str, int] = {}
    for lineno, record, error in jsonl_records(path):
        source = f"{path}:{lineno}"
        try:
            if error is not None:
                raise RecordError(source, error)
            yield jsonl_step(record, source=source, image_root=image_root, position=position, strict=strict)
        except RecordError as exc:
            if strict:
                raise
            log.warning("skipped %s", exc)


def iter_steps(root: str | os.PathLike[str], strict: bool = True, *,
               image_root: str | os.PathLike[str] | None = None) -> Iterator[Step]:
    """Stream the steps of a raw episode folder or of a converted JSONL file, in seed order.

    strict=True: the first bad record raises `RecordError` (a `ValueError`) naming the file (and the
    line for JSONL) and what was expected vs found, including a missing or unreadable current
    screenshot. strict=False: bad records are logged and skipped (never replaced), and a step whose
    screenshot cannot be read gets `screen_size=None`.

    `image_root` (JSONL only) is the folder the records' image paths are relative to; it defaults to
    the JSONL file's folder.
    """
    root = Path(root)
    if is_jsonl(root):
        yield from _iter_jsonl(root, strict, Path(image_root) if image_root is not None else root.parent)
    else:
        yield from _iter_raw(root, strict)


def read_steps(path: str | os.PathLike[str], strict: bool = True, *,
               image_root: str | os.PathLike[str] | None = None) -> list[Step]:
    """All steps of `path` as a list (see `iter_steps`)."""
    return list(iter_steps(path, strict=strict, image_root=image_root))

