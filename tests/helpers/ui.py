"""Small episode folders and results files for the replay UI tests, written on the fly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from episodes.step import DEFAULT_ACTION_TYPE_LIST
from tests.helpers.eval import wire

SCREEN = (540, 1080)


# episode id -> list of (gold, prediction A, correct A); screen 540x1080.
EPISODES: dict[str, list[tuple[dict, dict | None, bool]]] = {
    "101": [
        (wire("open_app", "设置", "打开设置"), wire("open_app", "设置", "打开设置"), True),
        (wire("click", "40,200,500,280", "点击WLAN"), wire("click", "300,600,400,700", "点击蓝牙"), False),
        (wire("type", "home wifi", "输入home wifi"), wire("type", "home wifi", "输入"), True),
    ],
    "102": [
        (wire("swipe", "270,900,270,300", "向上滑动"), wire("swipe", "270,850,260,200", "向上滑动"), True),
        (wire("click", "100,100,200,160", "点击返回"), wire("click", "120,110,180,150", "点击返回"), True),
    ],
}
APP = {"101": "设置", "102": "相册"}


def write_screen(path: Path, shade: int, label: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", SCREEN, (shade, shade, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, SCREEN[0], 40), fill=(30, 30, 30))
    draw.text((20, 60), label, fill=(0, 0, 0))
    image.save(path)


def make_episodes(root: Path) -> Path:
    """Raw episodes as SPEC §5 describes: `root/<episode>/step_<n>.json` plus PNG screenshots."""
    for episode_id, steps in EPISODES.items():
        history: list[str] = []
        for n, (gold, _, _) in enumerate(steps):
            folder = root / episode_id
            write_screen(folder / f"{episode_id}_{n}.png", 150 + 20 * n, f"{episode_id} step {n}")
            inp: dict[str, Any] = {
                "task_content": f"task of {episode_id}",
                "task_path": {str(i + 1): g["action_description"] for i, (g, _, _) in enumerate(steps)},
            }
            if n:
                inp["screen_path1"] = f"{episode_id}_{n - 1}.png"
            inp["screen_path2"] = f"{episode_id}_{n}.png"
            inp.update(
                history_path_all=list(history),
                app_name=APP[episode_id],
                action_type_list=dict(DEFAULT_ACTION_TYPE_LIST),
            )
            record = {"input": inp, "output": gold}
            (folder / f"step_{n}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
            history.append(gold["action_description"])
    return root


def _shifted(gold: dict[str, Any], prediction: dict | None) -> dict | None:
    """A click 300 px below the gold box (a wrong answer of the second run); other types unchanged."""
    if gold["action_type"] != "click":
        return prediction
    x1, y1, x2, y2 = (int(v) for v in gold["action_parameter"]["click"].split(","))
    return wire("click", f"{x1},{y1 + 300},{x2},{y2 + 300}", "点击")


def step_records(flip: bool = False) -> list[dict[str, Any]]:
    """One eval record per step; `flip` inverts every verdict (a second, different run)."""
    records = []
    for episode_id, steps in EPISODES.items():
        for n, (gold, prediction, correct) in enumerate(steps):
            if flip:
                prediction = gold if not correct else _shifted(gold, prediction)
                correct = not correct
            reason = "tap point inside the gold box" if correct else "tap point outside the gold box"
            records.append(
                {
                    "kind": "step",
                    "step_id": f"{episode_id}/{n}",
                    "episode_id": episode_id,
                    "index": n,
                    "app": APP[episode_id],
                    "gold": gold,
                    "prediction": prediction,
                    "raw": "<think>{}</think><answer>"
                    + json.dumps(prediction, ensure_ascii=False)
                    + "</answer>",
                    "think": {
                        "task_interpretation": f"interpret {episode_id}/{n}",
                        "current_page_audit": "audit",
                        "path_alignment_check": "aligned",
                        "action_validation": "valid",
                    },
                    "problems": [],
                    "verdict": {"correct": correct, "type_match": True, "reason": reason},
                    "reward": {
                        "total": 0.9 if correct else 0.6,
                        "format": {"total": 1.0},
                        "action": {"total": 0.8},
                    },
                    "latency_s": 0.25,
                    "usage": {"prompt_tokens": 800, "completion_tokens": 90},
                    "error": None,
                    "prompt_hash": "abc",
                }
            )
    return records


def make_results(path: Path, flip: bool = False, model: str = "tiny") -> Path:
    header = {
        "kind": "header",
        "model": model,
        "endpoint": "http://127.0.0.1:1/v1",
        "template_hash": "t",
        "coord_space": "original",
        "min_pixels": 3136,
        "max_pixels": 1003520,
        "protocol": "box",
        "created": "2026-11-22T10:00:00Z",
    }
    lines = [header, *step_records(flip)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return path
