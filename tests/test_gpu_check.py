"""scripts/gpu_check.py: refuses clearly without a GPU, and its whole path rehearses on the CPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu_check.py"


def test_without_a_gpu_it_says_so_and_runs_nothing(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible: the refusal path does not apply")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path / "gc")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "no CUDA GPU is visible" in proc.stdout
    assert not (tmp_path / "gc").exists()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_cpu_rehearsal_trains_compares_and_prints_the_summary_twice(tmp_path):
    cmd = [sys.executable, str(SCRIPT), "--device", "cpu", "--steps", "1", "--parity-steps", "2"]
    for _ in range(2):  # safe to run twice: the folder is emptied first
        proc = subprocess.run(
            [*cmd, "--out", str(tmp_path / "gc")], cwd=tmp_path, capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        last = proc.stdout.strip().splitlines()[-1]
        assert last.startswith("gpu-check: ok on cpu; grpo ") and "identical actions 100%" in last, last
    assert (tmp_path / "gc" / "grpo" / "phone_r1.json").is_file() and (
        tmp_path / "gc" / "parity.json"
    ).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gc"]  # nothing written outside --out
