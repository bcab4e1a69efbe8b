"""scripts/protocol_diff without the official code: every source's generated data imports and runs through
phone-r1, and the comparison counts agreement step by step (the official side needs the user's checkout)."""

from __future__ import annotations

import importlib
import random

import pytest

from actions.protocols import get_protocol
from scripts.protocol_diff import ANDROIDCONTROL_SOURCES, SOURCES
from scripts.protocol_diff.__main__ import compare, main, run_phone_r1
from scripts.protocol_diff.official import load_source


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_generated_case_is_imported_and_scored_by_phone_r1(name, tmp_path):
    source = load_source(name)
    cases = source.generate(random.Random(0), 25, tmp_path)
    assert len(cases) >= 25 and len({c["step_id"] for c in cases}) == len(cases)
    ours = run_phone_r1(source, cases, tmp_path)
    assert set(ours["records"]) == {c["step_id"] for c in cases}
    assert ours["rescore_sr"] == pytest.approx(ours["report_sr"])
    # An official side that agrees everywhere but on one step, which is a float tie.
    official = [
        {"counted": r["verdict"].get("counted", True), "correct": bool(r["verdict"]["correct"])}
        for r in (ours["records"][c["step_id"]] for c in cases)
    ]
    official[0] = {**official[0], "correct": not official[0]["correct"], "tie": True}
    summary = compare(cases, official, ours)
    assert summary["agreement_off_ties"] == 1.0 and summary["ties"] == 1
    if official[0]["counted"]:
        assert len(summary["disagreements"]) == 1


def test_compare_counts_a_step_left_out_by_both_sides_as_agreeing():
    cases = [{"id": "a", "step_id": "1/0", "raw": ""}, {"id": "b", "step_id": "1/1", "raw": ""}]
    ours = {
        "records": {
            "1/0": {"verdict": {"correct": False, "counted": False}, "gold": {"action_type": "open_app"}},
            "1/1": {"verdict": {"correct": True}, "gold": {"action_type": "click"}},
        }
    }
    official = [{"counted": False, "correct": True}, {"counted": True, "correct": False}]
    summary = compare(cases, official, ours)
    assert summary["agreement"] == 0.5 and summary["official_sr"] == 0.0
    assert [row[0]["id"] for row in summary["disagreements"]] == ["b"]


def test_the_official_checkout_must_exist(tmp_path, capsys):
    with pytest.raises(SystemExit) as err:
        main(["aitz", "--official", str(tmp_path / "missing")])
    assert err.value.code == 2 and "expected a checkout folder" in capsys.readouterr().err


@pytest.mark.parametrize("name", ANDROIDCONTROL_SOURCES)
def test_androidcontrol_sources_take_their_own_options(name, capsys):
    # One command for every source: the AndroidControl ones need the test set's JSONL, not --official.
    with pytest.raises(SystemExit) as exc:
        main([name, "--checkout", "nowhere", "--python", "python"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--ac-jsonl" in err and "--official" not in err


@pytest.mark.parametrize("name", ANDROIDCONTROL_SOURCES)
def test_androidcontrol_sources_answer_in_the_grammar_their_protocol_reads(name):
    module = importlib.import_module(f"scripts.protocol_diff.{name}")
    protocol = get_protocol(module.PROTOCOL)
    assert module.AGENTS and set(module.AGENTS) <= set(protocol.raw_agents)
    assert callable(module.make_case) and callable(module.aggregates)
