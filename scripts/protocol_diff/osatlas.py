"""`androidcontrol-osatlas` against OS-Copilot/OS-Atlas
`eval/eval_scripts/android_control/evaluation_unify.py` (checkout root as DIR).

The gold is written as OS-Atlas's test records hold it (`eval/data/ac_test.jsonl`: the conversation's
answer `thoughts:\\n...\\nactions:\\nCLICK <point>[[x,y]]</point>`), from the original AndroidControl step:
the point divided by the screen and times 1000, rounded; the scroll's AndroidControl word in brackets.
Official side: `evaluate` on a prediction and a ground-truth file per case (a one-line pair, so that an
answer that makes the script stop only stops its own case), reading its score tables; once more on every
case it does not stop on, for its aggregate figures.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import sys
import types
from collections import defaultdict
from pathlib import Path
from typing import Any

AGENTS = ("os-atlas",)
PROTOCOL = "androidcontrol-osatlas"
BUDGET = None
FIELDS = ("correct", "type_match", "raised")
SUBSPLITS = ("IDD", "app_unseen", "task_unseen", "category_unseen")


def gold_command(step: Any) -> str:
    action, check = step.original["action_content"], step.original["check_options"]
    kind = action["action"]
    if kind in ("click", "long_press"):
        x, y = action["coordinate"]
        word = "CLICK" if kind == "click" else "LONG_PRESS"
        return (
            f"{word} <point>[[{round(x / step.screen[0] * 1000)},{round(y / step.screen[1] * 1000)}]]</point>"
        )
    if kind == "swipe":
        return f"SCROLL [{check['direction'].upper()}]"
    if kind == "type":
        return f"TYPE [{action['text']}]"
    if kind == "open":
        return f"OPEN_APP [{action['text']}]"
    if kind == "system_button":
        return {"Back": "PRESS_BACK", "Home": "PRESS_HOME", "Enter": "ENTER"}[action["button"]]
    return "WAIT"


def answer_command(rng: random.Random, gold: str) -> tuple[str, str]:
    """A command aimed at the gold one, or another; `(command, kind)`."""
    from scripts.protocol_diff import answers as a

    word = gold.split()[0]
    r = rng.random()
    if r < 0.12:
        word = rng.choice(
            [
                "CLICK",
                "LONG_PRESS",
                "SCROLL",
                "TYPE",
                "OPEN_APP",
                "PRESS_BACK",
                "WAIT",
                "COMPLETE",
                "PRESS_HOME",
                "ENTER",
            ]
        )
    if word in ("CLICK", "LONG_PRESS"):
        digits = [
            int(d) for d in gold.replace("[", " ").replace("]", " ").replace(",", " ").split() if d.isdigit()
        ]
        centre = tuple(digits[:2]) if len(digits) >= 2 else (500, 500)
        x, y = a.near_threshold_point(rng, centre, 140)
        xs, ys = a.number(rng, x), a.number(rng, y)
        shape = rng.random()
        if shape < 0.8:
            return f"{word} <point>[[{xs},{ys}]]</point>", "point"
        if shape < 0.88:
            return (
                f"{word} <point>[[{xs},{ys},{a.number(rng, x + 20)},{a.number(rng, y + 20)}]]</point>",
                "box",
            )
        if shape < 0.94:
            return f"{word} ({xs}, {ys})", "parentheses"
        return f"{word} <point>[[{xs}]]</point>", "one number"
    if word == "SCROLL":
        direction = gold[len("SCROLL [") : -1] if gold.startswith("SCROLL [") else rng.choice(["UP", "DOWN"])
        if rng.random() < 0.35:
            direction = rng.choice(["UP", "DOWN", "LEFT", "RIGHT"])
        return rng.choice(
            [f"SCROLL [{direction}]"] * 6
            + [
                f"SCROLL {direction}",
                f"SCROLL [{direction.lower()}]",
                f"SCROLL [{direction}]\n",
                f"SCROLL  [{direction}]",
            ]
        ), "scroll"
    if word in ("TYPE", "OPEN_APP"):
        text = gold[gold.index("[") + 1 : -1] if "[" in gold else rng.choice(a.OTHER_TEXT)
        text = a.text_variant(rng, text)
        return rng.choice(
            [f"{word} [{text}]"] * 6
            + [f"{word} {text}", f"{word} [{text}", f"{word}", f"{word} []", f"{word} [{text}] "]
        ), "text"
    return rng.choice([word] * 5 + [f"{word}\n", word.lower(), f"{word} []"]), "other"


def make_case(step: Any, rng: random.Random, agent: str) -> dict[str, Any]:
    gold = gold_command(step)
    command, kind = answer_command(rng, gold)
    r = rng.random()
    if r < 0.78:
        raw, layout = f"thoughts:\n{step.original.get('step_instruction', '')}\nactions:\n{command}", "header"
    elif r < 0.82:
        raw, layout = f"actions:\n{command}<|im_end|>", "im_end"
    elif r < 0.85:
        raw, layout = f"Actions:\n{command}", "capital header"
    elif r < 0.88:
        raw, layout = f"actions: {command}", "header without newline"
    elif r < 0.9:
        raw, layout = f"actions:\r\n{command}", "crlf"
    elif r < 0.93:
        raw, layout = command, "no header"
    elif r < 0.95:
        raw, layout = f"actions:\n{command}\nactions:\nWAIT", "two headers"
    elif r < 0.97:
        raw, layout = f"actions:\n {command} ", "spaces"
    else:
        raw, layout = (
            rng.choice(["actions:\n", "actions:\n  ", "actions:\nend", "actions:\n<|im_end|>"]),
            "empty",
        )
    return {
        "step_id": step.step_id,
        "kind": f"{gold.split()[0]}/{kind}/{layout}",
        "raw": raw,
        "gold": gold,
        "episode": int(step.episode_id),
        "index": step.index,
    }


def aggregates(
    ours: dict[str, Any], official: dict[str, Any], cases: list[dict[str, Any]]
) -> list[tuple[str, Any, Any]]:
    from eval.metrics import compute_metrics
    from eval.results import Results

    # The script stops on the cases it raises on; its figures are over the others.
    kept = {c["step_id"] for c, v in zip(cases, official["cases"], strict=True) if not v["raised"]}
    m = compute_metrics(
        Results(ours["header"], {k: v for k, v in ours["records"].items() if k in kept}), n_resamples=1
    )
    return [
        ("Acc (SR)", m["sr"], official["aggregate"]["acc"]),
        ("type_match acc (TM)", m["tm"], official["aggregate"]["type_match"]),
        ("grounding acc", m["protocol_metrics"]["grounding"], official["aggregate"]["grounding"]),
    ]


# ---- official side ---------------------------------------------------------------------------------------


def _write(folder: Path, cases: list[dict[str, Any]]) -> types.SimpleNamespace:
    folder.mkdir(parents=True, exist_ok=True)
    with (
        open(folder / "pred.jsonl", "w", encoding="utf-8") as pred,
        open(folder / "gt.jsonl", "w", encoding="utf-8") as gt,
    ):
        for c in cases:
            pred.write(json.dumps({"pred": c["raw"]}) + "\n")
            image = f"/data/android_control/screenshots/episode_{c['episode']}_screenshot_{c['index']}.png"
            answer = f"thoughts:\nstep\nactions:\n{c['gold']}"
            gt.write(
                json.dumps(
                    {
                        "image": image,
                        "conversations": [{"from": "human", "value": ""}, {"from": "gpt", "value": answer}],
                    }
                )
                + "\n"
            )
    return types.SimpleNamespace(
        prediction_file_path=str(folder / "pred.jsonl"),
        ground_truth_file_path=str(folder / "gt.jsonl"),
        split="low",
    )


def official(checkout: Path, cases: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    sys.path.insert(0, str(checkout / "eval" / "eval_scripts" / "android_control"))
    import evaluation_unify  # the checkout's module

    tables: list[dict[str, int]] = []

    def recording(factory: Any) -> Any:
        table = defaultdict(factory)
        tables.append(table)
        return table

    evaluation_unify.defaultdict = recording
    episodes = sorted({c["episode"] for c in cases})
    # The script reads the test subsplits from the working folder; every category gets episodes.
    (work / "android_control_test_subsplits.json").write_text(
        json.dumps({name: episodes[i::4] for i, name in enumerate(SUBSPLITS)})
    )
    os.chdir(work)
    out = []
    one = work / "one"
    for c in cases:
        tables.clear()
        raised = False
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                evaluation_unify.evaluate(_write(one, [c]))
        except IndexError:
            raised = True  # the loop itself stopped on this answer
        except ZeroDivisionError:
            pass  # the figures of one case: some categories are empty
        scores = tables[0]
        out.append(
            {"correct": scores["full"] == 1, "type_match": scores["type_match"] == 1, "raised": raised}
        )
    tables.clear()
    kept = [c for c, v in zip(cases, out, strict=True) if not v["raised"]]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        evaluation_unify.evaluate(_write(work / "all", kept))
    scores, counts = tables[0], tables[1]
    return {
        "cases": out,
        "aggregate": {
            "acc": scores["full"] / counts["full"],
            "type_match": scores["type_match"] / counts["full"],
            "grounding": scores["CLICK_all_match"] / scores["CLICK_type_match"],
        },
    }


if __name__ == "__main__" and sys.argv[1] == "--official":
    from scripts.protocol_diff.androidcontrol import read_cases

    checkout, cases_file, out_file, work = sys.argv[2:6]
    result = official(Path(checkout), read_cases(cases_file), Path(work))
    Path(out_file).write_text(json.dumps(result), encoding="utf-8")
