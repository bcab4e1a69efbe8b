"""Convert a raw episode folder into the seed's JSONL.

Each line is `{"id", "image": [..], "conversations": [human, gpt]}` exactly as the seed's conversion
script lays it out: numeric episode folders by value (other folders are skipped, as the seed's
script skips them, with a warning), `step_<n>.json` by `n`, ids counting from 1, image paths
`<episode>/<file>` (previous screen first, only non-empty ones), and the gpt value
`json.dumps(output, ensure_ascii=False)` of the record's output as written. The human value is our
prompt (`agent.prompt.system_text`, original pixel coordinates) followed by the step's input JSON with
the screenshots shown as `<image>` (`agent.prompt.step_text`).

A record with any problem `validate` would report for it (bad JSON, bad shape, unknown action type,
bad parameter, missing or unreadable screenshot, box outside the screen) stops the run with the list
of problems, or, with `skip_invalid`, goes to the rejects file with its reasons. No record is ever
replaced by another one; ids stay consecutive over the records written.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from episodes.images import ImageSizes
from episodes.readers import require_episodes
from episodes.records import STEP_FILE_RE, Problem, StepRecord, read_record, screen_names

log = logging.getLogger(__name__)


class ConvertError(ValueError):
    """The first bad record of a conversion without `skip_invalid`."""


@dataclass
class ConvertSummary:
    """What a conversion wrote: `written` records, `rejected` ones and where the rejects went."""

    written: int
    rejected: int
    skipped_episodes: list[str]
    output: Path
    rejects: Path | None


def human_value(step: Any, template: str = "zh") -> str:
    """Our prompt followed by the step's input JSON, screenshots shown as `<image>`."""
    from agent.prompt import model_screen_for, step_text, system_text

    screen = model_screen_for(step, "original")
    prompt = system_text(template, "original", screen, step.instruction is not None)
    return f"{prompt}\n\n{step_text(step)}"


def seed_record(sample_id: int, episode: str, inp: dict[str, Any], output: Any, human: str) -> dict[str, Any]:
    """One line of the seed's JSONL."""
    images = [os.path.join(episode, name) for name in screen_names(inp)]
    return {
        "id": sample_id,
        "image": images,
        "conversations": [
            {"from": "human", "value": human},
            {"from": "gpt", "value": json.dumps(output, ensure_ascii=False)},
        ],
    }


def _read(path: Path, episode: str, sizes: ImageSizes) -> tuple[StepRecord | None, list[Problem]]:
    """(record, error problems) of one step file; the record is None when its name is not a step's."""
    m = STEP_FILE_RE.match(path.name)
    if not m:
        message = f"expected step_<n>.json with a number n, found {path.name!r}"
        return None, [Problem(str(path), None, "bad_step_name", message)]
    rec = read_record(path, episode_id=episode, index=int(m.group(1)), sizes=sizes)
    return rec, rec.errors


def _reject(out: IO[str] | None, problems: list[Problem]) -> None:
    if out is None:
        lines = "\n".join(str(p) for p in problems)
        raise ConvertError(
            f"{lines}\nconversion stopped at this bad record (--skip-invalid writes bad records to a "
            "rejects file "
            "and goes on)"
        )
    first = problems[0]
    out.write(
        json.dumps(
            {"path": first.path, "line": first.line, "problems": [p.to_json() for p in problems]},
            ensure_ascii=False,
        )
        + "\n"
    )


def convert(
    root: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    template: str = "zh",
    skip_invalid: bool = False,
    rejects: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> ConvertSummary:
    """Write the seed's JSONL for a raw episode folder (see the module docstring).

    The output is written to a temporary file and renamed at the end, so a stopped run leaves no
    half-written dataset. `rejects` defaults to `<output>.rejects.jsonl` when `skip_invalid` is set.
    """
    root, output = Path(root), Path(output)
    episodes = [root / n for n in require_episodes(root) if n.isdigit()]
    skipped = sorted(
        {e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith(".")}
        - {e.name for e in episodes}
    )
    if skipped:
        log.warning(
            "%s: skipping %d non-numeric episode folder(s) as the seed's script does: %s",
            root,
            len(skipped),
            ", ".join(skipped[:5]),
        )
    rejects_path = (
        Path(rejects)
        if rejects
        else (output.with_name(output.name + ".rejects.jsonl") if skip_invalid else None)
    )
    tmp = output.with_name(output.name + ".part")
    output.parent.mkdir(parents=True, exist_ok=True)
    sizes = ImageSizes()
    written = rejected = 0
    iterator: Any = episodes
    if progress:
        from tqdm import tqdm

        iterator = tqdm(episodes, desc="convert", unit=" episodes", disable=None)
    rej_file = rejects_path.open("w", encoding="utf-8") if rejects_path else None
    try:
        with tmp.open("w", encoding="utf-8") as out:
            for episode_dir in iterator:
                sizes.reset()
                files = [
                    Path(e.path)
                    for e in os.scandir(episode_dir)
                    if e.name.startswith("step_") and e.name.endswith(".json")
                ]
                files.sort(key=lambda p: int(m.group(1)) if (m := STEP_FILE_RE.match(p.name)) else -1)
                for path in files:
                    rec, problems = _read(path, episode_dir.name, sizes)
                    if problems or rec is None or rec.step is None:
                        _reject(rej_file if skip_invalid else None, problems)
                        rejected += 1
                        continue
                    raw, human = rec.raw, human_value(rec.step, template)
                    line = seed_record(written + 1, episode_dir.name, raw["input"], raw["output"], human)
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
                    written += 1
        os.replace(tmp, output)
    finally:
        if rej_file is not None:
            rej_file.close()
        if tmp.exists():
            tmp.unlink()
    return ConvertSummary(written, rejected, skipped, output, rejects_path)
