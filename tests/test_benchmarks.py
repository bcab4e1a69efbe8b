"""Benchmarks still run end to end on a tiny budget and end with their headline line."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_eval_throughput_benchmark_runs_and_scores_every_step():
    out = subprocess.run(
        [
            sys.executable,
            "benchmarks/eval_throughput.py",
            "--steps",
            "24",
            "--latency",
            "0.01",
            "--concurrency",
            "8",
            "--repeat",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert re.fullmatch(r"eval_speedup: \d+\.\d+", lines[-1])
    assert "one at a time (seed 001 style)" in out.stdout and "24 answered" in out.stdout
    assert "24 scored correct" in out.stdout  # every gold answer matched to its step and scored right
    assert "median of 2 runs" in out.stdout
    # Own-history mode on the same gold answers: every episode runs to its end, every step right.
    assert re.search(
        r"own-history eval \(--history own\), \d+ episodes, up to 8 at once: .* 24 of 24 steps right",
        out.stdout,
    )
