"""Run a server process: wait until `/health` answers, print how to call it, stop it cleanly.

Standard library only: this runs in the `phone-r1 serve` process, whose job is to supervise the
server (vLLM or transformers) running in a child process.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

logger = logging.getLogger(__name__)

STOP_GRACE_S = 20.0


class ServerFailed(RuntimeError):
    """The server exited or never became healthy."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now (for a server started next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_health(url: str, process: subprocess.Popen, timeout_s: float, poll_s: float = 0.5) -> None:
    """Return once GET `url` answers 200; raise `ServerFailed` if the process exits or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        code = process.poll()
        if code is not None:
            raise ServerFailed(f"server exited with code {code} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise ServerFailed(f"{url} did not answer 200 within {timeout_s:g} s")
        time.sleep(poll_s)


def stop(process: subprocess.Popen, grace_s: float = STOP_GRACE_S) -> int:
    """SIGINT (servers shut down gracefully on it), then SIGKILL to the process group after `grace_s`."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            logger.warning("server %d ignored SIGINT for %g s; killing it", process.pid, grace_s)
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=grace_s)
    return process.returncode


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def supervise(
    cmd: Sequence[str],
    *,
    health_url: str,
    banner: str,
    env: Mapping[str, str] | None = None,
    ready_timeout_s: float = 900.0,
) -> int:
    """Start `cmd`, print `banner` once healthy, then wait; Ctrl-C or SIGTERM stops the server.

    Returns 0 after a requested stop, the server's exit code if it stops by itself, 1 if it never
    became healthy.
    """
    logger.info("starting: %s", shlex.join(cmd))
    # Its own session: a terminal's Ctrl-C reaches only us, and we stop the server in order.
    process = subprocess.Popen(list(cmd), env=dict(env) if env is not None else None, start_new_session=True)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    # Stated, not inherited: a process started as a background job (`cmd &`, nohup, a test runner's
    # child) begins with SIGINT ignored, and Python keeps it ignored, so `stop()` would wait out its
    # grace period and kill us without stopping the server in order.
    previous_int = signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        wait_for_health(health_url, process, ready_timeout_s)
        print(banner, flush=True)
        return process.wait()
    except ServerFailed as exc:
        print(f"phone-r1 serve: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("phone-r1 serve: stopping the server", file=sys.stderr, flush=True)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
        stop(process)
