"""`eval run --agent NAME` end to end: the scripted server answers the gold in each adapter's grammar."""

from __future__ import annotations

import json

import pytest

from agent.adapters import ADAPTERS, make_adapter
from agent.adapters.base import NO_COUNTERPART
from episodes.readers import read_steps
from eval.metrics import compute_metrics
from eval.results import read_results
from eval.testing.stub_replies import adapter_gold_replies
from eval.testing.stub_server import StubServer
from phone_r1.cli import main as cli_main
from tests.helpers.eval import demo_or_generated

PIXELS = ["--min-pixels", "3136", "--max-pixels", "1003520"]


@pytest.fixture(scope="module")
def episodes(tmp_path_factory):
    return demo_or_generated(tmp_path_factory.mktemp("eval_agents"))


@pytest.fixture(scope="module")
def steps(episodes):
    return read_steps(episodes)


def run(episodes, out, source, *extra):
    return cli_main(
        ["eval", "run", "--episodes", str(episodes), "-o", str(out), "--no-progress", "--timeout", "10"]
        + list(source)
        + list(map(str, extra))
    )


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_gold_in_the_adapters_grammar_scores_every_expressible_step(name, episodes, steps, tmp_path, capsys):
    from actions.coords import PixelBudget

    adapter = make_adapter(name, budget=PixelBudget(3136, 1003520))
    expressible = {s.step_id for s in steps if adapter.render(s.gold, s.screen_size) is not None}
    assert len(expressible) >= 8  # taps and back at least, in every grammar
    out = tmp_path / "results.jsonl"
    with StubServer(adapter_gold_replies(steps, adapter)) as server:
        rc = run(episodes, out, ["--base-url", server.base_url, "--model", "stub"], "--agent", name, *PIXELS)
    assert rc == 0, capsys.readouterr().err
    results = read_results(out)
    assert results.header["agent"] == name
    assert len(results.records) == len(steps)
    wrong = {
        sid: r["verdict"]["reason"]
        for sid, r in results.records.items()
        if sid in expressible and not r["verdict"]["correct"]
    }
    assert not wrong
    assert compute_metrics(list(results.records[s] for s in expressible))["sr"] == 1.0
    if name == "phone-r1":
        assert len(expressible) == len(steps)  # the seed format expresses every gold: 100% on the whole set


def test_resized_adapter_without_budget_refuses_to_start(episodes, tmp_path, capsys):
    rc = run(
        episodes, tmp_path / "r.jsonl", ["--predictions", str(tmp_path / "p.jsonl")], "--agent", "qwen2.5-vl"
    )
    assert rc == 2
    assert "--max-pixels" in capsys.readouterr().err
    assert not (tmp_path / "r.jsonl").exists()


def test_unknown_adapter_lists_the_known_ones(episodes, tmp_path, capsys):
    (tmp_path / "p.jsonl").write_text("")
    rc = run(episodes, tmp_path / "r.jsonl", ["--predictions", str(tmp_path / "p.jsonl")], "--agent", "qwen9")
    assert rc == 2
    err = capsys.readouterr().err
    assert "qwen9" in err and "os-atlas" in err and "ui-tars-1.5" in err


def test_help_lists_the_adapters(capsys):
    assert cli_main(["eval", "run", "--help"]) == 0
    out = "".join(capsys.readouterr().out.split())  # argparse wraps lines at hyphens
    for name in ADAPTERS:
        assert name in out


def test_predictions_from_another_harness_are_parsed_by_the_chosen_adapter(episodes, steps, tmp_path, capsys):
    """An AgentCPM-GUI prediction file is scored as it is; statuses without a counterpart are counted."""
    adapter = make_adapter("agentcpm-gui")
    lines = []
    asks = 0
    for step in steps:
        raw = adapter.render(step.gold, step.screen_size)
        if raw is None:
            raw, asks = '{"STATUS":"need_feedback"}', asks + 1
        lines.append(json.dumps({"step_id": step.step_id, "raw": raw}, ensure_ascii=False))
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "r.jsonl"
    assert run(episodes, out, ["--predictions", str(predictions)], "--agent", "agentcpm-gui") == 0
    results = read_results(out)
    metrics = compute_metrics(results)
    assert asks and metrics["sr"] == pytest.approx((len(steps) - asks) / len(steps))
    assert metrics["no_counterpart"] == {"total": asks, "by_kind": {"need_feedback": asks}}
    assert all(
        f"{NO_COUNTERPART}need_feedback" in r["problems"]
        for r in results.records.values()
        if not r["verdict"]["correct"]
    )

    assert cli_main(["eval", "report", str(out), "-o", str(tmp_path / "rep")]) == 0
    report = (tmp_path / "rep" / "report.md").read_text(encoding="utf-8")
    assert "agent adapter: `agentcpm-gui`" in report
    assert f"answers with no counterpart (scored wrong) | {asks}" in report

    # The same answers read by the seed format are unreadable, and compare names both adapters.
    seed = tmp_path / "seed.jsonl"
    assert run(episodes, seed, ["--predictions", str(predictions)]) == 0
    capsys.readouterr()
    assert cli_main(["eval", "compare", str(seed), str(out)]) == 0
    text = capsys.readouterr().out
    assert "(agent phone-r1)" in text and "(agent agentcpm-gui)" in text
    assert all("expected_grammar:phone-r1" in r["problems"] for r in read_results(seed).records.values())


def test_live_step_uses_the_shown_runs_adapter():
    from ui.live import LiveConfig, endpoint_agent

    header = {"agent": "ui-tars-1.0", "coord_space": "norm1000", "min_pixels": 3136, "max_pixels": 1003520}
    agent = endpoint_agent(LiveConfig("http://127.0.0.1:9/v1", "m", None, header))
    assert agent.adapter.name == "ui-tars-1.0"
    agent = endpoint_agent(LiveConfig("http://127.0.0.1:9/v1", "m", None, header, agent="os-atlas"))
    assert agent.adapter.name == "os-atlas"
    assert endpoint_agent(LiveConfig("http://127.0.0.1:9/v1", "m", None, {})).adapter.name == "phone-r1"


def test_stub_server_process_speaks_an_adapters_grammar(episodes, steps, tmp_path):
    """The README tour's run: `python -m eval.testing.stub_server --agent os-atlas`, then
    `eval run --agent os-atlas`."""
    from eval.testing.stub_server import StubServerProcess

    adapter = make_adapter("os-atlas")
    expressible = sum(adapter.render(s.gold, s.screen_size) is not None for s in steps)
    out = tmp_path / "r.jsonl"
    with StubServerProcess(["--episodes", str(episodes), "--agent", "os-atlas"]) as server:
        assert (
            run(episodes, out, ["--base-url", server.base_url, "--model", "stub"], "--agent", "os-atlas") == 0
        )
    assert compute_metrics(read_results(out))["sr"] == pytest.approx(expressible / len(steps))


def test_agent_prompt_with_the_seed_format_is_refused(episodes, tmp_path, capsys):
    (tmp_path / "p.jsonl").write_text("")
    rc = run(
        episodes,
        tmp_path / "r.jsonl",
        ["--predictions", str(tmp_path / "p.jsonl")],
        "--agent-prompt",
        "x.txt",
    )
    assert rc == 2
    assert "--template" in capsys.readouterr().err


def test_live_seed_format_does_not_take_another_agents_space():
    from ui.live import LiveConfig, endpoint_agent

    header = {"agent": "qwen3-vl", "coord_space": "norm999", "template": "qwen3-vl"}
    agent = endpoint_agent(LiveConfig("http://127.0.0.1:9/v1", "m", None, header, agent="phone-r1"))
    assert agent.adapter.name == "phone-r1" and agent.coord_space == "original"


def test_norm999_answers_are_scored_without_reward_errors(episodes, steps, tmp_path, caplog):
    """`--agent qwen3-vl` answers on the 0-999 grid; the partial reward maps that grid back like any other
    space instead of logging a bad-column error on every step."""
    adapter = make_adapter("qwen3-vl")
    out = tmp_path / "results.jsonl"
    with StubServer(adapter_gold_replies(steps, adapter)) as server:
        with caplog.at_level("ERROR"):
            rc = run(episodes, out, ["--base-url", server.base_url, "--model", "stub"], "--agent", "qwen3-vl")
    assert rc == 0
    assert [r for r in caplog.records if r.name.startswith("actions")] == []
    records = read_results(out).records.values()
    assert all(r["reward"] is not None for r in records)


def test_gold_key_presses_an_agent_cannot_say_are_counted_wrong(tmp_path):
    """Home and enter steps stay in the denominator; a seed-format agent cannot say them, AgentCPM-GUI can."""
    from tests.helpers.eval import wire, write_episodes

    episodes = write_episodes(
        tmp_path / "ep",
        [
            (
                "1",
                "设置",
                "回到桌面",
                [
                    wire("click", "10,20,60,50", "点击"),
                    wire("home", "", "回到桌面"),
                    wire("enter", "", "回车"),
                ],
            )
        ],
    )
    seed = tmp_path / "seed.jsonl"
    predictions = tmp_path / "p.jsonl"
    click = (
        '<think>{}</think><answer>{"action_type": "click", "action_parameter": {"click": "30,30"}}</answer>'
    )
    predictions.write_text(
        "".join(json.dumps({"step_id": f"1/{i}", "raw": click}) + "\n" for i in range(3)), encoding="utf-8"
    )
    assert run(str(episodes), seed, ["--predictions", str(predictions)]) == 0
    metrics = compute_metrics(read_results(seed))
    assert metrics["n_steps"] == 3 and metrics["sr"] == pytest.approx(1 / 3)
    assert metrics["gold_no_counterpart"] == {"total": 2, "by_kind": {"enter": 1, "home": 1}}
    assert cli_main(["eval", "report", str(seed), "-o", str(tmp_path / "rep")]) == 0
    report = (tmp_path / "rep" / "report.md").read_text(encoding="utf-8")
    assert "gold steps the agent cannot express (scored wrong) | 2" in report

    cpm = tmp_path / "cpm.jsonl"
    answers = ['{"POINT":[250,125]}', '{"PRESS":"HOME"}', '{"PRESS":"ENTER"}']
    predictions.write_text(
        "".join(json.dumps({"step_id": f"1/{i}", "raw": a}) + "\n" for i, a in enumerate(answers)),
        encoding="utf-8",
    )
    assert run(str(episodes), cpm, ["--predictions", str(predictions)], "--agent", "agentcpm-gui") == 0
    metrics = compute_metrics(read_results(cpm))
    assert metrics["sr"] == 1.0 and metrics["gold_no_counterpart"]["total"] == 0
