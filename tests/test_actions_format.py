"""format_score against the seed's own format reward (seed 001), run on generated completions."""

from __future__ import annotations

import json
import re

import pytest

from actions import format_score
from actions.rewards import format_reward
from tests.helpers.actions import THINK_OK, completion, generated_completions, seed_format_reward

_NO_JSON = object()


def _think_payload(text: str):
    """The think JSON the seed's code sees, or _NO_JSON when there is none."""
    match = re.search(r"<think>(.*?)</think>", text, re.DOTALL)
    if not match:
        return _NO_JSON
    try:
        return json.loads(match.group(1).strip())
    except json.JSONDecodeError:
        return _NO_JSON


def test_agrees_with_seed_times_2_5_except_the_documented_difference():
    texts = generated_completions(600, seed=1)
    kinds = {"agree": 0, "non_object_fields": 0, "seed_type_error": 0}
    for text in texts:
        ours = format_score(text).total * 2.5
        payload = _think_payload(text)
        if payload is None or isinstance(payload, (int, float, bool)):
            # The seed's `field in think_json` raises TypeError on a number, true/false or null.
            with pytest.raises(TypeError):
                seed_format_reward([[{"role": "assistant", "content": text}]])
            assert format_score(text).think_fields == 0.0
            kinds["seed_type_error"] += 1
            continue
        seed = seed_format_reward([[{"role": "assistant", "content": text}]])[0]
        if isinstance(payload, (str, list)) and all(f in payload for f in THINK_OK):
            # The one deliberate difference: the four fields must be keys of a JSON object.
            assert seed - ours == pytest.approx(0.5), text
            kinds["non_object_fields"] += 1
        else:
            assert ours == pytest.approx(seed), text
            kinds["agree"] += 1
    # The generator must actually exercise every branch, or the comparison proves little.
    assert kinds["agree"] > 400 and kinds["non_object_fields"] > 10 and kinds["seed_type_error"] > 10, kinds


def test_well_formed_scores_full_marks_and_parts():
    score = format_score(completion())
    assert score.as_dict() == {
        "think_tag": 1.0,
        "think_json": 1.0,
        "think_fields": 1.0,
        "answer_tag": 1.0,
        "answer_json": 1.0,
        "total": 1.0,
    }
    assert score.points == 2.5


@pytest.mark.parametrize(
    ("text", "points"),
    [
        ("", 0.0),  # nothing at all
        ("<think>x</think>", 0.5),  # think tag only, not JSON
        ('<think>["task_interpretation"]</think>', 1.0),  # JSON list: tag + JSON, no fields
        ("<answer>{}</answer>", 1.0),  # answer tag + JSON (any JSON counts, as in the seed)
        ("<answer>{'a': 1}</answer>", 0.5),  # single quotes are not JSON
        ('<think>{"a": 1}</think><answer>5</answer>', 2.0),  # missing fields
    ],
)
def test_table(text, points):
    assert format_score(text).points == pytest.approx(points)


def test_format_reward_accepts_strings_and_conversations():
    text = completion()
    assert format_reward([text, [{"role": "assistant", "content": text}], None, 5]) == [1.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize("payload", ["5", "true", "null", "3.5"])
def test_seed_raises_where_format_score_gives_no_field_credit(payload):
    # Part of the documented difference: `field in 5` is a TypeError in the seed's code.
    text = f"<think>{payload}</think><answer>{{}}</answer>"
    with pytest.raises(TypeError):
        seed_format_reward([[{"role": "assistant", "content": text}]])
    assert format_score(text).as_dict() == {
        "think_tag": 1.0,
        "think_json": 1.0,
        "think_fields": 0.0,
        "answer_tag": 1.0,
        "answer_json": 1.0,
        "total": 0.8,
    }


@pytest.mark.parametrize(
    "payload",
    [
        '"task_interpretation current_page_audit path_alignment_check action_validation"',
        '["task_interpretation", "current_page_audit", "path_alignment_check", "action_validation"]',
    ],
)
def test_seed_credits_fields_in_a_string_or_list_format_score_does_not(payload):
    text = f"<think>{payload}</think>"
    assert seed_format_reward([[{"role": "assistant", "content": text}]]) == [1.5]
    assert format_score(text).points == pytest.approx(1.0)
