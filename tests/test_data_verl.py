"""veRL export: parquet readable by pyarrow in seed 004's schema; compute_score gives gold 1.0."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image

from actions import PixelBudget, to_model_space
from episodes.readers import read_steps
from episodes.verl import export_verl
from tests.helpers.data import make_raw_folder

THINK = json.dumps(
    {
        "task_interpretation": "a",
        "current_page_audit": "b",
        "path_alignment_check": "c",
        "action_validation": "d",
    },
    ensure_ascii=False,
)


def _load_reward(path: Path):
    # as veRL does: load the copied file by path
    spec = importlib.util.spec_from_file_location("phone_r1_verl_reward", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("coord_space,embed", [("original", True), ("resized", False), ("norm1000", True)])
def test_export_schema_images_and_gold_scores_one(tmp_path: Path, coord_space: str, embed: bool) -> None:
    root = make_raw_folder(tmp_path / "raw")
    result = export_verl(
        root,
        tmp_path / "verl",
        coord_space=coord_space,
        embed_images=embed,
        min_pixels=3136,
        max_pixels=200_000,
    )
    table = pq.read_table(result.parquet)
    assert table.column_names == ["data_source", "prompt", "images", "ability", "reward_model", "extra_info"]
    rows = table.to_pylist()
    steps = read_steps(root)
    assert len(rows) == result.rows == len(steps)
    reward = _load_reward(result.reward_file)
    budget = PixelBudget(3136, 200_000)
    for row, step in zip(rows, steps, strict=True):
        assert [m["role"] for m in row["prompt"]] == ["system", "user"]
        slots = sum(m["content"].count("<image>") for m in row["prompt"])
        assert slots == len(row["images"]) == len(step.screenshots)
        for image, path in zip(row["images"], step.screenshots, strict=True):
            if embed:
                assert Image.open(io.BytesIO(image["bytes"])).size == step.screen_size
                assert (root / image["path"]).resolve() == Path(path).resolve()
            else:
                assert Path(image["image"]) == Path(path)
            assert (image["min_pixels"], image["max_pixels"]) == (3136, 200_000)
        assert row["reward_model"]["style"] == "rule"
        extra = row["extra_info"]
        assert (extra["step_id"], extra["coord_space"]) == (step.step_id, coord_space)
        # the gold answer, as the model would write it in the prompt's coordinate space, scores 1.0
        gold_model = to_model_space(step.gold, coord_space, step.screen_size, budget)
        answer = f"<think>{THINK}</think><answer>{gold_model.to_json_str()}</answer>"
        scored = reward.compute_score(row["data_source"], answer, row["reward_model"]["ground_truth"], extra)
        with_format = reward.compute_score_with_format(
            row["data_source"], answer, row["reward_model"]["ground_truth"], extra
        )
        if coord_space == "original" or step.gold.action_type != "swipe":
            assert scored["score"] == with_format["score"] == 1.0, (step.step_id, scored)
        else:
            # swipe end points are rounded to whole model units, so closeness is a hair under 1
            assert scored["score"] == pytest.approx(1.0, abs=0.01), (step.step_id, scored)
        wrong = reward.compute_score(
            row["data_source"], "<answer>not json</answer>", row["reward_model"]["ground_truth"], extra
        )
        assert wrong["score"] == 0.0 and all(isinstance(v, float) for v in wrong.values())


def test_reward_needs_the_screen(tmp_path: Path) -> None:
    reward = _load_reward(Path(__file__).resolve().parents[1] / "episodes" / "verl_reward.py")
    gold = '{"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": ""}'
    with pytest.raises(ValueError, match="screen_width and screen_height"):
        reward.compute_score("phone_r1", "<answer>x</answer>", gold, {})
