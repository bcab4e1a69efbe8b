"""The reward registry and the LLM-judge reward (cache, concurrency, time-out, fall-back)."""

from __future__ import annotations

import json
import pickle

import pytest

from actions.llm_judge import LLMJudgeReward
from actions.reward_registry import REWARDS
from tests.helpers.tiny import BACK, JudgeServer
from training.rewards import build_reward_funcs

GOLD = json.dumps(BACK, ensure_ascii=False)
RIGHT = f"<think>{{}}</think><answer>{GOLD}</answer>"
WRONG_TYPE = (
    '<answer>{"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": ""}</answer>'
)


def _columns(n: int) -> dict:
    return {
        "gold": [GOLD] * n,
        "screen_width": [540] * n,
        "screen_height": [1200] * n,
        "coord_space": ["original"] * n,
        "min_pixels": [3136] * n,
        "max_pixels": [12544] * n,
    }


def test_every_registry_name_resolves_to_a_trl_reward():
    funcs = build_reward_funcs(list(REWARDS))
    assert len(funcs) == len(REWARDS)
    assert all(callable(f) and getattr(f, "__name__", "") for f in funcs)
    with pytest.raises(ValueError, match="unknown reward"):
        build_reward_funcs(["acton"])


def test_judge_scores_concurrently_and_caches():
    metrics: dict[str, list[float]] = {}
    with JudgeServer() as server:
        judge = LLMJudgeReward("judge", base_url=server.base_url, concurrency=4, timeout=5)
        completions = [RIGHT, WRONG_TYPE, "garbage", RIGHT + " "]
        first = judge(completions, **_columns(4), log_metric=lambda k, v: metrics.setdefault(k, []).append(v))
        assert server.requests == 4
        again = judge(completions, **_columns(4), log_metric=lambda k, v: metrics.setdefault(k, []).append(v))
        assert server.requests == 4, "cached pairs must not be asked again"
    assert first == again and all(0.0 <= s <= 1.0 for s in first)
    assert len(set(first)) > 1
    assert metrics["rewards/llm_judge/fallback"] == [0.0, 0.0]
    assert metrics["rewards/llm_judge/cached"] == [0.0, 1.0]
    # No client or pool is held before the first call, so the reward can be pickled and shipped.
    copy = pickle.loads(pickle.dumps(judge))
    assert copy.base_url == judge.base_url and copy._client is None


def test_judge_failures_fall_back_to_the_rule_reward(caplog):
    metrics: dict[str, float] = {}
    with JudgeServer(fail_every=1) as server:
        judge = LLMJudgeReward("judge", base_url=server.base_url, timeout=5)
        scores = judge([RIGHT, WRONG_TYPE], **_columns(2), log_metric=metrics.__setitem__)
    assert scores == [1.0, 0.0]  # action_reward: right type and parameter, wrong type
    assert metrics["rewards/llm_judge/fallback"] == 1.0
    assert "rule reward used instead" in caplog.text


def test_judge_timeout_and_missing_endpoint_fall_back(monkeypatch):
    with JudgeServer(delay_s=1.0) as server:
        judge = LLMJudgeReward("judge", base_url=server.base_url, timeout=0.2)
        assert judge([RIGHT], **_columns(1)) == [1.0]
    monkeypatch.delenv("OPENAI_API_BASE", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert LLMJudgeReward("judge")([RIGHT], **_columns(1)) == [1.0]


def test_api_key_never_in_repr(monkeypatch):
    judge = LLMJudgeReward("judge", base_url="http://127.0.0.1:9/v1", api_key="sk-secret")
    assert "sk-secret" not in repr(judge)


def test_a_reward_that_needs_the_recipe_is_built_from_its_arguments():
    from types import SimpleNamespace

    args = SimpleNamespace(
        llm_judge_model="judge-7b",
        llm_judge_base_url="http://127.0.0.1:9/v1",
        llm_judge_timeout=3.0,
        llm_judge_concurrency=2,
        llm_judge_cache_size=5,
    )
    (judge,) = build_reward_funcs(["llm_judge"], args)
    assert isinstance(judge, LLMJudgeReward) and judge.model == "judge-7b"
    assert (judge.base_url, judge.timeout, judge.concurrency, judge.cache_size) == (
        "http://127.0.0.1:9/v1",
        3.0,
        2,
        5,
    )
