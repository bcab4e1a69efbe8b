"""parse_completion: accepted forms, named problems, and never raising."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from actions import PROBLEMS, Back, Click, Swipe, TypeText, Wait, parse_completion
from tests.helpers.actions import SEED_CLICK, THINK_OK, actions_strategy, completion, mutated_completions

CLICK = Click(box=(49, 721, 1368, 1008), description="点击剑来")


def test_well_formed_completion():
    parsed = parse_completion(completion())
    assert parsed.think == THINK_OK
    assert parsed.action == CLICK
    assert parsed.problems == []
    assert parsed.ok
    assert json.loads(parsed.answer_text) == SEED_CLICK


@pytest.mark.parametrize(
    ("text", "action", "problems"),
    [
        # the seed's SFT format: a bare JSON action
        (json.dumps(SEED_CLICK, ensure_ascii=False), CLICK, ["no_think_tag", "no_answer_tag"]),
        # code fence inside the answer
        (
            "<answer>```json\n" + json.dumps(SEED_CLICK, ensure_ascii=False) + "\n```</answer>",
            CLICK,
            ["no_think_tag", "answer_code_fence"],
        ),
        # Python-literal dict with single quotes
        (
            "<answer>{'action_type': 'back', 'action_parameter': {'back': ''}}</answer>",
            Back(),
            ["no_think_tag", "answer_python_literal"],
        ),
        # parameter as a list, click as a point
        (
            '<answer>{"action_type": "click", "action_parameter": {"click": [10, 20]}}</answer>',
            Click(box=(10, 20, 10, 20)),
            ["no_think_tag"],
        ),
        # several answers: the last one counts
        (
            '<answer>{"action_type": "back"}</answer><answer>{"action_type": "wait"}</answer>',
            Wait(),
            ["no_think_tag", "multiple_answers"],
        ),
        # prose around the JSON inside the answer
        (
            '<answer>I will swipe: {"action_type": "swipe", "action_parameter": {"swipe": "1,2,3,4"}} '
            "ok</answer>",
            Swipe(start=(1, 2), end=(3, 4)),
            ["no_think_tag", "answer_extra_text"],
        ),
        # think is JSON but misses fields; answer unclosed (truncated generation) yet complete JSON
        (
            '<think>{"task_interpretation": "x"}</think><answer>{"action_type": "type", '
            '"action_parameter": {"type": "无锡"}}',
            TypeText(text="无锡"),
            ["think_missing_fields", "answer_unclosed"],
        ),
    ],
)
def test_accepted_forms(text, action, problems):
    parsed = parse_completion(text)
    assert parsed.action == action
    assert parsed.problems == problems


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "answer_empty"),  # nothing
        ("<think>x</think><answer></answer>", "answer_empty"),  # empty answer
        ("<answer>click the button</answer>", "answer_not_json"),  # prose, no JSON
        ("<answer>[1, 2]</answer>", "not_an_object"),  # JSON but not an object
        ('<answer>{"action_parameter": {}}</answer>', "missing_action_type"),
        ('<answer>{"action_type": "fly"}</answer>', "unknown_action_type"),
        (
            '<answer>{"action_type": "click", "action_parameter": {"click": "1,2,3"}}</answer>',
            "bad_parameter",
        ),
        ('<answer>{"action_type": "click"}</answer>', "missing_parameter"),
        ("<think>not json</think>", "think_not_json"),
        ("<think>[1]</think>", "think_not_object"),
        (None, "not_text"),
    ],
)
def test_named_problems(text, problem):
    parsed = parse_completion(text)
    assert problem in parsed.problems
    assert set(parsed.problems) <= set(PROBLEMS)
    if problem not in ("think_not_json", "think_not_object"):
        assert parsed.action is None


def test_conversational_completion():
    messages = [{"role": "assistant", "content": completion()}]
    assert parse_completion(messages).action == CLICK


def _check(parsed) -> None:
    assert set(parsed.problems) <= set(PROBLEMS)
    assert "internal_error" not in parsed.problems  # the safety net must never be what catches a case
    assert parsed.think is None or isinstance(parsed.think, dict)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_on_arbitrary_text(text):
    _check(parse_completion(text))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "<think>",
                "</think>",
                "<answer>",
                "</answer>",
                "{",
                "}",
                "[",
                "]",
                '"',
                "'",
                ":",
                ",",
                "action_type",
                "click",
                "1",
                "```",
                "\n",
                "null",
                "点击",
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_never_raises_on_tag_and_json_soup(text):
    _check(parse_completion(text))


@settings(max_examples=300, deadline=None)
@given(mutated_completions())
def test_never_raises_on_mutated_valid_answers(text):
    _check(parse_completion(text))


@settings(max_examples=200, deadline=None)
@given(actions_strategy)
def test_every_action_survives_a_completion(action):
    # The format cannot carry its own closing tags inside a value: `<answer>` ends at the first `</answer>`.
    assume(
        not any(tag in json.dumps(action.to_json(), ensure_ascii=False) for tag in ("</answer>", "</think>"))
    )
    parsed = parse_completion(completion(action=action.to_json()))
    assert parsed.action == action
    assert parsed.problems == []
