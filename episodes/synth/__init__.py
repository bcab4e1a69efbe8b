"""Synthetic phone episodes in the raw format, drawn with Pillow.

`synthesize(out, episodes=N, seed=S)` writes `out/<id>/step_<k>.json` and `out/<id>/<id>_<k>.jpg`
for k = 0.. — step k's current screen is `<id>_<k>.jpg` and its previous screen is step k-1's
current one (the same file, as in the seed's `43688_2.jpg`, `43688_3.jpg`); step 0 has only the
current screen. Tasks, the planned `task_path`, the `history_path_all` so far and the gold actions
come from the scenarios in `episodes.synth.scenarios`, whose gold boxes are the drawn elements' boxes.

The same seed gives the same files byte for byte: each episode draws from its own
`random.Random(f"{seed}:{index}")`, and Pillow's JPEG encoder is deterministic.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from pathlib import Path
from typing import Any

from episodes.step import DEFAULT_ACTION_TYPE_LIST, Step, step_input

log = logging.getLogger(__name__)

# Phone screens of the 1080x2400 class; an episode keeps one size throughout.
SCREEN_SIZES: tuple[tuple[int, int], ...] = ((1080, 2400), (1080, 2340), (1080, 2412), (1080, 2376))
_MAX_REDRAWS = 50


def _draw_episode(seed: int, index: int, size: tuple[int, int] | None, exclude: set[str]):
    from episodes.synth.scenarios import SCENARIOS, Recorder

    scenario = SCENARIOS[index % len(SCENARIOS)]
    for attempt in range(_MAX_REDRAWS):
        rng = random.Random(f"{seed}:{index}:{attempt}")
        screen = size or rng.choice(SCREEN_SIZES)
        rec = Recorder(rng=rng, size=screen)
        scenario(rec, rng)
        if rec.task not in exclude:
            return rec
    raise ValueError(
        f"could not draw a task for episode {index} (scenario {scenario.__name__}) outside the "
        f"{len(exclude)} "
        f"excluded ones after {_MAX_REDRAWS} tries; use another seed or fewer excluded tasks"
    )


def write_episode(rec: Any, episode_dir: Path, quality: int) -> list[dict[str, Any]]:
    """Write one recorded episode in the raw format; returns its step records."""
    episode_id = episode_dir.name
    plan = {str(i + 1): action.description for i, (_, action) in enumerate(rec.steps)}
    records = []
    for k, (canvas, action) in enumerate(rec.steps):
        canvas.save(episode_dir / f"{episode_id}_{k}.jpg", quality)
        step = Step(
            episode_id=episode_id,
            index=k,
            task=rec.task,
            task_path=dict(plan),
            history=[a.description for _, a in rec.steps[:k]],
            app=rec.app,
            screenshots=tuple(episode_dir / f"{episode_id}_{i}.jpg" for i in range(max(k - 1, 0), k + 1)),
            screen_size=rec.size,
            gold=action,
            action_type_list=dict(DEFAULT_ACTION_TYPE_LIST),
        )
        record = {"input": step_input(step), "output": action.to_json()}
        (episode_dir / f"step_{k}.json").write_text(
            json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        records.append(record)
    return records


def existing_tasks(root: str | os.PathLike[str]) -> set[str]:
    """Task texts of a raw folder (to keep held-out episodes' tasks different)."""
    from episodes.readers import iter_step_records

    records = iter_step_records(root, strict=False)
    return {r.input["task_content"] for r in records if r.input and "task_content" in r.input}


def synthesize(
    output: str | os.PathLike[str],
    *,
    episodes: int,
    seed: int = 0,
    start_id: int = 10001,
    size: tuple[int, int] | None = None,
    quality: int = 70,
    exclude_tasks: set[str] | None = None,
    progress: bool = False,
    overwrite: bool = True,
) -> list[Path]:
    """Draw `episodes` episodes into `output` (see the module docstring); returns the episode folders.

    `size=None` picks a 1080x2400-class size per episode. Scenarios cycle so that any four
    consecutive episodes use every action type. Tasks in `exclude_tasks` are redrawn.
    """
    if episodes < 1:
        raise ValueError(f"expected --episodes >= 1, found {episodes}")
    if not 1 <= quality <= 95:
        raise ValueError(f"expected JPEG quality in 1..95, found {quality}")
    from episodes.synth.draw import font_path

    font_path()  # warn once, up front, when no CJK font is installed
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    exclude = set(exclude_tasks or ())
    indices: Any = range(episodes)
    if progress:
        from tqdm import tqdm

        indices = tqdm(indices, desc="synth", unit=" episodes", disable=None)
    written = []
    for i in indices:
        episode_dir = out / str(start_id + i)
        if episode_dir.exists():
            if not overwrite:
                raise FileExistsError(
                    f"{episode_dir}: expected a new episode folder, found one already there"
                )
            shutil.rmtree(episode_dir)
        episode_dir.mkdir()
        rec = _draw_episode(seed, i, size, exclude)
        write_episode(rec, episode_dir, quality)
        written.append(episode_dir)
        log.debug("episode %s: %s (%d steps)", episode_dir.name, rec.task, len(rec.steps))
    return written
