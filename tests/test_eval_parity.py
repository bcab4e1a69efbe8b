"""`phone-r1 eval parity`: figures from answer pairs; transformers serve vs in-process on the tiny model."""

from __future__ import annotations

import json
import re

import pytest

from actions import Back, Click, Swipe
from eval.parity import StepPair, comparable_text, coordinate_drift, format_summary, summarize
from phone_r1.cli import main
from serving.launch import free_port
from tests.helpers.serving import ServeProcess
from tests.helpers.tiny import tiny_model_dir


def pair(step_id: str, a, b, *, raw_a: str = "x", raw_b: str = "x", error_b: str | None = None) -> StepPair:
    return StepPair(step_id, raw_a, raw_b, a, b, error_b=error_b)


def test_drift_is_the_largest_point_distance_in_original_pixels():
    assert (
        coordinate_drift(Click(box=(0, 0, 20, 20)), Click(box=(6, 8, 26, 28))) == 10.0
    )  # centres 10 px apart
    assert coordinate_drift(Swipe(start=(0, 0), end=(0, 100)), Swipe(start=(3, 4), end=(0, 130))) == 30.0
    assert coordinate_drift(Click(box=(0, 0, 2, 2)), Swipe(start=(0, 0), end=(0, 1))) is None  # tap vs swipe
    assert (
        coordinate_drift(Back(), Back()) is None and coordinate_drift(None, Click(box=(0, 0, 1, 1))) is None
    )


def test_comparable_text_drops_control_tokens_and_outer_space():
    assert comparable_text(" ab<|quad_start|><think>x</think>\n") == "ab<think>x</think>"
    assert comparable_text("a b") != comparable_text("ab")


def test_summary_counts_identical_answers_actions_types_and_drift():
    pairs = [
        pair("e/0", Click(box=(0, 0, 20, 20)), Click(box=(0, 0, 20, 20))),
        pair("e/1", Click(box=(0, 0, 20, 20)), Click(box=(6, 8, 26, 28)), raw_b="y"),
        pair("e/2", Click(box=(0, 0, 20, 20)), Click(box=(30, 40, 50, 60)), raw_b="z"),
        pair("e/3", Back(), Swipe(start=(0, 0), end=(0, 50)), raw_b="w"),
        pair("e/4", Back(), None, error_b="timeout: 300 s"),
    ]
    s = summarize(pairs, a="A", b="B")
    assert (s["steps"], s["identical_raw"], s["identical_actions"], s["identical_types"]) == (
        5,
        0.2,
        0.2,
        0.6,
    )
    assert s["errors"] == {"a": 0, "b": 1}
    # Drift over the three tap pairs: 0, 10 and 50 px.
    assert s["drift_px"] == {"steps_with_coordinates": 3, "median": 10.0, "p95": 46.0, "max": 50.0}
    assert [row["step_id"] for row in s["differing_steps"]] == ["e/1", "e/2", "e/3", "e/4"]
    assert s["differing_steps"][-1]["b"] == {"error": "timeout: 300 s"}
    text = format_summary(s)
    assert re.search(r"identical actions +20\.0%", text), text
    assert "median 10.0 px, p95 46.0 px, max 50.0 px" in text


def test_bad_engine_spec_is_a_usage_error(tmp_path, capsys):
    code = main(["eval", "parity", "--episodes", "data/demo/test", "--a", str(tmp_path / "nope"), "--b", "x"])
    assert code == 2
    assert "expected an http(s):// endpoint or a checkpoint folder" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_transformers_serve_and_in_process_agree_on_every_step(tmp_path, capsys):
    port = free_port()
    tiny = tiny_model_dir()
    serve = ["serve", str(tiny), "--engine", "transformers", "--device", "cpu", "--port", str(port)]
    with ServeProcess(serve, port=port, log_path=tmp_path / "serve.log") as server:
        out = tmp_path / "parity.json"
        args = ["eval", "parity", "--episodes", "data/demo/test", "--a", server.base_url, "--b", str(tiny)]
        code = main([*args, "--limit", "6", "--max-tokens", "16", "-o", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    summary = json.loads(out.read_text())
    assert summary["steps"] == 6 and summary["errors"] == {"a": 0, "b": 0}
    # Greedy tokens are the same on every step (the images reached both engines at the same size); the
    # engines only detokenize differently (control tokens kept or skipped, the first token's space).
    assert summary["identical_text"] == 1.0 and summary["identical_actions"] == 1.0, summary
    assert summary["differing_steps"] == []
    assert re.search(r"identical actions +100\.0%", printed), printed
