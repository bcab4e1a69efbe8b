"""A real two-process GRPO run under torchrun on CPU (gloo): both ranks end with the same weights.

Both ranks also account for the images of every batch they build (training.image_accounting).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from serving.launch import free_port
from tests.helpers.tiny import JudgeServer, tiny_model_dir, write_episodes
from tests.test_training_grpo import grpo_args

# Each rank trains through the same entry point as the CLI, then fingerprints its own weights.
RANK_SCRIPT = """
import hashlib, json, os, sys
from pathlib import Path
import torch
torch.set_num_threads(1)
from training.run import plan, train
trainer = train(plan("grpo", sys.argv[2:]))
model = trainer.accelerator.unwrap_model(trainer.model)
digest = hashlib.sha256()
for name, tensor in sorted(model.state_dict().items()):
    digest.update(name.encode())
    digest.update(tensor.detach().float().cpu().numpy().tobytes())
rank = int(os.environ["RANK"])
Path(sys.argv[1], f"rank{rank}.json").write_text(json.dumps({
    "hash": digest.hexdigest(), "step": trainer.state.global_step,
    "world": trainer.accelerator.num_processes, "backend": str(torch.distributed.get_backend()),
    "image_tokens_max": [e["images/tokens_per_sample_max"] for e in trainer.state.log_history
                         if "images/tokens_per_sample_max" in e],
}))
from training.distributed import end_rank
end_rank(0, accelerator=trainer.accelerator)  # as `phone-r1 train` ends
"""


def _initial_hash() -> str:
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(tiny_model_dir())
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()


@pytest.mark.slow
def test_torchrun_two_processes_agree_on_final_weights(tmp_path):
    # First steps show one screen, later steps two: each rank accounts for its own mixed share.
    toy = write_episodes(tmp_path / "toy", n_episodes=2, steps=2, single_first=True)
    script = tmp_path / "rank_train.py"
    script.write_text(RANK_SCRIPT)
    reports = tmp_path / "reports"
    reports.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    with JudgeServer() as judge:
        # 2 per device x 2 processes x 1 step per generation = 4, divisible by num_generations = 2.
        args = grpo_args(tmp_path / "out", toy, judge, "--max_steps", "2", "--save_steps", "100")
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(free_port()),
            str(script),
            str(reports),
            *args,
        ]
        proc = subprocess.run(
            cmd, cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True, text=True, timeout=600
        )
    assert proc.returncode == 0, proc.stderr[-4000:]
    ranks = [json.loads((reports / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["world"] == 2 and r["step"] == 2 and r["backend"] == "gloo" for r in ranks), ranks
    assert ranks[0]["hash"] == ranks[1]["hash"], "ranks disagree on the final weights"
    # Image accounting ran on every rank and step (a mismatch would have stopped the run).
    assert all(len(r["image_tokens_max"]) == 2 and min(r["image_tokens_max"]) > 0 for r in ranks), ranks
    assert ranks[0]["hash"] != _initial_hash(), "weights did not change"
    assert (tmp_path / "out" / "phone_r1.json").is_file()
