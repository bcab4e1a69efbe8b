"""`androidcontrol-uis1` against X-PLUG/MobileAgent `UI-S1/evaluation/eval_qwenvl.py` + `qwenvl_utils.py`
(checkout root as DIR).

Official side, per step: `JsonFormat.parse_response` on the raw answer and `evaluate_android_control_action`
against the step's check after `fix_line`, recording a raise. Per episode: `process_line` itself, with the
model call answering the episode's generated answers in order and the screenshot lookup returning the
screen and resized sizes (its network and image reading replaced); `main`'s success rate and average
progress over the returned results.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import random
import sys
import types
from collections import defaultdict
from pathlib import Path
from typing import Any

AGENTS = ("ui-s1",)
PROTOCOL = "androidcontrol-uis1"
BUDGET = (56 * 56, 12800 * 28 * 28)
FIELDS = ("correct", "type_match", "raised")


def _wrap(rng: random.Random, args: Any) -> tuple[str, str]:
    from scripts.protocol_diff import answers as a

    body = a.dumps(args, rng)
    r = rng.random()
    if r < 0.7:
        return f"<think>\nlooking\n</think>\n<action>\n{body}\n</action>", "tagged"
    if r < 0.75:
        return f"<action>{body}", "unclosed"
    if r < 0.8:
        return body, "bare json"
    if r < 0.85:
        return f"<action>{body.replace(chr(34), chr(39))}</action>", "single quotes"
    if r < 0.9:
        return f"<action>{json.dumps(rng.choice([[args], 'click', 3, None]))}</action>", "not an object"
    if r < 0.95:
        return f"<action>{body}</action><action>" + '{"action": "wait"}</action>', "two actions"
    return rng.choice(["", "<think>x</think>", "<action></action>"]), "no action"


def make_case(step: Any, rng: random.Random, agent: str) -> dict[str, Any]:
    from actions.coords import PixelBudget, model_screen_size
    from scripts.protocol_diff import mobile_use

    model = model_screen_size("resized", step.screen, PixelBudget(*BUDGET))
    # Aim at the step's check as UI-S1's data has it (with its candidate boxes, which fix_line drops).
    check = step.original["check_options"]
    args = mobile_use.oddities(rng, mobile_use.args_for(rng, check, step.screen, model))
    if args.get("action") == "swipe" and rng.random() < 0.1:
        args = {"action": "swipe"}  # no end points at all
    raw, layout = _wrap(rng, args)
    return {
        "step_id": step.step_id,
        "kind": f"{check['action']}/{args.get('action') if isinstance(args, dict) else '?'}/{layout}",
        "raw": raw,
        "gold": step.original["action_content"],
        "original": step.original,
        "goal": step.line["goal"],
        "episode_id": step.episode_id,
        "index": step.index,
        "episode_length": step.episode_length,
        "width": step.screen[0],
        "height": step.screen[1],
        "resized_width": model[0],
        "resized_height": model[1],
    }


def aggregates(ours: dict[str, Any], theirs: dict[str, Any], cases: Any) -> list[tuple[str, Any, Any]]:
    from actions.protocols.androidcontrol_uis1 import episode_progress
    from eval.metrics import step_outcome

    official = theirs["aggregate"]
    own = ours["metrics"]["protocol_metrics"]
    by_episode: dict[str, list[Any]] = defaultdict(list)
    for record in ours["records"].values():
        by_episode[str(record["episode_id"])].append(step_outcome(record, record["verdict"]))
    equal = sum(
        abs(episode_progress(steps) - official["episodes"][episode]) < 1e-12
        for episode, steps in by_episode.items()
    )
    return [
        ("success_rate", own["success_rate"], official["success_rate"]),
        ("average_progress", own["average_progress"], official["average_progress"]),
        (f"episodes with the same progress (of {len(by_episode)})", equal / len(by_episode), 1.0),
    ]


# ---- official side ---------------------------------------------------------------------------------------


def official(checkout: Path, cases: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    root = checkout / "UI-S1"
    sys.path[:0] = [str(root / "evaluation"), str(root)]
    for name in ("torch", "requests", "json5"):
        sys.modules[name] = types.ModuleType(name)
    with contextlib.redirect_stdout(io.StringIO()):
        import eval_qwenvl  # the checkout's module
        from x.data.agent.json import JsonFormat
        from x.data.agent.space.std_space import RAW_SPACE

    fm = JsonFormat(RAW_SPACE, add_thought=True, force_add_thought=True)
    out = []
    with contextlib.redirect_stdout(io.StringIO()):
        for c in cases:
            step = copy.deepcopy(c["original"])
            check = eval_qwenvl.fix_line({"steps": [step]})["steps"][0]["check_options"]
            try:
                pred = fm.parse_response(c["raw"])["action_content"]
                tm, em = eval_qwenvl.evaluate_android_control_action(
                    pred, check, c["width"], c["height"], c["resized_width"], c["resized_height"]
                )
                out.append({"correct": bool(em), "type_match": bool(tm), "raised": False})
            except Exception:
                out.append({"correct": False, "type_match": False, "raised": True})

    # Whole episodes through process_line, the model answering each episode's answers in order.
    episodes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in cases:
        episodes[c["episode_id"]].append(c)
    answers: list[str] = []
    sizes: list[tuple[Any, ...]] = []

    class Format:
        def gen_next_round(self, line: Any, state: Any, previous_model_response: Any = None) -> Any:
            return {"messages": []}

        def parse_response(self, text: str) -> Any:
            return fm.parse_response(text)

    eval_qwenvl.fm = Format()
    eval_qwenvl.call_mobile_agent_vllm = lambda messages, model_name=None: answers.pop(0)
    eval_qwenvl.find_last_image_ele = lambda messages: sizes[0]
    args = types.SimpleNamespace(
        n_history_image_limit=2, output_dir=str(work / "official-out"), model_name="m"
    )
    (work / "official-out").mkdir(parents=True, exist_ok=True)
    progress = {}
    results = []
    with contextlib.redirect_stdout(io.StringIO()):
        for episode, steps in episodes.items():
            steps.sort(key=lambda c: c["index"])
            answers[:] = [c["raw"] for c in steps]
            first = steps[0]
            sizes[:] = [
                (None, first["width"], first["height"], first["resized_width"], first["resized_height"])
            ]
            line = {"goal": first["goal"], "steps": [copy.deepcopy(c["original"]) for c in steps]}
            result = eval_qwenvl.process_line(line, args)
            results.append(result)
            progress[episode] = result["final_step_id"] / result["num_steps"]
    return {
        "cases": out,
        "aggregate": {
            "success_rate": sum(r["task_success"] for r in results) / len(results),
            "average_progress": sum(r["final_step_id"] / r["num_steps"] for r in results) / len(results),
            "episodes": progress,
        },
    }


if __name__ == "__main__" and sys.argv[1] == "--official":
    from scripts.protocol_diff.androidcontrol import read_cases

    checkout, cases_file, out_file, work = sys.argv[2:6]
    result = official(Path(checkout), read_cases(cases_file), Path(work))
    Path(out_file).write_text(json.dumps(result), encoding="utf-8")
