"""The reward functions' TRL contract: kwargs, garbage, range, pickling, logged breakdown names."""

from __future__ import annotations

import json
import logging
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.reward_registry import REWARDS, build_reward
from actions.rewards import action_reward, format_reward
from tests.helpers.actions import SEED_CLICK, completion, mutated_completions

GOLD = json.dumps(SEED_CLICK, ensure_ascii=False)
GOOD = completion()
GARBAGE = [None, 5, {"content": 3}, [{"role": "assistant"}], [[1]], "", "<answer>", "\x00\ud7ff", b"bytes"]


def test_registry_names():
    assert build_reward("format") is format_reward and build_reward("action") is action_reward
    assert REWARDS.load("format") is format_reward


def test_extra_kwargs_are_ignored_and_columns_broadcast():
    trl_kwargs = {"prompts": ["p"] * 2, "completion_ids": [[1], [2]], "trainer_state": object(), "unknown": 1}
    assert format_reward([GOOD, GOOD], **trl_kwargs) == [1.0, 1.0]
    assert action_reward(
        [GOOD, GOOD], gold=[GOLD] * 2, screen_width=1440, screen_height=[3200, 3200], **trl_kwargs
    ) == [
        1.0,
        1.0,
    ]


def test_conversational_completions():
    messages = [[{"role": "assistant", "content": GOOD}]]
    assert format_reward(messages) == [1.0]
    assert action_reward(messages, gold=[GOLD], screen_width=[1440], screen_height=[3200]) == [1.0]


def test_garbage_never_raises_and_scores_zero():
    n = len(GARBAGE)
    assert format_reward(GARBAGE) == [0.0] * n
    assert (
        action_reward(GARBAGE, gold=[GOLD] * n, screen_width=[1440] * n, screen_height=[3200] * n)
        == [0.0] * n
    )


def test_bad_gold_row_scores_zero_and_is_logged(caplog):
    with caplog.at_level(logging.ERROR, logger="actions.rewards"):
        rewards = action_reward(
            [GOOD, GOOD], gold=[GOLD, '{"action_type": "tap"}'], screen_width=1440, screen_height=3200
        )
    assert rewards == [1.0, 0.0]
    assert "row 1" in caplog.text and "expected action_type in" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"screen_width": 1440, "screen_height": 3200}, r"needs dataset columns \['gold'\]"),
        ({"gold": [GOLD], "screen_width": 1440}, "screen_height"),
        ({"gold": [GOLD, GOLD], "screen_width": 1440, "screen_height": 3200}, "with 1 values"),
    ],
)
def test_miswired_columns_are_value_errors(kwargs, message):
    # A dataset without the reward's columns must fail loudly rather than train on zero rewards.
    with pytest.raises(ValueError, match=message):
        action_reward([GOOD], **kwargs)


def test_coord_space_and_budget_columns():
    # The same tap written in norm1000 and in original pixels scores the same.
    x, y = 708 * 1000 // 1440, 864 * 1000 // 3200
    norm = f'<answer>{{"action_type": "click", "action_parameter": {{"click": "{x},{y}"}}}}</answer>'
    rewards = action_reward(
        [norm, GOOD],
        gold=[GOLD, GOLD],
        screen_width=[1440, 1440],
        screen_height=[3200, 3200],
        coord_space=["norm1000", None],
        min_pixels=[3136, None],
        max_pixels=[1003520, None],
    )
    assert rewards == [1.0, 1.0]


def test_breakdown_is_logged_under_trl_metric_names():
    logged: dict[str, float] = {}
    extra: dict[str, list] = {}
    bad = "<think>x</think><answer>nope</answer>"
    format_reward([GOOD, bad], log_metric=logged.__setitem__)
    action_reward(
        [GOOD, bad],
        gold=[GOLD, GOLD],
        screen_width=1440,
        screen_height=3200,
        log_metric=logged.__setitem__,
        log_extra=extra.__setitem__,
    )
    assert logged == {
        "rewards/format/think_tag": 1.0,
        "rewards/format/think_json": 0.5,
        "rewards/format/think_fields": 0.5,
        "rewards/format/answer_tag": 1.0,
        "rewards/format/answer_json": 0.5,
        "rewards/action/type_hit": 0.5,
        "rewards/action/param_score": 0.5,
        "rewards/action/parsed": 0.5,
    }
    assert extra["action_reason"][0] == "tap point inside gold box"
    assert extra["action_reason"][1].startswith("unparseable: ")


def test_functions_pickle():
    for fn in (format_reward, action_reward):
        again = pickle.loads(pickle.dumps(fn))
        assert again is fn


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(mutated_completions(), st.text(max_size=60)), min_size=1, max_size=6))
def test_rewards_stay_in_unit_interval(completions):
    n = len(completions)
    for reward in (
        format_reward(completions),
        action_reward(
            completions, gold=[GOLD] * n, screen_width=1440, screen_height=3200, coord_space="resized"
        ),
    ):
        assert len(reward) == n and all(0.0 <= r <= 1.0 for r in reward)
