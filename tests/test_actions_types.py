"""Typed actions: exact wire round-trip and strict ground-truth errors."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings

from actions import (
    ACTION_CLASSES,
    ACTION_TYPES,
    KEY_ACTION_TYPES,
    SEED_ACTION_TYPES,
    Back,
    Click,
    Enter,
    Home,
    Inquiry,
    KeyPress,
    RecentApps,
    Swipe,
    parse_action,
)
from tests.helpers.actions import SEED_CLICK, SEED_INQUIRY, SEED_WAIT, actions_strategy
from tests.helpers.data import WIRE_ACTIONS


def test_action_types_follow_the_seed_order():
    assert SEED_ACTION_TYPES == (
        "open_app",
        "click",
        "long_click",
        "type",
        "swipe",
        "task_completed",
        "task_impossible",
        "inquiry",
        "wait",
        "back",
    )
    # The key presses the public benchmarks record follow the seed's ten.
    assert KEY_ACTION_TYPES == ("home", "enter", "recent_apps")
    assert ACTION_TYPES == SEED_ACTION_TYPES + KEY_ACTION_TYPES
    assert set(ACTION_CLASSES) == set(ACTION_TYPES)


@pytest.mark.parametrize(("name", "cls"), [("home", Home), ("enter", Enter), ("recent_apps", RecentApps)])
def test_key_presses_are_typed_actions_with_an_empty_wire_parameter(name, cls):
    wire = {"action_type": name, "action_parameter": {name: ""}, "action_description": "按键"}
    action = parse_action(wire)
    assert action == cls(description="按键") and isinstance(action, KeyPress) and action.key == name
    assert action.to_json() == wire
    assert isinstance(Back(), KeyPress) and Back().key == "back"
    with pytest.raises(ValueError, match="as a string"):
        parse_action({"action_type": name, "action_parameter": {name: 1}, "action_description": ""})


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("press_home", "home"),
        ("navigate_home", "home"),
        ("PRESS_ENTER", "enter"),
        ("press_recent", "recent_apps"),
        ("Recent Apps", "recent_apps"),
        ("navigate_back", "back"),
    ],
)
def test_model_output_names_key_presses_the_ways_agents_do(written, read):
    assert parse_action({"action_type": written}, strict=False).action_type == read
    with pytest.raises(ValueError, match="unknown|expected action_type"):
        parse_action({"action_type": written, "action_parameter": {written: ""}, "action_description": ""})


@pytest.mark.parametrize(
    "wire", [SEED_CLICK, SEED_INQUIRY, SEED_WAIT, *WIRE_ACTIONS], ids=lambda w: w["action_type"]
)
def test_seed_wire_dicts_round_trip_exactly(wire):
    action = parse_action(wire)
    assert action.to_json() == wire
    assert list(action.to_json()) == ["action_type", "action_parameter", "action_description"]
    # Through JSON text too, as the seed stores it.
    assert parse_action(json.dumps(wire, ensure_ascii=False)).to_json() == wire


def test_seed_click_has_numeric_box_and_centre_point():
    action = parse_action(SEED_CLICK)
    assert action == Click(box=(49, 721, 1368, 1008), description="点击剑来")
    assert action.point == (708.5, 864.5)


def test_seed_inquiry_fields():
    action = parse_action(SEED_INQUIRY)
    assert isinstance(action, Inquiry)
    assert action.candidates == ("黄色大笑脸", "手绘风格笑脸", "红晕笑脸")
    assert action.answer_index == 0
    assert action.question.startswith("搜索笑脸")


def test_oddly_spaced_wire_string_is_kept_until_the_action_changes():
    wire = {
        "action_type": "swipe",
        "action_parameter": {"swipe": "158, 1557, 122,1253"},
        "action_description": "",
    }
    action = parse_action(wire)
    assert action.to_json() == wire
    moved = dataclasses.replace(action, end=(122, 1000))
    assert moved.to_json()["action_parameter"] == {"swipe": "158,1557,122,1000"}
    assert action == Swipe(start=(158, 1557), end=(122, 1253))  # the kept string is not part of equality


@settings(max_examples=300, deadline=None)
@given(actions_strategy)
def test_round_trip_is_exact_for_every_action_type(action):
    wire = action.to_json()
    again = parse_action(wire)
    assert again == action
    assert again.to_json() == wire
    assert parse_action(json.dumps(wire, ensure_ascii=False)).to_json() == wire


@pytest.mark.parametrize(
    ("wire", "expected", "found"),
    [
        ('{"action_type": "click",', "expected JSON", "found"),  # truncated record
        ("[1, 2]", "expected a JSON object", "list"),  # not an object
        ({"action_parameter": {"click": "1,2,3,4"}}, "expected key 'action_type'", "action_parameter"),
        ({"action_type": "tap", "action_parameter": {"tap": "1"}}, "expected action_type in", "'tap'"),
        ({"action_type": "click"}, "expected key 'action_parameter'", "found keys"),
        ({"action_type": "click", "action_parameter": "1,2,3,4"}, "as an object", "'1,2,3,4'"),
        ({"action_type": "click", "action_parameter": {"swipe": "1,2,3,4"}}, "hold key 'click'", "['swipe']"),
        (
            {"action_type": "click", "action_parameter": {"click": "1,2,3"}},
            "expected 4 numbers",
            "found 3",
        ),  # 2 is a point
        (
            {"action_type": "click", "action_parameter": {"click": "1,2,3,x"}},
            "comma-separated numbers",
            "'1,2,3,x'",
        ),
        ({"action_type": "click", "action_parameter": {"click": [1, 2, 3, 4]}}, "as a string", "list"),
        ({"action_type": "type", "action_parameter": {"type": 5}}, "as a string", "int 5"),
        (
            {
                "action_type": "inquiry",
                "action_parameter": {
                    "inquiry": '{"Question": "q", "CandidatesList": "[a",'
                    ' "PicDescribe": "", "AnswerIndex": 0}'
                },
            },
            "Python-literal list string",
            "'[a'",
        ),
        (
            {"action_type": "inquiry", "action_parameter": {"inquiry": '{"Question": "q"}'}},
            "expected inquiry keys",
            "missing ['CandidatesList', 'PicDescribe', 'AnswerIndex']",
        ),
        (
            {"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": 3},
            "as a string",
            "3",
        ),
    ],
)
def test_strict_errors_name_expected_and_found(wire, expected, found):
    with pytest.raises(ValueError) as info:
        parse_action(wire, source="episodes.jsonl:17")
    message = str(info.value)
    assert message.startswith("episodes.jsonl:17: ")
    assert expected in message and found in message, message


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        # single quotes / Python literal
        ("{'action_type': 'back', 'action_parameter': {'back': ''}}", {"back": ""}),
        # parameter as a list
        ({"action_type": "click", "action_parameter": {"click": [10, 20, 30, 40]}}, {"click": "10,20,30,40"}),
        # click as a point: a zero-size box inside, a valid wire form, so it is re-emitted as written
        ({"action_type": "click", "action_parameter": {"click": "10,20"}}, {"click": "10,20"}),
        ({"action_type": "click", "action_parameter": {"click": [10, 20]}}, {"click": "10,20,10,20"}),
        # bracketed numbers, other key, type name written with a space
        ({"action_type": "Long Click", "action_parameter": {"x": "[1, 2, 3, 4]"}}, {"long_click": "1,2,3,4"}),
        # parameter given directly instead of a dict
        ({"action_type": "type", "action_parameter": "无锡"}, {"type": "无锡"}),
        # wait without a parameter
        ({"action_type": "wait"}, {"wait": ""}),
    ],
)
def test_lenient_parsing_of_model_output(wire, expected):
    assert parse_action(wire, strict=False).to_json()["action_parameter"] == expected


def test_lenient_inquiry_with_malformed_candidates_notes_the_problem():
    notes: list[str] = []
    wire = {
        "action_type": "inquiry",
        "action_parameter": {"inquiry": '{"Question": "选哪个", "CandidatesList": "[甲,"}'},
    }
    action = parse_action(wire, strict=False, notes=notes)
    assert action == Inquiry(question="选哪个", candidates=())
    assert notes == ["bad_candidates"]
    with pytest.raises(ValueError, match="CandidatesList"):
        parse_action(wire)
