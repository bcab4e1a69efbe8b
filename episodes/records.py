"""One step record: its raw JSON, every problem it has, and the typed `Step` when it can be built.

`read_record` is the one place a step record is read, for both layouts:

- a raw step file `ROOT/<episode_id>/step_<n>.json` holding `{"input": {...}, "output": {...}}`, with
  screenshot names relative to the episode folder;
- one line of the seed's converted JSONL, `{"id", "image": [..], "conversations": [human, gpt]}`,
  whose human value ends with the step's input JSON and whose gpt value is the output JSON.

Problems carry the file, the line and a stable code. A record whose shape, input, action type or
action parameters are wrong has no `Step`; a record whose screenshots are missing or unreadable, or
whose gold box leaves the screen, still has one (with `screen_size=None` when the current screen
cannot be read), so the strict reader, validation, stats and conversion each decide what to do with
the same findings.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actions.context import GoldContext
from episodes.images import ImageSizes
from episodes.step import Step

STEP_FILE_RE = re.compile(r"^step_(\d+)\.json$")
INPUT_KEYS = ("task_content", "task_path", "history_path_all", "app_name")
IMAGE_KEYS = ("screen_path1", "screen_path2")

ERROR, WARNING = "error", "warning"
# Problems that leave no typed Step: the record cannot be read as a step at all.
BLOCKING = frozenset({"bad_json", "bad_record", "unknown_action_type", "bad_action"})


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
        return {
            "path": self.path,
            "line": self.line,
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
        }


class RecordError(ValueError):
    """A bad record: `source` is `path` or `path:line`, `message` says what was expected vs found."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


@dataclass
class StepRecord:
    """What `read_record` found: `source` is `path` (step file) or `path:line` (JSONL), `path` the file.

    `raw` is the parsed JSON (None when it cannot be parsed); `input` is the step's input object
    (None when the record has no usable one); `step` is None when any problem is `BLOCKING`.
    `size_line` is the line that names the current screenshot, for episode-level size checks.
    """

    source: str
    episode_id: str
    index: int
    path: str = ""
    raw: Any = None
    input: dict[str, Any] | None = None
    output: Any = None
    screenshots: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    step: Step | None = None
    screen_size: tuple[int, int] | None = None
    size_line: int | None = None
    current_image_problem: Problem | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    def strict_error(self) -> RecordError | None:
        """What a strict reader stops at: a record without a Step, or an unreadable current screen."""
        for p in self.problems:
            if p.code in BLOCKING:
                where = f"{p.path}:{p.line}" if p.code == "bad_json" and p.line else self.source
                return RecordError(where, p.message)
        if self.current_image_problem is not None:
            return RecordError(self.source, self.current_image_problem.message)
        return None


def check_input(inp: Any, source: str) -> dict[str, Any]:
    """Check the shape of a step's input JSON and return it (`RecordError` otherwise)."""
    if not isinstance(inp, dict):
        raise RecordError(source, f"expected the input to be a JSON object, found {type(inp).__name__}")
    missing = [k for k in INPUT_KEYS if k not in inp]
    if missing:
        raise RecordError(source, f"expected input keys {list(INPUT_KEYS)}, missing {missing}")
    for key, kind in (
        ("task_content", str),
        ("task_path", dict),
        ("history_path_all", list),
        ("app_name", str),
    ):
        if not isinstance(inp[key], kind):
            noun = {str: "a string", dict: "an object", list: "a list"}[kind]
            raise RecordError(source, f"expected {key} to be {noun}, found {type(inp[key]).__name__}")
    if "action_type_list" in inp and not isinstance(inp["action_type_list"], dict):
        raise RecordError(source, "expected action_type_list to be an object")
    return inp


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


def extract_input_json(human: str) -> dict[str, Any]:
    """The step's input JSON object that ends the human turn of a converted record.

    The prompt before it contains JSON examples of its own, so this looks for the object that ends
    exactly at the end of the text and carries `task_content`, trying `{` positions from the right.
    """
    text = human.rstrip()
    if not text.endswith("}"):
        raise ValueError(
            f"expected the human value to end with the input JSON object, found ...{text[-40:]!r}"
        )
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
    param = action.wire_parameter() if kind in ("click", "long_click", "swipe") else ""
    if kind in ("click", "long_click"):
        x1, y1, x2, y2 = action.box
        if x1 > x2 or y1 > y2:
            found.append(("box_inverted", f"expected {kind} box x1<=x2 and y1<=y2, found {param!r}"))
        if min(x1, y1, x2, y2) < 0 or max(x1, x2) > width or max(y1, y2) > height:
            message = f"expected {kind} box inside the {width}x{height} screen, found {param!r}"
            found.append(("box_outside_screen", message))
    elif kind == "swipe":
        xs, ys = (action.start[0], action.end[0]), (action.start[1], action.end[1])
        if min(xs + ys) < 0 or max(xs) > width or max(ys) > height:
            message = f"expected swipe points inside the {width}x{height} screen, found {param!r}"
            found.append(("swipe_outside_screen", message))
    return found


def _parse_step_file(rec: StepRecord, path: Path) -> str | None:
    """Fill `rec` from a step file; returns the file's text (for line numbers) or None."""
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        message = f"expected UTF-8 text, found undecodable bytes ({exc.reason})"
        rec.problems.append(Problem(src, None, "bad_json", message))
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"expected JSON, found a syntax error: {exc.msg} (column {exc.colno})"
        rec.problems.append(Problem(src, exc.lineno, "bad_json", message))
        return None
    rec.raw = record
    if not isinstance(record, dict) or "input" not in record or "output" not in record:
        found = sorted(record) if isinstance(record, dict) else type(record).__name__
        message = f"expected an object with 'input' and 'output', found {found}"
        rec.problems.append(Problem(src, 1, "bad_record", message))
        return None
    rec.output = record["output"]
    inp = record["input"]
    if isinstance(inp, dict):
        rec.input = inp
        try:
            names = screen_names(inp)
        except ValueError as exc:
            rec.problems.append(Problem(src, _line_of(text, '"screen_path'), "bad_record", str(exc)))
            names = []
        # Built from strings: pathlib joins cost more than the JSON parse at 167k steps.
        folder = os.path.dirname(os.path.abspath(src))
        rec.screenshots = [Path(os.path.join(folder, n)) for n in names]
    else:
        message = f"expected the input to be a JSON object, found {type(inp).__name__}"
        rec.problems.append(Problem(src, _line_of(text, '"input"'), "bad_record", message))
    rec.size_line = _line_of(text, '"screen_path2"')
    return text


def _parse_jsonl_line(rec: StepRecord, path: Path, line: int, text: str, image_root: Path) -> None:
    """Fill `rec` from one line of a converted JSONL file."""
    src = str(path)

    def bad(code: str, message: str) -> None:
        rec.problems.append(Problem(src, line, code, message))

    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return bad(
            "bad_json",
            f"expected a JSON object per line, found a syntax error: {exc.msg} (column {exc.colno})",
        )
    rec.raw = record
    if not isinstance(record, dict):
        return bad("bad_record", f"expected a JSON object, found {type(record).__name__}")
    images, conv = record.get("image"), record.get("conversations")
    if isinstance(images, str):
        images = [images]
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        return bad("bad_record", f"expected 'image' to be a list of paths, found {images!r:.80}")
    if not isinstance(conv, list) or len(conv) < 2 or not all(isinstance(c, dict) for c in conv[:2]):
        return bad("bad_record", "expected 'conversations' to be [human, gpt] objects")
    human, gpt = conv[0].get("value"), conv[1].get("value")
    if not isinstance(human, str) or not isinstance(gpt, str):
        return bad("bad_record", "expected string 'value' in both conversation turns")
    if not images:
        return bad("bad_record", "expected at least one image path, found none")
    head = images[0].replace("\\", "/").split("/")
    if len(head) < 2:
        return bad("bad_record", f"expected image paths as <episode_id>/<file>, found {images[0]!r}")
    rec.episode_id = head[0]
    rec.screenshots = [Path(os.path.abspath(image_root / p)) for p in images]
    try:
        rec.input = extract_input_json(human)
    except ValueError as exc:
        return bad("bad_record", str(exc))
    try:
        rec.output = json.loads(gpt)
    except json.JSONDecodeError as exc:
        return bad(
            "bad_json", f"expected the gpt value to be the output JSON, found a syntax error: {exc.msg}"
        )
    rec.size_line = line
    return None


def read_record(
    path: str | os.PathLike[str],
    *,
    line: int | None = None,
    text: str | None = None,
    image_root: str | os.PathLike[str] | None = None,
    episode_id: str | None = None,
    index: int | None = None,
    sizes: ImageSizes | None = None,
    position: dict[str, int] | None = None,
) -> StepRecord:
    """Read one step record and check it.

    Without `line`: the step file at `path` (episode id and index default to its folder and `n`).
    With `line` and `text`: that line of the converted JSONL file `path`, its images relative to
    `image_root` (default: the file's folder); `position` carries each episode's running index between
    the lines of one file (an episode's records count from 0 in file order).
    `sizes` is the pass's image-size memo, so shared screenshots are read once.
    """
    from actions import parse_action
    from actions.types import ACTION_TYPES

    path = Path(path)
    sizes = sizes if sizes is not None else ImageSizes()
    src = str(path)
    file_text: str | None = None
    if line is None:
        if episode_id is None:
            episode_id = path.parent.name
        if index is None:
            m = STEP_FILE_RE.match(path.name)
            index = int(m.group(1)) if m else -1
        rec = StepRecord(source=src, episode_id=episode_id, index=index, path=src)
        file_text = _parse_step_file(rec, path)
        if file_text is None:
            return rec
    else:
        rec = StepRecord(source=f"{src}:{line}", episode_id=episode_id or "", index=index or 0, path=src)
        root = Path(image_root) if image_root is not None else path.parent
        _parse_jsonl_line(rec, path, line, text or "", root)
        if rec.episode_id and position is not None:
            rec.index = position.get(rec.episode_id, 0)
            position[rec.episode_id] = rec.index + 1
        if rec.input is None or rec.problems:
            return rec

    def at(needle: str) -> int | None:
        return line if line is not None else _line_of(file_text, needle)

    inp = rec.input
    if inp is not None:
        try:
            check_input(inp, src)
        except RecordError as exc:
            rec.problems.append(Problem(src, at('"input"'), "bad_record", exc.message))
    for i, image in enumerate(rec.screenshots):
        size, code, message = sizes.check(image)
        if code:
            problem = Problem(src, at(f'"{image.name}"'), code, message or "")
            rec.problems.append(problem)
            if i == len(rec.screenshots) - 1:
                rec.current_image_problem = problem
        elif i == len(rec.screenshots) - 1:
            rec.screen_size = size
    if not rec.screenshots and inp is not None:
        message = "expected at least the current screenshot (screen_path2), found none"
        rec.current_image_problem = Problem(src, at('"input"'), "missing_image", message)
        rec.problems.append(rec.current_image_problem)
    output = rec.output
    if not isinstance(output, dict):
        message = f"expected the output to be a JSON object, found {type(output).__name__}"
        rec.problems.append(Problem(src, at('"output"'), "bad_record", message))
        return rec
    action_type = output.get("action_type")
    if action_type not in ACTION_TYPES:
        message = f"bad gold action: expected action_type in {list(ACTION_TYPES)}, found {action_type!r}"
        rec.problems.append(Problem(src, at('"action_type"'), "unknown_action_type", message))
        return rec
    try:
        gold = parse_action(output, strict=True)
    except ValueError as exc:
        rec.problems.append(Problem(src, at('"action_parameter"'), "bad_action", f"bad gold action: {exc}"))
        return rec
    # Boxes are in the current screen's pixels (the last image).
    if rec.screen_size is not None:
        for code, message in _geometry(gold, rec.screen_size):
            rec.problems.append(Problem(src, at('"action_parameter"'), code, message))
    context = None
    if isinstance(rec.raw, dict) and rec.raw.get("context") is not None:
        try:
            context = GoldContext.from_json(rec.raw["context"], src)
        except ValueError as exc:
            # A bad context is bad ground truth: the bad_record code keeps the step out.
            rec.problems.append(
                Problem(src, at('"context"'), "bad_record", str(exc).removeprefix(f"{src}: "))
            )
    if inp is None or any(p.code in BLOCKING for p in rec.problems):
        return rec
    rec.step = typed_step(rec, inp, gold, context)
    return rec


def typed_step(rec: StepRecord, inp: dict[str, Any], gold: Any, context: GoldContext | None) -> Step:
    """The `Step` of a checked record: each input key goes to its field, the rest to `extra` as read."""
    instruction = inp.get("step_instruction")
    if not (isinstance(instruction, str) and instruction):
        instruction = None  # an empty or non-text one stays in `extra`, shown as read
    labels = inp.get("action_type_list")
    modelled = {"task_content", "task_path", "history_path_all", "app_name", "action_type_list"}
    extra = {
        key: value
        for key, value in inp.items()
        if key not in modelled
        and not (key in IMAGE_KEYS and value)  # a named screenshot is in `screenshots`
        and not (key == "step_instruction" and instruction is not None)
    }
    return Step(
        episode_id=rec.episode_id,
        index=rec.index,
        task=inp["task_content"],
        task_path={str(k): str(v) for k, v in inp["task_path"].items()},
        history=[str(h) for h in inp["history_path_all"]],
        app=inp["app_name"],
        screenshots=tuple(rec.screenshots),
        screen_size=rec.screen_size,
        gold=gold,
        action_type_list=dict(labels) if labels is not None else None,
        instruction=instruction,
        extra=extra,
        source=rec.source,
        context=context,
    )
