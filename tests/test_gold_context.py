"""The gold context of a step file (`context` beside `input` and `output`), Step.instruction, point golds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actions import Click, action_score, match_step, parse_action
from actions.context import ContextSource, GoldContext
from episodes.records import read_record
from tests.helpers.data import make_raw_folder
from tests.test_data_convert import seed_generate_jsonl_dataset


def read_raw_step(path: Path):
    """The step of one step file, read strictly (the first blocking problem raises)."""
    rec = read_record(path)
    error = rec.strict_error()
    if error is not None:
        raise error
    return rec.step


FULL = {
    "point": [540, 1200],
    "candidate_boxes": [[500, 1150, 580, 1250], [0, 1000, 1080, 1400]],
    "ui_boxes": [[500, 1150, 580, 1250]],
    "scroll_direction": "down",
    "scroll_direction_means": "content",
    "step_instruction": "Open the settings",
    "source": {"format": "androidcontrol", "episode_id": "42", "step_index": 3},
}


def test_full_context_round_trips():
    ctx = GoldContext.from_json(FULL)
    assert ctx.point == (540, 1200) and ctx.candidate_boxes[1] == (0, 1000, 1080, 1400)
    assert ctx.source == ContextSource("androidcontrol", "42", 3)
    assert ctx.to_json() == FULL
    assert GoldContext.from_json({}) == GoldContext()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"point": [1]}, r"context.point: expected \[x, y\]"),
        ({"ui_boxes": [[1, 2, 3]]}, r"context.ui_boxes\[0\]: expected \[x1, y1, x2, y2\]"),
        ({"candidate_boxes": "1,2,3,4"}, "context.candidate_boxes as a list"),
        ({"scroll_direction": "sideways"}, "context.scroll_direction: expected one of"),
        ({"scroll_direction_means": "thumb"}, "scroll_direction_means"),
        ({"step_instruction": 3}, "step_instruction as a string"),
        ({"source": {"step_index": -1}}, "step_index as an integer"),
        ({"pointt": [1, 2]}, "expected context keys among"),
        ({"point": [True, 2]}, "finite numbers"),
    ],
)
def test_bad_context_names_the_file_and_key(tmp_path: Path, bad, message):
    root = make_raw_folder(tmp_path / "raw", {"1": 1})
    path = root / "1" / "step_0.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**record, "context": bad}), encoding="utf-8")
    with pytest.raises(ValueError, match=message) as err:
        read_raw_step(path)
    assert str(path) in str(err.value)


def test_step_carries_context_and_instruction(tmp_path: Path):
    root = make_raw_folder(tmp_path / "raw", {"1": 2})
    plain = read_raw_step(root / "1" / "step_0.json")
    assert plain.context is None and plain.instruction is None
    path = root / "1" / "step_1.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["input"]["step_instruction"] = "Tap WLAN"
    path.write_text(json.dumps({**record, "context": FULL}, ensure_ascii=False), encoding="utf-8")
    step = read_raw_step(path)
    assert step.context == GoldContext.from_json(FULL) and step.instruction == "Tap WLAN"


def test_seed_conversion_ignores_the_context(tmp_path: Path):
    root = make_raw_folder(tmp_path / "raw", {"1": 3})
    before = tmp_path / "before.jsonl"
    seed_generate_jsonl_dataset(str(root), "P:", str(before))
    for path in (root / "1").glob("step_*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({**record, "context": FULL}, ensure_ascii=False), encoding="utf-8")
    after = tmp_path / "after.jsonl"
    seed_generate_jsonl_dataset(str(root), "P:", str(after))
    assert after.read_text(encoding="utf-8") == before.read_text(encoding="utf-8")


def test_a_point_gold_is_first_class():
    wire = {"action_type": "click", "action_parameter": {"click": "540,1200"}, "action_description": "tap"}
    gold = parse_action(wire, strict=True)
    assert gold == Click(box=(540, 1200, 540, 1200), description="tap")
    assert gold.to_json() == wire  # re-emitted as a point
    screen = (1080, 2400)
    # Rewards score it by distance: full credit on the point, partial within 0.14, none beyond.
    assert action_score(Click(box=(540, 1200, 540, 1200)), wire, screen).total == 1.0
    near = action_score(Click(box=(594, 1200, 594, 1200)), wire, screen)  # 0.05 normalised
    assert 0.5 < near.total < 1.0
    assert action_score(Click(box=(800, 1200, 800, 1200)), wire, screen).param_score == 0.0
    # Protocols by their point rules.
    assert match_step(Click(box=(594, 1200, 594, 1200)), wire, screen, "box").correct
    assert not match_step(Click(box=(594, 1200, 594, 1200)), wire, screen, "androidcontrol-uis1").correct
