"""The whole loop end to end (`phone-r1 demo`) on a small budget, plus stage reruns and their errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eval.results import read_results

ROOT = Path(__file__).resolve().parent.parent


def demo(*argv: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": "true", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "phone_r1.cli", "demo", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_stage_without_its_inputs_says_what_to_run_first(tmp_path):
    done = demo("--stage", "grpo", "--out", str(tmp_path / "empty"))
    assert done.returncode == 1
    assert "--stage sft" in done.stderr


@pytest.mark.slow
def test_demo_end_to_end_small_budget(tmp_path):
    out = tmp_path / "demo"
    done = demo(
        "--out", str(out), "--sft-steps", "3", "--grpo-steps", "1", "--eval-limit", "3", "--max-tokens", "16"
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    # every stage ran and its time was printed
    summary = done.stdout.split("== stage times ==")[-1]
    for stage in ("data", "model", "sft", "grpo", "eval", "report", "ui"):
        assert f"  {stage} " in summary, summary
    assert "replay UI skipped" in done.stdout  # CI=true ends after the report

    # the trained checkpoint carries its pixel budget, both evaluations scored the same held-out steps
    meta = json.loads((out / "grpo" / "phone_r1.json").read_text())
    before, after = read_results(out / "eval" / "before.jsonl"), read_results(out / "eval" / "after.jsonl")
    assert len(before.records) == len(after.records) == 3
    assert set(before.records) == set(after.records)
    assert after.header["max_pixels"] == meta["max_pixels"] == before.header["max_pixels"]
    for record in after.records.values():
        assert record["error"] is None, record["error"]

    # reports exist and the before/after table was printed from them
    assert (out / "report" / "report.html").stat().st_size > 10_000
    assert json.loads((out / "report" / "metrics.json").read_text())
    assert "before vs after training" in done.stdout
    # the trained model also ran on its own history; the report compares it with teacher forcing
    own = read_results(out / "eval" / "after-own.jsonl")
    assert own.header["history"] == "own" and own.records
    assert "teacher-forced vs own history" in done.stdout
    assert "Teacher-forced vs own history" in (out / "report" / "own-history" / "report.md").read_text()

    # a stage reruns alone from the artifacts the others left
    again = demo("--out", str(out), "--stage", "report")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "  report " in again.stdout.split("== stage times ==")[-1]
