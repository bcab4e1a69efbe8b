"""What every importer shares: options, the source episode it hands over, and the writer of raw episodes.

An importer reads its source format and yields `SourceEpisode`s: one `SourceStep` per source action,
each with the screenshot it was taken on, the gold action already in phone-r1's wire format (or None
with a drop reason) and its gold context. `DatasetWriter` turns them into the seed's raw episode
folders: only kept steps are written, numbered without gaps, so each written step's previous screen
(`screen_path1`) is the written step before it and its history lists the kept steps only; each dropped
step is counted in `dataset_card.json` and named in the next kept step's `context.source.dropped_before`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from episodes.step import DEFAULT_ACTION_TYPE_LIST, Step, step_input

log = logging.getLogger(__name__)

SETTINGS = ("high", "low")
CARD_NAME = "dataset_card.json"
REJECTS_NAME = "rejects.jsonl"
# Keys importers put in a step's context that are moved under `context.source` (how the box was chosen,
# a synthetic step); `dropped_before` is added there by the writer.
PROVENANCE_KEYS = ("box_from", "synthetic")


class ImportFailure(ValueError):
    """Bad source data: the file, the record (episode or line) and the reason."""

    def __init__(self, source: str, record: int | str | None, reason: str) -> None:
        where = f"{source}: record {record}" if record is not None else source
        super().__init__(f"{where}: {reason}")
        self.source, self.record, self.reason = source, record, reason

    def __reduce__(self):  # keeps the three parts when it crosses from a worker process
        return (type(self), (self.source, self.record, self.reason))


@dataclass
class ImportOptions:
    """The command-line options of `phone-r1 data import`."""

    split: str | None = None
    setting: str = "high"
    limit: int | None = None
    add_finish: bool = False
    skip_invalid: bool = False
    screenshots: Path | None = None
    progress: bool = True
    workers: int = 1


@dataclass
class Screen:
    """A screenshot: encoded bytes written as they are, or a file copied as it is."""

    data: bytes | None = None
    path: Path | None = None
    ext: str = ".png"


@dataclass
class SourceStep:
    """One source action on its screen; `action` is phone-r1 wire JSON, or None with a `drop_reason`."""

    source_type: str
    screen: Screen
    action: dict[str, Any] | None
    drop_reason: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    instruction: str | None = None
    app: str | None = None  # the step's app when the source names one per screen


@dataclass
class SourceEpisode:
    episode_id: str
    goal: str
    app: str
    steps: list[SourceStep]
    final_screen: Screen | None = None  # the screen after the last action (for --add-finish)


def episode_folder(episode_id: str) -> str:
    """The folder name: the source id when all digits (the seed's order), else a stable 15-digit number."""
    if episode_id.isdigit():
        return str(int(episode_id))
    return str(int(hashlib.sha1(episode_id.encode("utf-8")).hexdigest()[:12], 16))


class DatasetWriter:
    """Writes raw episodes, the rejects file and `dataset_card.json` for one import."""

    def __init__(
        self,
        out: Path,
        fmt: str,
        options: ImportOptions,
        *,
        source: Path,
        version: str,
        fresh: bool = True,
        rejects_name: str = REJECTS_NAME,
    ) -> None:
        if options.setting not in SETTINGS:
            raise ValueError(f"expected --setting in {SETTINGS}, found {options.setting!r}")
        if fresh and out.exists() and any(out.iterdir()):
            raise FileExistsError(f"{out}: expected an empty or new output folder, found files in it")
        out.mkdir(parents=True, exist_ok=True)
        self.out, self.fmt, self.options = out, fmt, options
        self.card: dict[str, Any] = {
            "format": fmt,
            "format_version": version,
            "source": str(source),
            "split": options.split or "all",
            "setting": options.setting,
            "limit": options.limit,
            "add_finish": options.add_finish,
            "episodes_in": 0,
            "episodes_out": 0,
            "steps_in": Counter(),
            "steps_out": Counter(),
            "dropped": Counter(),
            "rejected": 0,
            "finish_steps_added": 0,
            "conventions": {},
        }
        self._rejects = None
        self._rejects_name = rejects_name

    @property
    def full(self) -> bool:
        """True once `--limit` episodes are written."""
        return self.options.limit is not None and self.card["episodes_out"] >= self.options.limit

    def convention(self, key: str, text: str) -> None:
        """Record one convention applied (shown in the card)."""
        self.card["conventions"][key] = text

    def reject(self, source: str, record: int | str | None, reason: str) -> None:
        """A bad source record: an `ImportFailure`, or a line in `rejects.jsonl` with `--skip-invalid`."""
        if not self.options.skip_invalid:
            raise ImportFailure(source, record, reason)
        if self._rejects is None:
            self._rejects = (self.out / self._rejects_name).open("w", encoding="utf-8")
        self._rejects.write(
            json.dumps({"source": source, "record": record, "reason": reason}, ensure_ascii=False) + "\n"
        )
        self.card["rejected"] += 1
        log.warning("%s: record %s: %s (skipped)", source, record, reason)

    def write(self, episode: SourceEpisode) -> None:
        """Write one episode's kept steps (and the synthetic finish step with `--add-finish`)."""
        self.card["episodes_in"] += 1
        for step in episode.steps:
            self.card["steps_in"][step.source_type] += 1
        folder = episode_folder(episode.episode_id)
        if (self.out / folder).exists():
            self.reject(episode.episode_id, None, f"duplicate episode id (folder {folder} already written)")
            return
        steps = list(episode.steps)
        if self.options.add_finish and episode.final_screen is not None:
            self.card["finish_steps_added"] += 1
            steps.append(
                SourceStep(
                    "synthetic_finish",
                    episode.final_screen,
                    {
                        "action_type": "task_completed",
                        "action_parameter": {"task_completed": ""},
                        "action_description": "task completed",
                    },
                    context={"synthetic": True},
                )
            )
        kept = [s for s in steps if s.action is not None]
        for s in steps:
            if s.action is None:
                self.card["dropped"][s.drop_reason or s.source_type] += 1
        if not kept:
            self.card["dropped"]["episode_without_kept_steps"] += 1
            return
        ep_dir = self.out / folder
        try:
            ep_dir.mkdir()
        except FileExistsError:  # another worker wrote the same id meanwhile
            self.reject(episode.episode_id, None, f"duplicate episode id (folder {folder} already written)")
            return
        history: list[str] = []
        previous: str | None = None
        dropped_before: list[str] = []
        n = 0
        for index, step in enumerate(steps):
            if step.action is None:
                dropped_before.append(step.source_type)
                continue
            name = f"{folder}_{n}{step.screen.ext}"
            self._write_screen(step.screen, ep_dir / name)
            self._write_step(
                ep_dir / f"step_{n}.json", n, episode, step, index, name, previous, history, dropped_before
            )
            self.card["steps_out"][step.action["action_type"]] += 1
            history.append(step.action.get("action_description", ""))
            previous, dropped_before, n = name, [], n + 1
        self.card["episodes_out"] += 1

    def _write_screen(self, screen: Screen, path: Path) -> None:
        if screen.data is not None:
            path.write_bytes(screen.data)  # encoded bytes as they came: no re-encode
        elif screen.path is not None:
            shutil.copyfile(screen.path, path)
        else:
            raise ValueError(f"{path}: no screenshot bytes or file")

    def _write_step(
        self,
        path: Path,
        n: int,
        episode: SourceEpisode,
        step: SourceStep,
        index: int,
        name: str,
        previous: str | None,
        history: list[str],
        dropped_before: list[str],
    ) -> None:
        written = Step(
            episode_id=path.parent.name,
            index=n,
            task=episode.goal,
            task_path={},
            history=list(history),
            app=step.app or episode.app,
            screenshots=tuple(path.parent / f for f in ([previous] if previous else []) + [name]),
            screen_size=None,
            action_type_list=dict(DEFAULT_ACTION_TYPE_LIST),
            instruction=step.instruction if self.options.setting == "low" and step.instruction else None,
        )
        context = dict(step.context)
        if step.instruction:
            context["step_instruction"] = step.instruction
        source: dict[str, Any] = {"format": self.fmt, "episode_id": episode.episode_id, "step_index": index}
        # Provenance beyond the shared context schema lives under `source`: context readers see its keys only.
        for key in PROVENANCE_KEYS:
            if key in context:
                source[key] = context.pop(key)
        if dropped_before:
            source["dropped_before"] = list(dropped_before)
        context["source"] = source
        record = {"input": step_input(written), "output": step.action, "context": context}
        path.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")

    def close(self) -> dict[str, Any]:
        """Close the rejects file; returns the raw card (counters), as a worker hands it back."""
        if self._rejects is not None:
            self._rejects.close()
            self._rejects = None
        return self.card

    def merge(self, card: dict[str, Any], rejects: Path | None) -> None:
        """Add a worker's counts (from `close`) and its rejects file to this import."""
        for key in ("episodes_in", "episodes_out", "rejected", "finish_steps_added"):
            self.card[key] += card[key]
        for key in ("steps_in", "steps_out", "dropped"):
            self.card[key].update(card[key])
        if rejects is not None and rejects.is_file():
            if self._rejects is None:
                self._rejects = (self.out / self._rejects_name).open("w", encoding="utf-8")
            self._rejects.write(rejects.read_text(encoding="utf-8"))
            rejects.unlink()

    def finish(self) -> dict[str, Any]:
        """Close the rejects file and write `dataset_card.json`; returns the card."""
        had_rejects = self._rejects is not None or (self.out / self._rejects_name).is_file()
        self.close()
        card = dict(self.card)
        for key in ("steps_in", "steps_out", "dropped"):
            card[key] = dict(sorted(card[key].items()))
        card["steps_in_total"] = sum(card["steps_in"].values())
        card["steps_out_total"] = sum(card["steps_out"].values())
        if had_rejects:
            card["rejects_file"] = self._rejects_name
        (self.out / CARD_NAME).write_text(
            json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        return card
