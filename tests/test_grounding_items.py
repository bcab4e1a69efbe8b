"""Grounding items on disk: the reader of a line, the set readers, validation and the writer."""

from __future__ import annotations

import json

import pytest

from actions.regions import Box, Polygon, Refusal, region_from_json
from episodes.grounding import (
    GroundingItem,
    is_grounding_set,
    iter_grounding_records,
    read_grounding_items,
    read_grounding_line,
    validate_grounding,
    write_grounding_items,
)
from episodes.records import RecordError
from tests.helpers.grounding import item_line, screenshot, write_set


def codes(report_or_record) -> list[str]:
    return [p.code for p in report_or_record.problems]


def test_items_read_with_every_field(tmp_path):
    root = write_set(tmp_path / "set", [item_line(i) for i in range(3)])
    items = read_grounding_items(root)
    assert [i.id for i in items] == ["set/0", "set/1", "set/2"]
    box, polygon, refusal = items
    assert box.target == Box((10, 10, 60, 40)) and box.box_type == "box" and not box.refusal
    assert isinstance(polygon.target, Polygon) and polygon.target.points[2] == (150, 80)
    assert (
        refusal.target == Refusal() and refusal.refusal and refusal.category_values("box_type") == ("refuse",)
    )
    assert box.image == (root / "images" / "s0.png").resolve() and box.screen == (200, 100)
    assert box.instruction_in(None) == "press button 0" and box.instruction_in("cn") == "按下按钮0"
    assert box.category_values("platform") == ("mobile",) and box.category_values("group") == ()
    assert box.source.endswith("grounding.jsonl:1") and box.benchmark == "test"


def test_a_missing_language_is_refused_not_replaced(tmp_path):
    item = read_grounding_items(write_set(tmp_path / "set", [item_line(0, instructions={})]))[0]
    with pytest.raises(ValueError, match=r"no instruction in 'cn'"):
        item.instruction_in("cn")


def test_write_then_read_round_trips(tmp_path):
    lines = [item_line(i, declared_screen=[400, 200], origin=f"a.json#{i}") for i in range(3)]
    root = write_set(tmp_path / "set", lines)
    items = read_grounding_items(root)
    out = root / "copy.jsonl"
    assert write_grounding_items(items, out) == 3
    again = read_grounding_items(out)
    assert again == [
        GroundingItem(**{**vars(a), "source": b.source}) for a, b in zip(items, again, strict=True)
    ]
    assert [json.loads(text) for text in out.read_text(encoding="utf-8").splitlines()] == lines


@pytest.mark.parametrize(
    "text,code,message",
    [
        ("{not json", "bad_json", "invalid JSON"),
        ("[1, 2]", "bad_record", "expected a JSON object, found list"),
        (json.dumps({"id": "a"}), "bad_record", "missing ['image', 'screen', 'instruction', 'target']"),
        (json.dumps(item_line(0, screen=[200])), "bad_record", "expected screen as [width, height]"),
        (json.dumps(item_line(0, screen=[200, 0])), "bad_record", "positive integer pixels"),
        (json.dumps(item_line(0, id=3)), "bad_record", "expected id to be a string"),
        (json.dumps(item_line(0, categories={"ui_type": 1})), "bad_record", "category 'ui_type'"),
        (json.dumps(item_line(0, instructions=["x"])), "bad_record", "expected instructions as"),
        (json.dumps(item_line(0, target={"type": "circle"})), "bad_target", "target type in"),
        (
            json.dumps(item_line(0, target={"type": "box", "box": [1, 2, 3]})),
            "bad_target",
            "[x1, y1, x2, y2]",
        ),
        (
            json.dumps(item_line(0, target={"type": "box", "box": [1, 2, 3, "4"]})),
            "bad_target",
            "finite number",
        ),
        (json.dumps(item_line(0, target={"type": "polygon", "points": [[0, 0], [1, 1]]})), "bad_target", "3"),
        (
            json.dumps(item_line(0, target={"type": "box", "box": [0, 0, 1, 1], "units": "percent"})),
            "bad_target",
            "units in",
        ),
    ],
)
def test_bad_lines_are_named_with_file_and_line(tmp_path, text, code, message):
    record = read_grounding_line(text, path=tmp_path / "g.jsonl", line=7)
    assert record.item is None
    assert codes(record) == [code]
    problem = record.problems[0]
    assert (
        message in problem.message
        and problem.line == 7
        and str(problem).startswith(f"{tmp_path / 'g.jsonl'}:7:")
    )
    error = record.strict_error()
    assert isinstance(error, RecordError) and str(error).startswith(f"{tmp_path / 'g.jsonl'}:7:")


def test_strict_reading_stops_at_the_first_bad_line_and_lenient_reading_skips_it(tmp_path):
    root = write_set(tmp_path / "set", [item_line(0), "{bad", item_line(2)])
    with pytest.raises(RecordError, match=r"grounding.jsonl:2: expected a JSON object per line"):
        read_grounding_items(root)
    assert [i.id for i in read_grounding_items(root, strict=False)] == ["set/0", "set/2"]


def test_duplicate_ids_are_refused(tmp_path):
    root = write_set(tmp_path / "set", [item_line(0), item_line(1, id="set/0")])
    with pytest.raises(RecordError, match=r":2: duplicate id 'set/0' \(first at .*grounding.jsonl:1\)"):
        read_grounding_items(root)


def test_validation_finds_every_problem_with_its_line(tmp_path):
    root = write_set(
        tmp_path / "set",
        [
            item_line(0),
            item_line(1, image="images/gone.png"),
            item_line(2, screen=[300, 100]),  # the image is 200x100
            item_line(3, id="set/0"),
            item_line(4, target={"type": "box", "box": [150, 10, 260, 40]}),  # past the right edge
            item_line(5, instruction="  "),
            item_line(6, target={"type": "box", "box": [10, 10, 10, 40]}),  # no width
            "{bad",
        ],
    )
    (root / "images" / "broken.png").write_bytes(b"not a png")
    with (root / "grounding.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(item_line(9, image="images/broken.png")) + "\n")
    report = validate_grounding(root)
    found = [(p.line, p.code, p.severity) for p in report.problems]
    assert report.items == 9
    assert (2, "missing_image", "error") in found
    assert (3, "screen_mismatch", "error") in found
    assert (4, "duplicate_id", "error") in found
    assert (5, "target_outside_screen", "warning") in found
    assert (6, "empty_instruction", "error") in found
    assert (7, "empty_target", "warning") in found
    assert (8, "bad_json", "error") in found
    assert (9, "unreadable_image", "error") in found
    assert not any(line == 1 for line, _, _ in found)
    assert not report.ok


def test_a_target_a_pixel_past_the_edge_is_not_flagged(tmp_path):
    root = write_set(tmp_path / "set", [item_line(0, target={"type": "box", "box": [150, 10, 201, 40]})])
    assert validate_grounding(root).problems == []


def test_unit_targets_are_checked_in_screen_units(tmp_path):
    line = item_line(0, target={"type": "box", "box": [0.5, 0.2, 1.5, 0.4], "units": "unit"})
    root = write_set(tmp_path / "set", [line])
    assert codes(validate_grounding(root)) == ["target_outside_screen"]
    assert region_from_json(line["target"]).pixels((200, 100)) == (100, 20, 300, 40)


def test_grounding_sets_are_recognised_and_navigation_files_are_not(tmp_path):
    root = write_set(tmp_path / "set", [item_line(0)])
    assert is_grounding_set(root) and is_grounding_set(root / "grounding.jsonl")
    nav = tmp_path / "nav.jsonl"
    nav.write_text(json.dumps({"id": "1", "image": [], "conversations": []}) + "\n", encoding="utf-8")
    assert not is_grounding_set(nav) and not is_grounding_set(tmp_path)
    with pytest.raises(FileNotFoundError, match="expected a grounding set"):
        list(iter_grounding_records(tmp_path))


def test_item_json_keeps_the_target_as_released(tmp_path):
    screenshot(tmp_path / "a.png")
    item = GroundingItem(
        id="x",
        image=tmp_path / "a.png",
        screen=(200, 100),
        instruction="go",
        target=Box((60, 40, 10, 10)),  # inverted corners stay inverted
        categories={"capability": ("layout", "text")},
    )
    line = item.to_json(tmp_path)
    assert line["target"] == {"type": "box", "box": [60, 40, 10, 10], "units": "pixel"}
    assert line["categories"] == {"capability": ["layout", "text"]} and line["image"] == "a.png"
