"""`phone-r1 serve --engine transformers` on the tiny model, called through PhoneAgent and plain HTTP."""

import base64
import io
from dataclasses import replace

import psutil
import pytest
import requests

from agent import PhoneAgent
from agent.prompt import system_text
from serving.launch import free_port
from tests.helpers.serving import ServeProcess, make_step
from tests.helpers.tiny import tiny_model_dir

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    args = [
        "serve",
        str(tiny_model_dir()),
        "--engine",
        "transformers",
        "--device",
        "cpu",
        "--port",
        str(port),
    ]
    with ServeProcess(args, port=port, log_path=log) as process:
        children = psutil.Process(process.process.pid).children(recursive=True)
        yield process
    # Stopped cleanly: phone-r1 serve returned 0 and its server process is gone.
    assert process.returncode == 0, process.log()
    assert not any(child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in children)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/health", timeout=2)


def _one_screen(step):
    return replace(step, screenshots=step.screenshots[1:])


def test_agent_two_screenshots_reach_the_model(server, tmp_path):
    assert "base URL" in server.log() and "PhoneAgent.from_endpoint" in server.log()
    step = make_step(tmp_path)
    agent = PhoneAgent.from_endpoint(server.base_url, "phone-r1", max_tokens=24, max_retries=0, timeout=120)
    two = agent.step(step)
    one = agent.step(_one_screen(step))
    wrong = PhoneAgent.from_endpoint(server.base_url, "no-such-model", max_retries=0).step(step)
    agent.close()

    assert two.error is None and one.error is None
    # Each screenshot adds its image tokens: the images reached the model.
    assert two.usage["prompt_tokens"] > one.usage["prompt_tokens"] > 100
    assert two.usage["completion_tokens"] > 0
    # A random model rarely writes a valid action; either way the answer is parsed or named.
    assert two.action is not None or two.problems
    assert wrong.error is not None and wrong.error.kind == "http_4xx"

    # The local backend builds the same prompt from the same checkpoint: same token count.
    local = PhoneAgent.from_checkpoint(tiny_model_dir(), max_new_tokens=4)
    assert local.step(step).usage["prompt_tokens"] == two.usage["prompt_tokens"]
    local.close()


def _data_url(path):
    from PIL import Image

    buffer = io.BytesIO()
    Image.open(path).save(buffer, format="PNG")
    return f"data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}"


def test_plain_post_with_the_seed_layout_gets_an_answer(server, tmp_path):
    step = make_step(tmp_path)
    # Seed 001's client: one user message, the prompt text then two base64 images.
    text = system_text("zh", "original", step.screen_size) + '{"task_content": "打开淘宝"}'
    content = [{"type": "text", "text": text}] + [
        {"type": "image_url", "image_url": {"url": _data_url(p)}} for p in step.screenshots
    ]
    body = {
        "model": "phone-r1",
        "messages": [{"role": "user", "content": content}],
        "max_tokens": 16,
        "temperature": 0,
    }
    response = requests.post(
        f"{server.base_url}/chat/completions",
        json=body,
        timeout=120,
        headers={"Authorization": "Bearer no-key-required"},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert isinstance(answer["choices"][0]["message"]["content"], str)
    text_only = requests.post(
        f"{server.base_url}/chat/completions",
        timeout=120,
        json={**body, "messages": [{"role": "user", "content": content[:1]}]},
    ).json()
    assert answer["usage"]["prompt_tokens"] > text_only["usage"]["prompt_tokens"]
