"""How a distributed training rank ends: process groups destroyed, and no interpreter teardown racing
gloo's worker threads.

A gloo process group runs its collectives on C++ worker threads. A worker releases a finished
collective's work object (and with it the tensors the collective was given, and, through a barrier's
snapshot, those of the collectives before it) only after the caller has seen the collective complete.
Releasing a tensor that Python has seen takes the GIL. If the main thread has meanwhile returned and
the interpreter has begun finalizing, Python 3.11 ends the worker with `pthread_exit`; its forced
unwinding runs into a `noexcept` destructor (`AsyncAllgatherWork`, reached from `~AsyncBarrierWork`)
and the C++ runtime calls `std::terminate`: "terminate called without an active exception", SIGABRT,
on every rank that loses the race (pytorch/pytorch#190489 reports the same message). A busy machine
makes it likely: the worker is descheduled between the collective's completion and the release.

torch's answer is `destroy_process_group()` before exit, which joins the workers by destroying the
group. Under DeepSpeed that does not happen: ZeRO-3 parameters (`ds_process_group`) and DeepSpeed's
forward-module stack keep the groups alive, and gloo has no shutdown that stops its workers while
references remain. So a gloo rank destroys its groups (trackers closed, NCCL and torch's bookkeeping
done as documented), runs the exit handlers and flushes its streams as a normal exit would, and then
leaves with `os._exit`: with no finalization there is nothing for a worker to race. NCCL groups are
shut down by `destroy_process_group` itself (their watchdog threads are joined), so they exit normally.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
from typing import Any

logger = logging.getLogger(__name__)


def end_rank(exit_code: int = 0, *, accelerator: Any = None) -> None:
    """Finish this process's distributed run; returns only when there is none, or no gloo group.

    `accelerator` (an `accelerate.Accelerator`) closes its trackers and destroys the process group
    (`end_training`); without one the group is destroyed directly.
    """
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return
    backend = str(dist.get_backend())
    dist.barrier()  # no rank leaves while another still talks to it
    if accelerator is not None:
        accelerator.end_training()
    if dist.is_initialized():
        dist.destroy_process_group()
    if "gloo" not in backend:
        return
    logger.debug("gloo rank leaving without interpreter teardown (exit status %d)", exit_code)
    # What a normal exit does before finalizing: exit handlers (atexit's own runner, as multiprocessing
    # uses it), then the log handlers and standard streams.
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(exit_code)
