"""AITZ-format gold steps and seed-format answers in 0-1000, shared by the `aitw`, `aitz` and `agentcpm-aitz`
sources; standard library only.

The gold side is written as IMNearth/CoAT lays AITZ out (`test/<subset>/<SUBSET>-<id>/<SUBSET>-<id>.json`,
one entry per screenshot, AITW action ids, normalised (y, x) touch and lift strings, `ui_positions` as
[y, x, h, w] pixels of the stored PNG) and imported with `phone-r1 data import aitz`.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

from scripts.protocol_diff.common import SCREENS, TEXTS, fmt, number, seed_answer, text_variant, write_png

KINDS = ("tap", "swipe", "type", "back", "home", "enter", "complete", "impossible")
WEIGHTS = (45, 18, 10, 6, 5, 4, 7, 5)
IDS = {"type": 3, "tap": 4, "swipe": 4, "back": 5, "home": 6, "enter": 7, "complete": 10, "impossible": 11}


def coat_word(touch: list[float], lift: list[float]) -> str:
    """CoAT's scroll word (the one its `coat_action_desc` states): normalised (y, x), vertical when
    |dy| >= 0.9 |dx|, naming the finger's motion."""
    dy, dx = abs(touch[0] - lift[0]), abs(lift[1] - touch[1])
    if dy >= 0.9 * dx:
        return "up" if lift[0] < touch[0] else "down"
    return "left" if lift[1] < touch[1] else "right"


def _clip01(v: float) -> float:
    return min(1.0, max(0.0, v))


def _tap(rng: random.Random) -> tuple[list[float], list[float]]:
    y, x = rng.choice((rng.random(), rng.random(), rng.random(), 0.0, 1.0)), rng.random()
    if rng.random() < 0.5:
        y, x = rng.random(), rng.choice((rng.random(), 0.0, 1.0))
    touch = [y, x]
    r = rng.choice((0.0, 0.0, rng.uniform(0, 0.04), 0.04, rng.uniform(0.039, 0.0401)))
    angle = rng.choice((0.0, math.pi / 2, rng.uniform(0, 2 * math.pi)))
    lift = [_clip01(y + r * math.sin(angle)), _clip01(x + r * math.cos(angle))]
    return touch, lift


def _swipe(rng: random.Random) -> tuple[list[float], list[float]]:
    while True:
        touch = [rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.95)]
        length = rng.uniform(0.041, 0.7)
        shape = rng.random()
        if shape < 0.15:  # CoAT's 0.9 ratio, exactly or just either side
            dx = length * rng.choice((-1, 1))
            dy = 0.9 * abs(dx) * rng.choice((1, 1.0001, 0.9999)) * rng.choice((-1, 1))
        elif shape < 0.3:  # a diagonal: the main axis is a tie
            dx = length * rng.choice((-1, 1))
            dy = abs(dx) * rng.choice((-1, 1))
        elif shape < 0.5:  # near an axis
            angle = rng.choice((0, 90, 180, 270)) + rng.uniform(-20, 20)
            dx, dy = length * math.cos(math.radians(angle)), length * math.sin(math.radians(angle))
        else:
            angle = rng.uniform(0, 2 * math.pi)
            dx, dy = length * math.cos(angle), length * math.sin(angle)
        lift = [_clip01(touch[0] + dy), _clip01(touch[1] + dx)]
        if math.dist(touch, lift) > 0.04:
            return touch, lift


def _boxes(rng: random.Random, screen: tuple[int, int], touch: list[float]) -> list[list[int]]:
    """`ui_positions`: [y, x, h, w] integer pixels; one box often holds the tap, some are degenerate."""
    w, h = screen
    boxes = []
    for _ in range(rng.randrange(0, 8)):
        bw, bh = rng.randrange(0, w // 2 + 1), rng.randrange(0, h // 6 + 1)
        boxes.append([rng.randrange(0, h), rng.randrange(0, w), bh, bw])
    if rng.random() < 0.65:
        py, px = touch[0] * h, touch[1] * w
        bw, bh = rng.randrange(1, w // 3 + 2), rng.randrange(1, h // 8 + 2)
        boxes.append([int(py - rng.uniform(0, bh)), int(px - rng.uniform(0, bw)), bh, bw])
    if rng.random() < 0.1:
        boxes.append([0, 0, h + rng.randrange(0, 50), w])  # the whole screen and more
    if rng.random() < 0.1:
        boxes.append([rng.randrange(0, h), rng.randrange(0, w), 0, 0])  # no area
    rng.shuffle(boxes)
    return boxes


def gold_entry(rng: random.Random, screen: tuple[int, int], kind: str) -> dict[str, Any]:
    """One AITZ entry's action fields, with a `coat_action_desc` whose first words are CoAT's labels."""
    none = "[-1.0, -1.0]"
    entry: dict[str, Any] = {"result_action_text": "", "result_touch_yx": none, "result_lift_yx": none}
    entry["result_action_type"] = IDS[kind]
    touch = [rng.random(), rng.random()]
    if kind in ("tap", "swipe"):
        touch, lift = _tap(rng) if kind == "tap" else _swipe(rng)
        entry["result_touch_yx"] = json.dumps(touch)
        entry["result_lift_yx"] = json.dumps(lift)
        desc = f"scroll {coat_word(touch, lift)}" if kind == "swipe" else "click on the element"
    elif kind == "type":
        entry["result_action_text"] = rng.choice(TEXTS)
        desc = f'input text "{entry["result_action_text"]}"'
    elif kind in ("back", "home"):
        desc = f"press the {kind} button"
    elif kind == "enter":
        desc = "press enter"
    else:
        desc = f"stop and set the query as {'completed' if kind == 'complete' else 'impossible'}"
    positions = _boxes(rng, screen, touch)
    entry["ui_positions"] = json.dumps(positions)
    entry["ui_text"] = json.dumps(["t"] * len(positions))
    entry["ui_types"] = json.dumps(["TEXT"] * len(positions))
    entry["coat_action_desc"] = desc
    return entry


def write_episodes(rng: random.Random, n: int, root: Path) -> list[dict[str, Any]]:
    """AITZ episodes under `root/source/test/general/` holding about `n` steps; one record per step:
    `{"step_id", "entry", "screen", "kind", "image"}` (`step_id` as phone-r1 numbers the imported step)."""
    steps: list[dict[str, Any]] = []
    episode = 0
    while len(steps) < n:
        episode += 1
        ep_id = str(900000 + episode)
        name = f"GENERAL-{ep_id}"
        folder = root / "source" / "test" / "general" / name
        screen = rng.choice(SCREENS)
        entries = []
        length = rng.randrange(1, 7)
        for k in range(length):
            kind = rng.choices(KINDS, WEIGHTS)[0]
            entry = gold_entry(rng, screen, kind)
            image = f"general/{name}/{name}_{k}.png"
            write_png(root / "source" / "test" / image, screen)
            entry.update(
                episode_id=ep_id,
                episode_length=length,
                step_id=k,
                instruction="do the task",
                image_path=image,
                image_full_path=f"android-in-the-wild/{image}",
            )
            entries.append(entry)
            steps.append(
                {"step_id": f"{int(ep_id)}/{k}", "entry": entry, "screen": list(screen), "kind": kind}
            )
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.json").write_text(json.dumps(entries), encoding="utf-8")
    return steps


def _near(rng: random.Random, v: float) -> float:
    """A 0-1000 coordinate near `v` (norm): on it, a little off, on a threshold's edge or anywhere."""
    choice = rng.random()
    if choice < 0.3:
        return v * 1000
    if choice < 0.6:
        return v * 1000 + rng.uniform(-60, 60)
    if choice < 0.8:
        return v * 1000 + rng.choice((-1, 1)) * rng.choice((140, 140.5, 139.5, 40, 40.5, 39.5, 100))
    return rng.uniform(0, 1000)


def _clip1000(v: float) -> float:
    return min(1000.0, max(0.0, v))


def answer_for(rng: random.Random, step: dict[str, Any]) -> str:
    """A seed-format answer in 0-1000 to an AITZ step: mostly its own type, often near its target."""
    entry, kind = step["entry"], step["kind"]
    touch = json.loads(entry["result_touch_yx"])
    lift = json.loads(entry["result_lift_yx"])
    same = rng.random() < 0.7
    own = {"tap": "click", "swipe": "swipe", "type": "type", "complete": "task_completed"}.get(kind, kind)
    if kind == "impossible":
        own = "task_impossible"
    choice = (
        own
        if same
        else rng.choice(
            (
                "click",
                "long_click",
                "swipe",
                "type",
                "back",
                "home",
                "enter",
                "recent_apps",
                "wait",
                "open_app",
                "task_completed",
                "task_impossible",
            )
        )
    )
    if kind not in ("tap", "swipe"):
        touch, lift = [rng.random(), rng.random()], [rng.random(), rng.random()]
    if choice in ("click", "long_click"):
        cx, cy = _clip1000(_near(rng, touch[1])), _clip1000(_near(rng, touch[0]))
        shape = rng.random()
        if shape < 0.35:
            return seed_answer(choice, f"{fmt(number(rng, cx))},{fmt(number(rng, cy))}")
        hw, hh = rng.uniform(0, 120), rng.uniform(0, 60)
        box = [_clip1000(cx - hw), _clip1000(cy - hh), _clip1000(cx + hw), _clip1000(cy + hh)]
        if shape > 0.92:
            box = [box[2], box[3], box[0], box[1]]  # swapped corners
        return seed_answer(choice, ",".join(fmt(number(rng, v)) for v in box))
    if choice == "swipe":
        shape = rng.random()
        if shape < 0.45 and kind == "swipe":
            start, end = [touch[1] * 1000, touch[0] * 1000], [lift[1] * 1000, lift[0] * 1000]
            if rng.random() < 0.4:
                end = [end[0] + rng.uniform(-80, 80), end[1] + rng.uniform(-80, 80)]
        elif shape < 0.55:
            start = [rng.uniform(0, 1000), rng.uniform(0, 1000)]
            end = list(start)  # no length at all
        elif shape < 0.65:
            start = [rng.uniform(100, 900), rng.uniform(100, 900)]
            d = rng.uniform(20, 300)
            end = [start[0] + d * rng.choice((-1, 1)), start[1] + d * rng.choice((-1, 1))]  # diagonal
        elif shape < 0.75:
            start = [rng.uniform(100, 900), rng.uniform(100, 900)]
            dx = rng.uniform(20, 300) * rng.choice((-1, 1))
            end = [start[0] + dx, start[1] + 0.9 * abs(dx) * rng.choice((-1, 1))]  # CoAT's 0.9 ratio
        elif shape < 0.85:
            start = [rng.uniform(0, 1000), rng.uniform(0, 1000)]
            r, a = rng.uniform(35, 45), rng.uniform(0, 2 * math.pi)  # near AITW's 0.04 tap/swipe split
            end = [start[0] + r * math.cos(a), start[1] + r * math.sin(a)]
        else:
            start = [rng.uniform(0, 1000), rng.uniform(0, 1000)]
            end = [rng.uniform(0, 1000), rng.uniform(0, 1000)]
        values = [_clip1000(v) for v in (*start, *end)]
        return seed_answer("swipe", ",".join(fmt(number(rng, v)) for v in values))
    if choice == "type":
        return seed_answer("type", text_variant(rng, entry.get("result_action_text") or rng.choice(TEXTS)))
    if choice == "open_app":
        return seed_answer("open_app", "Settings")
    if choice in ("task_completed", "task_impossible"):
        return seed_answer(choice, rng.choice(("", "done")))
    return seed_answer(choice, "")
