"""`gui-r1` against ritzz-ai/GUI-R1 `guir1/eval/eval_omni.py` with the readers of
`guir1/inference/inference_vllm_android.py` (checkout root as DIR).

The gold is written in the fields GUI-R1's prediction files carry (`group`, `gt_action`, `gt_bbox` (the
point), `image_size`, `gt_input_text`: the text, the app or AndroidControl's scroll word) from the
original AndroidControl step. Official side: the inference script (its vLLM, Ray, torch and transformers
imports replaced by empty modules) reads each raw answer with `extract_action`, `extract_input_text` and
`extract_coord`, and the point is scaled as its worker does (a torch float32 division, done here in numpy
float32); then `evaluate` runs once per case (a one-line file, reading its score table) and once on all
cases for ALL Step, ALL Type and ALL GR.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import random
import sys
import types
from collections import defaultdict
from pathlib import Path
from typing import Any

AGENTS = ("gui-r1",)
PROTOCOL = "gui-r1"
BUDGET = (3136, 12845056)  # Qwen2.5-VL's processor defaults, which the inference script keeps
FIELDS = ("correct", "type_match")
GROUNDING = ("click", "long_press")
TEXTUAL = ("open_app", "type", "scroll")


def gold_fields(step: Any) -> dict[str, Any]:
    action, check = step.original["action_content"], step.original["check_options"]
    kind = action["action"]
    name = {"swipe": "scroll", "open": "open_app", "system_button": "press_back"}.get(kind, kind)
    text = "no input text"
    if kind in ("type", "open"):
        text = action["text"]
    elif kind == "swipe":
        text = check["direction"]
    return {
        "group": "android",
        "gt_action": name,
        "gt_bbox": action.get("coordinate", [-100, -100])
        if kind in ("click", "long_press")
        else [-100, -100],
        "image_size": list(step.screen),
        "gt_input_text": text,
    }


def make_case(step: Any, rng: random.Random, agent: str) -> dict[str, Any]:
    from actions.coords import PixelBudget, model_screen_size
    from scripts.protocol_diff import answers as a

    model = model_screen_size("resized", step.screen, PixelBudget(*BUDGET))
    gold = gold_fields(step)
    sx, sy = model[0] / step.screen[0], model[1] / step.screen[1]
    name = gold["gt_action"]
    if rng.random() < 0.2:
        name = rng.choice(
            ["click", "long_press", "type", "open_app", "scroll", "press_back", "wait", "press_home"]
        )
    if gold["gt_action"] in GROUNDING:
        scale = (1 / step.screen[0], 1 / step.screen[1])
        x, y = a.near_threshold_point(rng, tuple(gold["gt_bbox"]), 0.14, scale)
    else:
        x, y = rng.uniform(0, step.screen[0]), rng.uniform(0, step.screen[1])
    point = [a.number(rng, x * sx), a.number(rng, y * sy)]
    if name not in GROUNDING and rng.random() < 0.6:
        point = [-100, -100]
    text = "no input text"
    if name in TEXTUAL or rng.random() < 0.1:
        text = a.text_variant(rng, gold["gt_input_text"] if gold["gt_input_text"] != "no input text" else "")
        if name == "scroll" and rng.random() < 0.3:
            text = rng.choice(["swipe up", "UP", "down", "scroll left", "Right", "up and down"])
    r = rng.random()
    item: Any = {"action": name, "point": point, "input_text": text}
    if r < 0.05:
        del item["input_text"]
    elif r < 0.1:
        del item["point"]
    elif r < 0.13:
        item["input_text"] = "it's " + text
    body = repr([item])
    r = rng.random()
    if r < 0.7:
        raw, layout = f"<think>looking</think> <answer>{body}</answer>", "python list"
    elif r < 0.76:
        raw, layout = f"<answer>{json.dumps([item])}</answer>", "json (double quotes)"
    elif r < 0.8:
        raw, layout = (
            f"<answer>[{{'action': '{name}',\n 'point': {point},\n 'input_text': '{text}'}}]</answer>",
            "lines",
        )
    elif r < 0.84:
        raw, layout = f"<think>x</think> {body}", "no answer tag"
    elif r < 0.87:
        raw, layout = (
            f"<answer>{body}</answer><answer>[{{'action': 'wait', 'point': [5, 5]}}]</answer>",
            "two answers",
        )
    elif r < 0.9:
        raw, layout = f"<answer>{body}", "unclosed"
    elif r < 0.93:
        raw, layout = (
            f"<answer>[{{'action': 'close/delete', 'point': {point}, 'input_text': '{text}'}}]</answer>",
            "close/delete",
        )
    elif r < 0.96:
        raw, layout = (
            f"<answer>[{{'action':'{name}','point':[{point[0]},{point[1]}],'input_text':'{text}'}}]</answer>",
            "compact",
        )
    else:
        raw, layout = rng.choice(["", "<answer></answer>", "<answer>[]</answer>", "click"]), "empty"
    return {
        "step_id": step.step_id,
        "kind": f"{gold['gt_action']}/{name}/{layout}",
        "raw": raw,
        "gold": gold,
        "resized": list(model),
    }


def aggregates(ours: dict[str, Any], theirs: dict[str, Any], cases: Any) -> list[tuple[str, Any, Any]]:
    metrics, official = ours["metrics"], theirs["aggregate"]
    own = metrics["protocol_metrics"]
    return [
        ("ALL Step (SR)", metrics["sr"], official["all_step"]),
        ("ALL Type", own["all_type"], official["all_type"]),
        ("ALL GR", own["all_gr"], official["all_gr"]),
    ]


# ---- official side ---------------------------------------------------------------------------------------


def _stub_inference_imports() -> None:
    modules = {
        name: types.ModuleType(name)
        for name in (
            "transformers",
            "vllm",
            "qwen_vl_utils",
            "ray",
            "torch",
            "torch.utils",
            "torch.utils.data",
            "datasets",
        )
    }
    modules["ray"].init = lambda *a, **k: None
    modules["ray"].remote = lambda *a, **k: lambda cls: cls
    modules["vllm"].LLM = modules["vllm"].SamplingParams = lambda *a, **k: None
    modules["transformers"].AutoProcessor = object
    modules["qwen_vl_utils"].process_vision_info = None
    modules["torch.utils.data"].Dataset = object
    modules["torch.utils.data"].DataLoader = object
    modules["datasets"].load_dataset = None
    modules["datasets"].Dataset = object
    sys.modules.update(modules)


def official(checkout: Path, cases: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    import numpy as np

    sys.path[:0] = [str(checkout / "guir1" / "inference"), str(checkout / "guir1" / "eval")]
    _stub_inference_imports()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import eval_omni
        import inference_vllm_android as reader

    lines = []
    for c in cases:
        g = c["gold"]
        coord, _ = reader.extract_coord(c["raw"])
        scale = [float(np.float32(g["image_size"][i]) / np.float32(c["resized"][i])) for i in (0, 1)]
        lines.append(
            {
                **g,
                "pred_coord": [coord[0] * scale[0], coord[1] * scale[1]],
                "pred_action": reader.extract_action(c["raw"]),
                "pred_input_text": reader.extract_input_text(c["raw"]),
            }
        )
    tables: list[dict[str, int]] = []

    def recording(factory: Any) -> Any:
        table = defaultdict(factory)
        tables.append(table)
        return table

    eval_omni.defaultdict = recording
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    eval_omni.logger.addHandler(Keep())
    out = []
    one = work / "one.jsonl"
    for line in lines:
        one.write_text(json.dumps(line) + "\n")
        tables.clear()
        with contextlib.suppress(ZeroDivisionError), contextlib.redirect_stdout(io.StringIO()):
            eval_omni.evaluate(types.SimpleNamespace(prediction_file_path=str(one)))
        scores = tables[0]
        category = f"{line['group']}-{line['gt_action']}"
        type_hit = scores[category] == 1
        if line["gt_action"] in eval_omni.__dict__.get("GROUNDING", GROUNDING):
            correct = scores[category + "-grounding"] == 1
        elif line["gt_action"] in TEXTUAL:
            correct = scores[category + "-text"] == 1
        else:
            correct = type_hit
        out.append({"correct": correct, "type_match": type_hit})
    every = work / "all.jsonl"
    every.write_text("".join(json.dumps(line) + "\n" for line in lines))
    messages.clear()
    with contextlib.redirect_stdout(io.StringIO()):
        eval_omni.evaluate(types.SimpleNamespace(prediction_file_path=str(every)))
    figures = {m.split(" : ")[0]: float(m.split(" : ")[1]) for m in messages if m.startswith("ALL ")}
    return {
        "cases": out,
        "aggregate": {
            "all_step": figures["ALL Step"],
            "all_type": figures["ALL Type"],
            "all_gr": figures["ALL GR"],
        },
    }


if __name__ == "__main__" and sys.argv[1] == "--official":
    from scripts.protocol_diff.androidcontrol import read_cases

    checkout, cases_file, out_file, work = sys.argv[2:6]
    result = official(Path(checkout), read_cases(cases_file), Path(work))
    Path(out_file).write_text(json.dumps(result), encoding="utf-8")
