"""`eval rescore` and the per-protocol table of `eval report`."""

from __future__ import annotations

import json
import re

import pytest

from actions.protocols import PROTOCOLS
from phone_r1.cli import main as cli_main
from tests.helpers.eval import HAND_EPISODES, HAND_PREDICTIONS, predictions_file, write_episodes


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rescore")
    episodes = write_episodes(tmp / "episodes", HAND_EPISODES)
    # Every click step gets candidate and UI boxes (its gold box and a banner), as an importer writes them.
    for step in episodes.glob("*/step_*.json"):
        record = json.loads(step.read_text(encoding="utf-8"))
        if record["output"]["action_type"] in ("click", "long_click"):
            box = [
                int(v)
                for v in record["output"]["action_parameter"][record["output"]["action_type"]].split(",")
            ]
            record["context"] = {"candidate_boxes": [box], "ui_boxes": [box, [0, 0, 120, 10]]}
        elif record["output"]["action_type"] == "open_app":
            record["context"] = {"candidate_boxes": [[10, 10, 30, 30]]}  # the app's launcher icon
        step.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    out = tmp / "run.jsonl"
    pred = predictions_file(tmp / "pred.jsonl", HAND_PREDICTIONS)
    args = [
        "eval",
        "run",
        "--episodes",
        str(episodes),
        "--predictions",
        str(pred),
        "-o",
        str(out),
        "--no-progress",
    ]
    assert cli_main(args) == 0
    return tmp, episodes, out


def test_rescore_prints_a_column_per_protocol_and_writes_json(run, capsys):
    tmp, episodes, out = run
    target = tmp / "table.json"
    assert cli_main(["eval", "rescore", str(out), "--episodes", str(episodes), "-o", str(target)]) == 0
    printed = capsys.readouterr().out
    first = printed.splitlines()[0].split()
    assert first == ["metric", *PROTOCOLS]
    for label in ("SR", "TM", "GR", "episode success", "steps counted"):
        assert label in printed
    table = json.loads(target.read_text(encoding="utf-8"))["protocols"]
    assert list(table) == list(PROTOCOLS)
    # The hand run has one click step; it carries candidate and UI boxes, so nothing refuses.
    assert all("refused" not in v for v in table.values()), table
    # gui-r1 leaves back / wait / finish steps out, ui-r1 counts only five types.
    assert table["gui-r1"]["n_steps"] < table["box"]["n_steps"]


def test_a_protocol_missing_context_is_refused_naming_the_step(run, capsys):
    tmp, _, out = run
    # Without --episodes the steps carry no context.
    assert cli_main(["eval", "rescore", str(out), "--protocol", "androidcontrol-qwen", "box"]) == 0
    printed = capsys.readouterr().out
    # The first click step names the key (an open_app step reads missing candidate boxes as []).
    refusal = r"androidcontrol-qwen: step \S+: protocol 'androidcontrol-qwen' needs context\.candidate_boxes"
    assert re.search(refusal, printed), printed


def test_unknown_protocol_lists_the_known_ones(run, capsys):
    _, _, out = run
    assert cli_main(["eval", "rescore", str(out), "--protocol", "nope"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and all(name in err for name in PROTOCOLS)


def test_own_history_runs_are_rejudged_only_where_the_trajectory_stays(run, capsys):
    tmp, episodes, out = run
    lines = out.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0]) | {"history": "own"}
    own = tmp / "own.jsonl"
    own.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", encoding="utf-8")
    # Under the run's own protocol every verdict stays as recorded: nothing is refused.
    assert cli_main(["eval", "rescore", str(own), "--protocol", "box"]) == 0
    assert "refused" not in capsys.readouterr().out
    table = tmp / "own-table.json"
    assert cli_main(["eval", "rescore", str(own), "--episodes", str(episodes), "-o", str(table)]) == 0
    rows = json.loads(table.read_text(encoding="utf-8"))["protocols"]
    # A protocol judging some recorded step otherwise is refused, naming the step (its trajectory would
    # have been another); every other one is scored.
    refused = {name: row["refused"] for name, row in rows.items() if "refused" in row}
    for reason in refused.values():
        assert "'own'-history run: step " in reason or "needs context" in reason
    assert "box" not in refused


def test_report_has_the_protocol_table(run):
    tmp, episodes, out = run
    report = tmp / "report"
    assert cli_main(["eval", "report", str(out), "-o", str(report), "--episodes", str(episodes)]) == 0
    md = (report / "report.md").read_text(encoding="utf-8")
    assert "Per protocol" in md
    for name, protocol in PROTOCOLS.items():
        assert f"| {name} |" in md and protocol.differs_from_box in md
    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["protocols"]) == set(PROTOCOLS)


def test_eval_run_refuses_up_front_when_a_step_lacks_context(tmp_path, capsys):
    episodes = write_episodes(tmp_path / "episodes", HAND_EPISODES)
    pred = predictions_file(tmp_path / "pred.jsonl", HAND_PREDICTIONS)
    out = tmp_path / "run.jsonl"
    args = ["eval", "run", "--episodes", str(episodes), "--predictions", str(pred), "-o", str(out)]
    assert cli_main([*args, "--no-progress", "--protocol", "androidcontrol-qwen"]) == 2
    # Step 1/0 opens an app (read with no candidate boxes, as the source does); step 1/1 is a click.
    assert "step 1/1: protocol 'androidcontrol-qwen' needs context.candidate_boxes" in capsys.readouterr().err
    assert not out.exists()  # refused before any step was answered


@pytest.mark.parametrize("name", list(PROTOCOLS))
def test_eval_run_accepts_every_registered_protocol(run, name):
    tmp, episodes, _ = run
    out = tmp / f"run-{name}.jsonl"
    pred = tmp / "pred.jsonl"
    args = [
        "eval",
        "run",
        "--episodes",
        str(episodes),
        "--predictions",
        str(pred),
        "-o",
        str(out),
        "--no-progress",
    ]
    assert cli_main([*args, "--protocol", name]) == 0
    assert json.loads(out.read_text(encoding="utf-8").splitlines()[0])["protocol"] == name


def test_report_under_a_context_protocol_reads_the_episodes(run, capsys):
    tmp, episodes, out = run
    target = tmp / "report-qwen"
    assert cli_main(["eval", "report", str(out), "-o", str(target), "--protocol", "androidcontrol-qwen"]) == 2
    assert "needs context.candidate_boxes" in capsys.readouterr().err
    args = ["eval", "report", str(out), "-o", str(target), "--protocol", "androidcontrol-qwen", "--episodes"]
    assert cli_main([*args, str(episodes)]) == 0
    metrics = json.loads((target / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["protocol"] == "androidcontrol-qwen"
    assert metrics["sr"] == metrics["protocols"]["androidcontrol-qwen"]["sr"]
    assert cli_main(["eval", "compare", str(out), str(out), "--protocol", "agentcpm"]) == 2
    assert "needs context.ui_boxes" in capsys.readouterr().err


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_run_report_and_rescore_give_one_sr_per_protocol(run, protocol, capsys):
    """One denominator rule per protocol: the SR `eval run` prints, `eval report` writes and `eval rescore`
    tables agree, unreadable answers included (here on an open_app step, which some protocols drop)."""
    tmp, episodes, _ = run
    answers = {**HAND_PREDICTIONS, "1/0": "I don't know", "3/0": "<answer>{broken"}
    pred = predictions_file(tmp / f"pred-{protocol}.jsonl", answers)
    out = tmp / f"one-sr-{protocol}.jsonl"
    args = ["eval", "run", "--episodes", str(episodes), "--predictions", str(pred), "-o", str(out)]
    assert cli_main([*args, "--no-progress", "--protocol", protocol]) == 0
    printed = re.search(r"SR (\S+);", capsys.readouterr().out).group(1)
    report = tmp / f"report-{protocol}"
    assert cli_main(["eval", "report", str(out), "-o", str(report)]) == 0
    reported = json.loads((report / "metrics.json").read_text(encoding="utf-8"))["sr"]
    table = tmp / f"rescore-{protocol}.json"
    rescore = ["eval", "rescore", str(out), "--episodes", str(episodes), "--protocol", protocol]
    assert cli_main([*rescore, "-o", str(table)]) == 0
    rescored = json.loads(table.read_text(encoding="utf-8"))["protocols"][protocol]["sr"]
    assert reported == rescored
    assert printed == ("n/a" if reported is None else f"{reported:.4f}")


def test_each_protocol_s_own_figures_are_shown_under_their_own_names(run, capsys):
    tmp, episodes, out = run
    table = tmp / "own.json"
    names = ["androidcontrol-osatlas", "gui-r1", "androidcontrol-uis1", "agentcpm-aitz", "box"]
    assert (
        cli_main(
            ["eval", "rescore", str(out), "--episodes", str(episodes), "--protocol", *names, "-o", str(table)]
        )
        == 0
    )
    printed = capsys.readouterr().out
    for row in ("grounding", "all_type", "all_gr", "success_rate", "average_progress", "goal_progress"):
        assert re.search(rf"^{row}\s", printed, flags=re.M), (row, printed)
    entries = json.loads(table.read_text(encoding="utf-8"))["protocols"]
    assert set(entries["androidcontrol-osatlas"]["protocol_metrics"]) == {"grounding"}
    assert set(entries["agentcpm-aitz"]["protocol_metrics"]) == {"success_rate", "goal_progress"}
    assert entries["box"]["protocol_metrics"] == {}
    report = tmp / "own-report"
    assert (
        cli_main(
            [
                "eval",
                "report",
                str(out),
                "--protocol",
                "androidcontrol-qwen",
                "--episodes",
                str(episodes),
                "-o",
                str(report),
            ]
        )
        == 0
    )
    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["protocol_metrics"]) == {"click_match_acc", "error_num"}
    markdown = (report / "report.md").read_text(encoding="utf-8")
    assert "The source's own figures (androidcontrol-qwen)" in markdown and "| click_match_acc |" in markdown
    assert "click_match_acc" in (report / "report.html").read_text(encoding="utf-8")


def test_rescoring_reads_the_raw_answer_with_the_run_s_agent(run, capsys):
    """A gui-r1 answer with a decimal point: GUI-R1's regular expression reads no point there (so (0, 0)),
    phone-r1's adapter reads the tap. `gui-r1` judges the raw text in the run and in the rescore alike;
    `box` judges the adapter's action."""
    tmp, episodes, _ = run
    raw = "<answer>[{'action': 'click', 'point': [32.5, 36], 'input_text': 'no input text'}]</answer>"
    pred = predictions_file(tmp / "decimal.jsonl", {"1/1": raw})
    out = tmp / "decimal-run.jsonl"
    args = [
        "eval",
        "run",
        "--episodes",
        str(episodes),
        "--predictions",
        str(pred),
        "-o",
        str(out),
        "--limit",
        "2",
    ]
    assert (
        cli_main(
            [*args, "--agent", "gui-r1", "--max-pixels", "1003520", "--protocol", "gui-r1", "--no-progress"]
        )
        == 0
    )
    capsys.readouterr()
    record = next(
        r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines()) if r.get("step_id") == "1/1"
    )
    assert record["prediction"]["action_type"] == "click" and not record["verdict"]["correct"]
    table = tmp / "decimal-rescore.json"
    assert cli_main(["eval", "rescore", str(out), "--protocol", "gui-r1", "box", "-o", str(table)]) == 0
    entries = json.loads(table.read_text(encoding="utf-8"))["protocols"]
    # Under gui-r1 the one click (read at (0, 0)) misses, and an action type with no hit leaves GUI-R1's
    # denominator: nothing is counted. Under box the adapter's tap is inside the gold box.
    assert (entries["gui-r1"]["n_steps"], entries["gui-r1"]["gr"]) == (0, None)
    assert entries["box"]["gr"] == 1.0
