"""From grounding to training: items as one-step episodes, navigation clicks as a grounding set, and the
tiny grounding-set recipe through `train grpo` with the grounding rewards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actions.grounding import gaussian_point_reward, iou_reward
from actions.types import Click, TaskImpossible
from episodes.grounding import read_grounding_items, validate_grounding
from episodes.grounding_steps import grounding_steps, item_step
from phone_r1.cli import main
from tests.helpers.data import make_raw_folder
from tests.helpers.grounding import item_line, write_set
from training.dataset import REWARD_COLUMNS, DatasetSpec, load_steps_dataset

ROOT = Path(__file__).resolve().parents[1]


def test_items_become_one_step_episodes_with_a_click_or_a_refusal_as_gold(tmp_path):
    lines = [
        item_line(0, target={"type": "box", "box": [60, 40, 10, 10]}),  # inverted corners
        item_line(1, target={"type": "polygon", "points": [[120, 20], [150, 50], [130, 80], [100, 60]]}),
        item_line(2),  # a refusal
        item_line(3, target={"type": "box", "box": [0.1, 0.2, 0.3, 0.4], "units": "unit"}),
    ]
    items = read_grounding_items(write_set(tmp_path / "set", lines))
    box, polygon, refusal, unit = (item_step(i) for i in items)
    assert box.gold == Click(box=(10, 10, 60, 40), description="press button 0")
    assert (
        box.task == "press button 0"
        and box.screenshots == (items[0].image,)
        and box.screen_size == (200, 100)
    )
    assert box.step_id == "set/0/0" and box.history == []
    assert polygon.gold.box == (100, 20, 150, 80) and polygon.context.source.box_from == "polygon_bounds"
    assert isinstance(refusal.gold, TaskImpossible)
    assert unit.gold.box == pytest.approx((20, 20, 60, 40))
    assert item_step(items[0], language="cn").task == "按下按钮0"


def test_grounding_rows_carry_the_reward_columns_and_score_the_target(tmp_path):
    root = write_set(tmp_path / "set", [item_line(0), item_line(1), item_line(3)])
    ds = load_steps_dataset(root, DatasetSpec(coord_space="original"))
    rows = list(ds)
    assert [r["step_id"] for r in rows] == ["set/0/0", "set/1/0", "set/3/0"]
    columns = {name: [r[name] for r in rows] for name in REWARD_COLUMNS}
    gold = [json.loads(g) for g in columns["gold"]]
    assert [g["action_type"] for g in gold] == ["click"] * 3
    answers = [f"<answer>{json.dumps(g, ensure_ascii=False)}</answer>" for g in gold]
    assert gaussian_point_reward(answers, **columns) == pytest.approx([1.0] * 3)
    assert iou_reward(answers, **columns) == pytest.approx([1.0] * 3)
    assert "press button 0" in rows[0]["prompt"][1]["content"][0]["text"]


def test_navigation_clicks_become_a_valid_grounding_set(tmp_path, capsys):
    episodes = make_raw_folder(tmp_path / "episodes", {"7": 10})
    out = tmp_path / "grounding"
    assert main(["data", "grounding-set", str(episodes), "-o", str(out)]) == 0
    assert "grounding items" in capsys.readouterr().out
    assert validate_grounding(out).ok
    items = read_grounding_items(out)
    card = json.loads((out / "dataset_card.json").read_text(encoding="utf-8"))
    assert len(items) == card["items_out"] > 0 and card["skipped"]
    assert all(i.benchmark == "episodes" and i.target.type == "box" for i in items)
    steps = {s.step_id: s for s in grounding_steps(out)}
    first = items[0]
    assert steps[f"{first.id}/0"].gold.box == first.target.coords
    assert main(["data", "validate", str(out)]) == 0
    assert main(["data", "grounding-set", str(episodes), "-o", str(out)]) == 2  # a used folder


@pytest.mark.slow
def test_tiny_grounding_set_recipe_trains_with_the_grounding_rewards(tmp_path, capsys, monkeypatch):
    from tests.helpers.tiny import tiny_model_dir

    demo = ROOT / "data" / "demo" / "train"
    if not demo.is_dir():
        pytest.skip("data/demo/train is not in this checkout")
    monkeypatch.chdir(tmp_path)
    assert main(["data", "grounding-set", str(demo), "-o", "data/demo/grounding"]) == 0
    code = main(
        [
            "train",
            "grpo",
            "--config",
            str(ROOT / "training/recipes/tiny/grpo_grounding_set.yaml"),
            "--model_name_or_path",
            str(tiny_model_dir()),
            "--max_steps",
            "2",
            "--max_completion_length",
            "24",
            "--output_dir",
            "out",
            "--save_strategy",
            "no",
            "--disable_tqdm",
            "true",
        ]
    )
    assert code == 0, capsys.readouterr().err
    history = json.loads((tmp_path / "out" / "trainer_state.json").read_text())["log_history"]
    logged = {key: entry[key] for entry in history for key in entry}
    for name in ("gaussian_point", "gaussian_coverage", "iou", "format"):
        assert f"rewards/{name}_reward/mean" in logged, name
    # Every item's gold is a click on a box: each grounding reward applies to every completion.
    assert logged["rewards/gaussian_point/applicable"] == 1.0
