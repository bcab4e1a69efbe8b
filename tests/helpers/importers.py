"""Tiny files in each public benchmark's real format, written by the tests themselves.

The AndroidControl shard is a real GZIP TFRecord with correct masked CRC32Cs holding real
`tf.train.Example` and android_env forest protobufs, encoded here field by field.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

from PIL import Image

from episodes.importers.tfrecord import frame

W, H = 108, 240  # a 1080x2400 phone at a tenth of the size


def png(size: tuple[int, int] = (W, H), shade: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (shade % 256, 90, 160)).save(buf, format="PNG")
    return buf.getvalue()


def write_png(path: Path, size: tuple[int, int] = (W, H), shade: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png(size, shade))
    return path


# --- protobuf encoding --------------------------------------------------------------------------------


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def f_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def f_bytes(number: int, data: bytes) -> bytes:
    return varint((number << 3) | 2) + varint(len(data)) + data


def encode_example(features: dict[str, list]) -> bytes:
    """`tf.train.Example` bytes: lists of bytes become BytesList, lists of ints Int64List (packed)."""
    entries = b""
    for name, values in features.items():
        if values and isinstance(values[0], int):
            feature = f_bytes(3, f_bytes(1, b"".join(varint(v) for v in values)))
        else:
            feature = f_bytes(1, b"".join(f_bytes(1, v) for v in values))
        entries += f_bytes(1, f_bytes(1, name.encode()) + f_bytes(2, feature))
    return f_bytes(1, entries)


def encode_node(
    uid: int,
    bounds: tuple[int, int, int, int],
    *,
    package: str = "com.example.app",
    clickable: bool = False,
    visible: bool = True,
    children: tuple[int, ...] = (),
) -> bytes:
    rect = b"".join(f_varint(i + 1, v) for i, v in enumerate(bounds))
    out = (
        f_varint(1, uid) + f_bytes(2, rect) + f_bytes(3, b"android.view.View") + f_bytes(6, package.encode())
    )
    if clickable:
        out += f_varint(14, 1)
    if visible:
        out += f_varint(23, 1)
    if children:
        out += f_bytes(25, b"".join(varint(c) for c in children))
    return out


def encode_forest(nodes: list[bytes], *, window_type: int = 1, active: bool = True) -> bytes:
    tree = b"".join(f_bytes(1, n) for n in nodes)
    window = f_varint(6, window_type) + (f_varint(8, 1) if active else b"") + f_bytes(11, tree)
    return f_bytes(1, window)


def standard_forest(package: str = "com.example.app") -> bytes:
    """Root (full screen) > list (most of the screen) > button (10,20)-(60,50) and a text leaf
    (10,100)-(100,130)."""
    return encode_forest(
        [
            encode_node(0, (0, 0, W, H), package=package, children=(1,)),
            encode_node(1, (0, 10, W, 200), package=package, children=(2, 3)),
            encode_node(2, (10, 20, 60, 50), package=package, clickable=True),
            encode_node(3, (10, 100, 100, 130), package=package),
        ]
    )


# --- AndroidControl -----------------------------------------------------------------------------------

AC_EPISODES: list[dict[str, Any]] = [
    {
        "episode_id": 101,
        "goal": "Open the settings and turn on Wi-Fi",
        "actions": [
            {"action_type": "open_app", "app_name": "Settings"},
            {"action_type": "click", "x": 30, "y": 35},
            {"action_type": "scroll", "direction": "down"},
            {"action_type": "navigate_home"},
            {"action_type": "long_press", "x": 50, "y": 115},
            {"action_type": "input_text", "text": "hello\x00"},
        ],
        "instructions": [
            "open settings",
            "tap wi-fi",
            "scroll down",
            "go home",
            "press the text",
            "type hello",
        ],
    },
    {
        "episode_id": 102,
        "goal": "Go back and wait",
        "actions": [
            {"action_type": "navigate_back"},
            {"action_type": "wait"},
            {"action_type": "click", "x": 105, "y": 230},
            {"action_type": "scroll", "direction": "right"},
        ],
        "instructions": ["go back", "wait", "tap the corner", "swipe to the next page"],
    },
]


def ac_example(ep: dict[str, Any], *, drop_screenshot: bool = False) -> bytes:
    n = len(ep["actions"]) + 1
    shots = [png(shade=10 * i + ep["episode_id"]) for i in range(n)]
    if drop_screenshot:
        shots = shots[:-1]
    return encode_example(
        {
            "episode_id": [ep["episode_id"]],
            "goal": [ep["goal"].encode()],
            "screenshots": shots,
            "accessibility_trees": [standard_forest() for _ in range(n)],
            "screenshot_widths": [W] * n,
            "screenshot_heights": [H] * n,
            "actions": [json.dumps(a).encode() for a in ep["actions"]],
            "step_instructions": [s.encode() for s in ep["instructions"]],
        }
    )


def write_ac(
    folder: Path,
    episodes: list[dict[str, Any]] = AC_EPISODES,
    *,
    records: list[bytes] | None = None,
    splits: dict[str, list[int]] | None = None,
) -> Path:
    """A shard `android_control-00000-of-00001` (GZIP TFRecord) and `splits.json` in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    records = records if records is not None else [ac_example(ep) for ep in episodes]
    with gzip.open(folder / "android_control-00000-of-00001", "wb") as f:
        for data in records:
            f.write(frame(data))
    ids = [ep["episode_id"] for ep in episodes]
    splits = splits or {"train": [], "validation": [], "test": ids}
    (folder / "splits.json").write_text(json.dumps(splits))
    return folder


def write_ac_jsonl(folder: Path) -> Path:
    """UI-S1's layout: one episode per line, screenshots named by absolute paths that do not exist here."""
    shots = folder / "images"
    for i in range(4):
        write_png(shots / f"8193_{i}.png", (W, H), 20 * i)
    episode = {
        "goal": "publish my art",
        "episode_id": 8193,
        "steps": [
            {
                "action_content": {"action": "click", "coordinate": [54, 227]},
                "screenshot": "/datasets/AndroidControl/images/8193_0.png",
                "step_instruction": "click on create tab",
                "check_options": {
                    "action": "click",
                    "candidate_bbox": [[45, 221, 62, 233], [0, 47, 108, 233]],
                    "coordinate": [54, 227],
                },
            },
            {
                "action_content": {"action": "swipe", "coordinate": [54, 180], "coordinate2": [54, 60]},
                "screenshot": "/datasets/AndroidControl/images/8193_1.png",
                "step_instruction": "swipe up",
                "check_options": {"action": "swipe", "direction": "down"},
            },
            {
                "action_content": {"action": "system_button", "button": "Home"},
                "screenshot": "/datasets/AndroidControl/images/8193_2.png",
                "step_instruction": "go home",
                "check_options": {"action": "system_button", "button": "Home"},
            },
            {
                "action_content": {"action": "system_button", "button": "Menu"},
                "screenshot": "/datasets/AndroidControl/images/8193_3.png",
                "step_instruction": "open the menu",
                "check_options": {"action": "system_button", "button": "Menu"},
            },
        ],
    }
    path = folder / "android_control_evaluation_std.jsonl"
    path.write_text(json.dumps(episode) + "\n")
    return path


# --- AITZ, GUI-Odyssey, AMEX --------------------------------------------------------------------------


def write_aitz(root: Path) -> Path:
    """`root/test/general/GENERAL-<id>/GENERAL-<id>.json` with 270x600 PNGs, as CoAT's data-example."""
    ep = "GENERAL-523638528775825151"
    folder = root / "test" / "general" / ep
    positions = [[54, 17, 8, 12], [82, 15, 20, 100], [0, 0, 590, 270]]
    steps = [
        (
            4,
            "[0.1, 0.1]",
            "[0.1, 0.1]",
            "",
            "click on Set up email",
        ),  # tap at (27, 60): inside [82..]? no: box 0
        (4, "[0.8, 0.5]", "[0.2, 0.5]", "", "scroll up"),  # finger moves up
        (6, "[-1.0, -1.0]", "[-1.0, -1.0]", "", "press the home button"),
        (3, "[-1.0, -1.0]", "[-1.0, -1.0]", "clock", "type clock"),
        (10, "[-1.0, -1.0]", "[-1.0, -1.0]", "", "stop and set the query as completed"),
    ]
    entries = []
    for i, (kind, touch, lift, text, desc) in enumerate(steps):
        write_png(folder / f"{ep}_{i}.png", (270, 600), 30 * i)
        entries.append(
            {
                "episode_id": "523638528775825151",
                "episode_length": len(steps),
                "step_id": i,
                "instruction": 'open app "Clock"',
                "ui_positions": json.dumps(positions),
                "ui_text": "[]",
                "ui_types": "[]",
                "result_action_type": kind,
                "result_action_text": text,
                "result_touch_yx": touch,
                "result_lift_yx": lift,
                "image_path": f"general/{ep}/{ep}_{i}.png",
                "image_full_path": "android-in-the-wild/x.png",
                "coat_action_desc": desc,
            }
        )
    (folder / f"{ep}.json").write_text(json.dumps(entries, indent=1))
    return root


def write_odyssey(root: Path) -> Path:
    """One v1 and one v2 episode with 0-1000 coordinates, screenshots and a random split."""
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    v1 = {
        "episode_id": "1001",
        "device_info": {"w": 1080, "h": 2400},
        "step_length": 4,
        "task_info": {
            "category": "General_Tool",
            "app": ["Settings"],
            "task": "t",
            "instruction": "turn on wifi",
        },
        "steps": [
            {"step": 0, "screenshot": "1001_0.png", "action": "CLICK", "info": [[500, 500]], "ps": ""},
            {"step": 1, "screenshot": "1001_1.png", "action": "CLICK", "info": "KEY_HOME", "ps": ""},
            {
                "step": 2,
                "screenshot": "1001_2.png",
                "action": "SCROLL",
                "info": [[500, 800], [500, 200]],
                "ps": "",
            },
            {"step": 3, "screenshot": "1001_3.png", "action": "COMPLETE", "info": "", "ps": "done"},
        ],
    }
    v2 = {
        "episode_id": "1002",
        "device_info": {"w": 1080, "h": 2400},
        "step_length": 3,
        "task_info": {
            "category": "Multi_Apps",
            "app": ["Chrome", "Notes"],
            "task": "t",
            "instruction": "copy a note",
        },
        "steps": [
            {
                "step": 0,
                "screenshot": "1002_0.png",
                "action": "CLICK",
                "info": [[250, 100]],
                "ps": "",
                "low_level_instruction": "tap the search bar",
                "sam2_bbox": [100, 50, 400, 150],
                "context": "c",
                "intention": "i",
            },
            {
                "step": 1,
                "screenshot": "1002_1.png",
                "action": "TEXT",
                "info": "notes",
                "ps": "",
                "low_level_instruction": "type notes",
                "context": "c",
                "intention": "i",
            },
            {
                "step": 2,
                "screenshot": "1002_2.png",
                "action": "CLICK",
                "info": "KEY_BACK",
                "ps": "",
                "low_level_instruction": "go back",
                "context": "c",
                "intention": "i",
            },
        ],
    }
    for ep in (v1, v2):
        (root / "annotations" / f"{ep['episode_id']}.json").write_text(json.dumps(ep))
        for s in ep["steps"]:
            write_png(root / "screenshots" / s["screenshot"], (W, H), s["step"] * 40)
    (root / "splits").mkdir(exist_ok=True)
    (root / "splits" / "random_split.json").write_text(
        json.dumps({"train": [], "test": ["1001.json", "1002.json"]})
    )
    return root


def write_amex(root: Path) -> Path:
    """Two AMEX episodes (one in the converter's test split): steps with touch/lift in the pixels of a device
    twice the screenshot's size (`device_dim`), element files named otherwise than their screenshots and
    found by their `image_path` field."""
    device = [2 * W, 2 * H]
    steps = [
        {"image_path": "ep_a_0.png", "action": "TAP", "touch_coord": [60, 70], "lift_coord": [60, 70]},
        {"image_path": "ep_a_1.png", "action": "SWIPE", "touch_coord": [108, 400], "lift_coord": [108, 100]},
        {
            "image_path": "ep_a_2.png",
            "action": "PRESS_ENTER",
            "touch_coord": [-1, -1],
            "lift_coord": [-1, -1],
        },
        {"image_path": "ep_a_3.png", "action": "TYPE", "type_text": "shoes"},
        {"image_path": "ep_a_4.png", "action": "TASK_COMPLETE"},
    ]
    for s in steps:
        s["device_dim"] = device
    (root / "instruction_anno").mkdir(parents=True, exist_ok=True)
    (root / "instruction_anno" / "ep_a.json").write_text(
        json.dumps({"instruction": "search shoes", "steps": steps})
    )
    test_step = {"image_path": "ep_b_0.png", "action": "TASK_COMPLETE", "device_dim": device}
    (root / "instruction_anno" / "ep_b.json").write_text(
        json.dumps({"instruction": "Open Gmail. Check the inbox", "steps": [test_step]})
    )
    (root / "element_anno").mkdir(exist_ok=True)
    for i, s in enumerate([*steps, test_step]):
        write_png(root / "screenshot" / s["image_path"], (W, H), 50 * i)
        elements = {
            "image_path": s["image_path"],
            "clickable_elements": [{"bbox": [10, 20, 60, 50]}, {"bbox": [0, 0, W, H]}],
            "scrollable_elements": [{"bbox": [0, 10, W, 200]}],
        }
        (root / "element_anno" / f"elements_{i:04d}.json").write_text(json.dumps(elements))
    return root
