"""Untyped step records for summaries that must count bad records instead of stopping at them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from training.data.readers import (
    extract_input_json,
    is_jsonl,
    jsonl_records,
    list_episodes,
    list_step_files,
    load_json_file,
    screen_names,
)


def iter_records(root: str | os.PathLike[str], *, image_root: str | os.PathLike[str] | None = None
                 ) -> Iterator[tuple[str, str, dict[str, Any] | None, Any, list[Path]]]:
    """Untyped records for summaries: `(episode_id, source, input, output, screenshot paths)`.

    Nothing is checked beyond JSON syntax; a record that cannot be read at all comes out with
    `input=None` so callers can count it. Raw folders and JSONL files are both understood.
    """
    root = Path(root)
    if is_jsonl(root):
        base = Path(image_root) if image_root is not None else root.parent
        for lineno, record, error in jsonl_records(root):
            source = f"{root}:{lineno}"
            try:
                if error is not None or not isinstance(record, dict):
                    raise ValueError(error or "not an object")
                images = record.get("image") or []
                images = [images] if isinstance(images, str) else list(images)
                conv = record["conversations"]
                inp = extract_input_json(conv[0]["value"])
                output = json.loads(conv[1]["value"])
                episode = str(images[0]).replace("\\", "/").split("/")[0] if images else ""
                yield episode, source, inp, output, [base / str(i) for i in images]
            except (ValueError, KeyError, IndexError, TypeError):
                yield "", source, None, None, []
        return
    for episode_dir in list_episodes(root):
        for _, path in list_step_files(episode_dir, strict=False):
            try:
                record = load_json_file(path)
                inp, output = record["input"], record["output"]
                names = screen_names(inp)
            except (ValueError, KeyError, TypeError, AttributeError):
                yield episode_dir.name, str(path), None, None, []
                continue
            yield episode_dir.name, str(path), inp, output, [episode_dir / n for n in names]
