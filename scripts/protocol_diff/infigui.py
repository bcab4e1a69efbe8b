"""`androidcontrol-qwen` against Reallm-Labs/InfiGUI-R1 `eval/android_control/` (checkout root as DIR).

Official side: `android_control.py`'s `AndroidControl.compute_scores` on jobs holding the raw answers and
the original `check_options` as `check_pams` (the structure of InfiGUI-R1's HF test set), with its heavy
imports (vLLM, qwen_vl_utils) replaced by empty modules; per step it records `type_match` and
`extact_match`, and a step on which the script raised.
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import random
import sys
import types
from pathlib import Path
from typing import Any

AGENTS = ("infigui-r1", "qwen2.5-vl", "gui-owl")
PROTOCOL = "androidcontrol-qwen"
BUDGET = (4 * 28 * 28, 6400 * 28 * 28)
FIELDS = ("correct", "type_match", "raised")


def _wrap(rng: random.Random, args: dict[str, Any], agent: str) -> tuple[str, str]:
    """`(raw answer, layout name)`: the call in the agent's usual shape, or one of many odd shapes."""
    from scripts.protocol_diff import answers as a

    call = a.dumps({"name": "mobile_use", "arguments": args}, rng)
    plain = '{"name": "mobile_use", "arguments": ' + json.dumps(args) + "}"
    think = "<think>look<step>tap it</step></think>" if agent == "infigui-r1" else ""
    r = rng.random()
    if r < 0.5:
        return f"{think}<tool_call>\n{call}\n</tool_call>", "tagged"
    if r < 0.58:
        return f"{think}{plain}" + rng.choice(["", "\nDone.", "<conclusion>tapped</conclusion>"]), "bare call"
    if r < 0.62:
        return f"{think}<tool_call>\n{call}", "unclosed"
    if r < 0.66:
        other = a.dumps({"name": "mobile_use", "arguments": {"action": "wait"}}, rng)
        first, second = (call, other) if rng.random() < 0.5 else (other, call)
        return f"<tool_call>{first}</tool_call><tool_call>{second}</tool_call>", "two calls"
    if r < 0.7:
        decoy = '<tool_call>{"name": "mobile_use", "arguments": {"action": "wait"}}</tool_call>'
        return f"<think>maybe {decoy}</think><tool_call>{call}</tool_call>", "call inside think"
    if r < 0.74:
        return f"<tool_call>{call.replace(chr(34), chr(39))}</tool_call>", "single quotes"
    if r < 0.78:
        call = json.dumps(rng.choice([{"name": "mobile_use"}, [args], {"arguments": [args]}]))
        return (
            f"<tool_call>{call}</tool_call>",
            "no arguments",
        )
    if r < 0.84:
        return f"{think}<tool_call>{call}</tool_call><conclusion>done}}}}</conclusion>", "conclusion"
    if r < 0.88:
        return f"{think}<tool_call>{call}</tool_call> trailing {{text}}", "trailing text"
    if r < 0.9:
        return rng.choice(["", "I will tap the button.", "<think>x</think>", "</think>"]), "no call"
    if r < 0.93:
        return f"{think}{call}", "compact bare call"
    return f"{think}<tool_call>\n{call}\n</tool_call>\n", "tagged"


def make_case(step: Any, rng: random.Random, agent: str) -> dict[str, Any]:
    from actions.coords import PixelBudget, model_screen_size
    from scripts.protocol_diff import mobile_use

    model = model_screen_size("resized", step.screen, PixelBudget(*BUDGET))
    check = step.original["check_options"]
    args = mobile_use.oddities(rng, mobile_use.args_for(rng, check, step.screen, model))
    raw, layout = _wrap(rng, args, agent)
    return {
        "step_id": step.step_id,
        "kind": f"{check['action']}/{args.get('action') if isinstance(args, dict) else '?'}/{layout}",
        "raw": raw,
        "gold": check,
        "width": step.screen[0],
        "height": step.screen[1],
        "resized_width": model[0],
        "resized_height": model[1],
        "thinking": agent == "infigui-r1",
    }


def aggregates(ours: dict[str, Any], theirs: dict[str, Any], cases: Any) -> list[tuple[str, Any, Any]]:
    metrics, official = ours["metrics"], theirs["aggregate"]
    own = metrics["protocol_metrics"]
    return [
        ("type_match_acc (TM)", metrics["tm"], official["type_match_acc"] / 100),
        ("extact_match_acc (SR)", metrics["sr"], official["extact_match_acc"] / 100),
        ("click_match_acc", own["click_match_acc"], official["click_match_acc"] / 100),
        ("error_num", own["error_num"], official["error_num"]),
    ]


# ---- official side (run with the official code's interpreter) ------------------------------------------


def official(checkout: Path, cases: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    sys.path.insert(0, str(checkout / "eval" / "android_control"))
    vllm = types.ModuleType("vllm")
    vllm.LLM = vllm.SamplingParams = object
    sampling = types.ModuleType("vllm.sampling_params")
    sampling.GuidedDecodingParams = object
    utils = types.ModuleType("qwen_vl_utils")
    utils.smart_resize = None
    sys.modules.update({"vllm": vllm, "vllm.sampling_params": sampling, "qwen_vl_utils": utils})
    import android_control  # the checkout's module

    raised: set[int] = set()
    evaluate = android_control.evaluate_android_control_action

    def recording(pred: Any, check: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return evaluate(pred, check, *args, **kwargs)
        except Exception:
            raised.add(id(check))
            raise

    android_control.evaluate_android_control_action = recording
    scorer = android_control.AndroidControl.__new__(android_control.AndroidControl)
    scorer.thinking, scorer.model_path, scorer.eval_type, scorer.debug = (
        cases[0]["thinking"],
        "m",
        "low",
        False,
    )
    scorer.output_dir = str(work / "official-out")
    jobs = [
        {
            "llm_output": c["raw"],
            "check_pams": c["gold"],
            **{k: c[k] for k in ("width", "height", "resized_width", "resized_height")},
        }
        for c in cases
    ]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        scorer.compute_scores(jobs)
    out = [
        {
            "correct": bool(job.get("extact_match")),
            "type_match": bool(job.get("type_match")),
            "raised": "llm_prediction" not in job or id(job["check_pams"]) in raised,
        }
        for job in jobs
    ]
    scores = sorted(
        glob.glob(str(work / "official-out" / "m" / "android_control" / "low" / "scores_*.json"))
    )[-1]
    return {"cases": out, "aggregate": json.loads(Path(scores).read_text())}


if __name__ == "__main__" and sys.argv[1] == "--official":
    from scripts.protocol_diff.androidcontrol import read_cases

    checkout, cases_file, out_file, work = sys.argv[2:6]
    result = official(Path(checkout), read_cases(cases_file), Path(work))
    Path(out_file).write_text(json.dumps(result), encoding="utf-8")
