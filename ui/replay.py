"""What the replay UI shows, loaded once: the episodes, up to two results files and their metrics.

Pure data and filtering; no Gradio here, so every function is testable on its own. Episode and
overall numbers come from `eval.metrics.compute_metrics`, the same function the eval reports use, so
the UI never disagrees with a report.

A grounding set (`grounding.jsonl`) replays as one-step episodes (`episodes.grounding_steps.item_step`),
each item under its own id; a grounding run's records (keyed by item id) are keyed by those steps' ids,
and its numbers are `eval.grounding_metrics`' under the run's protocol, as `eval report` gives them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from episodes.step import Step
from ui.paths import PathOutsideRoots, resolve_inside, serve_roots

logger = logging.getLogger(__name__)


@dataclass
class Run:
    """One results file: its header, the latest record per step_id, and the eval's metrics."""

    label: str
    path: Path
    header: dict[str, Any]
    records: dict[str, dict[str, Any]]
    metrics: dict[str, Any]
    _episode_metrics: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def record(self, step_id: str) -> dict[str, Any] | None:
        return self.records.get(step_id)

    @property
    def grounding(self) -> bool:
        """True for a grounding run (`eval run` on a grounding set)."""
        return self.header.get("task") == "grounding"

    def episode_metrics(self, episode_id: str, step_ids: Iterable[str]) -> dict[str, Any] | None:
        """compute_metrics over this episode's records (cached); None when none were evaluated. A
        grounding item's is its verdict: `sr` 1 or 0."""
        if episode_id not in self._episode_metrics:
            records = [self.records[s] for s in step_ids if s in self.records]
            if self.grounding:
                right = [
                    bool((r.get("verdict") or {}).get("correct")) and not r.get("error") for r in records
                ]
                found = {"n_steps": len(right), "sr": sum(right) / len(right)} if right else {}
            else:
                found = _compute_metrics(records) if records else {}
            self._episode_metrics[episode_id] = found
        return self._episode_metrics[episode_id] or None


@dataclass
class ReplayData:
    """Episodes (in reader order) plus the loaded runs (0, 1 or 2) and the folders the app may serve."""

    root: Path
    episodes: dict[str, list[Step]]
    runs: list[Run]
    roots: list[Path]
    items: dict[str, Any] = field(default_factory=dict)  # step id -> GroundingItem, for a grounding set

    def steps(self, episode_id: str) -> list[Step]:
        try:
            return self.episodes[episode_id]
        except KeyError:
            raise KeyError(
                f"unknown episode {episode_id!r}; {len(self.episodes)} episodes under {self.root}"
            ) from None


@dataclass(frozen=True)
class Filters:
    """Which steps to show. `failures_only` keeps steps some loaded run got wrong (or errored on);
    `action_type` matches the gold action's type; `app` matches the step's app. None means any."""

    failures_only: bool = False
    action_type: str | None = None
    app: str | None = None


@dataclass(frozen=True)
class EpisodeRow:
    episode_id: str
    app: str
    task: str
    n_steps: int
    n_shown: int
    scores: tuple[float | None, ...]  # step success rate per run, from compute_metrics


def _compute_metrics(records: Any) -> dict[str, Any]:
    from eval.metrics import compute_metrics

    return compute_metrics(records)


def step_success_rate(metrics: dict[str, Any] | None) -> float | None:
    """The step success rate (`sr`) of a compute_metrics dict, or None when it holds none."""
    value = (metrics or {}).get("sr")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def load_run(path: str | Path, label: str) -> Run:
    """Read a results file with the eval's reader and compute its metrics with the eval's function."""
    from eval.results import read_results

    path = Path(path)
    results = read_results(path)
    from eval.grounding_report import is_grounding, metrics_of

    if is_grounding(results):
        # Records are keyed by item id; the replay shows each item as the one step of its own episode.
        records = {f"{item_id}/0": record for item_id, record in results.records.items()}
        return Run(label, path, dict(results.header or {}), records, metrics_of(results))
    # The Results object itself, so compute_metrics reads the run's protocol from the header as
    # `eval report` does.
    return Run(label, path, dict(results.header or {}), dict(results.records), _compute_metrics(results))


def load_replay(
    episodes: str | Path, results: str | Path | None = None, results_b: str | Path | None = None
) -> ReplayData:
    """Load the episodes under `episodes` (a raw episode folder, or the seed's converted JSONL whose
    images sit under its folder) with the dataset reader, and the results files if given.

    Bad step records are logged and skipped (the reader's non-strict mode) so one broken file does
    not take the whole replay down; `phone-r1 data validate` lists them.
    """
    from episodes.grounding import is_grounding_set, read_grounding_items
    from episodes.grounding_steps import item_step
    from episodes.readers import iter_steps
    from eval.results import EpisodesMismatch, check_records_in, step_golds

    source = Path(episodes).resolve()
    if not source.exists():
        raise FileNotFoundError(f"episodes folder {source} does not exist")
    # A converted JSONL names its images relative to its own folder, which is then the one served.
    root = source if source.is_dir() else source.parent
    grouped: dict[str, list[Step]] = {}
    items: dict[str, Any] = {}
    if is_grounding_set(source):
        for item in read_grounding_items(source, strict=False):
            step = item_step(item)
            grouped[step.episode_id] = [step]
            items[step.step_id] = item
    else:
        for step in iter_steps(source, strict=False):
            grouped.setdefault(step.episode_id, []).append(step)
    for steps in grouped.values():
        steps.sort(key=lambda s: s.index)
    runs = [load_run(p, label) for p, label in ((results, "A"), (results_b, "B")) if p is not None]
    golds = step_golds(s for steps in grouped.values() for s in steps)
    for run in runs:
        # A run on other episodes would show its Overall table beside steps that all read "not
        # evaluated"; refused, naming both files.
        if not run.grounding:
            check_records_in(run.records.values(), golds, results=run.path, episodes=source)
            continue
        # A grounding run's records carry no gold action: its item ids must be the set's.
        outside = [key.removesuffix("/0") for key in run.records if key not in items]
        if outside:
            raise EpisodesMismatch(
                f"{run.path}: {len(outside)} of its {len(run.records)} recorded items are not items of "
                f"{source} (first: {', '.join(outside[:3])}); pass the grounding set this run was made on"
            )
    roots = serve_roots(root, [run.path for run in runs])
    logger.info("loaded %d episodes from %s and %d results files", len(grouped), root, len(runs))
    return ReplayData(root, grouped, runs, roots, items)


def gold_type(step: Step) -> str | None:
    return getattr(step.gold, "action_type", None)


def is_failure(data: ReplayData, step: Step) -> bool:
    """True when a loaded run has a record for the step and that record is not correct."""
    for run in data.runs:
        record = run.record(step.step_id)
        if record is None:
            continue
        verdict = record.get("verdict") or {}
        if record.get("error") or not verdict.get("correct", False):
            return True
    return False


def step_matches(data: ReplayData, step: Step, filters: Filters) -> bool:
    if filters.app and step.app != filters.app:
        return False
    if filters.action_type and gold_type(step) != filters.action_type:
        return False
    return not (filters.failures_only and not is_failure(data, step))


def shown_positions(data: ReplayData, episode_id: str, filters: Filters) -> list[int]:
    """Positions (into `data.steps(episode_id)`) of the steps the filters keep."""
    return [i for i, step in enumerate(data.steps(episode_id)) if step_matches(data, step, filters)]


def episode_rows(data: ReplayData, filters: Filters = Filters()) -> list[EpisodeRow]:
    """One row per episode that has at least one step the filters keep, with its score per run."""
    rows = []
    for episode_id, steps in data.episodes.items():
        shown = sum(step_matches(data, s, filters) for s in steps)
        if not shown:
            continue
        step_ids = [s.step_id for s in steps]
        scores = tuple(step_success_rate(run.episode_metrics(episode_id, step_ids)) for run in data.runs)
        rows.append(EpisodeRow(episode_id, steps[0].app, steps[0].task, len(steps), shown, scores))
    return rows


def episode_label(row: EpisodeRow, run_labels: Iterable[str] = ()) -> str:
    """Dropdown text for an episode: id, app, step count and each run's step success rate."""
    parts = [row.episode_id, row.app or "?", f"{row.n_steps} steps"]
    if row.n_shown != row.n_steps:
        parts[-1] = f"{row.n_shown}/{row.n_steps} steps"
    for label, score in zip(run_labels, row.scores, strict=False):
        parts.append(f"{label} SR {score:.0%}" if score is not None else f"{label} SR n/a")
    return " · ".join(parts)


def action_types(data: ReplayData) -> list[str]:
    """Gold action types present in the episodes, in the action space's order where known."""
    present = {gold_type(s) for steps in data.episodes.values() for s in steps} - {None}
    from actions import ACTION_TYPES

    ordered = [t for t in ACTION_TYPES if t in present]
    return ordered + sorted(present - set(ordered))


def apps(data: ReplayData) -> list[str]:
    return sorted({s.app for steps in data.episodes.values() for s in steps if s.app})


def screenshot_path(data: ReplayData, path: str | Path) -> Path | None:
    """A step's screenshot path if it lies inside the served folders and exists; None (logged) otherwise."""
    try:
        resolved = resolve_inside(path, data.roots, base=data.root)
    except PathOutsideRoots as exc:
        logger.warning("refusing screenshot: %s", exc)
        return None
    if not resolved.is_file():
        logger.warning("screenshot %s is missing", resolved)
        return None
    return resolved
