"""Recipes, accelerate/DeepSpeed configs and launch command lines (GPUs, DeepSpeed and vLLM are not
available here: these tests check what can be checked without them)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from training.config import check_batch_rule, parse_recipe

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted((ROOT / "training/recipes").glob("qwen2.5-vl-*/*.yaml"))
ACCEL = ROOT / "training/accelerate"
LAUNCHER = ROOT / "scripts/launch_multinode.sh"


def _processes(recipe: Path) -> int:
    """Processes the recipe's comment launches with (7 trainers beside a vLLM GPU, else 8)."""
    text = recipe.read_text()
    match = re.search(r"--num_processes (\d+)", text)
    return int(match.group(1)) if match else 8


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_gpu_recipes_parse_and_obey_the_batch_rule(recipe, monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    raw = yaml.safe_load(recipe.read_text())
    assert raw["bf16"] is True and raw["use_cpu"] is False and raw["gradient_checkpointing"] is True
    kind = "sft" if recipe.stem.startswith("sft") else "grpo"
    # This machine has no GPU: parse with the two overrides a CPU needs, everything else as shipped.
    script, config, model = parse_recipe(
        kind, ["--config", str(recipe), "--bf16", "false", "--use_cpu", "true"]
    )
    assert model.model_name_or_path.startswith("Qwen/Qwen2.5-VL-")
    assert script.coord_space == "resized" and script.max_pixels == 1003520
    assert ("lora" in recipe.stem) == model.use_peft
    if kind == "grpo":
        steps = config.steps_per_generation or config.gradient_accumulation_steps
        for nodes in (1, 2, 4):
            check_batch_rule(
                config.per_device_train_batch_size, _processes(recipe) * nodes, steps, config.num_generations
            )


def test_vllm_recipe_uses_server_mode_with_matching_serve_line():
    recipe = ROOT / "training/recipes/qwen2.5-vl-7b/grpo_vllm.yaml"
    raw = yaml.safe_load(recipe.read_text())
    assert raw["use_vllm"] is True and raw["vllm_mode"] == "server"
    serve = next(line for line in recipe.read_text().splitlines() if "trl vllm-serve" in line)
    assert f"--model {raw['model_name_or_path']}" in serve and f"--port {raw['vllm_server_port']}" in serve
    # TRL's own parser accepts the serve line's flags.
    from trl.scripts.utils import TrlParser
    from trl.scripts.vllm_serve import ScriptArguments

    words = shlex.split(serve.lstrip("# ").split("trl vllm-serve", 1)[1].replace("\\", ""))
    (args,) = TrlParser(ScriptArguments).parse_args_and_config(words)
    assert args.model == raw["model_name_or_path"] and args.port == raw["vllm_server_port"]


@pytest.mark.parametrize("stage", [2, 3])
def test_deepspeed_json_and_accelerate_configs(stage):
    from accelerate.commands.config.config_args import ClusterConfig

    ds = json.loads((ACCEL / f"ds_zero{stage}.json").read_text())
    assert ds["zero_optimization"]["stage"] == stage
    # Batch sizes, accumulation, clipping and precision come from the recipe through "auto".
    for key in (
        "train_batch_size",
        "train_micro_batch_size_per_gpu",
        "gradient_accumulation_steps",
        "gradient_clipping",
    ):
        assert ds[key] == "auto", key
    assert ds["bf16"]["enabled"] == "auto"
    if stage == 3:
        assert ds["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True
    config = ClusterConfig.from_yaml_file(str(ACCEL / f"zero{stage}.yaml"))
    assert str(config.distributed_type) == "DistributedType.DEEPSPEED"
    assert (ROOT / config.deepspeed_config["deepspeed_config_file"]).is_file()
    assert config.deepspeed_config["zero3_init_flag"] == (stage == 3)
    # Each node runs the launcher itself; accelerate's default multi-node launcher (pdsh) would not.
    assert config.deepspeed_config["deepspeed_multinode_launcher"] == "standard"
    ddp = ClusterConfig.from_yaml_file(str(ACCEL / "ddp.yaml"))
    assert str(ddp.distributed_type) == "DistributedType.MULTI_GPU" and ddp.mixed_precision == "bf16"


def _launch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {
        k: v for k, v in os.environ.items() if k not in ("NNODES", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT")
    }
    full.update(env)
    return subprocess.run(["bash", str(LAUNCHER), *args], env=full, cwd=ROOT, capture_output=True, text=True)


def test_multinode_launcher_builds_the_accelerate_command_from_the_environment():
    from accelerate.commands.launch import launch_command_parser

    env = {
        "NNODES": "2",
        "NODE_RANK": "1",
        "MASTER_ADDR": "10.0.0.1",
        "MASTER_PORT": "29500",
        "GPUS_PER_NODE": "8",
        "ACCELERATE_CONFIG": "training/accelerate/zero3.yaml",
        "DRY_RUN": "1",
    }
    out = _launch(
        env, "grpo", "--config", "training/recipes/qwen2.5-vl-7b/grpo_full.yaml", "--max_steps", "2"
    )
    assert out.returncode == 0, out.stderr
    words = shlex.split(out.stdout)
    assert words[:2] == ["accelerate", "launch"]
    args = launch_command_parser().parse_args(words[2:])
    assert (args.num_machines, args.machine_rank, args.main_process_ip, args.main_process_port) == (
        2,
        1,
        "10.0.0.1",
        29500,
    )
    assert args.num_processes == 16 and args.config_file == "training/accelerate/zero3.yaml"
    assert args.module and args.training_script == "phone_r1.cli"
    assert args.training_script_args == [
        "train",
        "grpo",
        "--config",
        "training/recipes/qwen2.5-vl-7b/grpo_full.yaml",
        "--max_steps",
        "2",
    ]


# (case, environment, words the error must contain)
LAUNCH_ERRORS = [
    ("nothing set", {}, "set NNODES NODE_RANK MASTER_ADDR MASTER_PORT ACCELERATE_CONFIG"),
    (
        "rank out of range",
        {"NNODES": "2", "NODE_RANK": "2", "MASTER_ADDR": "h", "MASTER_PORT": "1", "GPUS_PER_NODE": "8"}
        | {"ACCELERATE_CONFIG": "training/accelerate/zero3.yaml"},
        "NODE_RANK must be in 0..NNODES-1",
    ),
    # No default: one default config would run some recipe under another ZeRO stage than its header's.
    (
        "no accelerate config",
        {"NNODES": "2", "NODE_RANK": "0", "MASTER_ADDR": "h", "MASTER_PORT": "1", "GPUS_PER_NODE": "8"},
        "set ACCELERATE_CONFIG in the environment",
    ),
    (
        "accelerate config missing",
        {"NNODES": "1", "NODE_RANK": "0", "MASTER_ADDR": "h", "MASTER_PORT": "1", "GPUS_PER_NODE": "8"}
        | {"ACCELERATE_CONFIG": "training/accelerate/zero4.yaml"},
        "ACCELERATE_CONFIG=training/accelerate/zero4.yaml is not a file",
    ),
]


@pytest.mark.parametrize("case,env,words", LAUNCH_ERRORS, ids=[c[0] for c in LAUNCH_ERRORS])
def test_multinode_launcher_rejects_incomplete_environment(case, env, words):
    out = _launch(env, "grpo", "--config", "x.yaml")
    assert out.returncode == 2 and words in out.stderr


def test_slurm_example_is_valid_bash_and_uses_the_launcher():
    sbatch = ROOT / "scripts/slurm/train_grpo.sbatch"
    assert subprocess.run(["bash", "-n", str(sbatch)]).returncode == 0
    text = sbatch.read_text()
    assert "#SBATCH --nodes=" in text and "scripts/launch_multinode.sh" in text
    for var in ("MASTER_ADDR", "MASTER_PORT", "NNODES", "NODE_RANK=$SLURM_NODEID"):
        assert var in text, var


def _documented_launches() -> list[tuple[str, dict[str, str], str]]:
    """(where, environment, recipe) of every launcher line the docs and the recipe headers show."""
    found = []
    texts = {
        str(p.relative_to(ROOT)): p.read_text()
        for p in [*(ROOT / "docs").glob("*.md"), ROOT / "README.md", *RECIPES]
    }
    for name, text in texts.items():
        joined = re.sub(r"\s*\\\n[#\s]*", " ", text)
        for line in joined.splitlines():
            if "scripts/launch_multinode.sh grpo" not in line:
                continue
            env = dict(re.findall(r"\b([A-Z_]+)=(\S+)", line.split("scripts/launch_multinode.sh")[0]))
            recipe = re.search(r"--config (\S+)", line)
            if recipe:  # a table cell abbreviates the arguments as "..."
                found.append((name, env, recipe.group(1)))
    return found


def test_documented_multinode_lines_use_the_recipes_own_accelerate_config():
    # The two-node example ran the 3B recipe under ZeRO-3 by default while the recipe says ZeRO-2.
    launches = _documented_launches()
    assert len(launches) >= 4
    for where, env, recipe in launches:
        assert "ACCELERATE_CONFIG" in env, f"{where}: {recipe} launched without ACCELERATE_CONFIG"
        header = re.search(r"--config_file (\S+)", (ROOT / recipe).read_text())
        if header:  # the GPU recipes name their config in their first comment lines
            assert env["ACCELERATE_CONFIG"] == header.group(1), (where, recipe, env)
