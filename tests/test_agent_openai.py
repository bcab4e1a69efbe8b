"""The OpenAI-compatible backend against a local scripted server: answers, images, faults, secrets."""

import base64
import io
import logging
import re
import sys

import pytest

from actions import Click, PixelBudget, model_screen_size
from agent import PhoneAgent
from agent.backends.openai_backend import THINK_ANSWER_REGEX, OpenAIBackend
from eval.testing.stub_server import Faults, StubServer
from serving.launch import free_port
from tests.helpers.serving import make_step, reply_text

GOLD = Click(box=(49, 721, 1068, 1008), description="点击购物车")
SECRET = "sk-test-9f8e7d6c5b4a-do-not-log"


def _data_urls(messages):
    return [
        p["image_url"]["url"]
        for m in messages
        if isinstance(m["content"], list)
        for p in m["content"]
        if p.get("type") == "image_url"
    ]


def test_answer_usage_and_two_images_as_data_urls(tmp_path):
    seen = []

    def reply(step_input, messages):
        seen.append(messages)
        return reply_text(GOLD)

    step = make_step(tmp_path)
    with StubServer(reply) as server:
        agent = PhoneAgent.from_endpoint(server.base_url, "stub-model", max_retries=0)
        result = agent.step(step)
        agent.close()
    assert result.error is None and result.action == GOLD
    assert result.usage["prompt_tokens"] > 0 and result.usage["completion_tokens"] > 0
    assert result.latency_s > 0
    messages = seen[0]
    assert messages[0]["role"] == "system" and messages[1]["content"][0]["type"] == "text"
    urls = _data_urls(messages)
    assert len(urls) == 2 and all(u.startswith("data:image/jpeg;base64,") for u in urls)
    assert base64.b64decode(urls[0].split(",", 1)[1]) == step.screenshots[0].read_bytes()


def test_images_pre_resized_to_the_pixel_budget(tmp_path):
    from PIL import Image

    seen = []
    budget = PixelBudget(3136, 200_000)
    step = make_step(tmp_path)
    with StubServer(lambda s, m: seen.append(m) or reply_text(GOLD)) as server:
        agent = PhoneAgent.from_endpoint(server.base_url, "stub-model", budget=budget, resize_images=True)
        agent.step(step)
        agent.close()
    url = _data_urls(seen[0])[1]
    size = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).size
    assert size == model_screen_size("resized", step.screen_size, budget)


@pytest.fixture(params=["aiohttp", "httpx"])
def transport(request, monkeypatch):
    """Both HTTP transports of the openai client: aiohttp when installed, httpx when it is not."""
    if request.param == "httpx":
        monkeypatch.setitem(sys.modules, "aiohttp", None)  # `import aiohttp` now raises ImportError
    return request.param


def test_aiohttp_transport_when_installed_else_httpx(transport):
    import openai

    from agent.backends.openai_backend import http_client_class

    expected = openai.DefaultAioHttpClient if transport == "aiohttp" else openai.DefaultAsyncHttpxClient
    assert http_client_class() is expected


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("faults", "max_retries", "timeout", "kind", "said"),
    [
        (Faults(error_rate=1.0), 2, 5, "http_5xx", "500"),
        (Faults(delay_rate=1.0, delay_s=30), 1, 0.5, "timeout", "no answer within"),
        (Faults(drop_rate=1.0), 0, 5, "connection", "cannot connect"),
    ],
    ids=["5xx", "timeout", "dropped-connection"],
)
def test_server_faults_are_retried_a_bounded_number_of_times_then_typed(
    tmp_path, transport, faults, max_retries, timeout, kind, said
):
    with StubServer(lambda s, m: reply_text(GOLD), faults=faults) as server:
        agent = PhoneAgent.from_endpoint(
            server.base_url, "stub-model", max_retries=max_retries, timeout=timeout
        )
        result = agent.step(make_step(tmp_path))
        agent.close()
        requests_seen = server.stats["requests"]
    assert result.error is not None and result.error.kind == kind
    assert result.action is None and said in result.error.message
    assert requests_seen == max_retries + 1


@pytest.mark.timeout(60)
def test_endpoint_down_is_a_connection_error(tmp_path, transport):
    agent = PhoneAgent.from_endpoint(f"http://127.0.0.1:{free_port()}/v1", "m", max_retries=1, timeout=2)
    result = agent.step(make_step(tmp_path))
    agent.close()
    assert result.error is not None and result.error.kind == "connection"


def test_api_key_from_env_is_sent_but_never_shown(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PHONE_R1_TEST_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    step = make_step(tmp_path)
    with StubServer(lambda s, m: reply_text(GOLD), api_key=SECRET) as server:
        good = PhoneAgent.from_endpoint(server.base_url, "stub-model", api_key_env="PHONE_R1_TEST_KEY")
        ok = good.step(step)
        bad = PhoneAgent.from_endpoint(server.base_url, "stub-model", api_key_env="PHONE_R1_NO_SUCH_KEY")
        refused = bad.step(step)
        shown = [repr(good), str(good), repr(good.backend), repr(vars(good.backend)), repr(ok), repr(refused)]
        good.close()
        bad.close()
    assert ok.error is None and ok.action == GOLD  # the key reached the server
    assert refused.error is not None and refused.error.kind == "http_4xx"
    assert server.stats["unauthorized"] == 1  # 4xx is not retried
    for text in [*shown, caplog.text]:
        assert SECRET not in text


def test_structured_outputs_regex_is_sent_and_accepts_the_answer_shape():
    backend = OpenAIBackend("http://127.0.0.1:1/v1", "m", structured_outputs=True, max_tokens=64)
    body = backend.request_body()
    assert body["extra_body"] == {"structured_outputs": {"regex": THINK_ANSWER_REGEX}}
    assert body["max_tokens"] == 64 and body["temperature"] == 0.0
    assert re.fullmatch(THINK_ANSWER_REGEX, reply_text(GOLD))
    assert not re.fullmatch(THINK_ANSWER_REGEX, '{"action_type": "back"}')
    assert "extra_body" not in OpenAIBackend("http://127.0.0.1:1/v1", "m").request_body()


@pytest.mark.parametrize("kwargs", [{"concurrency": 0}, {"max_retries": -1}, {"timeout": 0}])
def test_bad_backend_settings_are_rejected(kwargs):
    with pytest.raises(ValueError):
        OpenAIBackend("http://127.0.0.1:1/v1", "m", **kwargs)


def test_concurrency_is_bounded_per_backend(tmp_path):
    import asyncio
    import json

    import openai

    in_flight = {"now": 0, "max": 0}

    class FakeClient(openai.AsyncOpenAI):
        """The real client type, so requests take the same raw `post` path as real runs."""

        async def post(self, path, *, content, cast_to, **kwargs):
            assert path == "/chat/completions" and cast_to is object
            assert json.loads(content)["model"] == "m"
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
            await asyncio.sleep(0.02)
            in_flight["now"] -= 1
            return {"choices": [{"message": {"content": reply_text(GOLD)}}]}

    agent = PhoneAgent.from_endpoint("http://127.0.0.1:1/v1", "m", concurrency=2)
    steps = [make_step(tmp_path / str(i)) for i in range(6)]

    async def run():
        fake_client = FakeClient(base_url="http://127.0.0.1:1/v1", api_key="k")
        agent.backend._per_loop[asyncio.get_running_loop()] = (fake_client, asyncio.Semaphore(2))
        return await agent.astep_many(steps)

    results = asyncio.run(run())
    assert all(r.action == GOLD for r in results)
    assert in_flight["max"] == 2


def test_importing_agent_and_serving_loads_no_model_library():
    import subprocess
    import sys

    code = (
        "import sys, agent, agent.backends, agent.prompt, serving.cli; from agent import PhoneAgent; "
        "heavy = [m for m in ('torch', 'transformers', 'openai', 'vllm', 'peft') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
