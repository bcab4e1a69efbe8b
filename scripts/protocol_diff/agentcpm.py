"""`agentcpm` and `agentcpm-aitz` against OpenBMB/AgentCPM-GUI `eval/utils/evaluator.py`.

CHECKOUT is the AgentCPM-GUI repository; its Python needs `numpy`, `Levenshtein`, `jsonschema`,
`colorama`, `pillow` and, for `agentcpm`, `android-env` (the accessibility-forest protos, to print each
forest as `process_ac.py` reads it). Answers are AgentCPM-GUI's own (the `agentcpm-gui` agent): raw text,
read as `run_predict_minicpm.py`'s `extract_and_validate_json`, `utils/convert_output.py`'s
`parse_action` (with the JSON file round trip `convert2aitz` and `run_eval_agent.py` make) and the
evaluator read it; the prediction script's and `process_ac.py`'s functions are taken from their files
(their module-level code needs a model, TensorFlow and the data) and run as written.

`agentcpm`: AndroidControl episodes written as GZIP TFRecord shards with accessibility forests, imported
with `--add-finish`; the official gold is `process_ac.py`'s `transform_action_data_and_build_test_data`
on each action, its tree printed from the very forest bytes phone-r1 imports, and its synthetic finish
step. `agentcpm-aitz`: AITZ episodes (as for `aitz`), the gold as `process_aitz.py` leaves it (ui_positions
normalised by the PNG size).
"""

from __future__ import annotations

import base64
import json
import random
import sys
from pathlib import Path
from typing import Any

from scripts.protocol_diff import aitz_data
from scripts.protocol_diff.common import TEXTS, TIE_DRAWS, Source, text_variant, write_png

TIE_DELTA = 1e-9
APPS = ("Settings", "Chrome", "Gmail")


# --- AgentCPM-GUI answers -----------------------------------------------------------------------------


def _p(rng: random.Random, v: float) -> Any:
    """A 0-1000 coordinate as AgentCPM-GUI writes it: an integer mostly; sometimes a float (an integral
    one is valid, a fractional one is not), out of range, or a boolean."""
    r = rng.random()
    if r < 0.85:
        return int(round(min(1000, max(0, v))))
    if r < 0.9:
        return float(int(round(min(1000, max(0, v)))))
    if r < 0.94:
        return round(v, 1) + 0.5
    if r < 0.97:
        return rng.choice((1001, -1, 1000, 0))
    return True


def _near(rng: random.Random, norm: float) -> float:
    r = rng.random()
    if r < 0.35:
        return norm * 1000
    if r < 0.65:
        return norm * 1000 + rng.uniform(-40, 40)
    if r < 0.8:
        return norm * 1000 + rng.choice((-1, 1)) * rng.choice((40, 39, 41, 140, 139, 141, 28, 29))
    return rng.uniform(0, 1000)


def cpm_answer(rng: random.Random, kind: str, target: tuple[float, float] | None, text: str = "") -> str:
    """A raw AgentCPM-GUI answer: valid compact JSON mostly, and the forms its schema or reader refuses."""
    tx, ty = target if target is not None else (rng.random(), rng.random())
    point = [_p(rng, _near(rng, tx)), _p(rng, _near(rng, ty))]
    if kind == "click":
        obj: dict[str, Any] = {"POINT": point}
        r = rng.random()
        if r < 0.1:
            obj["duration"] = rng.choice((200, 100, 0, 201, 1000, 200.0, -5))
    elif kind == "long":
        obj = {"POINT": point, "duration": rng.choice((1000, 201, 500, 200))}
    elif kind == "swipe":
        r = rng.random()
        if r < 0.5:
            obj = {"POINT": point, "to": rng.choice(("up", "down", "left", "right", "UP", "sideways"))}
        elif r < 0.6:
            obj = {"POINT": [500, rng.choice((0, 1000))], "to": rng.choice(("up", "down"))}  # edge-anchored
        elif r < 0.7:
            obj = {"POINT": point, "to": list(point)}  # no length
        elif r < 0.8:
            d = rng.randrange(1, 300)
            obj = {"POINT": [500, 500], "to": [500 + d * rng.choice((-1, 1)), 500 + d * rng.choice((-1, 1))]}
        else:
            obj = {"POINT": point, "to": [_p(rng, rng.uniform(0, 1000)), _p(rng, rng.uniform(0, 1000))]}
        if rng.random() < 0.1:
            obj["duration"] = rng.choice((200, 500, 100))
    elif kind == "type":
        obj = {"TYPE": text}
    elif kind == "press":
        obj = {"PRESS": rng.choice(("BACK", "HOME", "ENTER", "APPSELECT", "back", "MENU"))}
    else:
        obj = rng.choice(
            (
                {"STATUS": "finish"},
                {"STATUS": "satisfied"},
                {"STATUS": "impossible"},
                {"STATUS": "interrupt"},
                {"STATUS": "need_feedback"},
                {"STATUS": "continue"},
                {"STATUS": "start", "POINT": point},
                {"STATUS": "finish", "POINT": point},
                {"duration": rng.choice((1000, 3000, 0))},
                {"DEEP_LINK": None},
                {"CLEAR": None},
                {},
            )
        )
    if rng.random() < 0.3:
        obj = {"thought": "look at the screen", **obj}
    r = rng.random()
    if r < 0.03:
        obj["extra"] = 1
    if r > 0.97:
        obj["PRESS"] = "BACK"  # two actions at once
    text_out = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    r = rng.random()
    if r < 0.03:
        return f"```json\n{text_out}\n```"
    if r < 0.06:
        return f"I will act: {text_out}"
    if r < 0.08:
        return text_out + "\n"
    if r < 0.1:
        return text_out.replace('"', "'")
    if r < 0.11:
        return "tap the search bar"
    return text_out


def _answer_kind(rng: random.Random, own: str) -> str:
    return own if rng.random() < 0.7 else rng.choice(("click", "long", "swipe", "type", "press", "stop"))


# --- AndroidControl: TFRecord shards with forests ------------------------------------------------------


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def _f_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value) if value else b""  # proto3 leaves zeros out


def _f_bytes(number: int, data: bytes) -> bytes:
    return _varint((number << 3) | 2) + _varint(len(data)) + data


def _rect(bounds: list[int]) -> bytes:
    return b"".join(_f_varint(i + 1, v) for i, v in enumerate(bounds))


def encode_forest(windows: list[dict[str, Any]]) -> bytes:
    """An AndroidAccessibilityForest's bytes from `{"bounds", "type", "active", "nodes": [...]}` windows."""
    out = b""
    for window in windows:
        body = b""
        if window.get("bounds") is not None:
            body += _f_bytes(1, _rect(window["bounds"]))
        body += _f_varint(6, window["type"]) + _f_varint(8, int(window["active"]))
        tree = b""
        for node in window["nodes"]:
            n = _f_varint(1, node["uid"])
            if node.get("bounds") is not None:
                n += _f_bytes(2, _rect(node["bounds"]))
            n += _f_bytes(3, b"android.widget.View") + _f_bytes(6, b"com.example.app")
            n += _f_varint(14, int(node["clickable"])) + _f_varint(23, int(node["visible"]))
            if node["children"]:
                n += _f_bytes(25, b"".join(_varint(c) for c in node["children"]))
            tree += _f_bytes(1, n)
        body += _f_bytes(11, tree)
        out += _f_bytes(1, body)
    return out


def _forest(rng: random.Random, screen: tuple[int, int], point: tuple[int, int]) -> list[dict[str, Any]]:
    """Windows with nodes: nested boxes around the point, strays, duplicates, empty and off-screen ones."""
    w, h = screen
    px, py = point
    nodes = []
    uid = 0
    for _ in range(rng.randrange(0, 6)):  # boxes holding the point, larger and larger
        half_w, half_h = rng.randrange(1, w // 2 + 1), rng.randrange(1, h // 6 + 1)
        bounds = [px - rng.randrange(0, half_w + 1), py - rng.randrange(0, half_h + 1)]
        bounds += [bounds[0] + half_w * 2, bounds[1] + half_h * 2]
        nodes.append(bounds)
    for _ in range(rng.randrange(0, 15)):  # anywhere, some near the point
        x, y = (px + rng.randrange(-200, 200), py + rng.randrange(-200, 200)) if rng.random() < 0.5 else (
            rng.randrange(0, w), rng.randrange(0, h))  # fmt: skip
        nodes.append([x, y, x + rng.randrange(0, 300), y + rng.randrange(0, 150)])
    if nodes and rng.random() < 0.3:
        nodes.append(list(rng.choice(nodes)))  # a duplicate
    if rng.random() < 0.2:
        nodes.append([0, 0, 0, 0])
    if rng.random() < 0.1:
        nodes.append([-20, h - 10, w + 20, h + 40])  # off the screen's edges
    rng.shuffle(nodes)
    app = {
        "bounds": [0, 0, w, h] if rng.random() < 0.9 else None,
        "type": 1,
        "active": True,
        "nodes": [
            {
                "uid": (uid := uid + 1),
                "bounds": b if rng.random() < 0.95 else None,
                "clickable": rng.random() < 0.5,
                "visible": rng.random() < 0.85,
                "children": [],
            }
            for b in nodes
        ],
    }
    windows = [app]
    if rng.random() < 0.3:
        windows.append({"bounds": [0, h - h // 3, w, h], "type": 2, "active": False, "nodes": []})
    if rng.random() < 0.1:
        windows.append({"bounds": [0, 0, 0, 0], "type": 3, "active": False, "nodes": []})  # set, all zeros
    return windows


def _example(features: dict[str, list]) -> bytes:
    entries = b""
    for name, values in features.items():
        if values and isinstance(values[0], int):
            feature = _f_bytes(3, _f_bytes(1, b"".join(_varint(v) for v in values)))
        else:
            feature = _f_bytes(1, b"".join(_f_bytes(1, v) for v in values))
        entries += _f_bytes(1, _f_bytes(1, name.encode()) + _f_bytes(2, feature))
    return _f_bytes(1, entries)


_AC_KINDS = (
    "click",
    "long_press",
    "scroll",
    "input_text",
    "open_app",
    "wait",
    "navigate_back",
    "navigate_home",
)
_AC_WEIGHTS = (50, 3, 15, 9, 8, 7, 5, 3)
_OWN = {
    "click": "click",
    "long_press": "click",
    "scroll": "swipe",
    "input_text": "type",
    "open_app": "click",
    "wait": "stop",
    "navigate_back": "press",
    "navigate_home": "press",
}


class ACSource(Source):
    name = "agentcpm"
    protocol = "agentcpm"
    agent = "agentcpm-gui"
    importer = "androidcontrol"
    import_flags = ("--split", "test", "--add-finish")

    def generate(self, rng: random.Random, n: int, root: Path) -> list[dict[str, Any]]:
        import gzip

        from episodes.importers.tfrecord import frame

        src = root / "source"
        src.mkdir(parents=True, exist_ok=True)
        cases: list[dict[str, Any]] = []
        ids = []
        with gzip.open(src / "android_control-00000-of-00001", "wb") as shard:
            while len(cases) < n:
                episode = 40000 + len(ids)
                ids.append(episode)
                screen = rng.choice(((1080, 2400), (1440, 3120), (720, 1280)))
                w, h = screen
                actions, forests = [], []
                for _ in range(rng.randrange(1, 6)):
                    kind = rng.choices(_AC_KINDS, _AC_WEIGHTS)[0]
                    point = (rng.randrange(0, w), rng.randrange(0, h))
                    if rng.random() < 0.03:
                        point = (rng.choice((0, w)), rng.choice((0, h)))
                    action: dict[str, Any] = {"action_type": kind}
                    if kind in ("click", "long_press"):
                        action.update(x=point[0], y=point[1])
                    elif kind == "scroll":
                        action["direction"] = rng.choice(("up", "down", "left", "right"))
                    elif kind == "input_text":
                        action["text"] = rng.choice(TEXTS)
                    elif kind == "open_app":
                        action["app_name"] = rng.choice(APPS)
                    actions.append(action)
                    forests.append(encode_forest(_forest(rng, screen, point)))
                forests.append(encode_forest(_forest(rng, screen, (w // 2, h // 2))))
                png = root / "png" / f"{w}x{h}.png"
                if not png.exists():
                    write_png(png, screen)
                shots = [png.read_bytes()] * (len(actions) + 1)
                shard.write(
                    frame(
                        _example(
                            {
                                "episode_id": [episode],
                                "goal": [b"do the task"],
                                "screenshots": shots,
                                "accessibility_trees": forests,
                                "screenshot_widths": [w] * len(shots),
                                "screenshot_heights": [h] * len(shots),
                                "actions": [json.dumps(a).encode() for a in actions],
                                "step_instructions": [b"do it"] * len(actions),
                            }
                        )
                    )
                )
                steps = [*actions, {"action_type": "finish"}]
                for k, action in enumerate(steps):
                    own = _OWN.get(action["action_type"], "stop")
                    target = (action["x"] / w, action["y"] / h) if "x" in action else None
                    raw = cpm_answer(
                        rng, _answer_kind(rng, own), target, text_variant(rng, action.get("text", ""))
                    )
                    case = {
                        "id": f"{episode}/{k}",
                        "step_id": f"{episode}/{k}",
                        "raw": raw,
                        "source": {
                            "action": json.dumps(action),
                            "screen": list(screen),
                            "forest": base64.b64encode(forests[min(k, len(forests) - 1)]).decode(),
                            "episode": episode,
                            "step": k,
                            "episode_length": len(shots),
                        },
                    }
                    cases.append(case)
        (src / "splits.json").write_text(json.dumps({"train": [], "validation": [], "test": ids}))
        return cases

    def official(self, cases: list[dict[str, Any]], checkout: Path) -> list[dict[str, Any]]:
        from android_env.proto.a11y import android_accessibility_forest_pb2

        tools = _load(checkout)
        evaluator = tools["evaluator"]
        rng = random.Random(0)
        out = []
        for case in cases:
            src = case["source"]
            forest = android_accessibility_forest_pb2.AndroidAccessibilityForest.FromString(
                base64.b64decode(src["forest"])
            )
            w, h = src["screen"]
            action_data = {
                "action": src["action"],
                "screenshot_width": w,
                "screenshot_height": h,
                "screenshot_path": f"{src['episode']}_{src['step']}.png",
                "low_instruction": "do it",
                "goal": "do the task",
                "episode_id": src["episode"],
                "step": src["step"],
                "episode_length": src["episode_length"],
                "ui_trees": str(forest),
            }
            gt = tools["build_test_data"](action_data)
            if gt is None:
                out.append({"counted": False, "correct": False, "detail": "dropped by process_ac.py"})
                continue
            verdict = _judge(evaluator, tools, gt, case["raw"])
            if json.loads(gt["result_touch_yx"]) != [-1.0, -1.0]:
                # a float tie: the verdict flips when the gold point moves by TIE_DELTA
                moved = set()
                for _ in range(TIE_DRAWS):
                    y, x = json.loads(gt["result_touch_yx"])
                    dy, dx = rng.uniform(-1, 1) * TIE_DELTA, rng.uniform(-1, 1) * TIE_DELTA
                    y2, x2 = json.loads(gt["result_lift_yx"])
                    again = dict(
                        gt, result_touch_yx=str([y + dy, x + dx]), result_lift_yx=str([y2 + dy, x2 + dx])
                    )
                    moved.add(_judge(evaluator, tools, again, case["raw"])["correct"])
                verdict["tie"] = moved != {verdict["correct"]}
            out.append(verdict)
        return out


class AitzSource(Source):
    name = "agentcpm-aitz"
    protocol = "agentcpm-aitz"
    agent = "agentcpm-gui"
    importer = "aitz"
    import_flags = ("--split", "test")

    def generate(self, rng: random.Random, n: int, root: Path) -> list[dict[str, Any]]:
        cases = []
        own = {
            "tap": "click",
            "swipe": "swipe",
            "type": "type",
            "back": "press",
            "home": "press",
            "enter": "press",
        }
        for step in aitz_data.write_episodes(rng, n, root):
            entry = step["entry"]
            touch = json.loads(entry["result_touch_yx"])
            target = (touch[1], touch[0]) if step["kind"] in ("tap", "swipe") else None
            kind = _answer_kind(rng, own.get(step["kind"], "stop"))
            if kind == "swipe" and step["kind"] == "swipe" and rng.random() < 0.5:
                lift = json.loads(entry["result_lift_yx"])
                start = [round(touch[1] * 1000), round(touch[0] * 1000)]
                to = [round(lift[1] * 1000), round(lift[0] * 1000)]
                raw = json.dumps({"POINT": start, "to": to}, separators=(",", ":"))
            else:
                raw = cpm_answer(rng, kind, target, text_variant(rng, entry["result_action_text"]))
            step["image_size"] = step["screen"]
            cases.append({"id": step["step_id"], "step_id": step["step_id"], "raw": raw, "source": step})
        return cases

    def official(self, cases: list[dict[str, Any]], checkout: Path) -> list[dict[str, Any]]:
        tools = _load(checkout, ac=False)
        rng = random.Random(0)
        out = []
        for case in cases:
            entry = dict(case["source"]["entry"])
            w, h = case["source"]["image_size"]
            # process_aitz.py: the PNG's size, and ui_positions normalised by it.
            entry.update(image_width=w, image_height=h, subset="general")
            entry["ui_positions"] = json.dumps(
                [[y / h, x / w, hh / h, ww / w] for y, x, hh, ww in json.loads(entry["ui_positions"])]
            )
            verdict = _judge(tools["evaluator"], tools, entry, case["raw"])
            if entry["result_touch_yx"] != "[-1.0, -1.0]":  # a float tie: the verdict flips when moved
                moved = set()
                for _ in range(TIE_DRAWS):
                    again = dict(entry)
                    for key in ("result_touch_yx", "result_lift_yx"):
                        y, x = json.loads(entry[key])
                        again[key] = json.dumps(
                            [y + rng.uniform(-1, 1) * TIE_DELTA, x + rng.uniform(-1, 1) * TIE_DELTA]
                        )
                    moved.add(_judge(tools["evaluator"], tools, again, case["raw"])["correct"])
                verdict["tie"] = moved != {verdict["correct"]}
            out.append(verdict)
        return out


def _functions(path: Path, names: tuple[str, ...], namespace: dict[str, Any]) -> dict[str, Any]:
    """The named top-level functions of a script whose module-level code cannot run here, as written."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in names]
    missing = set(names) - {node.name for node in body}
    if missing:
        raise SystemExit(f"{path}: expected functions {sorted(missing)}, found none")
    exec(compile(ast.Module(body=body, type_ignores=[]), str(path), "exec"), namespace)  # noqa: S102
    return namespace


def _load(checkout: Path, ac: bool = True) -> dict[str, Any]:
    import re

    import jsonschema

    sys.path.insert(0, str(checkout / "eval"))
    from utils.convert_output import EXTRACT_SCHEMA, parse_action
    from utils.evaluator import ActionEvaluator

    predict = _functions(
        checkout / "eval" / "run_predict_minicpm.py",
        ("extract_and_validate_json",),
        {"json": json, "jsonschema": jsonschema, "EXTRACT_SCHEMA": EXTRACT_SCHEMA},
    )
    tools = {
        "extract": predict["extract_and_validate_json"],
        "parse_action": parse_action,
        "evaluator": ActionEvaluator("/tmp", eval_android_control=ac),
    }
    if ac:
        process = _functions(
            checkout / "eval" / "eval_data" / "process_ac.py",
            ("transform_action_data", "turn_ui_trees", "transform_action_data_and_build_test_data"),
            {"json": json, "re": re},
        )
        tools["build_test_data"] = process["transform_action_data_and_build_test_data"]
    return tools


def _judge(evaluator: Any, tools: dict[str, Any], gt: dict[str, Any], raw: str) -> dict[str, Any]:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # the scripts print on every miss
        pred = tools["extract"](raw)
        actions, parameters, status = tools["parse_action"](pred)
        entry = {
            "action_predict": {"COA": {"txt": {"ACTION": actions, "ARGS": parameters, "STATUS": status}}}
        }
        entry = json.loads(json.dumps(entry, ensure_ascii=False))  # convert2aitz's file, read back
        gt = dict(gt, subset=gt.get("subset", "android_control"), instruction=gt.get("instruction", ""))
        gt.setdefault("image_full_path", "")
        result = evaluator(gt, entry)
    return {
        "counted": True,
        "correct": bool(result["exact_match"]),
        "detail": f"gold {result['answer']}, read {result['pred']}",
    }


AC = ACSource()
AITZ = AitzSource()
