"""Benchmarks still run end to end on a tiny budget and end with their headline line."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_benchmark(script: str, *args: str) -> tuple[str, str]:
    """Run `benchmarks/SCRIPT ARGS` from the repository root; its stdout and last line (it must exit 0)."""
    out = subprocess.run(
        [sys.executable, f"benchmarks/{script}", *args], cwd=ROOT, capture_output=True, text=True, timeout=280
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout, out.stdout.strip().splitlines()[-1]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_eval_throughput_benchmark_runs_and_scores_every_step():
    stdout, last = run_benchmark(
        "eval_throughput.py", "--steps", "24", "--latency", "0.01", "--concurrency", "8", "--repeat", "2"
    )
    assert re.fullmatch(r"eval_speedup: \d+\.\d+", last)
    assert "one at a time (seed 001 style)" in stdout and "24 answered" in stdout
    assert "24 scored correct" in stdout  # every gold answer matched to its step and scored right
    assert "median of 2 runs" in stdout
    # Own-history mode on the same gold answers: every episode runs to its end, every step right.
    assert re.search(
        r"own-history eval \(--history own\), \d+ episodes, up to 8 at once: .* 24 of 24 steps right",
        stdout,
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_rescore_benchmark_judges_every_step_under_every_protocol():
    stdout, last = run_benchmark("rescore.py", "--steps", "300")
    assert re.fullmatch(r"rescore_all_seconds: \d+\.\d+", last)
    assert "300 steps x 11 protocols" in stdout and "refused" not in stdout


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_import_scale_benchmark_runs_and_ends_with_its_ratio():
    stdout, last = run_benchmark("import_scale.py", "--episodes", "40")
    assert re.fullmatch(r"import_peak_rss_ratio: \d+\.\d+", last)
    assert "40 episodes    240 steps" in stdout and "4 episodes     24 steps" in stdout


# The README's other benchmark lines, each on its smallest budget.
@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("script", "args", "headline"),
    [
        ("rewards.py", ["--n", "200", "--repeats", "1", "--step-steps", "0"], r"rewards_per_second: \d+"),
        ("dataset_scale.py", ["--sizes", "100,200"], r"rss_ratio_0k_to_0k: \d+\.\d+"),
        ("train_step.py", ["--steps", "2", "--rounds", "1", "--threads", "1"], r"train_step_ratio: \d+\.\d+"),
    ],
    ids=["rewards", "dataset_scale", "train_step"],
)
def test_readme_benchmarks_run_on_a_small_budget(script, args, headline):
    _, last = run_benchmark(script, *args)
    assert re.fullmatch(headline, last), last
