"""The replay app as users reach it: `phone-r1 ui` in its own process on 127.0.0.1, driven over HTTP
with `gradio_client`, probed for files outside its folders and for routes without a login, and opened
in headless Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import psutil
import pytest
from PIL import Image

from serving.launch import free_port
from tests.helpers.ui import make_episodes, make_results
from ui.overlay import GOLD_COLOR, LIVE_COLOR, PRED_COLOR

pytestmark = pytest.mark.slow

AUTH = ("alice", "s3cret:pw")
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`phone-r1 ui` (default host) with two results files, --auth and a live endpoint (stub server)."""
    from episodes.readers import read_steps
    from eval.testing.stub_server import StubServer, gold_replies

    tmp = tmp_path_factory.mktemp("ui")
    root = make_episodes(tmp / "eps")
    (tmp / "secret.txt").write_text("top secret")
    os.symlink(tmp / "secret.txt", root / "101" / "leak.txt")
    make_results(tmp / "runs" / "a.jsonl", model="model-a")
    make_results(tmp / "runs" / "b.jsonl", flip=True, model="model-b")
    stub = StubServer(gold_replies(read_steps(root)), model="stub")
    stub.start()
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "phone_r1.cli",
        "ui",
        "--episodes",
        str(root),
        "--results",
        str(tmp / "runs/a.jsonl"),
        "--results-b",
        str(tmp / "runs/b.jsonl"),
        "--port",
        str(port),
        "--auth",
        ":".join(AUTH),
        "--base-url",
        stub.base_url,
        "--model",
        "stub",
    ]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1,localhost"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"phone-r1 ui exited with {proc.returncode}:\n{proc.stdout.read()}")
            try:
                if httpx.get(url + "/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("phone-r1 ui did not answer within 120 s")
            time.sleep(0.5)
        yield {"url": url, "root": root, "tmp": tmp, "proc": proc, "port": port}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        stub.stop()


def login(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    response = client.post("/login", data={"username": AUTH[0], "password": AUTH[1]})
    assert response.status_code == 200, response.text
    return client


def test_binds_localhost_only_by_default(server):
    listening = [
        c.laddr
        for c in psutil.Process(server["proc"].pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening


def test_every_route_needs_the_login(server):
    url = server["url"]
    shot = server["root"] / "101" / "101_0.png"
    for path in (
        "/config",
        "/gradio_api/info",
        "/gradio_api/openapi.json",
        f"/gradio_api/file={shot}",
        "/gradio_api/queue/data?session_hash=x",
        "/gradio_api/upload_progress?upload_id=x",
    ):
        assert httpx.get(url + path, timeout=10).status_code == 401, path
    for path in ("/gradio_api/queue/join", "/gradio_api/call/next", "/gradio_api/upload"):
        assert httpx.post(url + path, json={}, timeout=10).status_code == 401, path
    page = httpx.get(url + "/", timeout=10).text
    assert "task of 101" not in page and "model-a" not in page  # the login page, no app content
    assert (
        httpx.post(url + "/login", data={"username": AUTH[0], "password": "wrong"}, timeout=10).status_code
        == 400
    )


def test_files_only_from_the_served_folders(server):
    root, tmp = server["root"], server["tmp"]
    client = login(server["url"])
    try:
        # what the app may serve: screenshots under the episodes folder, files next to the results
        assert client.get(f"/gradio_api/file={root}/101/101_0.png").status_code == 200
        assert client.get(f"/gradio_api/file={tmp}/runs/a.jsonl").status_code == 200
        refused = [
            "/gradio_api/file=/etc/passwd",
            "/gradio_api/file=../../etc/passwd",
            "/gradio_api/file=..%2F..%2F..%2F..%2Fetc%2Fpasswd",
            f"/gradio_api/file={root}/101/%2E%2E/%2E%2E/secret.txt",
            f"/gradio_api/file={tmp}/secret.txt",
            f"/gradio_api/file={root}/101/leak.txt",  # symlink out of the episodes folder
            f"/file={tmp}/secret.txt",
        ]
        for path in refused:
            response = client.get(path)
            assert response.status_code in (403, 404), (path, response.status_code)
            assert "top secret" not in response.text and "root:" not in response.text
    finally:
        client.close()


def test_drive_the_app_with_gradio_client(server):
    from gradio_client import Client

    client = Client(server["url"] + "/", auth=AUTH, verbose=False)
    out = client.predict("101", 1, False, "any", "any", api_name="/next")
    episode, slider, header, previous, current, gold, run_a, run_b = out[:8]
    assert episode["value"] == "101" and slider["value"] == 2
    assert "Episode 101, step 1" in header
    assert Path(previous).is_file() and Path(current).is_file()
    assert "✘ wrong (type matches) — tap point outside the gold box" in run_a
    assert "✔ correct" in run_b and "model-b" in run_b
    gallery = out[-3]
    assert [item["caption"] for item in gallery] == ["0: open_app", "1: click", "2: type"]

    # the type filter keeps only the clicks of episode 102: one step
    out = client.predict("102", 1, False, "click", "any", api_name="/show")
    assert "Episode 102, step 1" in out[2] and "(1 of 1 shown)" in out[2] and not out[1]["interactive"]

    # "Run this step": the stub endpoint answers the gold action, so the live verdict is correct
    current, live_md, live_raw = client.predict("101", 2, False, "any", "any", api_name="/run_step")
    assert "✔ correct" in live_md and '"click": "40,200,500,280"' in live_md
    assert live_raw.startswith("<think>")
    # the live answer is drawn in orange over the gold box (exact colours: the app sends PNG)
    pixels = np.asarray(Image.open(current).convert("RGB"))
    for color in (LIVE_COLOR, GOLD_COLOR, PRED_COLOR):
        assert np.all(pixels == np.array(color, dtype=np.uint8), axis=-1).any(), color


@pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
    reason=f"{CHROMIUM} not installed (CI installs it)",
)
def test_browser_steps_to_the_next_step(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url = server["url"]
    shot = tmp_path / "ui.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            assert page.request.post(url + "/login", form={"username": AUTH[0], "password": AUTH[1]}).ok
            page.goto(url + "/")
            header = page.locator("#step-header")
            expect(header).to_contain_text("Episode 101, step 0", timeout=60_000)
            expect(page.locator("#run-0")).to_contain_text("✔ correct")
            page.locator("#next-step").click()
            expect(header).to_contain_text("Episode 101, step 1", timeout=60_000)
            expect(page.locator("#run-0")).to_contain_text(
                "✘ wrong (type matches) — tap point outside the gold box"
            )
            expect(page.locator("#run-1")).to_contain_text("✔ correct — tap point inside the gold box")
            # both screenshots arrived and were decoded by the browser
            page.wait_for_function(
                "() => [...document.querySelectorAll('img')].filter(i => i.naturalWidth >= 300).length >= 2",
                timeout=30_000,
            )
            page.screenshot(path=str(shot), full_page=True)
            # a thumbnail jumps to its step
            page.locator("#steps-gallery .thumbnail-item").nth(2).click()
            expect(header).to_contain_text("Episode 101, step 2", timeout=60_000)
            # and so does a number typed into the slider
            number = page.locator("#step-slider input[type=number]")
            number.fill("1")
            number.press("Enter")
            expect(header).to_contain_text("Episode 101, step 0", timeout=60_000)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    if os.environ.get("UI_SCREENSHOT_DIR"):
        # Where a copy of the page picture should go (used to refresh docs/img/ui.png).
        Path(os.environ["UI_SCREENSHOT_DIR"]).mkdir(parents=True, exist_ok=True)
        Path(os.environ["UI_SCREENSHOT_DIR"], "ui.png").write_bytes(shot.read_bytes())
