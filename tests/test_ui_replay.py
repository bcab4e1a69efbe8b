"""The replay app's functions: episode list, filters, step rendering and "Run this step"."""

from __future__ import annotations

import asyncio
import dataclasses

import numpy as np
import pytest

from eval.metrics import compute_metrics
from eval.results import read_results
from tests.helpers.ui import make_episodes, make_results
from ui.app import make_filters, show_step
from ui.live import LiveConfig, endpoint_agent, run_live, unavailable_reason
from ui.overlay import GOLD_COLOR, PRED_B_COLOR, PRED_COLOR
from ui.replay import Filters, action_types, apps, episode_label, episode_rows, load_replay, shown_positions
from ui.views import metrics_summary, render_step


@pytest.fixture()
def folders(tmp_path):
    root = make_episodes(tmp_path / "eps")
    a = make_results(tmp_path / "runs" / "a.jsonl", model="model-a")
    b = make_results(tmp_path / "runs" / "b.jsonl", flip=True, model="model-b")
    return root, a, b


def has_color(image, color) -> bool:
    return bool(np.all(np.asarray(image) == np.array(color, dtype=np.uint8), axis=-1).any())


def test_episode_list_with_the_evals_own_scores(folders):
    root, a, b = folders
    data = load_replay(root, a, b)
    rows = episode_rows(data)
    assert [r.episode_id for r in rows] == ["101", "102"]
    assert [(r.app, r.n_steps) for r in rows] == [("设置", 3), ("相册", 2)]
    records = read_results(a).records
    expected = compute_metrics([r for sid, r in records.items() if sid.startswith("101/")])["sr"]
    assert rows[0].scores[0] == pytest.approx(expected) == pytest.approx(2 / 3)
    assert rows[0].scores[1] == pytest.approx(1 / 3)  # run B flips every verdict
    assert episode_label(rows[0], ["A", "B"]) == "101 · 设置 · 3 steps · A SR 67% · B SR 33%"
    assert data.runs[0].metrics == compute_metrics(read_results(a))  # overall numbers: the eval's, unchanged
    table = metrics_summary([("A", data.runs[0].metrics), ("B", data.runs[1].metrics)], "Overall")
    assert "| step success (SR) | 80.0% | 20.0% |" in table


def test_filters(folders):
    root, a, _ = folders
    data = load_replay(root, a)
    assert action_types(data) == ["open_app", "click", "type", "swipe"]
    assert apps(data) == ["相册", "设置"]
    assert shown_positions(data, "101", Filters()) == [0, 1, 2]
    assert shown_positions(data, "101", Filters(failures_only=True)) == [1]
    assert shown_positions(data, "102", Filters(failures_only=True)) == []
    assert shown_positions(data, "102", Filters(action_type="click")) == [1]
    # episodes with nothing left to show drop out of the picker, counts show what is left
    failing = episode_rows(data, Filters(failures_only=True))
    assert [(r.episode_id, r.n_shown) for r in failing] == [("101", 1)]
    assert [r.episode_id for r in episode_rows(data, Filters(app="相册"))] == ["102"]
    assert episode_rows(data, Filters(app="相册", action_type="type")) == []
    assert make_filters(True, "any", "") == Filters(failures_only=True)


def test_render_step_with_two_runs(folders):
    root, a, b = folders
    data = load_replay(root, a, b)
    view = render_step(data, "101", 1)
    assert "Episode 101, step 1" in view.header and "打开设置" in view.header
    assert '"click": "40,200,500,280"' in view.gold
    assert view.verdicts == [
        "✘ wrong (type matches) — tap point outside the gold box",
        "✔ correct — tap point inside the gold box",
    ]
    assert "model-a" in view.runs[0] and "**Partial reward:** 0.600" in view.runs[0]
    assert "- action **0.800**" in view.runs[0]
    assert "interpret 101/1" in view.runs[0]  # think fields
    assert view.raw[0].startswith("<think>")
    assert view.current.size == (360, 720) and view.previous.size == (360, 720)
    for color in (GOLD_COLOR, PRED_COLOR, PRED_B_COLOR):
        assert has_color(view.current, color)
    assert not has_color(view.previous, GOLD_COLOR)  # the previous screen is shown as it was


def test_gold_only_and_first_step(folders):
    root, _, _ = folders
    data = load_replay(root)
    assert data.runs == [] and data.roots == [root.resolve()]
    view = render_step(data, "102", 0)
    # a first step has no previous screen: a grey card says so (an empty slot showed a broken image)
    assert view.previous is not None and view.previous.size == view.current.size
    corner = view.previous.getpixel((2, 2))
    assert corner == (236, 236, 236) and len(view.previous.getcolors(1 << 16)) > 2  # grey, with text
    assert not has_color(view.previous, GOLD_COLOR)
    assert has_color(view.current, GOLD_COLOR) and not has_color(view.current, PRED_COLOR)
    assert view.runs == [] and view.verdicts == []
    assert [r.scores for r in episode_rows(data)] == [(), ()]


def test_show_step_clamps_and_reports_empty_filters(folders):
    root, a, _ = folders
    data = load_replay(root, a)
    shown = show_step(data, "101", 99, Filters())
    assert (shown["episode"], shown["position"], shown["n_shown"]) == ("101", 2, 3)
    assert len(shown["gallery"]) == 3
    shown = show_step(data, "nope", 0, Filters(failures_only=True))
    assert shown["episode"] == "101" and shown["position"] == 0 and "✘" in shown["runs"][0]
    empty = show_step(data, "101", 0, Filters(app="相册", action_type="type"))
    assert empty["episode"] is None and empty["header"] == "No step matches the filters."


def test_live_needs_an_endpoint(monkeypatch):
    assert "--base-url" in unavailable_reason(LiveConfig())
    assert "--model" in unavailable_reason(LiveConfig("http://127.0.0.1:1/v1"))
    monkeypatch.delenv("UI_TEST_KEY", raising=False)
    assert "UI_TEST_KEY" in unavailable_reason(LiveConfig("http://127.0.0.1:1/v1", "m", "UI_TEST_KEY"))
    monkeypatch.setenv("UI_TEST_KEY", "k")
    assert unavailable_reason(LiveConfig("http://127.0.0.1:1/v1", "m", "UI_TEST_KEY")) is None


def test_run_this_step_against_an_endpoint(folders):
    from eval.testing.stub_server import StubServer, render_reply, scripted_replies, step_key

    root, a, _ = folders
    data = load_replay(root, a)
    step = data.steps("101")[1]
    wrong = {
        "action_type": "click",
        "action_parameter": {"click": "10,900,100,1000"},
        "action_description": "x",
    }
    replies = scripted_replies(
        {step_key(step.task, step.history, step.app): render_reply(step.gold.to_json())},
        default=render_reply(wrong),
    )
    with StubServer(replies, model="stub") as server:
        config = LiveConfig(server.base_url, "stub", None, data.runs[0].header)
        agent = endpoint_agent(config)

        async def both():
            try:
                return (
                    await run_live(agent, step, protocol=config.protocol),
                    await run_live(agent, data.steps("101")[2], protocol=config.protocol),
                )
            finally:
                await agent.aclose()

        right, other = asyncio.run(both())
    assert right.action == step.gold
    assert "✔ correct" in right.markdown and '"click": "40,200,500,280"' in right.markdown
    assert "**Action reward:** 1.000" in right.markdown
    assert "scripted" in right.markdown  # the think fields of the new answer
    assert right.raw.startswith("<think>")
    assert other.action.action_type == "click" and "✘ wrong" in other.markdown


def test_run_this_step_reports_a_down_endpoint(folders):
    from serving.launch import free_port

    root, _, _ = folders
    data = load_replay(root)
    agent = endpoint_agent(LiveConfig(f"http://127.0.0.1:{free_port()}/v1", "m"))

    async def once():
        try:
            return await run_live(agent, data.steps("101")[0])
        finally:
            await agent.aclose()

    answer = asyncio.run(once())
    assert answer.action is None and "⚠ error (connection)" in answer.markdown


@pytest.mark.slow  # imports Gradio
def test_gold_only_app_disables_what_needs_results_or_an_endpoint(folders):
    from ui.app import build_app

    root, _, _ = folders
    demo = build_app(load_replay(root))
    props = [c.get("props", {}) for c in demo.config["components"]]
    button = next(p for p in props if p.get("value") == "Run this step")
    assert button["interactive"] is False
    assert any("--base-url URL --model NAME" in str(p.get("value")) for p in props)  # the reason, shown
    failures = next(p for p in props if p.get("label") == "Failures only")
    assert failures["interactive"] is False


def test_converted_jsonl_serves_its_own_folder(folders):
    from episodes.convert import convert

    root, a, _ = folders
    convert(root, root / "train.jsonl")
    data = load_replay(root / "train.jsonl", a)
    assert data.root == root.resolve() and list(data.episodes) == ["101", "102"]
    view = render_step(data, "101", 1)
    assert view.current is not None and view.verdicts[0].startswith("✘ wrong")


def test_error_and_missing_records(folders, tmp_path):
    import json

    from ui.views import verdict_line

    root, _, _ = folders
    lines = (tmp_path / "runs" / "a.jsonl").read_text(encoding="utf-8").splitlines()
    header, records = lines[0], [json.loads(x) for x in lines[1:]]
    # as `eval run` records a step whose request failed
    failed = dict(
        records[1],
        prediction=None,
        verdict={"correct": False, "type_match": False, "reason": "error: timeout"},
        error={"kind": "timeout", "message": "no answer in 120 s"},
    )
    path = tmp_path / "runs" / "err.jsonl"
    # step 101/0 has no record at all; 101/1 failed with a timeout
    path.write_text("\n".join([header, json.dumps(failed, ensure_ascii=False)]) + "\n", encoding="utf-8")
    data = load_replay(root, path)
    assert shown_positions(data, "101", Filters(failures_only=True)) == [1]
    view = render_step(data, "101", 1)
    assert view.verdicts == ["⚠ error (timeout): no answer in 120 s"]
    assert "**Prediction:** —" in view.runs[0]
    assert render_step(data, "101", 0).verdicts == ["not evaluated"]
    assert verdict_line(None) == "not evaluated"
    assert episode_rows(data)[0].scores == (0.0,)  # compute_metrics counts the error as wrong


def test_live_verdict_uses_the_steps_context_and_says_when_it_lacks_it():
    from actions import Click
    from actions.context import GoldContext
    from episodes.step import Step
    from ui.live import _score

    gold = Click(box=(10, 10, 50, 50))
    step = Step("7", 2, "t", {}, [], "app", (), (100, 200), gold=gold)
    line, reward = _score(Click(box=(30, 30, 30, 30)), step, "androidcontrol-qwen")
    assert line.startswith("not judged") and "step 7/2" in line and "candidate_boxes" in line
    assert reward == "1.000"
    boxed = dataclasses.replace(step, context=GoldContext(candidate_boxes=((10, 10, 50, 50),)))
    assert _score(Click(box=(30, 30, 30, 30)), boxed, "androidcontrol-qwen")[0].startswith("✔ correct")


def test_live_step_refuses_a_run_made_with_other_settings_than_the_checkpoint(tmp_path):
    from agent.checkpoint import CheckpointMeta

    ckpt = tmp_path / "ckpt"
    CheckpointMeta(coord_space="resized", min_pixels=3136, max_pixels=12544).save(ckpt)
    header = {"coord_space": "norm1000", "template": "zh", "min_pixels": 3136, "max_pixels": 12544}
    config = LiveConfig("http://127.0.0.1:1/v1", "m", None, {**header, "checkpoint": str(ckpt)})
    reason = unavailable_reason(config)
    assert "coord_space: the checkpoint has 'resized', the command line gives 'norm1000'" in reason
    # --checkpoint-meta names the checkpoint when the header does not; --override-checkpoint-meta accepts.
    assert "differ from the checkpoint" in unavailable_reason(LiveConfig("u", "m", None, header, ckpt))
    overridden = LiveConfig("http://127.0.0.1:1/v1", "m", None, header, ckpt, override_checkpoint_meta=True)
    assert unavailable_reason(overridden) is None
    assert endpoint_agent(overridden).coord_space == "norm1000"
    agreeing = LiveConfig("http://127.0.0.1:1/v1", "m", None, {**header, "coord_space": "resized"}, ckpt)
    assert unavailable_reason(agreeing) is None and endpoint_agent(agreeing).budget.max_pixels == 12544


def test_empty_app_name_is_said_not_rendered_as_empty_bold(tmp_path):
    import json

    root = make_episodes(tmp_path / "eps")
    for path in (root / "101").glob("step_*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        record["input"]["app_name"] = ""
        path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    view = render_step(load_replay(root), "101", 0)
    assert "****" not in view.header and "no app name recorded" in view.header
