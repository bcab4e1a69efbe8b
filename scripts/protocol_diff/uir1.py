"""`ui-r1` against lll6gg/UI-R1 `evaluation/eval_ac.py` (checkout root as DIR).

The script reads a file whose layout is not published; the layout checked here is the one the protocol's
card states: one `json.dumps({"content": <gold>, "response": <answer>})` line per step, the gold as
AndroidControl's action JSON (UI-R1's `dataset/ac_test.json`), the answer as the text of its first
`<answer>...</answer>` (the whole answer without one) with the list brackets taken off. The lines are built
here from the original AndroidControl step and the raw answer. Official side: the script itself
(`runpy`) in a folder holding the one-line `ac_test_xxx.jsonl` of each case, reading its `correct`,
`total` and `click_correct`; once more on every case it does not stop on, for its tallies.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import runpy
import sys
from pathlib import Path
from typing import Any

AGENTS = ("ui-r1",)
PROTOCOL = "ui-r1"
BUDGET = (3136, 1003520)  # the adapter answers in resized pixels; the script rescales by fixed factors
FIELDS = ("correct", "type_match", "counted", "raised")
NAMES = ["click", "open_app", "scroll", "navigate_back", "input_text", "long_press", "wait", "navigate_home"]


def gold_json(step: Any) -> dict[str, Any]:
    action, check = step.original["action_content"], step.original["check_options"]
    kind = action["action"]
    if kind in ("click", "long_press"):
        return {"action_type": kind, "x": action["coordinate"][0], "y": action["coordinate"][1]}
    if kind == "swipe":
        return {"action_type": "scroll", "direction": check["direction"]}
    if kind == "type":
        return {"action_type": "input_text", "text": action["text"]}
    if kind == "open":
        return {"action_type": "open_app", "app_name": action["text"]}
    if kind == "system_button":
        return {"action_type": "navigate_" + action["button"].lower()}
    return {"action_type": "wait"}


def response_of(raw: str) -> str:
    match = re.search(r"<answer>(.*?)</answer>", raw, re.DOTALL)
    text = (match.group(1) if match else raw).strip()
    return text[1:-1].strip() if text.startswith("[") and text.endswith("]") else text


def make_case(step: Any, rng: random.Random, agent: str) -> dict[str, Any]:
    from scripts.protocol_diff import answers as a

    gold = gold_json(step)
    name = gold["action_type"] if rng.random() < 0.75 else rng.choice(NAMES)
    item: dict[str, Any] = {"action": name}
    if "x" in gold:
        x, y = a.near_threshold_point(rng, (gold["x"], gold["y"]), 1080 * 0.14)
        item["coordinate"] = [a.number(rng, x * 644 / 1080), a.number(rng, y * 1484 / 2400)]
    elif rng.random() < 0.5:
        item["coordinate"] = [a.number(rng, rng.uniform(0, 644)), a.number(rng, rng.uniform(0, 1484))]
    r = rng.random()
    if r < 0.05:
        item["coordinate"] = [a.number(rng, 300)]
    elif r < 0.08:
        item["coordinate"] = [0, 500]
    elif r < 0.12:
        item["note"] = rng.choice(
            ["then scroll", "open_app next", "navigate_back if wrong", "input_text later"]
        )
    body = repr([item])
    r = rng.random()
    if r < 0.72:
        raw, layout = f"<think>looking</think> <answer>{body}</answer>", "list"
    elif r < 0.78:
        raw, layout = f"<answer>{json.dumps([item])}</answer>", "json"
    elif r < 0.83:
        raw, layout = f"<answer>{repr(item)}</answer>", "no brackets"
    elif r < 0.88:
        raw, layout = f"<think>click or scroll?</think> {body}", "no answer tag"
    elif r < 0.92:
        raw, layout = f"<answer>[{repr(item)}, {{'action': 'scroll'}}]</answer>", "two actions"
    elif r < 0.96:
        raw, layout = f"<answer>{body}", "unclosed"
    else:
        raw, layout = (
            rng.choice(["", "<answer></answer>", "<answer>[]</answer>", "<answer>{}</answer>"]),
            "empty",
        )
    line = json.dumps({"content": json.dumps(gold), "response": response_of(raw)})
    return {
        "step_id": step.step_id,
        "kind": f"{gold['action_type']}/{name}/{layout}",
        "raw": raw,
        "gold": gold,
        "line": line,
    }


def aggregates(
    ours: dict[str, Any], theirs: dict[str, Any], cases: list[dict[str, Any]]
) -> list[tuple[str, Any, Any]]:
    from eval.metrics import compute_metrics
    from eval.results import Results

    kept = {c["step_id"] for c, v in zip(cases, theirs["cases"], strict=True) if not v["raised"]}
    m = compute_metrics(
        Results(ours["header"], {k: v for k, v in ours["records"].items() if k in kept}), n_resamples=1
    )
    official = theirs["aggregate"]
    return [
        ("type_acc (correct / total)", m["protocol_metrics"]["type_acc"], official["type_acc"]),
        (
            "click_acc (click_correct / total click)",
            m["protocol_metrics"]["click_acc"],
            official["click_acc"],
        ),
        ("steps counted (total)", m["n_steps"], official["total"]),
    ]


# ---- official side ---------------------------------------------------------------------------------------


def _run(script: Path, folder: Path, lines: list[str]) -> dict[str, Any]:
    (folder / "ac_test_xxx.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    with contextlib.redirect_stdout(io.StringIO()):
        return runpy.run_path(str(script))


def official(checkout: Path, cases: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    script = checkout / "evaluation" / "eval_ac.py"
    folder = work / "uir1"
    folder.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    out = []
    for c in cases:
        try:
            state = _run(script, folder, [c["line"]])
        except (KeyError, IndexError, NameError):
            out.append({"correct": False, "type_match": False, "counted": False, "raised": True})
            continue
        typed = sum(state["correct"].values()) == 1
        counted = sum(state["total"].values()) == 1
        category = next((k for k in state["correct"] if state["correct"][k] or state["total"][k]), None)
        correct = typed and (category != "click" or state["click_correct"] == 1)
        out.append({"correct": correct, "type_match": typed, "counted": counted, "raised": False})
    kept = [c["line"] for c, v in zip(cases, out, strict=True) if not v["raised"]]
    state = _run(script, folder, kept)
    total = sum(state["total"].values())
    return {
        "cases": out,
        "aggregate": {
            "type_acc": sum(state["correct"].values()) / total,
            "click_acc": state["click_correct"] / state["total"]["click"],
            "total": total,
        },
    }


if __name__ == "__main__" and sys.argv[1] == "--official":
    from scripts.protocol_diff.androidcontrol import read_cases

    checkout, cases_file, out_file, work = sys.argv[2:6]
    result = official(Path(checkout), read_cases(cases_file), Path(work))
    Path(out_file).write_text(json.dumps(result), encoding="utf-8")
