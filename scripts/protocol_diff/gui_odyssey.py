"""`gui-odyssey` against OpenGVLab/GUI-Odyssey `src/eval_mm/GUIOdyssey_action_matching.py`.

CHECKOUT is the GUI-Odyssey repository; its Python needs `numpy` (and `tqdm`). The gold side is v2
annotations (`annotations/`, `screenshots/`, `splits/random_split.json`) made into the command strings
`data/format_converter.py`'s `decode_action` writes, read back with `simple_decode` of
`src/eval_mm/evaluate_GUIOdyssey.py` (imported with its model libraries, torch and transformers,
replaced by empty modules: only its parsing is used) and matched with `action_matching` and the step's
`sam2_bbox`, as `action_matching_evaluation` does (an exception on either side scores the step wrong).
An answer is a seed-format action in 0-1000 said as the Odyssey agent's command: a click at its point
(a box's centre), LONG_PRESS likewise, a swipe as the SCROLL word `decode_action` gives its path, TYPE,
PRESS_BACK / PRESS_HOME / PRESS_RECENT, COMPLETE, IMPOSSIBLE, and the types Odyssey lacks by their own
names.
"""

from __future__ import annotations

import json
import math
import random
import sys
import types
from pathlib import Path
from typing import Any

from scripts.protocol_diff.common import (
    SCREENS,
    TEXTS,
    TIE_DRAWS,
    Source,
    fmt,
    number,
    numbers_of,
    read_seed_answer,
    seed_answer,
    text_variant,
    write_png,
)

TIE_DELTA = 1e-6  # in 0-1000 units
KINDS = ("click", "long_press", "key", "scroll", "text", "complete", "incomplete")
WEIGHTS = (45, 5, 8, 17, 12, 8, 5)
COMMANDS = {
    "back": "PRESS_BACK",
    "home": "PRESS_HOME",
    "recent_apps": "PRESS_RECENT",
    "enter": "PRESS_ENTER",
    "task_completed": "COMPLETE",
    "task_impossible": "IMPOSSIBLE",
    "wait": "WAIT",
}


def _point(rng: random.Random) -> list[float | int]:
    return [number(rng, rng.uniform(0, 1000), 0.2), number(rng, rng.uniform(0, 1000), 0.2)]


def _sam(rng: random.Random, point: list[float]) -> list[float | int]:
    x, y = point
    if rng.random() < 0.85:  # the element holding the point
        w, h = rng.uniform(5, 300), rng.uniform(5, 120)
        x1, y1 = x - rng.uniform(0, w), y - rng.uniform(0, h)
        return [number(rng, v, 0.1) for v in (x1, y1, x1 + w, y1 + h)]
    x1, y1 = rng.uniform(0, 900), rng.uniform(0, 900)  # a box elsewhere (or touching the point's edge)
    return [number(rng, v, 0.1) for v in (x1, y1, x1 + rng.uniform(0, 100), y1 + rng.uniform(0, 100))]


def _scroll(rng: random.Random) -> list[list[float]]:
    start = [rng.uniform(50, 950), rng.uniform(50, 950)]
    shape = rng.random()
    if shape < 0.2:
        d = rng.uniform(10, 400)
        end = [start[0] + d * rng.choice((-1, 1)), start[1] + d * rng.choice((-1, 1))]  # an exact diagonal
    elif shape < 0.27:
        end = list(start)  # no length
    else:
        a, r = rng.uniform(0, 2 * math.pi), rng.uniform(5, 600)
        end = [start[0] + r * math.cos(a), start[1] + r * math.sin(a)]
    return [[number(rng, min(1000, max(0, v)), 0.3) for v in p] for p in (start, end)]


def gold_step(rng: random.Random, kind: str) -> dict[str, Any]:
    """One v2 step's action, info and sam2_bbox."""
    if kind in ("click", "long_press"):
        point = _point(rng)
        return {"action": kind.upper(), "info": [point], "sam2_bbox": _sam(rng, point)}
    if kind == "key":
        return {
            "action": "CLICK",
            "info": rng.choice(("KEY_HOME", "KEY_BACK", "KEY_APPSELECT")),
            "sam2_bbox": [],
        }
    if kind == "scroll":
        return {"action": "SCROLL", "info": _scroll(rng), "sam2_bbox": []}
    if kind == "text":
        return {"action": "TEXT", "info": rng.choice(TEXTS), "sam2_bbox": []}
    return {"action": kind.upper(), "info": "", "sam2_bbox": []}


def answer_for(rng: random.Random, step: dict[str, Any]) -> str:
    """A seed-format answer in 0-1000: mostly the gold's own type, often near its target."""
    action, info = step["action"], step["info"]
    own = {
        "CLICK": "click",
        "LONG_PRESS": "long_click",
        "SCROLL": "swipe",
        "TEXT": "type",
        "COMPLETE": "task_completed",
        "INCOMPLETE": "task_impossible",
    }[action]
    if isinstance(info, str) and action == "CLICK":
        own = {"KEY_HOME": "home", "KEY_BACK": "back", "KEY_APPSELECT": "recent_apps"}[info]
    kind = own if rng.random() < 0.7 else rng.choice(
        ("click", "long_click", "swipe", "type", "back", "home", "recent_apps", "enter", "wait", "open_app",
         "task_completed", "task_impossible")
    )  # fmt: skip
    target = (
        info[0]
        if isinstance(info, list) and action != "SCROLL"
        else [rng.uniform(0, 1000), rng.uniform(0, 1000)]
    )
    if kind in ("click", "long_click"):
        x, y = target
        shape = rng.random()
        if shape < 0.3:
            x, y = x, y
        elif shape < 0.6:
            x, y = x + rng.uniform(-150, 150), y + rng.uniform(-150, 150)
        elif shape < 0.75:
            a = rng.uniform(0, 2 * math.pi)
            x, y = x + 140 * math.cos(a), y + 140 * math.sin(a)  # on the 0.14 circle
        else:
            x, y = rng.uniform(0, 1000), rng.uniform(0, 1000)
        x, y = min(1000, max(0, x)), min(1000, max(0, y))
        if rng.random() < 0.25:
            hw, hh = rng.uniform(0, 60), rng.uniform(0, 40)
            box = [max(0, x - hw), max(0, y - hh), min(1000, x + hw), min(1000, y + hh)]
            return seed_answer(kind, ",".join(fmt(number(rng, v)) for v in box))
        return seed_answer(kind, f"{fmt(number(rng, x))},{fmt(number(rng, y))}")
    if kind == "swipe":
        if action == "SCROLL" and rng.random() < 0.5:
            (x1, y1), (x2, y2) = info
            if rng.random() < 0.3:
                x2, y2 = x2 + rng.uniform(-100, 100), y2 + rng.uniform(-100, 100)
        else:
            (x1, y1), (x2, y2) = _scroll(rng)
        values = [min(1000, max(0, v)) for v in (x1, y1, x2, y2)]
        return seed_answer("swipe", ",".join(fmt(number(rng, v)) for v in values))
    if kind == "type":
        return seed_answer("type", text_variant(rng, info if action == "TEXT" else rng.choice(TEXTS)))
    if kind == "open_app":
        return seed_answer("open_app", "Chrome")
    if kind in ("task_completed", "task_impossible"):
        return seed_answer(kind, "")
    return seed_answer(kind, "")


class OdysseySource(Source):
    name = "gui-odyssey"
    protocol = "gui-odyssey"
    eval_flags = ("--coord-space", "norm1000")
    importer = "gui-odyssey"
    import_flags = ("--split", "random/test")

    def generate(self, rng: random.Random, n: int, root: Path) -> list[dict[str, Any]]:
        src = root / "source"
        cases: list[dict[str, Any]] = []
        names = []
        episode = 0
        while len(cases) < n:
            episode += 1
            ep_id = str(700000 + episode)
            screen = rng.choice(SCREENS)
            steps = []
            for k in range(rng.randrange(1, 8)):
                step = gold_step(rng, rng.choices(KINDS, WEIGHTS)[0])
                step.update(step=k, screenshot=f"{ep_id}_{k}.png", ps="", low_level_instruction="do it")
                write_png(src / "screenshots" / step["screenshot"], screen)
                steps.append(step)
                raw = answer_for(rng, step)
                case_id = f"{int(ep_id)}/{k}"
                cases.append({"id": case_id, "step_id": case_id, "raw": raw, "source": step})
            annotation = {
                "episode_id": ep_id,
                "device_info": {"w": screen[0], "h": screen[1], "device_name": "Medium Phone"},
                "task_info": {"category": "General_Tool", "app": ["Chrome"], "instruction": "do the task"},
                "step_length": len(steps),
                "steps": steps,
            }
            (src / "annotations").mkdir(parents=True, exist_ok=True)
            (src / "annotations" / f"{ep_id}.json").write_text(json.dumps(annotation), encoding="utf-8")
            names.append(f"{ep_id}.json")
        (src / "splits").mkdir(parents=True, exist_ok=True)
        (src / "splits" / "random_split.json").write_text(json.dumps({"train": [], "test": names}))
        return cases

    def official(self, cases: list[dict[str, Any]], checkout: Path) -> list[dict[str, Any]]:
        data = types.SimpleNamespace(Dataset=object, sampler=types.SimpleNamespace(Sampler=object))
        model_libraries = {
            "torch": {"utils": types.SimpleNamespace(data=data)},
            "transformers": dict.fromkeys(("AutoModelForCausalLM", "AutoTokenizer", "PreTrainedTokenizer")),
            "qwen_generation_utils": dict.fromkeys(("make_context", "decode_tokens")),
        }
        for name, attrs in model_libraries.items():
            module = sys.modules.setdefault(name, types.ModuleType(name))
            for attr, value in attrs.items():
                setattr(module, attr, value)
        sys.path[:0] = [str(checkout / "src" / "eval_mm"), str(checkout / "data")]
        from evaluate_GUIOdyssey import simple_decode
        from format_converter import decode_action
        from GUIOdyssey_action_matching import action_matching

        rng = random.Random(0)

        def verdict(case: dict[str, Any], delta: float) -> tuple[bool, str]:
            step = case["source"]
            info = step["info"]
            if delta and step["action"] in ("CLICK", "LONG_PRESS", "SCROLL") and isinstance(info, list):
                info = [[v + rng.uniform(-delta, delta) for v in p] for p in info]
            gt = simple_decode(decode_action(step["action"], info))
            try:
                pred = simple_decode(_command(case["raw"], decode_action, delta, rng))
                match = action_matching(
                    pred["action"], pred["info"], gt["action"], gt["info"], step["sam2_bbox"]
                )
            except Exception as err:  # noqa: BLE001 - the source's loop catches every exception alike
                return False, f"raised {type(err).__name__}: {err}"
            return match["is_correct"] == "yes", f"{match['info']}; gold {gt}"

        out = []
        for case in cases:
            correct, detail = verdict(case, 0.0)
            moved = {verdict(case, TIE_DELTA)[0] for _ in range(TIE_DRAWS)}
            tie = moved != {correct}
            out.append({"counted": True, "correct": correct, "tie": tie, "detail": detail})
        return out


def _command(raw: str, decode_action: Any, delta: float, rng: random.Random) -> str:
    """The Odyssey agent's command for a seed-format answer in 0-1000 (see the module docstring)."""
    read = read_seed_answer(raw)
    if read is None:
        return ""
    kind, parameter = read
    if kind in ("click", "long_click"):
        values = numbers_of(parameter)
        if len(values) == 4:
            values = [(values[0] + values[2]) / 2, (values[1] + values[3]) / 2]
        x, y = (v + rng.uniform(-delta, delta) for v in values)
        return f"{'CLICK' if kind == 'click' else 'LONG_PRESS'}: ({fmt(x)}, {fmt(y)})"
    if kind == "swipe":
        x1, y1, x2, y2 = (v + rng.uniform(-delta, delta) for v in numbers_of(parameter))
        return decode_action("SCROLL", [[x1, y1], [x2, y2]])
    if kind == "type":
        return f"TYPE: {parameter}"
    if kind == "open_app":
        return f"OPEN_APP: {parameter}"
    return COMMANDS.get(kind, kind.upper())


SOURCE = OdysseySource()
