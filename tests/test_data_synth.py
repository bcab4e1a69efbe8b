"""Synthetic episodes: deterministic, every action type, consistent screens and history, valid gold."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from actions import SEED_ACTION_TYPES
from episodes.readers import read_steps
from episodes.synth import existing_tasks, synthesize
from episodes.synth.draw import font_path
from episodes.validate import validate

SMALL = (360, 800)  # a third of 1080x2400: same layouts, quicker to draw


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    synthesize(root, episodes=5, seed=3, size=SMALL)
    return root


def test_same_seed_same_bytes_other_seed_differs(synth_root: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    synthesize(again, episodes=5, seed=3, size=SMALL)
    assert _digest(again) == _digest(synth_root)
    other = tmp_path / "other"
    synthesize(other, episodes=2, seed=4, size=SMALL)
    assert _digest(other) != {k: v for k, v in _digest(synth_root).items() if k in _digest(other)}


def test_every_action_type_and_valid_gold(synth_root: Path) -> None:
    report = validate(synth_root)
    assert report.ok, [str(p) for p in report.problems]
    steps = read_steps(synth_root)
    assert {s.gold.action_type for s in steps} == set(SEED_ACTION_TYPES)
    assert [p.name for p in sorted(synth_root.iterdir())] == ["10001", "10002", "10003", "10004", "10005"]
    assert {s.screen_size for s in steps} == {SMALL}


def test_screens_history_and_plan_are_consistent(synth_root: Path) -> None:
    for episode in sorted(synth_root.iterdir()):
        records = [
            json.loads((episode / f"step_{k}.json").read_text(encoding="utf-8"))
            for k in range(len(list(episode.glob("step_*.json"))))
        ]
        plan = records[0]["input"]["task_path"]
        assert list(plan.values()) == [r["output"]["action_description"] for r in records]
        assert records[0]["output"]["action_type"] == "open_app" and "screen_path1" not in records[0]["input"]
        assert records[-1]["output"]["action_type"] in {"task_completed", "task_impossible"}
        for k, r in enumerate(records):
            inp = r["input"]
            assert inp["screen_path2"] == f"{episode.name}_{k}.jpg"
            if k:
                assert inp["screen_path1"] == records[k - 1]["input"]["screen_path2"]
            assert inp["history_path_all"] == list(plan.values())[:k]
            assert inp["task_content"] == records[0]["input"]["task_content"]


def test_held_out_tasks_differ(synth_root: Path, tmp_path: Path) -> None:
    held = tmp_path / "held"
    synthesize(held, episodes=3, seed=3, start_id=20001, size=SMALL, exclude_tasks=existing_tasks(synth_root))
    assert not existing_tasks(held) & existing_tasks(synth_root)


def test_cjk_font_found() -> None:
    # CI installs fonts-wqy-microhei; without it Chinese labels would not render.
    assert font_path() is not None
