"""Answers as `mobile_use` arguments (Qwen2.5-VL, InfiGUI-R1, GUI-Owl, UI-S1), aimed at the gist's rule.

Phone-r1 side only.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from scripts.protocol_diff import answers as a

ACTIONS = [
    "click",
    "long_press",
    "swipe",
    "type",
    "open",
    "system_button",
    "wait",
    "terminate",
    "key",
    "answer",
]


def random_args(rng: random.Random, model: tuple[int, int]) -> dict[str, Any]:
    name = rng.choice(ACTIONS)
    point = [a.number(rng, rng.uniform(0, model[0])), a.number(rng, rng.uniform(0, model[1]))]
    return {
        "click": {"action": "click", "coordinate": point},
        "long_press": {"action": "long_press", "coordinate": point, "time": 2},
        "swipe": {"action": "swipe", "coordinate": point, "coordinate2": [point[1], point[0]]},
        "type": {"action": "type", "text": rng.choice(a.OTHER_TEXT)},
        "open": {"action": "open", "text": rng.choice(a.OTHER_TEXT)},
        "system_button": {"action": "system_button", "button": rng.choice(["Back", "Home", "Enter", "Menu"])},
        "wait": {"action": "wait", "time": 2},
        "terminate": {"action": "terminate", "status": rng.choice(["success", "failure"])},
        "key": {"action": "key", "text": "volume_up"},
        "answer": {"action": "answer", "text": "done"},
    }[name]


def args_for(
    rng: random.Random, check: dict[str, Any], screen: tuple[int, int], model: tuple[int, int]
) -> dict[str, Any]:
    """Arguments aimed at the gold `check` dict (original pixels); coordinates in the model's units."""
    sx, sy = model[0] / screen[0], model[1] / screen[1]
    kind = check["action"]
    if rng.random() < 0.12:
        return random_args(rng, model)

    def pt(x: float, y: float) -> list[Any]:
        return [a.number(rng, x * sx), a.number(rng, y * sy)]

    if kind in ("click", "long_press"):
        name = kind if rng.random() < 0.85 else rng.choice(["click", "long_press"])
        boxes = check.get("candidate_bbox") or []
        r = rng.random()
        if r < 0.35 and boxes:
            x, y = a.near_box_edge(rng, rng.choice(boxes), 1.2)
        elif r < 0.5:
            # Near 0.04 in 0-1 units (UI-S1's radius).
            x, y = a.near_threshold_point(
                rng, tuple(check["coordinate"]), 0.04, (1 / screen[0], 1 / screen[1])
            )
        else:
            # Near 0.04 of the longer resized side, in resized pixels (InfiGUI-R1's radius).
            x, y = a.near_threshold_point(rng, tuple(check["coordinate"]), 0.04 * max(model), (sx, sy))
        out: dict[str, Any] = {"action": name, "coordinate": pt(x, y)}
        if name == "long_press":
            out["time"] = 2
        return out
    if kind == "swipe":
        cx, cy = rng.uniform(0.2, 0.8) * screen[0], rng.uniform(0.2, 0.8) * screen[1]
        r = rng.random()
        if r < 0.1:
            dx = dy = rng.uniform(-400, 400)  # a diagonal: a tie in 0-1 units only by chance
            dy *= screen[1] / screen[0] * rng.choice([1, -1])
        elif r < 0.15:
            dx = dy = 0.0
        else:
            word = check.get("direction") or rng.choice(a.WORDS)
            # The finger goes the other way from AndroidControl's content word, mostly.
            finger = {"up": (0, 1), "down": (0, -1), "left": (1, 0), "right": (-1, 0)}[word]
            if rng.random() < 0.3:
                finger = (-finger[0], -finger[1])
            length = rng.uniform(50, 900)
            dx, dy = finger[0] * length + rng.uniform(-300, 300), finger[1] * length + rng.uniform(-300, 300)
        out = {"action": "swipe", "coordinate": pt(cx, cy), "coordinate2": pt(cx + dx, cy + dy)}
        if rng.random() < 0.05:
            del out["coordinate2"]
        if rng.random() < 0.05:
            out = {"action": "swipe", "direction": rng.choice(a.WORDS)}
        return out
    if kind in ("type", "open"):
        if kind == "open" and rng.random() < 0.35:
            boxes = check.get("candidate_bbox") or []
            if boxes and rng.random() < 0.7:
                x, y = a.near_box_edge(rng, rng.choice(boxes), rng.choice([0.5, 1.0, 1.2]))
            else:
                x, y = rng.uniform(0, screen[0]), rng.uniform(0, screen[1])
            return {"action": "click", "coordinate": pt(x, y)}
        return {"action": kind, "text": a.text_variant(rng, check.get("text", ""))}
    if kind == "system_button":
        return {
            "action": "system_button",
            "button": rng.choice(["Back", "back", " BACK ", "Home", "Back", "Enter"]),
        }
    return {"action": "wait", "time": 2} if rng.random() < 0.8 else random_args(rng, model)


def oddities(rng: random.Random, args: dict[str, Any]) -> dict[str, Any]:
    """Now and then a missing field, a value of another type, an extra key."""
    args = copy.deepcopy(args)
    if rng.random() < 0.12:
        key = rng.choice(["action", "coordinate", "coordinate2", "text", "button", "candidate_bbox"])
        r = rng.random()
        if r < 0.4 and key in args:
            del args[key]
        elif r < 0.8:
            args[key] = a.odd_json_value(rng)
        else:
            args[key] = [[0, 0, 10, 10]] if key == "candidate_bbox" else args.get(key)
    return args
