"""Small raw episode folders for data tests: real JSON and real (tiny) images, written on the fly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image

from episodes.step import DEFAULT_ACTION_TYPE_LIST

SCREEN = (120, 240)

# One wire action per type, all inside a 120x240 screen.
WIRE_ACTIONS: list[dict[str, Any]] = [
    {"action_type": "open_app", "action_parameter": {"open_app": "设置"}, "action_description": "打开设置"},
    {"action_type": "click", "action_parameter": {"click": "10,20,60,50"}, "action_description": "点击WLAN"},
    {
        "action_type": "long_click",
        "action_parameter": {"long_click": "5,100,115,130"},
        "action_description": "长按消息",
    },
    {
        "action_type": "type",
        "action_parameter": {"type": "无锡 weather"},
        "action_description": "输入无锡 weather",
    },
    {"action_type": "swipe", "action_parameter": {"swipe": "60,200,60,40"}, "action_description": "向上滑动"},
    {
        "action_type": "inquiry",
        "action_parameter": {
            "inquiry": json.dumps(
                {
                    "Question": "选哪个?",
                    "CandidatesList": "['甲', '乙']",
                    "PicDescribe": "列表",
                    "AnswerIndex": 1,
                },
                ensure_ascii=False,
                indent=4,
            )
        },
        "action_description": "反问",
    },
    {"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": "等待"},
    {"action_type": "back", "action_parameter": {"back": ""}, "action_description": "回退"},
    {
        "action_type": "task_impossible",
        "action_parameter": {"task_impossible": "没有网络"},
        "action_description": "无法完成",
    },
    {
        "action_type": "task_completed",
        "action_parameter": {"task_completed": "已完成"},
        "action_description": "任务完成",
    },
]


def write_image(path: Path, size: tuple[int, int] = SCREEN, shade: int = 200) -> Path:
    """A small solid JPEG (or PNG by suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (shade, shade, 255 - shade)).save(path)
    return path


def step_record(
    episode_id: str,
    n: int,
    action: dict[str, Any],
    history: list[str],
    *,
    first_screen: bool,
    task: str = "打开设置并连接WLAN",
    app: str = "设置",
) -> dict[str, Any]:
    """A raw step record as the seed writes it; the first step has no previous screen."""
    inp: dict[str, Any] = {
        "task_content": task,
        "task_path": {str(i + 1): a["action_description"] for i, a in enumerate(WIRE_ACTIONS)},
    }
    if not first_screen:
        inp["screen_path1"] = f"{episode_id}_{n - 1}.jpg"
    inp["screen_path2"] = f"{episode_id}_{n}.jpg"
    inp["history_path_all"] = list(history)
    inp["app_name"] = app
    inp["action_type_list"] = dict(DEFAULT_ACTION_TYPE_LIST)
    return {"input": inp, "output": action}


def make_raw_folder(
    root: Path, episodes: dict[str, int] | None = None, size: tuple[int, int] = SCREEN
) -> Path:
    """`root/<episode>/step_<n>.json` plus screenshots, actions cycling through every type.

    `episodes` maps episode id to number of steps (default: three episodes, all ten types covered).
    """
    episodes = episodes or {"10002": 4, "10001": 3, "9": 3}
    k = 0
    for episode_id, count in episodes.items():
        ep = root / episode_id
        history: list[str] = []
        for n in range(count):
            write_image(ep / f"{episode_id}_{n}.jpg", size, shade=(40 * n) % 255)
            action = WIRE_ACTIONS[k % len(WIRE_ACTIONS)]
            k += 1
            record = step_record(episode_id, n, action, history, first_screen=(n == 0))
            (ep / f"step_{n}.json").write_text(
                json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8"
            )
            history.append(action["action_description"])
    return root


def rewrite_step(path: Path, edit) -> None:
    """Load a step file, apply `edit(record)` in place, write it back."""
    record = json.loads(path.read_text(encoding="utf-8"))
    edit(record)
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
