"""Check `phone-r1 serve --engine vllm` and GRPO's vLLM generation against vLLM's own code, on a CPU machine.

    .venv/bin/python -m phone_r1.vllm_check --vllm-python .venv-vllm/bin/python     (`make vllm-check`)

This side runs in phone-r1's environment. For every model family (`agent.families`) it builds a tiny
checkpoint with `phone_r1.json` (its longest prompt counted by training's own code), prints the
commands `phone-r1 serve --engine vllm --dry-run` prints for it (every kind of command for Qwen2.5-VL:
LoRA adapters, their merge, TP/DP, an API key), and tokenizes the prompts `agent.prompt` builds the way
TRL's GRPO trainer does. It also tokenizes one GRPO batch (a 1080x2400 and a 1440x3120 screen, two
screenshots each) and computes what TRL's vLLM generation and phone-r1's seam on it
(`training.vllm_generation`) hand vLLM. `serving.vllm_probe` then runs in the vLLM environment (vLLM
pins its own torch and transformers, so the two cannot share one) with `VLLM_TARGET_DEVICE=cpu` and
answers with what vLLM's parser, configs, render server and input processor made of all that. This
side compares (`phone_r1.vllm_check_report`) and prints one report; any flag vLLM rejects, any token
difference, or any generation input that would pair a prompt with another prompt's images exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import logging
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from phone_r1.vllm_check_report import SERVER_WITH_BUDGET, SERVER_WITHOUT_BUDGET, report

logger = logging.getLogger(__name__)

SCREENS = ((1080, 2400), (1440, 3120))
# A budget other than the checkpoint's, passed as --min-pixels/--max-pixels; also the trainer's budget
# of the generation batch. Small, so CPU processing stays quick, and chosen so that both screens get
# different image token counts with a 28-px tile (Qwen2/2.5-VL) and a 32-px tile (Qwen3, Qwen3.5).
OVERRIDE_BUDGET = (3136, 109760)
COMPLETION_LENGTH = 256
API_KEY_ENV = "PHONE_R1_VLLM_CHECK_KEY"
API_KEY = "sk-vllm-check"
LORA_RANK = 12
# The family whose checkpoint also gets LoRA adapters and a merge (every kind of serve command).
FULL_FAMILY = "qwen2_5_vl"
RECIPE = Path(__file__).resolve().parents[1] / "training/recipes/qwen2.5-vl-7b/grpo_vllm.yaml"


def family_names() -> list[str]:
    """Every registered model family."""
    from agent.families import MODEL_FAMILIES

    return MODEL_FAMILIES.names()


def _step(folder: Path, screen: tuple[int, int], images: int) -> Any:
    """A step with `images` screenshots of size `screen` (one: a first step; two: previous and current)."""
    from PIL import Image, ImageDraw

    from actions import parse_action
    from episodes.step import Step

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(images):
        path = folder / f"screen_{screen[0]}x{screen[1]}_{i}.png"
        if not path.is_file():
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


def _spec(budget: tuple[int, int] | None) -> Any:
    from training.dataset import DatasetSpec

    low, high = budget or (DatasetSpec.min_pixels, DatasetSpec.max_pixels)
    return DatasetSpec(template="zh", coord_space="original", min_pixels=low, max_pixels=high)


def trainer_prompts(processor: Any, family: Any, steps: list[Any], budget: tuple[int, int] | None):
    """The prompt ids GRPO training scores for `steps`: dataset rows, then TRL's own tokenization.

    `GRPOTrainer._tokenize_prompts` is called with the attributes it reads, as the trainer sets them
    (the family's chat-template arguments, e.g. Qwen3.5's `enable_thinking`).
    """
    from trl import GRPOTrainer
    from trl.data_utils import prepare_multimodal_messages

    from training.dataset import materialize, step_row

    rows = [step_row(step, _spec(budget)) for step in steps]
    batch = materialize({key: [row[key] for row in rows] for key in rows[0]})
    prompts = [
        prepare_multimodal_messages(prompt, images=images)
        for prompt, images in zip(batch["prompt"], batch["images"], strict=True)
    ]
    trainer = SimpleNamespace(
        processing_class=processor,
        _is_vlm=True,
        environment_factories=None,
        tools=None,
        chat_template=None,
        chat_template_kwargs=dict(family.chat_template_kwargs),
    )
    ids, _, _ = GRPOTrainer._tokenize_prompts(trainer, prompts)
    return [[int(t) for t in prompt] for prompt in ids]


def _processor_budget(processor: Any) -> tuple[int, int] | None:
    size = dict(getattr(processor.image_processor, "size", None) or {})
    if "shortest_edge" in size and "longest_edge" in size:
        return int(size["shortest_edge"]), int(size["longest_edge"])
    return None


def build_checkpoints(root: Path, name: str, steps: list[Any]) -> dict[str, Path]:
    """The family's tiny checkpoint with `phone_r1.json`; for `FULL_FAMILY` also two adapters and a merge.

    `phone_r1.json` records the longest of `steps`' prompts at the checkpoint's budget, counted by
    training's own code (`training.context_length.measure_lengths`), so the dry run derives
    `--max-model-len` from it as it would for a trained checkpoint.
    """
    from agent.checkpoint import default_meta
    from agent.families import family_of
    from agent.processor import load_processor
    from training.context_length import measure_lengths
    from training.dataset import step_row
    from training.tiny_model import build_tiny_model

    full = build_tiny_model(root / "tiny", seed=0, family=name)
    processor = load_processor(full)
    budget = _processor_budget(processor)
    rows = [step_row(step, _spec(budget)) for step in steps]
    prompt, _ = measure_lengths(rows, processor, dict(family_of(name).chat_template_kwargs))
    # The family's facts as training records them, with the check's space and the counted lengths.
    meta = dataclasses.replace(
        default_meta(full),
        coord_space="original",
        max_prompt_length=prompt,
        max_completion_length=COMPLETION_LENGTH,
    )
    meta.save(full)
    paths = {"full": full}
    if name != FULL_FAMILY:
        return paths
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageTextToText

    from serving.merge import merge_adapter

    for adapter, rank in (("adapter", LORA_RANK), ("adapter2", 8)):
        model = AutoModelForImageTextToText.from_pretrained(full)
        config = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=["q_proj", "v_proj"])
        peft_model = get_peft_model(model, config)
        peft_model.peft_config["default"].base_model_name_or_path = str(full)
        peft_model.save_pretrained(root / adapter)
        paths[adapter] = root / adapter
    paths["merged"] = merge_adapter(paths["adapter"], root / "merged")
    return paths


def serve_argvs(name: str, paths: dict[str, Path], has_budget: bool) -> list[dict[str, Any]]:
    """One `phone-r1 serve` invocation per kind of command the vLLM engine path prints for the family."""
    full = str(paths["full"])
    low, high = OVERRIDE_BUDGET
    budget = ["--min-pixels", str(low), "--max-pixels", str(high)] if has_budget else []
    cases = [
        {"name": "full weights", "argv": [full]},
        {
            "name": "full weights, options",
            "argv": [
                full, "--host", "0.0.0.0", "--port", "9001", "--served-model-name", "agent",
                "--max-model-len", "4096", "--dtype", "float32", "--gpu-memory-utilization", "0.5",
                *budget, "--override-checkpoint-meta",
            ],
        },
    ]  # fmt: skip
    if name != FULL_FAMILY:
        return cases
    adapter, adapter2, merged = (str(paths[k]) for k in ("adapter", "adapter2", "merged"))
    return cases + [
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
    ]


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


def wire_messages(step: Any, family: Any, budget: tuple[int, int] | None, *, resized: bool):
    """The OpenAI messages the agent sends for `step` (screenshots as data URLs, optionally pre-resized)."""
    from agent.backends.images import image_data_url
    from agent.prompt import build_messages

    pixel_budget = family.budget(*budget) if budget else None
    messages = build_messages(step, template="zh", coord_space="original", budget=pixel_budget)
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


def trl_words(recipe: Path) -> list[str]:
    """The words after `trl vllm-serve` in the recipe's comment (its server command line)."""
    lines = recipe.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if "trl vllm-serve" in line)
    words: list[str] = []
    for line in lines[start:]:
        words += shlex.split(line.lstrip("#").strip().rstrip("\\"))
        if not line.rstrip().endswith("\\"):
            break
    return words[words.index("vllm-serve") + 1 :]


def _with_model(words: list[str], model: Path, mm_kwargs: dict[str, int] | None) -> list[str]:
    """`words` serving `model`, with `--mm-processor-kwargs` set to `mm_kwargs` (None: without it)."""
    out: list[str] = []
    rest = iter(words)
    for word in rest:
        if word in ("--model", "--mm-processor-kwargs"):
            next(rest, None)
            continue
        out.append(word)
    kwargs = ["--mm-processor-kwargs", json.dumps(mm_kwargs)] if mm_kwargs else []
    return ["--model", str(model), *out, *kwargs]


def generation_case(root: Path, family: Any, checkpoint: Path) -> dict[str, Any]:
    """One GRPO batch as TRL tokenizes it, and what TRL 1.16 and phone-r1's seam hand vLLM for it."""
    from agent.processor import load_processor
    from training.vllm_generation import ImageExpansion, processor_kwargs

    budget = OVERRIDE_BUDGET if family.has_pixel_budget else None
    processor = load_processor(checkpoint, *(budget or (None, None)))
    steps = [_step(root / "screens", screen, 2) for screen in SCREENS]
    ids = trainer_prompts(processor, family, steps, budget)
    expansion = ImageExpansion.of(processor)
    mm_kwargs = processor_kwargs(processor)
    words = trl_words(RECIPE)
    servers = {}
    if mm_kwargs:
        servers[SERVER_WITH_BUDGET] = _with_model(words, checkpoint, mm_kwargs)
    servers[SERVER_WITHOUT_BUDGET] = _with_model(words, checkpoint, None)
    return {
        "budget": list(budget) if budget else None,
        "images": [[str(p) for p in step.screenshots] for step in steps],
        "screens": [list(step.screen_size) for step in steps],
        "trainer_ids": ids,
        "image_spans": [expansion.images(prompt) for prompt in ids],
        "expansion": dataclasses.asdict(expansion),
        "sent_ids": [expansion.fold(prompt) for prompt in ids],
        "mm_kwargs": mm_kwargs,
        "image_token_id": expansion.image_token_id,
        # What VLLMGeneration._init_vllm passes to LLM(...) in colocate mode (GRPOConfig defaults:
        # one process, 2 prompts per device, 1 step per generation), the checkpoint as the model.
        "engine_args": {
            "model": str(checkpoint),
            "tensor_parallel_size": 1,
            "max_num_seqs": 2,
            "seed": 0,
            "max_num_batched_tokens": 4096,
            "logprobs_mode": "processed_logprobs",
        },
        "servers": servers,
    }


def family_plan(root: Path, name: str) -> dict[str, Any]:
    """Everything the probe reads for one family, and the training side's tokens to compare with."""
    from agent.checkpoint import CheckpointMeta
    from agent.families import family_of
    from agent.processor import load_processor
    from training.vllm_generation import ImageExpansion

    family = family_of(name)
    steps = [_step(root / "screens", screen, images) for screen in SCREENS for images in (1, 2)]
    paths = build_checkpoints(root / name, name, steps)
    checkpoint_budget = _processor_budget(load_processor(paths["full"]))
    commands = []
    for case in serve_argvs(name, paths, checkpoint_budget is not None):
        argv, env = dry_run(case["argv"])
        commands.append({"name": case["name"], "serve": case["argv"], "argv": argv, "env": env})
    budgets: dict[str, tuple[int, int] | None] = {"checkpoint": checkpoint_budget}
    if checkpoint_budget is not None:
        budgets["override"] = OVERRIDE_BUDGET
    # The command each budget is served with: the plain one, and the one passing --min/--max-pixels.
    served_by = {"checkpoint": "full weights", "override": "full weights, options"}
    parity = []
    for label, budget in budgets.items():
        processor = load_processor(paths["full"], *(budget or (None, None)))
        expansion = ImageExpansion.of(processor)
        for step, ids in zip(steps, trainer_prompts(processor, family, steps, budget), strict=True):
            parity.append(
                {
                    "screen": list(step.screen_size),
                    "images": len(step.screenshots),
                    "budget": label,
                    "pixels": list(budget) if budget else None,
                    "command": served_by[label],
                    "messages": wire_messages(step, family, budget, resized=False),
                    # Pre-resizing needs a tile to resize to; families without one send screenshots as is.
                    "messages_resized": (
                        wire_messages(step, family, budget, resized=True) if family.tile else None
                    ),
                    "training": {
                        "tokens": [length for _, length in expansion.images(ids)],
                        "prompt_ids": ids,
                    },
                }
            )
    meta = CheckpointMeta.load(paths["full"])
    return {
        "family": name,
        "title": family.title,
        "checkpoints": {k: str(v) for k, v in paths.items()},
        "chat_template_kwargs": dict(family.chat_template_kwargs),
        "recorded": {"max_prompt_length": meta.max_prompt_length, "completion": meta.max_completion_length},
        "commands": commands,
        "parity": parity,
        "generation": generation_case(root, family, paths["full"]),
    }


def trl_plan(recipe: Path, checkpoint: Path) -> dict[str, Any]:
    """The recipe's `trl vllm-serve` line (model swapped for a tiny checkpoint) and its GRPO fields."""
    import yaml

    raw = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    words = trl_words(recipe)
    words[words.index("--model") + 1] = str(checkpoint)
    fields = {
        k: raw[k] for k in raw if k.startswith("vllm_") or k in ("use_vllm", "min_pixels", "max_pixels")
    }
    return {"recipe": str(recipe), "argv": words, "config": fields}


def build_plan(root: Path, families: list[str] | None = None) -> dict[str, Any]:
    """Checkpoints, dry-run commands and training-side token counts of `families` (default: all)."""
    names = families or family_names()
    plans = [family_plan(root, name) for name in names]
    return {"families": plans, "trl": trl_plan(RECIPE, Path(plans[0]["checkpoints"]["full"]))}


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


def main(argv: list[str] | None = None) -> int:
    from agent.families import MODEL_FAMILIES

    parser = argparse.ArgumentParser(
        prog="python -m phone_r1.vllm_check", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--vllm-python", required=True, help="python of the vLLM environment (.venv-vllm/bin/python)"
    )
    parser.add_argument("--workdir", type=Path, help="where checkpoints and screens go (default: a temp dir)")
    parser.add_argument(
        "--family",
        action="append",
        type=MODEL_FAMILIES.arg_type,
        help="check only this model family (repeatable; default: every family). " + MODEL_FAMILIES.help(),
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not Path(args.vllm_python).is_file():
        print(f"vllm check: expected a python at {args.vllm_python}, found nothing (run `make vllm-check`)",
              file=sys.stderr)  # fmt: skip
        return 2
    with tempfile.TemporaryDirectory(prefix="phone-r1-vllm-check-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        plan = build_plan(workdir, args.family)
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
