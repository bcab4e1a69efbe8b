"""Readers: raw folders and converted JSONL into typed steps, seed order, strict errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actions import SEED_ACTION_TYPES, Click, Inquiry, Swipe
from episodes.readers import iter_steps, list_episodes, read_steps
from episodes.records import RecordError, extract_input_json
from tests.helpers.data import SCREEN, WIRE_ACTIONS, make_raw_folder, rewrite_step, write_image


def test_raw_folder_in_seed_order_with_typed_gold(tmp_path: Path) -> None:
    root = make_raw_folder(tmp_path / "raw")
    (root / "notes").mkdir()
    (root / "notes" / "step_0.json").write_text("{}", encoding="utf-8")  # non-numeric: read last
    (root / ".cache").mkdir()
    steps = read_steps(root, strict=False)
    assert [p.name for p in list_episodes(root)] == ["9", "10001", "10002", "notes"]
    # "9" sorts before "10001" by value, not by name; the bad "notes" record is skipped, not replaced.
    assert [s.step_id for s in steps] == [
        "9/0",
        "9/1",
        "9/2",
        "10001/0",
        "10001/1",
        "10001/2",
        "10002/0",
        "10002/1",
        "10002/2",
        "10002/3",
    ]
    assert {s.gold.action_type for s in steps} == set(SEED_ACTION_TYPES)
    first = steps[0]
    assert len(first.screenshots) == 1 and first.previous_screenshot is None
    assert first.current_screenshot == (root / "9" / "9_0.jpg").absolute()
    assert first.screen_size == SCREEN
    second = steps[1]
    assert [p.name for p in second.screenshots] == ["9_0.jpg", "9_1.jpg"]
    assert second.history == [WIRE_ACTIONS[7]["action_description"]]
    assert second.source.endswith("step_1.json")
    # gold keeps the exact wire form
    for s in steps:
        assert s.gold.to_json() == json.loads((Path(s.source)).read_text(encoding="utf-8"))["output"]


def test_strict_errors_name_file_and_what_was_found(tmp_path: Path) -> None:
    root = make_raw_folder(tmp_path / "raw", {"1": 2})
    (root / "1" / "step_1.json").write_text('{"input": {\n  "task_content": }', encoding="utf-8")
    with pytest.raises(RecordError, match=r"step_1\.json:2: expected JSON"):
        read_steps(root)

    root = make_raw_folder(tmp_path / "raw2", {"1": 2})
    rewrite_step(root / "1" / "step_1.json", lambda r: r["output"].update(action_type="fly"))
    with pytest.raises(ValueError, match=r"step_1\.json: bad gold action.*fly"):
        read_steps(root)

    root = make_raw_folder(tmp_path / "raw3", {"1": 2})
    (root / "1" / "1_1.jpg").unlink()
    with pytest.raises(
        RecordError, match=r"step_1\.json: expected screenshot .*1_1\.jpg, found no such file"
    ):
        read_steps(root)
    # non-strict keeps the step, without a size
    assert read_steps(root, strict=False)[1].screen_size is None

    root = make_raw_folder(tmp_path / "raw4", {"1": 1})
    rewrite_step(root / "1" / "step_0.json", lambda r: r["input"].pop("app_name"))
    with pytest.raises(RecordError, match=r"missing \['app_name'\]"):
        read_steps(root)


def test_iter_steps_streams(tmp_path: Path) -> None:
    root = make_raw_folder(tmp_path / "raw", {"1": 2, "2": 2})
    (root / "2" / "step_1.json").write_text("not json", encoding="utf-8")
    it = iter_steps(root)
    # The bad file is only reached when the stream gets there: steps before it come out first.
    assert [next(it).step_id for _ in range(3)] == ["1/0", "1/1", "2/0"]
    with pytest.raises(RecordError, match=r"2/step_1\.json:1"):
        next(it)


def _seed_line(
    record_id: int, images: list[str], inp: dict, out: dict, prefix: str = '前缀 {"a": {"b": 1}}:'
) -> str:
    conv = [
        {"from": "human", "value": prefix + json.dumps(inp, ensure_ascii=False)},
        {"from": "gpt", "value": json.dumps(out, ensure_ascii=False)},
    ]
    return json.dumps({"id": record_id, "image": images, "conversations": conv}, ensure_ascii=False)


def test_jsonl_records_with_one_and_two_screens(tmp_path: Path) -> None:
    write_image(tmp_path / "43688" / "43688_2.jpg")
    write_image(tmp_path / "43688" / "43688_3.jpg")
    inp = {
        "task_content": "t",
        "task_path": {"1": "打开APP"},
        "screen_path2": "<image>",
        "history_path_all": [],
        "app_name": "淘宝",
        "action_type_list": {"click": "点击"},
    }
    inp2 = dict(inp, screen_path1="<image>", history_path_all=["打开APP"])
    lines = [
        _seed_line(1, ["43688/43688_2.jpg"], inp, WIRE_ACTIONS[1]),
        "",
        _seed_line(2, ["43688/43688_2.jpg", "43688/43688_3.jpg"], inp2, WIRE_ACTIONS[4]),
    ]
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    steps = read_steps(path)
    assert [s.step_id for s in steps] == ["43688/0", "43688/1"]
    assert isinstance(steps[0].gold, Click) and isinstance(steps[1].gold, Swipe)
    assert len(steps[0].screenshots) == 1 and steps[1].previous_screenshot.name == "43688_2.jpg"
    assert steps[1].history == ["打开APP"] and steps[1].app == "淘宝"
    assert steps[1].source == f"{path}:3"

    path.write_text(
        lines[0] + "\n" + '{"id": 2, "image": ["43688/43688_3.jpg"], "conversations": []}\n', encoding="utf-8"
    )
    with pytest.raises(RecordError, match=r"data\.jsonl:2: expected 'conversations'"):
        read_steps(path)


def test_extract_input_json_finds_the_trailing_object() -> None:
    inp = {
        "task_content": "找 {x}",
        "task_path": {"1": "a"},
        "history_path_all": ["}{"],
        "app_name": "x",
        "action_type_list": {"wait": "等待"},
    }
    prompt = (
        '示例:\n{\n "task_content": "示例", "task_path": {"1": "打开APP"}\n}\n输出 {"action_type": "click"}:'
    )
    assert extract_input_json(prompt + json.dumps(inp, ensure_ascii=False) + "\n") == inp
    with pytest.raises(ValueError, match="expected the human value to end"):
        extract_input_json(prompt + "没有JSON")


def test_inquiry_gold_is_typed(tmp_path: Path) -> None:
    root = make_raw_folder(tmp_path / "raw", {"1": 6})
    gold = read_steps(root)[5].gold
    assert isinstance(gold, Inquiry) and gold.candidates == ("甲", "乙") and gold.answer_index == 1
