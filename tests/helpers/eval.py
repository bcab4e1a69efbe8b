"""Episodes, scripted answers and CLI runners for the evaluation tests and benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from eval.testing.stub_replies import render_reply
from tests.helpers.data import WIRE_ACTIONS, step_record, write_image

REPO = Path(__file__).resolve().parents[2]
DEMO_TEST = REPO / "data" / "demo" / "test"
SCREEN = (120, 240)

THINK = {
    "task_interpretation": "t",
    "current_page_audit": "p",
    "path_alignment_check": "a",
    "action_validation": "v",
}


def wire(action_type: str, parameter: str, description: str = "") -> dict[str, Any]:
    return {
        "action_type": action_type,
        "action_parameter": {action_type: parameter},
        "action_description": description,
    }


def answer(action: dict[str, Any]) -> str:
    """A completion in the full think/answer format."""
    return render_reply(action, THINK)


def write_episodes(root: Path, episodes: list[tuple[str, str, str, list[dict[str, Any]]]]) -> Path:
    """Raw episode folders: `(episode_id, app, task, [wire gold actions])` each, 120x240 screenshots."""
    for episode_id, app, task, actions in episodes:
        history: list[str] = []
        for n, action in enumerate(actions):
            write_image(
                root / episode_id / f"{episode_id}_{n}.jpg", SCREEN, shade=(37 * n + 11 * len(task)) % 255
            )
            record = step_record(episode_id, n, action, history, first_screen=(n == 0), task=task, app=app)
            path = root / episode_id / f"step_{n}.json"
            path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
            history.append(action["action_description"])
    return root


# Eight hand-made steps for the hand-computed metrics test (screen 120x240).
HAND_EPISODES: list[tuple[str, str, str, list[dict[str, Any]]]] = [
    (
        "1",
        "设置",
        "打开WLAN",
        [
            wire("open_app", "设置", "打开设置"),
            wire("click", "10,20,60,50", "点击WLAN"),
            wire("type", "hello", "输入hello"),
        ],
    ),
    (
        "2",
        "微信",
        "发消息",
        [
            wire("click", "10,100,110,140", "点击聊天"),
            wire("swipe", "60,200,60,40", "上滑"),
            wire("back", "", "回退"),
        ],
    ),
    (
        "3",
        "设置",
        "长按消息",
        [
            wire("long_click", "5,100,115,130", "长按"),
            wire("task_completed", "done", "完成"),
        ],
    ),
]

# Scripted raw answers per step_id; step 3/1 has none (the predictions backend records an error).
HAND_PREDICTIONS: dict[str, str] = {
    "1/0": answer(wire("open_app", "设置")),
    "1/1": answer(wire("click", "30,30,40,40")),  # centre (35, 35): inside the gold box
    "1/2": answer(wire("type", "hello")),
    "2/0": answer(wire("click", "60,151")),  # 11 px below the box; inside 0.14 of its centre (aitw)
    "2/1": answer(wire("click", "60,100")),  # gold is a swipe: type mismatch
    "2/2": "I don't know",  # unparseable, no format
    "3/0": answer(wire("long_click", "50,110,70,120")),
}


def many_episodes(root: Path, n_episodes: int, steps_per_episode: int) -> Path:
    """`n_episodes` episodes with distinct tasks, gold actions cycling through every type."""
    episodes = []
    k = 0
    for e in range(n_episodes):
        actions = []
        for _ in range(steps_per_episode):
            actions.append(WIRE_ACTIONS[k % len(WIRE_ACTIONS)])
            k += 1
        episodes.append((str(100 + e), "设置", f"任务 {e}", actions))
    return write_episodes(root, episodes)


def demo_or_generated(tmp: Path) -> Path:
    """The committed demo test episodes when present, else generated ones."""
    if DEMO_TEST.is_dir() and any(DEMO_TEST.iterdir()):
        return DEMO_TEST
    return many_episodes(tmp / "episodes", 4, 5)


def phone_r1(*args: Any, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run `phone-r1 ARGS` in a subprocess (the installed console script's module)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "phone_r1.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        **kwargs,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"phone-r1 {args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def predictions_file(path: Path, predictions: dict[str, str]) -> Path:
    path.write_text(
        "".join(
            json.dumps({"step_id": k, "raw": v}, ensure_ascii=False) + "\n" for k, v in predictions.items()
        ),
        encoding="utf-8",
    )
    return path


def kill_eval_mid_run(args: list[str], results: Path, *, after_lines: int, timeout_s: float = 120.0) -> None:
    """Start `phone-r1 eval run ARGS -o RESULTS` in a subprocess and SIGKILL it once the results file has
    more than `after_lines` lines (asserting it had not finished by then)."""
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "phone_r1.cli", "eval", "run", *map(str, args), "-o", str(results)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and proc.poll() is None:
            if results.exists() and results.read_text().count("\n") > after_lines:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
