"""Results read against episodes they were not made on: `eval compare` of two unrelated runs, and
`eval report`, `eval rescore` and `ui` given another `--episodes`. Each is refused with one line and
exit 2 (they used to print "0 shared steps", ignore the episodes, or show another run's Overall table
beside steps that all read "not evaluated")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phone_r1.cli import main
from tests.helpers.ui import SCREEN, make_episodes, make_results


def renamed(src: Path, dst: Path, prefix: str = "9", gold_type: str | None = None) -> Path:
    """A copy of the results file `src` whose step ids live in other episodes (`9101/0`, ...), or, with
    `gold_type`, the same step ids with another gold action."""
    lines = []
    for line in src.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        if obj["kind"] == "step":
            if gold_type:
                obj["gold"] = {"action_type": gold_type, "action_parameter": {gold_type: ""}}
            else:
                obj["step_id"] = prefix + obj["step_id"]
                obj["episode_id"] = prefix + obj["episode_id"]
        lines.append(json.dumps(obj, ensure_ascii=False))
    dst.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dst


@pytest.fixture()
def files(tmp_path):
    root = make_episodes(tmp_path / "eps")
    a = make_results(tmp_path / "a.jsonl")
    lines = [json.loads(line) for line in a.read_text(encoding="utf-8").splitlines()]
    for obj in lines[1:]:
        obj["screen"] = list(SCREEN)  # what `eval report` rescores with
    a.write_text("".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in lines), encoding="utf-8")
    other = renamed(a, tmp_path / "other.jsonl")
    return root, a, other


def one_line(err: str) -> str:
    assert err.count("\n") == 1, err
    return err


def test_compare_of_runs_without_a_shared_step_is_refused(files, capsys):
    _, a, other = files
    assert main(["eval", "compare", str(a), str(other)]) == 2
    err = one_line(capsys.readouterr().err)
    assert "share no step" in err and "run on different episodes" in err and str(other) in err
    # the same step ids with other gold actions are not shared steps either
    wait = renamed(a, a.with_name("wait.jsonl"), gold_type="wait")
    assert main(["eval", "compare", str(a), str(wait)]) == 2
    assert "5 step ids match with other gold actions" in capsys.readouterr().err
    # a run against itself still compares
    assert main(["eval", "compare", str(a), str(a)]) == 0
    assert "5 shared steps" in capsys.readouterr().out


def test_compare_flags_differing_fingerprints_and_golds(files, capsys):
    _, a, _ = files
    lines = a.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    step = json.loads(lines[1])
    step["gold"] = {"action_type": "back", "action_parameter": {"back": ""}}  # 101/0 has another gold in B
    b = a.with_name("b.jsonl")
    b.write_text(
        "\n".join([json.dumps({**header, "episodes_fingerprint": "b" * 16}), json.dumps(step), *lines[2:]])
        + "\n",
        encoding="utf-8",
    )
    a.write_text("\n".join([json.dumps({**header, "episodes_fingerprint": "a" * 16}), *lines[1:]]) + "\n")
    assert main(["eval", "compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "4 shared steps" in out
    assert f"warning: A and B were run on different episodes (fingerprints {'a' * 16} and {'b' * 16})" in out
    assert "warning: 1 step ids are in both with different gold actions; they are left out" in out


@pytest.mark.parametrize("command", ["report", "rescore"])
def test_report_and_rescore_refuse_episodes_the_run_was_not_made_on(files, command, tmp_path, capsys):
    root, a, other = files
    extra = ["-o", str(tmp_path / "out")] if command == "report" else []
    assert main(["eval", command, str(other), "--episodes", str(root), *extra]) == 2
    err = one_line(capsys.readouterr().err)
    assert f"{other}: 5 of its 5 recorded steps are not steps of {root}" in err
    assert "first: 9101/0, 9101/1, 9101/2" in err and "pass the episodes this run was made on" in err
    assert not (tmp_path / "out" / "report.html").exists()
    # the run's own episodes pass
    assert main(["eval", command, str(a), "--episodes", str(root), *extra]) == 0


def test_ui_refuses_results_of_other_episodes_before_launch(files, capsys, monkeypatch):
    import ui.app

    # Were it not refused, the app must not block the test: launching returns at once.
    monkeypatch.setattr(ui.app, "launch_app", lambda *args, **kwargs: None)
    root, a, other = files
    assert main(["ui", "--episodes", str(root), "--results", str(a), "--results-b", str(other)]) == 2
    err = one_line(capsys.readouterr().err)
    assert f"phone-r1 ui: {other}: 5 of its 5 recorded steps are not steps of {root}" in err
