"""Check `phone-r1 serve --engine vllm` against vLLM's own code, on a CPU machine.

    .venv/bin/python -m phone_r1.vllm_check --vllm-python .venv-vllm/bin/python     (`make vllm-check`)

This side runs in phone-r1's environment. It builds a tiny checkpoint (plus a LoRA adapter and its
merge), prints every kind of command `phone-r1 serve --engine vllm --dry-run` can print, and computes
the image tokens the training processor gives each prompt `agent.prompt` builds. `serving.vllm_probe`
then runs in the vLLM environment (vLLM pins its own torch and transformers, so the two cannot share
one) with `VLLM_TARGET_DEVICE=cpu`: vLLM's server parser reads each command, its engine arguments
build the model config, and its multimodal processor counts the image tokens of the same prompts.
This side compares and prints the table; any flag vLLM rejects or any token difference exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SCREENS = ((1080, 2400), (1440, 3120))
# A budget other than the checkpoint's (the Qwen2.5-VL recipes'), passed as --min-pixels/--max-pixels.
OVERRIDE_BUDGET = (3136, 1003520)
API_KEY_ENV = "PHONE_R1_VLLM_CHECK_KEY"
API_KEY = "sk-vllm-check"
LORA_RANK = 12


def build_checkpoints(root: Path) -> dict[str, Path]:
    """A tiny full checkpoint with `phone_r1.json`, a LoRA adapter on it, a second adapter, the merge."""
    from peft import LoraConfig, get_peft_model
    from transformers import Qwen2_5_VLForConditionalGeneration

    from agent.checkpoint import CheckpointMeta
    from agent.processor import load_processor
    from serving.merge import merge_adapter
    from training.tiny_model import build_tiny_model

    full = build_tiny_model(root / "tiny", seed=0)
    budget = load_processor(full).image_processor.size
    CheckpointMeta(
        coord_space="resized", min_pixels=budget["shortest_edge"], max_pixels=budget["longest_edge"]
    ).save(full)
    adapters = {}
    for name, rank in (("adapter", LORA_RANK), ("adapter2", 8)):
        model = Qwen2_5_VLForConditionalGeneration.from_pretrained(full)
        config = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=["q_proj", "v_proj"])
        peft_model = get_peft_model(model, config)
        peft_model.peft_config["default"].base_model_name_or_path = str(full)
        peft_model.save_pretrained(root / name)
        adapters[name] = root / name
    merged = merge_adapter(adapters["adapter"], root / "merged")
    return {"full": full, **adapters, "merged": merged}


def serve_argvs(paths: dict[str, Path]) -> list[dict[str, Any]]:
    """One `phone-r1 serve` invocation per kind of command the vLLM engine path can print."""
    full, adapter, adapter2, merged = (str(paths[k]) for k in ("full", "adapter", "adapter2", "merged"))
    low, high = OVERRIDE_BUDGET
    return [
        {"name": "full weights", "argv": [full]},
        {
            "name": "full weights, options",
            "argv": [
                full, "--host", "0.0.0.0", "--port", "9001", "--served-model-name", "agent",
                "--max-model-len", "4096", "--dtype", "float32", "--gpu-memory-utilization", "0.5",
                "--min-pixels", str(low), "--max-pixels", str(high), "--override-checkpoint-meta",
            ],
        },
        {"name": "TP/DP", "argv": [full, "--tp", "2", "--dp", "2"]},
        {"name": "API key from env", "argv": [full, "--api-key-env", API_KEY_ENV]},
        {"name": "LoRA adapter", "argv": [adapter]},
        {
            "name": "LoRA adapter, base and extra module",
            "argv": [adapter, "--base-model", full, "--lora-modules", f"other={adapter2}"],
        },
        {
            "name": "--enable-lora on full weights",
            "argv": [full, "--enable-lora", "--lora-modules", f"a={adapter}"],
        },
        {"name": "--merge-lora", "argv": [adapter, "--merge-lora", "--merged-dir", merged]},
        {
            "name": "--vllm-arg extras",
            "argv": [full, "--vllm-arg=--max-num-seqs=64", "--vllm-arg=--enforce-eager"],
        },
    ]  # fmt: skip


def dry_run(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """The vLLM argv `phone-r1 serve ARGV --engine vllm --dry-run` prints, and the environment it sets."""
    from phone_r1.cli import main

    out = io.StringIO()
    env = {API_KEY_ENV: API_KEY}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out):
            code = main(["serve", *argv, "--engine", "vllm", "--dry-run"])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if code != 0:
        raise RuntimeError(f"phone-r1 serve {shlex.join(argv)} --engine vllm --dry-run exited {code}")
    lines = out.getvalue().splitlines()
    # The note names the variable; `serve` hands vLLM its value as VLLM_API_KEY.
    server_env = {"VLLM_API_KEY": API_KEY} if any("VLLM_API_KEY" in line for line in lines) else {}
    return shlex.split(lines[-1]), server_env


def _step(folder: Path, screen: tuple[int, int], images: int) -> Any:
    """A step with `images` screenshots of size `screen` (one: a first step; two: previous and current)."""
    from PIL import Image, ImageDraw

    from actions import parse_action
    from episodes.step import Step

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(images):
        path = folder / f"screen_{screen[0]}x{screen[1]}_{i}.png"
        image = Image.new("RGB", screen, (235, 235, 235))
        ImageDraw.Draw(image).rectangle(
            (40, 200 + 300 * i, screen[0] - 40, 420 + 300 * i), fill=(30, 120, 200)
        )
        image.save(path)
        paths.append(path.resolve())
    # The step's input JSON is derived from these fields (`episodes.step.step_input`), as for a read step.
    return Step(
        episode_id=f"check-{screen[0]}x{screen[1]}",
        index=images - 1,
        task="打开设置",
        task_path={"1": "打开APP", "2": "点击设置"},
        history=["打开APP"] * (images - 1),
        app="设置",
        screenshots=tuple(paths),
        screen_size=screen,
        gold=parse_action(
            {"action_type": "back", "action_parameter": {"back": ""}, "action_description": ""}
        ),
        source=str(folder / "step.json"),
    )


def training_tokens(checkpoint: Path, step: Any, budget: tuple[int, int]) -> dict[str, Any]:
    """Image tokens of one step as GRPO training sees them: its dataset row, then TRL's own calls."""
    from trl.data_utils import prepare_multimodal_messages

    from agent.processor import load_processor
    from training.dataset import DatasetSpec, materialize, step_row

    spec = DatasetSpec(template="zh", coord_space="resized", min_pixels=budget[0], max_pixels=budget[1])
    row = step_row(step, spec)
    batch = materialize({key: [value] for key, value in row.items()})
    processor = load_processor(checkpoint, *budget)
    # GRPOTrainer fills the image placeholders, then tokenizes through the processor's chat template.
    prompt = prepare_multimodal_messages(batch["prompt"][0], images=batch["images"][0])
    inputs = processor.apply_chat_template(
        [prompt], add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    )
    grid = inputs["image_grid_thw"].tolist()
    merge = processor.image_processor.merge_size**2
    ids = inputs["input_ids"][0].tolist()
    return {
        "tokens": [t * h * w // merge for t, h, w in grid],
        "grid_thw": grid,
        "placeholders": ids.count(processor.image_token_id),
        "prompt_ids": ids,
    }


def wire_messages(step: Any, budget: tuple[int, int], *, resized: bool) -> list[dict[str, Any]]:
    """The OpenAI messages the agent sends for `step` (screenshots as data URLs, optionally pre-resized)."""
    from actions.coords import PixelBudget
    from agent.backends.images import image_data_url
    from agent.prompt import build_messages

    pixel_budget = PixelBudget(*budget)
    messages = build_messages(step, template="zh", coord_space="resized", budget=pixel_budget)
    out = []
    for message in messages:
        content = message["content"]
        if not isinstance(content, str):
            content = [
                {
                    "type": "image_url",
                    "image_url": {"url": image_data_url(p["image"], pixel_budget if resized else None)},
                }
                if p["type"] == "image"
                else p
                for p in content
            ]
        out.append({"role": message["role"], "content": content})
    return out


def build_plan(root: Path) -> dict[str, Any]:
    """Checkpoints, dry-run commands and training-side token counts: everything the probe reads."""
    from agent.checkpoint import CheckpointMeta

    paths = build_checkpoints(root / "checkpoints")
    commands = []
    for case in serve_argvs(paths):
        argv, env = dry_run(case["argv"])
        commands.append({"name": case["name"], "serve": case["argv"], "argv": argv, "env": env})
    meta = CheckpointMeta.load(paths["full"])
    budgets = {"checkpoint": (meta.min_pixels, meta.max_pixels), "override": OVERRIDE_BUDGET}
    # The command each budget is served with: the plain one, and the one passing --min/--max-pixels.
    served_by = {"checkpoint": "full weights", "override": "full weights, options"}
    parity = []
    for screen in SCREENS:
        for images in (1, 2):
            step = _step(root / "screens", screen, images)
            for label, budget in budgets.items():
                parity.append(
                    {
                        "screen": list(screen),
                        "images": images,
                        "budget": label,
                        "pixels": list(budget),
                        "command": served_by[label],
                        "messages": wire_messages(step, budget, resized=False),
                        "messages_resized": wire_messages(step, budget, resized=True),
                        "training": training_tokens(paths["full"], step, budget),
                    }
                )
    recipe = Path(__file__).resolve().parents[1] / "training/recipes/qwen2.5-vl-7b/grpo_vllm.yaml"
    return {
        "checkpoints": {k: str(v) for k, v in paths.items()},
        "commands": commands,
        "parity": parity,
        "trl": trl_plan(recipe, paths["full"]),
    }


def trl_plan(recipe: Path, checkpoint: Path) -> dict[str, Any]:
    """The recipe's `trl vllm-serve` line (model swapped for the tiny checkpoint) and its GRPO fields."""
    import yaml

    text = recipe.read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "trl vllm-serve" in line)
    words: list[str] = []
    for line in lines[start:]:
        words += shlex.split(line.lstrip("#").strip().rstrip("\\"))
        if not line.rstrip().endswith("\\"):
            break
    words = words[words.index("vllm-serve") + 1 :]
    words[words.index("--model") + 1] = str(checkpoint)
    fields = {
        k: raw[k] for k in raw if k.startswith("vllm_") or k in ("use_vllm", "min_pixels", "max_pixels")
    }
    return {"recipe": str(recipe), "argv": words, "config": fields}


def run_probe(plan: dict[str, Any], python: str, workdir: Path, timeout: float = 1800) -> dict[str, Any]:
    """Run `serving.vllm_probe` on `plan` under the vLLM environment's `python`; its JSON result."""
    plan_path, result_path = workdir / "plan.json", workdir / "result.json"
    plan_path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "VLLM_TARGET_DEVICE": "cpu", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [python, "-m", "serving.vllm_probe", str(plan_path), str(result_path)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0 or not result_path.is_file():
        raise RuntimeError(f"serving.vllm_probe exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    return json.loads(result_path.read_text(encoding="utf-8"))


def _same(training: dict[str, Any], vllm: dict[str, Any]) -> bool:
    """Same image tokens per screenshot, `image_grid_thw`, placeholder count and prompt token ids."""
    keys = ("tokens", "grid_thw", "placeholders", "prompt_ids")
    return "error" not in vllm and all(vllm[k] == training[k] for k in keys)


def parity_rows(plan: dict[str, Any], result: dict[str, Any]) -> tuple[list[list[str]], int]:
    """Table rows (screen, images, budget, training tokens and grids, vLLM's) and the number that differ."""
    rows, differences = [], 0
    for case, seen in zip(plan["parity"], result["parity"], strict=True):
        train = case["training"]
        same = True
        cells = []
        for key in ("as_sent", "resized"):
            got = seen[key]
            same = same and _same(train, got)
            cells.append(got.get("error", "") or "+".join(map(str, got["tokens"])))
        differences += not same
        rows.append(
            [
                "{}x{}".format(*case["screen"]),
                str(case["images"]),
                "{} {}..{}".format(case["budget"], *case["pixels"]),
                "+".join(map(str, train["tokens"])),
                " ".join("x".join(map(str, g)) for g in train["grid_thw"]),
                *cells,
                "same" if same else "DIFFERENT",
            ]
        )
    return rows, differences


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(plan: dict[str, Any], result: dict[str, Any]) -> tuple[str, int]:
    """The printed report and the number of failures (rejected commands, token differences, TRL)."""
    out = [
        f"vLLM {result['versions']['vllm']} (transformers {result['versions']['transformers']}, "
        f"torch {result['versions']['torch']}, trl {result['versions'].get('trl', 'not installed')})"
    ]
    failures = 0
    parsed = 0
    for command, seen in zip(plan["commands"], result["commands"], strict=True):
        if seen.get("error"):
            failures += 1
            out.append(
                f"REJECTED  {command['name']}: {shlex.join(command['argv'][1:])}\n    vLLM: {seen['error']}"
            )
        else:
            parsed += 1
            out.append(f"parsed    {command['name']}: {seen['summary']}")
    out.append(f"serve commands parsed by vLLM: {parsed}/{len(plan['commands'])}")
    header = ["screen", "images", "budget", "training tokens", "training grid_thw", "vLLM tokens",
              "vLLM, client-resized", "verdict"]  # fmt: skip
    rows, differences = parity_rows(plan, result)
    out += ["", "image tokens per screenshot, training processor vs vLLM's multimodal processor:",
            format_table(header, rows)]  # fmt: skip
    out.append(f"parity differences: {differences}")
    failures += differences
    trl = result.get("trl", {})
    if trl.get("error"):
        failures += 1
        out.append(f"trl vllm-serve: FAILED: {trl['error']}")
    else:
        checked = [
            (case, got)
            for case, got in zip(plan["parity"], trl.get("parity", []), strict=False)
            if got is not None
        ]
        differ = sum(not _same(case["training"], got) for case, got in checked)
        failures += differ
        out.append(f"trl vllm-serve: {trl.get('summary', 'not checked')}")
        out.append(f"trl vllm-serve, checkpoint-budget prompts with training's image tokens: "
                   f"{len(checked) - differ}/{len(checked)}")  # fmt: skip
    return "\n".join(out), failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m phone_r1.vllm_check", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--vllm-python", required=True, help="python of the vLLM environment (.venv-vllm/bin/python)"
    )
    parser.add_argument("--workdir", type=Path, help="where checkpoints and screens go (default: a temp dir)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not Path(args.vllm_python).is_file():
        print(f"vllm check: expected a python at {args.vllm_python}, found nothing (run `make vllm-check`)",
              file=sys.stderr)  # fmt: skip
        return 2
    with tempfile.TemporaryDirectory(prefix="phone-r1-vllm-check-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        plan = build_plan(workdir)
        try:
            result = run_probe(plan, args.vllm_python, workdir)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            print(f"vllm check: {exc}", file=sys.stderr)
            return 1
    text, failures = report(plan, result)
    print(text)
    print(f"vllm check failures: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
