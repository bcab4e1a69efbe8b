"""The scripted OpenAI-compatible stub server that tests, benchmarks and the demo run against."""

from __future__ import annotations

import json
from collections import Counter

import httpx
import openai
import pytest

from episodes.readers import read_steps
from eval.testing.stub_server import (
    Faults,
    StubServer,
    StubServerProcess,
    find_step_input,
    gold_replies,
    scripted_replies,
    step_key,
)
from tests.helpers.eval import many_episodes


def chat(server, text, **kwargs):
    client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0, **kwargs)
    messages = [
        {"role": "system", "content": "rules"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": text},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
            ],
        },
    ]
    return client.chat.completions.create(model="stub-model", messages=messages)


def test_health_models_and_a_scripted_answer():
    step = {"task_content": "任务", "history_path_all": ["a"], "app_name": "设置"}
    with StubServer(scripted_replies({step_key("任务", ["a"], "设置"): "ANSWER"}, default="?")) as server:
        assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
        assert httpx.get(f"{server.base_url}/models").json()["data"][0]["id"] == "stub-model"
        reply = chat(server, "prefix " + json.dumps(step, ensure_ascii=False))
        assert reply.choices[0].message.content == "ANSWER"
        assert reply.usage.prompt_tokens > 0
        assert chat(server, "no step here").choices[0].message.content == "?"
    with pytest.raises(httpx.ConnectError):  # stopped means stopped
        httpx.get(f"{server.url}/health")


def test_fault_kinds_reach_the_client_as_their_own_errors():
    def kind_of(faults):
        with StubServer(faults=faults) as server:
            try:
                chat(server, "x", timeout=0.5)
            except openai.OpenAIError as exc:
                return type(exc).__name__
            return "ok"

    assert kind_of(Faults(error_rate=1.0)) == "InternalServerError"
    assert kind_of(Faults(delay_rate=1.0, delay_s=5)) == "APITimeoutError"
    assert kind_of(Faults(drop_rate=1.0)) == "APIConnectionError"
    assert kind_of(Faults()) == "ok"


def test_fault_draws_are_seeded_per_step_and_attempt_not_per_arrival():
    faults = Faults(error_rate=0.10, delay_rate=0.05, drop_rate=0.05, seed=1)
    keys = [f"step {i}" for i in range(4000)]
    forward = [faults.draw(k, 1) for k in keys]
    assert [faults.draw(k, 1) for k in reversed(keys)] == forward[::-1]
    counts = Counter(forward)
    assert 0.08 < counts["error"] / 4000 < 0.12
    assert 0.035 < counts["delay"] / 4000 < 0.065 and 0.035 < counts["drop"] / 4000 < 0.065
    assert forward != [faults.draw(k, 2) for k in keys]  # a retry is a new draw
    assert forward != [Faults(0, 0.10, 0.05, 30, 0.05, seed=2).draw(k, 1) for k in keys]


def test_find_step_input_in_openai_and_generic_messages():
    step = {"task_content": "t", "history_path_all": [], "app_name": "a", "screen_path2": "<image>"}
    text = json.dumps(step)
    assert find_step_input([{"role": "user", "content": text}]) == step
    assert find_step_input([{"role": "user", "content": [{"type": "text", "text": "x " + text}]}]) == step
    assert find_step_input([{"role": "user", "content": "no json"}]) is None


def test_gold_replies_answer_in_the_model_space(tmp_path):
    steps = read_steps(many_episodes(tmp_path, 1, 2))
    click = steps[1]  # WIRE_ACTIONS[1]: click 10,20,60,50 on a 120x240 screen
    reply = gold_replies(steps, coord_space="norm1000")
    inp = {"task_content": click.task, "history_path_all": click.history, "app_name": click.app}
    assert '"click": "83,83,500,208"' in reply(inp, [])


@pytest.mark.slow
def test_stub_server_process_answers_gold_and_stops(tmp_path):
    episodes = many_episodes(tmp_path, 1, 2)
    step = read_steps(episodes)[0]
    with StubServerProcess(["--episodes", str(episodes), "--latency", "0.01"]) as server:
        inp = {"task_content": step.task, "history_path_all": step.history, "app_name": step.app}
        assert '"open_app"' in chat(server, json.dumps(inp, ensure_ascii=False)).choices[0].message.content
        proc = server.proc
    assert proc.returncode is not None
