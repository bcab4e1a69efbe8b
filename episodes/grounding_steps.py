"""Grounding items and navigation steps, each as the other.

- `item_step`: a grounding item as a one-step episode (the instruction as the task, the screenshot as
  the current screen, a click on the target as the gold), so `train grpo` trains on a grounding set
  with the grounding rewards (`actions.grounding`: Gaussian point and coverage, IoU) through the same
  dataset builder. A box gold is the box with its corners ordered; a polygon's gold is its bounding
  box (the rewards need a box: recorded in the step's context `source.box_from`); a refusal item's
  gold is `task_impossible`.
- `episode_items` / `write_grounding_set`: the UI elements of imported navigation episodes as a
  grounding set: each click or long-press step whose gold is a box with an area becomes an item
  whose instruction is the step instruction (the Low setting's, when the step has one) or else the
  gold action's description, and whose target is the gold box (`phone-r1 data grounding-set`).
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from actions.context import ContextSource, GoldContext
from actions.regions import Box, Polygon, Refusal
from actions.types import BoxAction, Click, TaskImpossible
from episodes.grounding import GROUNDING_FILE, GroundingItem, read_grounding_items
from episodes.readers import iter_steps
from episodes.step import Step


def item_step(item: GroundingItem, *, language: str | None = None) -> Step:
    """One grounding item as a one-step episode (see the module docstring)."""
    target = item.target
    box_from = None
    if isinstance(target, Refusal):
        gold: Any = TaskImpossible(reason="no element on the screen matches the instruction")
    else:
        if isinstance(target, Box):
            x1, y1, x2, y2 = Box(target.pixels(item.screen)).ordered()
        else:
            assert isinstance(target, Polygon)
            x1, y1, x2, y2 = Polygon(target.pixels(item.screen)).bounds()
            box_from = "polygon_bounds"
        gold = Click(box=(x1, y1, x2, y2), description=item.instruction_in(language))
    app = item.categories.get("application") or item.categories.get("app") or ""
    return Step(
        episode_id=item.id,
        index=0,
        task=item.instruction_in(language),
        task_path={},
        history=[],
        app=app if isinstance(app, str) else ",".join(app),
        screenshots=(item.image,),
        screen_size=item.screen,
        gold=gold,
        source=item.source,
        context=GoldContext(source=ContextSource(format=item.benchmark or "grounding", box_from=box_from)),
    )


def grounding_steps(path: str | os.PathLike[str], *, language: str | None = None) -> Iterator[Step]:
    """Every item of a grounding set as a one-step episode (strict: a bad line raises)."""
    for item in read_grounding_items(path):
        yield item_step(item, language=language)


def episode_items(root: str | os.PathLike[str]) -> Iterator[tuple[GroundingItem | None, Step, str]]:
    """`(item or None, step, why)` for every step of a navigation set: an item for each click or
    long-press with a box and a text to ground, None (and the reason) for the others."""
    for step in iter_steps(root):
        gold = step.gold
        if not isinstance(gold, BoxAction):
            yield None, step, f"not a click ({getattr(gold, 'action_type', 'no gold')})"
            continue
        x1, y1, x2, y2 = gold.box
        if x1 == x2 or y1 == y2:
            yield None, step, "a point, not a box"
            continue
        instruction = step.instruction or gold.description
        if not instruction or not instruction.strip() or step.screen_size is None:
            yield None, step, "no instruction text" if step.screen_size else "unreadable screenshot"
            continue
        categories: dict[str, str | tuple[str, ...]] = {"action": gold.action_type}
        if step.app:
            categories["app"] = step.app
        yield (
            GroundingItem(
                id=step.step_id,
                image=step.current_screenshot,
                screen=step.screen_size,
                instruction=instruction,
                target=Box((x1, y1, x2, y2)),
                categories=categories,
                benchmark="episodes",
                origin=step.source,
            ),
            step,
            "",
        )


def write_grounding_set(root: str | os.PathLike[str], out: str | os.PathLike[str]) -> dict[str, Any]:
    """Write the grounding set of a navigation set's UI elements (`episode_items`) into `out`."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out}: expected an empty or new output folder, found files in it")
    (out / "images").mkdir(parents=True, exist_ok=True)
    skipped: Counter[str] = Counter()
    written = 0
    with (out / GROUNDING_FILE).open("w", encoding="utf-8") as fh:
        for item, step, why in episode_items(root):
            if item is None:
                skipped[why if not why.startswith("not a click") else "not a click"] += 1
                continue
            name = Path(step.episode_id) / Path(item.image).name
            dest = out / "images" / name
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(item.image, dest)
                except OSError:
                    shutil.copyfile(item.image, dest)
            placed = GroundingItem(**{**vars(item), "image": dest})
            fh.write(json.dumps(placed.to_json(out), ensure_ascii=False) + "\n")
            written += 1
    card = {
        "kind": "grounding",
        "format": "episodes",
        "benchmark": "episodes",
        "protocol": "region",
        "source": str(root),
        "items_out": written,
        "skipped": dict(sorted(skipped.items())),
    }
    (out / "dataset_card.json").write_text(
        json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return card
