"""Supervising a server process, and the served-name routing of the transformers entry (no model)."""

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from serving.launch import free_port, supervise
from serving.transformers_server import alias_model, rewrite_model


def test_server_that_exits_early_is_reported(capsys):
    code = supervise(
        [sys.executable, "-c", "raise SystemExit(3)"],
        health_url=f"http://127.0.0.1:{free_port()}/health",
        banner="READY",
        ready_timeout_s=30,
    )
    assert code == 1
    captured = capsys.readouterr()
    assert "exited with code 3" in captured.err and "READY" not in captured.out


def test_server_that_never_gets_healthy_is_stopped(capsys, tmp_path):
    import psutil

    pid_file = tmp_path / "pid"
    child = (
        f"import os, pathlib, time\npathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))\n"
        "time.sleep(60)"
    )
    code = supervise(
        [sys.executable, "-c", child],
        health_url=f"http://127.0.0.1:{free_port()}/health",
        banner="READY",
        ready_timeout_s=3,
    )
    assert code == 1
    assert "did not answer" in capsys.readouterr().err
    assert not psutil.pid_exists(int(pid_file.read_text()))  # supervise stopped (and reaped) what it started


def test_healthy_server_gets_the_banner_and_its_exit_code_is_returned(capsys):
    port = free_port()
    child = (
        "import http.server, threading\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200); self.end_headers(); self.wfile.write(b'ok')\n"
        "        threading.Thread(target=server.shutdown).start()\n"
        "    def log_message(self, *a): pass\n"
        f"server = http.server.HTTPServer(('127.0.0.1', {port}), H)\n"
        "server.serve_forever()\nraise SystemExit(0)"
    )
    code = supervise(
        [sys.executable, "-c", child],
        health_url=f"http://127.0.0.1:{port}/health",
        banner="READY",
        ready_timeout_s=30,
    )
    assert code == 0
    assert "READY" in capsys.readouterr().out


def test_rewrite_model_routes_the_served_name_only():
    body = json.dumps({"model": "phone-r1", "messages": []}).encode()
    assert json.loads(rewrite_model(body, "phone-r1", "/ckpt"))["model"] == "/ckpt"
    assert json.loads(rewrite_model(b'{"messages": []}', "phone-r1", "/ckpt"))["model"] == "/ckpt"
    other = json.dumps({"model": "other"}).encode()
    assert rewrite_model(other, "phone-r1", "/ckpt") == other  # the server then answers 400
    assert rewrite_model(b"not json", "phone-r1", "/ckpt") == b"not json"


def test_alias_model_replays_the_rewritten_body_with_its_length():
    seen = {}

    async def app(scope, receive, send):
        message = await receive()
        seen["body"] = message["body"]
        seen["length"] = dict(scope["headers"])[b"content-length"]

    body = json.dumps({"model": "phone-r1"}).encode()
    chunks = [
        {"type": "http.request", "body": body[:5], "more_body": True},
        {"type": "http.request", "body": body[5:], "more_body": False},
    ]

    async def receive():
        return chunks.pop(0)

    scope = {"type": "http", "method": "POST", "headers": [(b"content-length", str(len(body)).encode())]}
    asyncio.run(alias_model(app, "phone-r1", "/abs/ckpt")(scope, receive, None))
    assert json.loads(seen["body"]) == {"model": "/abs/ckpt"}
    assert seen["length"] == str(len(seen["body"])).encode()


def test_a_supervisor_started_with_sigint_ignored_still_stops_on_sigint():
    # A background job starts with SIGINT ignored; `stop()` (the demo's, the tests') sends SIGINT and
    # waited 30 s before killing such a `phone-r1 serve`, leaving its server unstopped in order.
    port = free_port()
    child = (
        "import http.server, signal\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)  # as uvicorn installs its own\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200); self.end_headers(); self.wfile.write(b'ok')\n"
        "    def log_message(self, *a): pass\n"
        f"server = http.server.HTTPServer(('127.0.0.1', {port}), H)\n"
        "try:\n    server.serve_forever()\nexcept KeyboardInterrupt:\n    pass"
    )
    script = (
        "import sys\nfrom serving.launch import supervise\n"
        f"raise SystemExit(supervise([sys.executable, '-c', {child!r}], "
        f"health_url='http://127.0.0.1:{port}/health', banner='READY', ready_timeout_s=30))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert proc.stdout.readline().strip() == "READY"
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert time.monotonic() - start < 15
        assert "stopping the server" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
