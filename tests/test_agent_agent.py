import asyncio

import pytest

from actions import Click, LongClick, PixelBudget, Swipe, TypeText, model_screen_size, to_model_space
from agent import AgentError, PhoneAgent
from agent.backends import Completion, ScriptedBackend
from agent.errors import BackendError
from tests.helpers.serving import THINK, make_step, reply_text

BUDGET = PixelBudget(3136, 1003520)
GOLDS = [
    Click(box=(49, 721, 1068, 1008), description="点击剑来"),
    LongClick(box=(0, 0, 1080, 2400), description="长按整屏"),
    Swipe(start=(158, 1557), end=(122, 1253), description="上滑"),
    TypeText("无锡", description="输入无锡"),
]


def _coords(action):
    return (
        action.box
        if hasattr(action, "box")
        else (*action.start, *action.end)
        if isinstance(action, Swipe)
        else ()
    )


@pytest.mark.parametrize("space", ["original", "resized", "norm1000"])
@pytest.mark.parametrize("gold", GOLDS, ids=lambda a: a.action_type)
def test_gold_answered_in_model_space_comes_back_in_original_pixels(tmp_path, space, gold):
    step = make_step(tmp_path, gold=gold)
    screen = step.screen_size
    model_gold = to_model_space(gold, space, screen, BUDGET)
    backend = ScriptedBackend(lambda messages: reply_text(model_gold))
    agent = PhoneAgent(backend, coord_space=space, budget=BUDGET)
    with agent:
        result = agent.step(step)
    assert result.error is None and result.problems == []
    assert result.think == THINK
    assert type(result.action) is type(gold)
    # One model unit is the most a rounded model-space coordinate can be off, per axis.
    model_w, model_h = model_screen_size(space, screen, BUDGET)
    tolerance = (screen[0] / model_w, screen[1] / model_h)
    for i, (got, want) in enumerate(zip(_coords(result.action), _coords(gold), strict=True)):
        assert abs(got - want) <= tolerance[i % 2], (space, got, want)
    if space == "original":
        assert result.action == gold


def test_prompt_states_the_space_the_backend_must_answer_in(tmp_path):
    step = make_step(tmp_path, sizes=[(1080, 2400), (1080, 2400)])
    backend = ScriptedBackend(lambda messages: reply_text(GOLDS[0]))
    agent = PhoneAgent(backend, coord_space="norm1000", budget=BUDGET)
    agent.step(step)
    agent.close()
    system = backend.requests[0][0]["content"]
    assert "1000" in system and "2400" not in system


def test_out_of_screen_answer_is_clamped(tmp_path):
    step = make_step(tmp_path)
    agent = PhoneAgent(
        ScriptedBackend(lambda m: reply_text(Click(box=(900, 990, 1200, 1100)))), coord_space="norm1000"
    )
    result = agent.step(step)
    agent.close()
    assert result.action.box == (972, 2376, 1080, 2400)


def test_unparseable_answer_is_named_not_raised(tmp_path):
    agent = PhoneAgent(ScriptedBackend(lambda m: Completion("I would tap the cart", {"prompt_tokens": 5})))
    result = agent.step(make_step(tmp_path))
    agent.close()
    assert result.action is None and result.error is None and not result.ok
    assert result.problems and result.raw_text == "I would tap the cart"
    assert result.usage == {"prompt_tokens": 5}


@pytest.mark.parametrize("kind", ["timeout", "connection", "http_5xx", "http_4xx", "bad_response"])
def test_backend_failure_becomes_a_typed_error(tmp_path, kind):
    def fail(messages):
        raise BackendError(kind, "simulated")

    result = PhoneAgent(ScriptedBackend(fail)).step(make_step(tmp_path))
    assert result.error == AgentError(kind, "simulated") and result.action is None
    assert result.prompt_hash


def test_missing_screenshot_is_an_error_result_naming_the_step(tmp_path):
    step = make_step(tmp_path, sizes=[(100, 200)])
    step.screenshots[0].unlink()
    from dataclasses import replace

    backend = ScriptedBackend(lambda m: "")
    result = PhoneAgent(backend).step(replace(step, screen_size=None))
    # Nothing was sent: an input problem of the step, not a bad answer from a server.
    assert result.error is not None and result.error.kind == "bad_input"
    assert "step_1.json" in result.error.message and backend.requests == []


def test_step_without_a_recorded_size_reads_the_screenshot_header_once(tmp_path, monkeypatch):
    from dataclasses import replace

    import PIL.Image

    gold = Click(box=(108, 24, 216, 240), description="点击")  # whole norm1000 units on 1080x2400
    step = make_step(tmp_path, sizes=[(720, 1280), (1080, 2400)], gold=gold)
    opened = []
    real_open = PIL.Image.open
    monkeypatch.setattr(
        PIL.Image, "open", lambda fp, *a, **k: opened.append(str(fp)) or real_open(fp, *a, **k)
    )
    model_gold = to_model_space(gold, "norm1000", (1080, 2400))
    backend = ScriptedBackend(lambda messages: reply_text(model_gold))
    with PhoneAgent(backend, coord_space="norm1000") as agent:
        result = agent.step(replace(step, screen_size=None))
    assert opened == [str(step.current_screenshot)]  # the current screen's header, read once
    assert result.error is None and result.action == gold  # mapped back with the size it read


def test_astep_many_keeps_order_and_runs_concurrently(tmp_path):
    in_flight = {"now": 0, "max": 0}

    async def respond(messages):
        in_flight["now"] += 1
        in_flight["max"] = max(in_flight["max"], in_flight["now"])
        await asyncio.sleep(0.01)
        in_flight["now"] -= 1
        return reply_text(TypeText(messages[1]["content"][1]["image"]))

    steps = [make_step(tmp_path / str(i), index=i) for i in range(4)]
    agent = PhoneAgent(ScriptedBackend(respond))
    results = asyncio.run(agent.astep_many(steps))
    assert [r.action.text for r in results] == [str(s.screenshots[0]) for s in steps]
    assert in_flight["max"] > 1


def test_sync_step_refuses_a_running_loop(tmp_path):
    agent = PhoneAgent(ScriptedBackend(lambda m: ""))

    async def inside():
        agent.step(make_step(tmp_path))

    with pytest.raises(RuntimeError, match="astep"):
        asyncio.run(inside())


def test_unknown_coordinate_space_is_rejected():
    with pytest.raises(ValueError, match="coord_space"):
        PhoneAgent(ScriptedBackend(lambda m: ""), coord_space="polar")


def test_from_checkpoint_takes_prompt_space_and_budget_from_the_checkpoint(tmp_path):
    from agent.checkpoint import CheckpointMeta

    CheckpointMeta(coord_space="resized", min_pixels=784, max_pixels=200704, prompt_template="en").save(
        tmp_path
    )
    agent = PhoneAgent.from_checkpoint(tmp_path)  # nothing loads before the first step
    assert (agent.template, agent.coord_space, agent.budget) == ("en", "resized", PixelBudget(784, 200704))
    assert agent.backend.budget == agent.budget


def test_from_checkpoint_without_metadata_uses_the_processors_budget(tmp_path):
    import json

    (tmp_path / "processor_config.json").write_text(
        json.dumps({"image_processor": {"size": {"shortest_edge": 3136, "longest_edge": 50176}}})
    )
    agent = PhoneAgent.from_checkpoint(tmp_path)
    assert (agent.template, agent.coord_space, agent.budget) == ("zh", "original", PixelBudget(3136, 50176))


def test_backend_receives_the_step_it_answers(tmp_path):
    from agent.backends.base import Completion

    class Seen:
        name = "seen"
        steps: list = []

        async def acomplete(self, messages, *, step=None):
            self.steps.append(step)
            return Completion(text="")

        async def aclose(self):
            return None

    backend = Seen()
    step = make_step(tmp_path)
    PhoneAgent(backend).step(step)
    assert [s.step_id for s in backend.steps] == [step.step_id]
