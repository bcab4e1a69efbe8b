"""The lazy dataset builder: prompt layout, reward columns, gold mapped into each model space."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PIL import Image

from actions import parse_completion
from actions.coords import PixelBudget, model_screen_size
from actions.rewards import action_reward, format_reward
from episodes.readers import read_steps
from tests.helpers.data import make_raw_folder
from training.dataset import REWARD_COLUMNS, DatasetSpec, build_dataset

SCREEN = (540, 1200)
BUDGET = PixelBudget(3136, 28 * 28 * 64)


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    root = make_raw_folder(tmp_path_factory.mktemp("episodes"), {"7": 10}, size=SCREEN)
    return read_steps(root)


def _spec(space: str, **kw) -> DatasetSpec:
    return DatasetSpec(coord_space=space, min_pixels=BUDGET.min_pixels, max_pixels=BUDGET.max_pixels, **kw)


def _answer(row) -> dict:
    text = row["completion"][0]["content"][0]["text"]
    return json.loads(re.search(r"<answer>(.*)</answer>", text, re.S).group(1))


def _box(wire: dict, key: str) -> list[int]:
    return [int(v) for v in wire["action_parameter"][key].split(",")]


@pytest.mark.parametrize("space", ["original", "resized", "norm1000"])
def test_gold_boxes_are_mapped_into_model_space_per_axis(steps, space):
    ds = build_dataset(steps, _spec(space, with_target=True))
    model_w, model_h = model_screen_size(space, SCREEN, BUDGET)
    sx, sy = model_w / SCREEN[0], model_h / SCREEN[1]
    seen = set()
    for row in ds:
        gold = json.loads(row["gold"])
        kind = gold["action_type"]
        target = _answer(row)
        assert target["action_type"] == kind
        if kind in ("click", "long_click", "swipe"):
            seen.add(kind)
            orig = _box(gold, kind)
            mapped = _box(target, kind)
            expected = [round(orig[0] * sx), round(orig[1] * sy), round(orig[2] * sx), round(orig[3] * sy)]
            assert mapped == expected, (space, kind)
        else:
            assert target["action_parameter"] == gold["action_parameter"]
        # The gold column stays in original pixels; the prompt states the model-space screen size.
        assert f"{model_w}" in row["prompt"][0]["content"][0]["text"]
        assert f"{model_h}" in row["prompt"][0]["content"][0]["text"]
    assert seen == {"click", "long_click", "swipe"}
    if space == "resized":
        assert (model_w, model_h) != SCREEN and model_w % 28 == 0 and model_h % 28 == 0


@pytest.mark.parametrize("space", ["original", "resized", "norm1000"])
def test_sft_target_earns_full_reward_through_the_reward_columns(steps, space):
    """The reward maps the model-space answer back with the row's columns: the target must score 1."""
    ds = build_dataset(steps, _spec(space, with_target=True))
    rows = list(ds)
    completions = [r["completion"][0]["content"][0]["text"] for r in rows]
    columns = {name: [r[name] for r in rows] for name in REWARD_COLUMNS}
    # Integer rounding in model space costs a swipe's end-point closeness a fraction of a percent.
    assert action_reward(completions, **columns) == pytest.approx([1.0] * len(rows), abs=0.01)
    assert format_reward(completions) == pytest.approx([1.0] * len(rows))
    assert all(parse_completion(c).think is not None for c in completions)


def test_rows_have_reward_columns_and_trl_multimodal_prompt(steps):
    ds = build_dataset(steps, _spec("resized"))
    first, second = ds[0], ds[1]
    for name in (*REWARD_COLUMNS, "step_id"):
        assert name in first, name
    assert first["min_pixels"] == BUDGET.min_pixels and first["max_pixels"] == BUDGET.max_pixels
    assert (first["screen_width"], first["screen_height"]) == SCREEN
    assert first["step_id"] == "7/0" and second["step_id"] == "7/1"
    assert "completion" not in first
    system, user = first["prompt"]
    assert system["role"] == "system" and user["role"] == "user"
    # First step: only the current screen; later steps: previous then current.
    assert [p["type"] for p in user["content"]] == ["text", "image"]
    assert [p["type"] for p in second["prompt"][1]["content"]] == ["text", "image", "image"]
    assert len(first["images"]) == 1 and len(second["images"]) == 2
    assert all(isinstance(im, Image.Image) and im.size == SCREEN for im in second["images"])
    assert "<image>" in user["content"][0]["text"]


def test_images_open_only_when_rows_are_read(tmp_path):
    root = make_raw_folder(tmp_path / "eps", {"3": 2}, size=(120, 240))
    steps = read_steps(root)
    ds = build_dataset(steps, _spec("original"))
    # Stored rows hold paths, not pixels.
    stored = ds.with_format(None)._data.column("images").to_pylist()
    assert all(isinstance(p, str) and Path(p).is_absolute() for paths in stored for p in paths)
    Path(stored[1][-1]).unlink()
    assert ds[0]["images"]  # unaffected row still reads
    with pytest.raises(FileNotFoundError):
        ds[1]


def test_arrow_file_backed_dataset_reads_the_same(steps, tmp_path):
    in_memory = build_dataset(steps, _spec("norm1000", with_target=True))
    on_disk = build_dataset(steps, _spec("norm1000", with_target=True), arrow_path=tmp_path / "rows.arrow")
    assert (tmp_path / "rows.arrow").is_file() and len(on_disk) == len(in_memory)
    a, b = in_memory[3], on_disk[3]
    assert a["prompt"] == b["prompt"] and a["completion"] == b["completion"] and a["gold"] == b["gold"]


def test_missing_screenshot_or_gold_fails_at_build_naming_the_step(tmp_path):
    import dataclasses

    root = make_raw_folder(tmp_path / "eps", {"5": 2}, size=(120, 240))
    steps = read_steps(root)
    steps[1].screenshots[-1].unlink()  # only step 1 shows this screen
    with pytest.raises(FileNotFoundError, match="step_1.json"):
        build_dataset(steps, _spec("original"))
    with pytest.raises(ValueError, match="gold"):
        build_dataset([dataclasses.replace(steps[0], gold=None)], _spec("original"))
    with pytest.raises(ValueError, match="coord_space"):
        DatasetSpec(coord_space="pixels")


def test_template_in_another_language_than_the_tasks_is_warned(steps, caplog):
    import dataclasses
    import logging

    chinese = steps[0].task
    english = [dataclasses.replace(s, task="Open Settings and turn on Wi-Fi") for s in steps]
    with caplog.at_level(logging.WARNING, logger="training.dataset"):
        build_dataset(english, _spec("original", template="zh"))
    assert "prompt_template 'zh' is Chinese but 10 of 10 tasks read have no Chinese text" in caplog.text
    assert "use prompt_template: en" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="training.dataset"):
        build_dataset(steps, _spec("original", template="en"))  # the helper's tasks are Chinese
        build_dataset(english, _spec("original", template="en"))
        build_dataset(steps, _spec("original", template="zh"))
    assert re.search(r"[\u4e00-\u9fff]", chinese)
    assert caplog.text.count("WARNING") == 1 and "'en' is English but 10 of 10" in caplog.text
