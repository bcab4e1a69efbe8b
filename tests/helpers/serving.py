"""Helpers for agent and serving tests: steps with real screenshots, replies, free ports, server processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from episodes.step import Step
from serving.launch import stop

THINK = {
    "task_interpretation": "open the cart",
    "current_page_audit": "home page with a tab bar",
    "path_alignment_check": "step 2 of the path: tap the cart",
    "action_validation": "the cart tab is at the bottom",
}


def write_screens(folder: Path, sizes: list[tuple[int, int]]) -> tuple[Path, ...]:
    """Save one small JPEG per `(width, height)` and return their absolute paths."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, size in enumerate(sizes):
        image = Image.new("RGB", size, (240, 240, 240))
        ImageDraw.Draw(image).rectangle((10, 10 + 20 * i, size[0] // 2, 40 + 20 * i), fill=(30, 120, 200))
        path = (folder / f"screen_{i}.jpg").resolve()
        image.save(path, quality=90)
        paths.append(path)
    return tuple(paths)


def make_step(
    folder: Path, *, sizes: list[tuple[int, int]] | None = None, gold: Any = None, index: int = 1
) -> Step:
    """A two-screenshot step (previous, current) in the seed's input layout."""
    sizes = sizes or [(1080, 2400), (1080, 2400)]
    screens = write_screens(folder, sizes)
    return Step(
        episode_id="ep1",
        index=index,
        task="打开淘宝，点击购物车",
        task_path={"1": "打开APP", "2": "点击购物车"},
        history=["打开APP"],
        app="淘宝",
        screenshots=screens,
        screen_size=sizes[-1],
        gold=gold,
        source=str(folder / f"step_{index}.json"),
    )


def reply_text(action: Any, think: dict[str, str] | None = None) -> str:
    """A well-formed completion answering `action` (a typed action, in whatever space it holds)."""
    think_json = json.dumps(think or THINK, ensure_ascii=False)
    return f"<think>{think_json}</think><answer>{json.dumps(action.to_json(), ensure_ascii=False)}</answer>"


class ServeProcess:
    """`phone-r1 serve ...` in its own process group, stopped with SIGINT then SIGKILL on exit."""

    def __init__(self, args: list[str], *, port: int, log_path: Path, ready_timeout: float = 180.0) -> None:
        self.args = args
        self.port = port
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen | None = None
        self.returncode: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ServeProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in __exit__
        self.process = subprocess.Popen(
            [sys.executable, "-m", "phone_r1.cli", *self.args],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode} before ready:\n{self.log()}")
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200:
                    # `phone-r1 serve` prints its banner after /health answers.
                    if "base URL" in self.log():
                        return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.__exit__(None, None, None)
        raise RuntimeError(f"serve not ready within {self.ready_timeout} s:\n{self.log()}")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.returncode = stop(self.process, grace_s=30.0)
        self._log_file.close()
