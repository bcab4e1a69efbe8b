"""How a training rank ends (training.distributed.end_rank): groups destroyed, nothing lost, and no
interpreter teardown for gloo's worker threads to race (the SIGABRT of a busy CI machine)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from serving.launch import free_port

ROOT = Path(__file__).resolve().parents[1]

# One rank: a collective, an exit handler, an unflushed line, and an object whose __del__ only runs if
# the interpreter tears its modules down.
RANK = r"""
import atexit, os, sys
import torch, torch.distributed as dist
from training.distributed import end_rank

class Teardown:
    def __del__(self):
        os.write(1, b"interpreter teardown ran\n")

dist.init_process_group("gloo")
out = [torch.empty(1) for _ in range(dist.get_world_size())]
dist.all_gather(out, torch.tensor([float(dist.get_rank())]))
atexit.register(lambda: print("exit handler ran"))
witness = Teardown()
print(f"rank {dist.get_rank()} gathered {[t.item() for t in out]}")  # still in the buffer
end_rank(0)
print("end_rank returned")
"""


def _two_ranks(tmp_path: Path) -> list[subprocess.CompletedProcess[str]]:
    script = tmp_path / "rank.py"
    script.write_text(RANK, encoding="utf-8")
    port = str(free_port())
    procs = []
    for rank in (0, 1):
        env = {
            **os.environ,
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": port,
            "WORLD_SIZE": "2",
            "RANK": str(rank),
            "OMP_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        env.pop("PYTHONUNBUFFERED", None)  # output to a pipe stays in the buffer until flushed
        procs.append(
            subprocess.Popen(
                [sys.executable, str(script)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def test_a_gloo_rank_leaves_after_its_exit_handlers_without_interpreter_teardown(tmp_path):
    for rank, done in enumerate(_two_ranks(tmp_path)):
        assert done.returncode == 0, (rank, done.stderr[-2000:])
        assert f"rank {rank} gathered [0.0, 1.0]" in done.stdout  # buffered output is flushed
        assert "exit handler ran" in done.stdout  # atexit handlers run as on a normal exit
        # No finalization: nothing for a worker thread still releasing tensors to race.
        assert "interpreter teardown ran" not in done.stdout
        assert "end_rank returned" not in done.stdout
        assert "terminate called" not in done.stderr


def test_without_a_process_group_end_rank_returns():
    from training.distributed import end_rank

    assert end_rank(0) is None  # single-process training (and this test process) go on as usual
