"""Episode-level metrics of own-history runs, and their gap to a teacher-forced run of the same agent.

Per episode: the matched prefix (steps right in a row from the first), task success (every step
right), progress (matched prefix / episode length) and the step of the first error. Over episodes:
success rate and mean progress with 95% bootstrap intervals (episodes resampled), the distribution of
steps to the first error and the gold action type of each first error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from eval.results import step_correct


def episode_outcomes(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per episode id: length, matched prefix, success, progress, first-error position and gold type.

    The length is the one recorded with each step (`episode_length`, own-history runs), else the
    number of recorded steps (a teacher-forced run records them all).
    """
    by_episode: dict[str, dict[int, Mapping[str, Any]]] = {}
    lengths: dict[str, int] = {}
    for record in records:
        episode = str(record["episode_id"])
        position = int(record.get("position", record["index"]))
        by_episode.setdefault(episode, {})[position] = record
        if record.get("episode_length") is not None:
            lengths[episode] = int(record["episode_length"])
    outcomes = {}
    for episode, steps in by_episode.items():
        ordered = [steps[p] for p in sorted(steps)]
        length = lengths.get(episode, len(ordered))
        prefix = 0
        for record in ordered:
            if not step_correct(record):
                break
            prefix += 1
        first_error = ordered[prefix] if prefix < len(ordered) else None
        outcomes[episode] = {
            "length": length,
            "matched_prefix": prefix,
            "success": prefix == length,
            "progress": prefix / length if length else 0.0,
            "first_error_step": prefix if prefix < length else None,
            "first_error_type": first_error["gold"]["action_type"] if first_error is not None else None,
            "first_error_id": first_error["step_id"] if first_error is not None else None,
        }
    return outcomes


def _bootstrap_mean(values: list[float], *, n_resamples: int, seed: int) -> tuple[float, float]:
    """95% percentile bootstrap interval of a mean over episodes."""
    if not values:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    data = np.asarray(values, dtype=float)
    means = data[rng.integers(0, len(data), size=(n_resamples, len(data)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return (float(low), float(high))


def own_history_metrics(
    records: Iterable[Mapping[str, Any]], *, n_resamples: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """Task success, progress and steps to the first error over the episodes of a run."""
    outcomes = episode_outcomes(records)
    success = [float(o["success"]) for o in outcomes.values()]
    progress = [o["progress"] for o in outcomes.values()]
    first_errors: dict[str, int] = {}
    by_type: dict[str, int] = {}
    for o in outcomes.values():
        key = "none" if o["first_error_step"] is None else str(o["first_error_step"])
        first_errors[key] = first_errors.get(key, 0) + 1
        if o["first_error_type"] is not None:
            by_type[o["first_error_type"]] = by_type.get(o["first_error_type"], 0) + 1
    ordered = dict(
        sorted(first_errors.items(), key=lambda kv: (kv[0] == "none", int(kv[0]) if kv[0] != "none" else 0))
    )
    return {
        "episodes": len(outcomes),
        "task_success": float(np.mean(success)) if success else None,
        "task_success_ci95": _bootstrap_mean(success, n_resamples=n_resamples, seed=seed),
        "progress": float(np.mean(progress)) if progress else None,
        "progress_ci95": _bootstrap_mean(progress, n_resamples=n_resamples, seed=seed + 1),
        "steps_to_first_error": ordered,
        "first_error_by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1])),
        "outcomes": outcomes,
    }


def history_gap(own: Mapping[str, Any], gold_records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Teacher-forced SR and episode success against own-history success and progress, on the episodes
    both runs share, with the episodes whose outcome flips."""
    gold_records = list(gold_records)
    gold = episode_outcomes(gold_records)
    mine = own["outcomes"]
    shared = sorted(set(gold) & set(mine))
    steps = [r for r in gold_records if str(r["episode_id"]) in set(shared)]
    tf_sr = sum(step_correct(r) for r in steps) / len(steps) if steps else None
    tf_success = sum(gold[e]["success"] for e in shared) / len(shared) if shared else None
    own_success = sum(mine[e]["success"] for e in shared) / len(shared) if shared else None
    own_progress = sum(mine[e]["progress"] for e in shared) / len(shared) if shared else None
    flips = [
        {
            "episode_id": e,
            "teacher_forced": gold[e]["success"],
            "own": mine[e]["success"],
            "own_first_error": mine[e]["first_error_id"],
        }
        for e in shared
        if gold[e]["success"] != mine[e]["success"]
    ]
    return {
        "episodes": len(shared),
        "teacher_forced_sr": tf_sr,
        "teacher_forced_episode_success": tf_success,
        "own_task_success": own_success,
        "own_progress": own_progress,
        "success_gap": None if tf_success is None else own_success - tf_success,
        "flipped_episodes": flips,
    }
