"""`eval run --history own|own-patched`: episodes stop (or are patched) exactly at the scripted errors."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from actions import parse_action
from episodes.readers import read_steps
from eval.own_history import describe_action
from eval.own_metrics import own_history_metrics
from eval.results import read_results
from phone_r1.cli import main

DEMO = "data/demo/test"
WRONG = {
    "20001/3",
    "20002/0",
}  # 20001 (9 steps) goes wrong at its 4th step, 20002 (6) at once; 20003 (4) never
WAIT = {"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": "等待"}


def predictions(tmp_path, missing: frozenset[str] = frozenset()):
    """Gold answers with the agent's own descriptions (`mine:<step>`), `wait` on the WRONG steps."""
    rows = []
    for step in read_steps(DEMO):
        if step.step_id in missing:
            continue
        wire = (
            WAIT
            if step.step_id in WRONG
            else {**step.gold.to_json(), "action_description": f"mine:{step.step_id}"}
        )
        rows.append(
            json.dumps(
                {"step_id": step.step_id, "raw": f"<answer>{json.dumps(wire, ensure_ascii=False)}</answer>"}
            )
        )
    path = tmp_path / "predictions.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def run(tmp_path, history, out, *extra, missing=frozenset()):
    args = ["eval", "run", "--episodes", DEMO, "--predictions", str(predictions(tmp_path, missing))]
    return main([*args, "--history", history, "-o", str(out), "--no-progress", *extra])


def records(path):
    return read_results(path).records


def test_own_history_stops_each_episode_at_its_first_mismatch(tmp_path, capsys):
    out = tmp_path / "own.jsonl"
    assert run(tmp_path, "own", out) == 0
    assert (
        "3 episodes, 19 steps with own history (9 run, 0 already done, 10 not reached"
        in capsys.readouterr().out
    )
    got = records(out)
    assert sorted(got) == ["20001/0", "20001/1", "20001/2", "20001/3", "20002/0"] + [
        f"20003/{i}" for i in range(4)
    ]
    assert got["20001/3"]["stopped"] and got["20002/0"]["stopped"] and not got["20001/2"]["stopped"]
    # Step 2 saw the agent's own answers to steps 0 and 1, not the recorded history.
    assert got["20001/2"]["history"] == ["mine:20001/0", "mine:20001/1"]
    assert got["20001/2"]["history_own"] == [True, True]
    assert read_results(out).header["history"] == "own"

    metrics = own_history_metrics(got.values())
    assert metrics["episodes"] == 3 and metrics["task_success"] == pytest.approx(1 / 3)
    assert metrics["progress"] == pytest.approx((3 / 9 + 0 / 6 + 4 / 4) / 3)
    assert metrics["steps_to_first_error"] == {"0": 1, "3": 1, "none": 1}
    first_types = Counter(got[i]["gold"]["action_type"] for i in ("20001/3", "20002/0"))
    assert metrics["first_error_by_type"] == dict(first_types)
    low, high = metrics["task_success_ci95"]
    assert 0.0 <= low <= 1 / 3 <= high <= 1.0


def test_own_patched_goes_on_with_the_gold_in_place_of_a_mismatch(tmp_path, capsys):
    out = tmp_path / "patched.jsonl"
    assert run(tmp_path, "own-patched", out) == 0
    got = records(out)
    assert len(got) == 19 and not any(r["stopped"] for r in got.values())
    steps = {s.step_id: s for s in read_steps(DEMO)}
    history = got["20001/5"]["history"]
    assert history[:3] == ["mine:20001/0", "mine:20001/1", "mine:20001/2"]
    assert history[3] == steps["20001/3"].gold.description  # the gold took the mismatch's place
    assert history[4] == "mine:20001/4"
    assert got["20001/5"]["history_own"] == [True, True, True, False, True]
    metrics = own_history_metrics(got.values())
    assert metrics["task_success"] == pytest.approx(1 / 3)
    assert metrics["progress"] == pytest.approx((3 / 9 + 0 / 6 + 4 / 4) / 3)
    assert sum(r["verdict"]["correct"] for r in got.values()) == 17


def test_a_failed_request_ends_its_episode_with_an_error_verdict(tmp_path):
    out = tmp_path / "own.jsonl"
    assert run(tmp_path, "own", out, missing=frozenset({"20003/2"})) == 0
    got = records(out)
    assert got["20003/2"]["error"]["kind"] == "bad_response" and got["20003/2"]["stopped"]
    assert "20003/3" not in got
    assert own_history_metrics(got.values())["task_success"] == 0.0


def test_resume_in_another_history_mode_is_refused(tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    assert run(tmp_path, "own", out) == 0
    assert run(tmp_path, "gold", out) == 2
    assert "history: file has 'own', this run has 'gold'" in capsys.readouterr().err


def test_report_shows_own_history_against_teacher_forcing(tmp_path, capsys):
    gold, own = tmp_path / "gold.jsonl", tmp_path / "own.jsonl"
    assert run(tmp_path, "gold", gold) == 0 and run(tmp_path, "own", own) == 0
    report = tmp_path / "report"
    assert main(["eval", "report", str(own), "--against", str(gold), "-o", str(report)]) == 0
    data = json.loads((report / "metrics.json").read_text())["own_history"]
    # Teacher forcing: 17 of 19 steps right, one episode (20003) fully right; own history: same success here.
    assert data["against"]["teacher_forced_sr"] == pytest.approx(17 / 19)
    assert data["against"]["teacher_forced_episode_success"] == pytest.approx(1 / 3)
    assert data["against"]["own_progress"] == pytest.approx((3 / 9 + 0 + 1) / 3)
    md = (report / "report.md").read_text()
    assert "## Own history (`own`)" in md and "Teacher-forced vs own history (3 shared episodes)" in md
    assert (report / "plots" / "own_progress.png").stat().st_size > 1000
    # the own-history section is this run's headline: right after the headline table, not at the bottom
    page = (report / "report.html").read_text()
    assert page.index("<h2>Own history") < page.index("<h2>Per action type") < page.index("<h2>Failed")
    assert md.index("## Own history") < md.index("## Per action type")
    assert main(["eval", "report", str(gold), "--against", str(own), "-o", str(tmp_path / "x")]) == 2


def test_describe_action_uses_the_answers_description_else_its_type_label():
    labels = {"click": "点击", "type": "输入", "swipe": "滑动", "back": "回退"}
    assert (
        describe_action(
            parse_action(
                {"action_type": "back", "action_parameter": {"back": ""}, "action_description": "返回上页"}
            )
        )
        == "返回上页"
    )
    click = parse_action(
        {"action_type": "click", "action_parameter": {"click": "0,0,100,40"}, "action_description": ""}
    )
    assert describe_action(click, labels) == "点击 (50,20)"
    typed = parse_action(
        {"action_type": "type", "action_parameter": {"type": "充电宝"}, "action_description": ""}
    )
    assert describe_action(typed, labels) == "输入充电宝"
    swipe = parse_action(
        {"action_type": "swipe", "action_parameter": {"swipe": "500,1500,500,500"}, "action_description": ""}
    )
    assert describe_action(swipe, labels) == "滑动 up"
    assert (
        describe_action(
            parse_action({"action_type": "back", "action_parameter": {"back": ""}, "action_description": ""}),
            labels,
        )
        == "回退"
    )


def test_replay_ui_shows_the_history_each_step_saw_and_where_it_stopped(tmp_path):
    from ui.replay import load_replay
    from ui.views import run_panel

    out = tmp_path / "own.jsonl"
    assert run(tmp_path, "own", out) == 0
    data = load_replay(DEMO, out)
    run_ = data.runs[0]
    seen = run_panel(run_, run_.record("20001/2"), "red")
    assert "**History this step saw:** mine:20001/0 (own) → mine:20001/1 (own)" in seen
    assert "The episode stopped here" in run_panel(run_, run_.record("20001/3"), "red")
    assert "not reached: its episode stopped" in run_panel(run_, None, "red")
    # A record without token usage: the latency line is closed italics, not `_latency 0.000 s; _`.
    assert seen.rstrip().endswith("_latency 0.000 s_")


@pytest.mark.slow
@pytest.mark.parametrize("history", ["own", "own-patched"])
def test_kill_9_mid_run_then_resume_gives_the_same_episode_metrics(tmp_path, capsys, history):
    from eval.testing.stub_server import Faults, StubServer, render_reply, scripted_replies, step_key
    from tests.helpers.eval import kill_eval_mid_run, many_episodes

    episodes = many_episodes(tmp_path / "episodes", 12, 5)
    steps = read_steps(episodes)
    # Gold answers, except `wait` at each episode's third step for every third episode.
    replies = {
        step_key(s.task, s.history, s.app): render_reply(
            WAIT if s.index == 2 and int(s.episode_id) % 3 == 0 else s.gold.to_json()
        )
        for s in steps
    }
    whole, killed = tmp_path / "whole.jsonl", tmp_path / "killed.jsonl"
    with StubServer(scripted_replies(replies), faults=Faults(latency_s=0.05)) as server:
        args = ["--episodes", episodes, "--base-url", server.base_url, "--model", "stub-model"]
        args += ["--no-progress", "--concurrency", "3", "--history", history]
        assert main(["eval", "run", *map(str, args), "-o", str(whole)]) == 0
        kill_eval_mid_run(args, killed, after_lines=15)
        interrupted = len(read_results(killed).records)
        assert 0 < interrupted < len(records(whole))
        capsys.readouterr()
        assert main(["eval", "run", *map(str, args), "-o", str(killed)]) == 0
        assert f"{interrupted} already done" in capsys.readouterr().out

    def comparable(path):
        return own_history_metrics(records(path).values())

    assert sorted(records(killed)) == sorted(records(whole))
    assert comparable(killed) == comparable(whole)
    assert comparable(whole)["task_success"] == pytest.approx(8 / 12)  # episodes 102, 105, 108, 111 fail


def test_rescore_refuses_a_protocol_that_would_change_the_trajectory(tmp_path, capsys):
    steps = {s.step_id: s for s in read_steps(DEMO)}
    click = next(s for s in steps.values() if s.gold.action_type == "click" and s.episode_id == "20003")
    x1, y1, x2, y2 = click.gold.box
    # A tap just right of the gold box: wrong under `box` (outside), right under `aitw` (enlarged box).
    near = {
        "action_type": "click",
        "action_parameter": {"click": f"{x2 + 4},{y1},{x2 + 8},{y2}"},
        "action_description": "near",
    }
    rows = []
    for step in read_steps(DEMO):
        wire = near if step.step_id == click.step_id else step.gold.to_json()
        rows.append(json.dumps({"step_id": step.step_id, "raw": f"<answer>{json.dumps(wire)}</answer>"}))
    pred = tmp_path / "p.jsonl"
    pred.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "own.jsonl"
    args = ["eval", "run", "--episodes", DEMO, "--predictions", str(pred), "--history", "own", "-o", str(out)]
    assert main([*args, "--no-progress"]) == 0
    assert records(out)[click.step_id]["stopped"]
    capsys.readouterr()
    assert (
        main(["eval", "rescore", str(out), "--protocol", "box", "aitw", "-o", str(tmp_path / "t.json")]) == 0
    )
    table = json.loads((tmp_path / "t.json").read_text())["protocols"]
    assert "refused" not in table["box"]
    assert (
        f"step {click.step_id} was wrong under the run's protocol and would be right under 'aitw'"
        in (table["aitw"]["refused"])
    )
