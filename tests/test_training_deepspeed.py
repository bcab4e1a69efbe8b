"""Real two-rank GRPO runs under DeepSpeed on CPU with the shipped accelerate configs.

Each run is `accelerate launch --config_file training/accelerate/zero{2,3}.yaml --num_processes 2`
(the process count and a free port are the only overrides) or the two-node launcher on loopback. The
data mixes one-screen first steps with two-screen steps; rewards include the local judge, whose
spread gives GRPO non-zero advantages, so the weights move and the ranks' agreement means something.
DeepSpeed is an optional extra (`pip install -e ".[deepspeed]"`): without it the module is skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from serving.launch import free_port
from tests.helpers.rank_train import fingerprint
from tests.helpers.serving import ServeProcess, make_step
from tests.helpers.tiny import JudgeServer, tiny_model_dir, write_episodes

pytest.importorskip(
    "deepspeed",
    reason="DeepSpeed is not in this venv: `make install` adds the deepspeed extra; the torchvision stack "
    "(.venv-tv) installs [dev] only, so these runs happen once, on the CPU stack",
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[1]
RECIPE = "training/recipes/tiny/grpo.yaml"
RANK_MODULE = "tests.helpers.rank_train"
ACCELERATE = Path(sys.executable).with_name("accelerate")
LAUNCH_TIMEOUT_S = 900


@pytest.fixture(scope="module")
def judge():
    with JudgeServer() as server:
        yield server


@pytest.fixture(scope="module")
def mixed_steps(tmp_path_factory) -> Path:
    """Two episodes whose first step shows one screen and second step two (as in data/demo)."""
    root = write_episodes(tmp_path_factory.mktemp("mixed"), n_episodes=2, steps=2)
    for step_0 in root.glob("*/step_0.json"):
        record = json.loads(step_0.read_text(encoding="utf-8"))
        del record["input"]["screen_path1"]
        step_0.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return root


def recipe_args(out: Path, data: Path, judge: JudgeServer, *extra: str) -> list[str]:
    # 4 per device x 2 processes = 8 completions per step: 4 prompts, the whole 4-step data set, so
    # every step has one- and two-screen prompts.
    return [
        "--config",
        RECIPE,
        "--dataset_path",
        str(data),
        "--output_dir",
        str(out),
        "--reward_funcs",
        "format",
        "action",
        "llm_judge",
        "--reward_weights",
        "1",
        "1",
        "1",
        "--llm_judge_base_url",
        judge.base_url,
        "--llm_judge_model",
        "judge",
        "--per_device_train_batch_size",
        "4",
        "--num_generations",
        "2",
        "--max_completion_length",
        "12",
        "--learning_rate",
        "1e-2",
        "--max_steps",
        "2",
        "--save_steps",
        "100",
        "--logging_steps",
        "1",
        "--disable_tqdm",
        "true",
        "--dataloader_num_workers",
        "0",
        *extra,
    ]


def _env() -> dict[str, str]:
    # One thread per rank: two ranks share this machine's cores with the test process.
    return {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # The rank module is run by name from any working directory.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def launch(config: str, cwd: Path, reports: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """Two ranks of `tests.helpers.rank_train` under a shipped accelerate config; returns the process."""
    cmd = [
        str(ACCELERATE),
        "launch",
        "--config_file",
        config,
        "--num_processes",
        "2",
        "--main_process_port",
        str(free_port()),
        "-m",
        RANK_MODULE,
        str(reports),
        "grpo",
        *args,
    ]
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=LAUNCH_TIMEOUT_S)
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "launch.log").write_text(proc.stdout + proc.stderr)
    return proc


def _errors(text: str) -> str:
    """The lines of a failed launch worth reading: the ranks' tracebacks, not every warning."""
    lines = [line for line in text.splitlines() if "Error" in line or line.startswith("[rank")]
    return "\n".join(lines[-60:])


def rank_reports(proc: subprocess.CompletedProcess[str], reports: Path) -> list[dict]:
    assert proc.returncode == 0, f"{reports / 'launch.log'}:\n{_errors(proc.stderr)}"
    ranks = [json.loads((reports / f"rank{r}.json").read_text()) for r in (0, 1)]
    for report in ranks:
        assert report["world"] == 2 and report["backend"] == "gloo", report["world"]
        assert report["distributed_type"] == "DistributedType.DEEPSPEED"
    assert ranks[0]["hash"] == ranks[1]["hash"], "ranks disagree on the final weights"
    return ranks


def assert_mixed_screens(ranks: list[dict]) -> None:
    """Prompts with one and with two screenshots both reached the model, in every step."""
    seen = {count for report in ranks for batch in report["images_per_row"] for count in batch}
    assert seen == {1, 2}, seen


def initial_fingerprint(model_dir: Path) -> str:
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(model_dir)
    return fingerprint(model.named_parameters())


# --- ZeRO-3: the tiny recipe from an empty folder, reference model on (beta > 0) -------------------


@pytest.fixture(scope="module")
def zero3(tmp_path_factory, judge, mixed_steps):
    """The ZeRO-3 run, in a working directory laid out like a fresh clone (no runs/ folder)."""
    work = tmp_path_factory.mktemp("zero3")
    (work / "training").symlink_to(ROOT / "training")
    reports = work / "reports"
    args = recipe_args(work / "out", mixed_steps, judge, "--beta", "0.1", "--save_steps", "2")
    proc = launch("training/accelerate/zero3.yaml", work, reports, args)
    return work, reports, proc


def test_zero3_recipe_builds_its_model_and_trains_with_the_reference_model(zero3):
    work, reports, proc = zero3
    ranks = rank_reports(proc, reports)
    model_dir = work / "runs" / "tiny-model"
    assert (model_dir / "model.safetensors").is_file()
    assert not list((work / "runs").glob(".tiny-model-*")), "a staging folder was left behind"
    assert all(r["step"] == 2 for r in ranks)
    assert ranks[0]["hash"] != initial_fingerprint(model_dir), "weights did not change"
    # beta > 0: TRL computed the KL to the reference model, itself sharded under ZeRO-3.
    assert any("kl" in entry for entry in ranks[0]["log_history"])
    assert_mixed_screens(ranks)


def test_zero3_checkpoint_is_complete_and_loads_with_phone_r1(zero3, tmp_path):
    from agent import PhoneAgent
    from agent.checkpoint import CheckpointMeta

    work, reports, proc = zero3
    ranks = rank_reports(proc, reports)
    out = work / "out"
    base = load_file(work / "runs" / "tiny-model" / "model.safetensors")
    for folder in (out / "checkpoint-2", out):
        saved = load_file(folder / "model.safetensors")
        # The same keys (checkpoint layout) and shapes as the base model, and no empty shard.
        assert sorted(saved) == sorted(base), sorted(set(saved) ^ set(base))[:6]
        assert all(saved[k].shape == base[k].shape and saved[k].numel() > 0 for k in base)
        assert CheckpointMeta.load(folder).coord_space == "resized"
    # Each rank's optimizer partition, for resuming.
    assert len(list((out / "checkpoint-2" / "global_step2").glob("*optim_states.pt"))) == 2

    agent = PhoneAgent.from_checkpoint(out, max_new_tokens=4)
    result = agent.step(make_step(tmp_path))
    model, _ = agent.backend._load()
    agent.close()
    assert result.error is None and result.usage["completion_tokens"] > 0
    assert fingerprint(model.named_parameters()) == ranks[0]["hash"], "saved weights differ from the trained"


def test_zero3_checkpoint_serves_through_transformers_serve(zero3, tmp_path):
    from agent import PhoneAgent

    work, reports, proc = zero3
    rank_reports(proc, reports)
    port = free_port()
    args = ["serve", str(work / "out"), "--engine", "transformers", "--device", "cpu", "--port", str(port)]
    with ServeProcess(args, port=port, log_path=tmp_path / "serve.log") as server:
        agent = PhoneAgent.from_endpoint(
            server.base_url, "phone-r1", max_tokens=8, max_retries=0, timeout=120
        )
        result = agent.step(make_step(tmp_path))
        agent.close()
    assert result.error is None, result.error
    assert result.usage["prompt_tokens"] > 0 and result.usage["completion_tokens"] > 0


def test_zero3_resume_continues_the_step_count(zero3, judge, mixed_steps):
    work, reports, proc = zero3
    rank_reports(proc, reports)
    resumed_reports = work / "resumed-reports"
    args = recipe_args(
        work / "resumed",
        mixed_steps,
        judge,
        "--beta",
        "0.1",
        "--max_steps",
        "3",
        "--resume_from_checkpoint",
        str(work / "out" / "checkpoint-2"),
    )
    ranks = rank_reports(
        launch("training/accelerate/zero3.yaml", work, resumed_reports, args), resumed_reports
    )
    assert all(r["step"] == 3 for r in ranks)
    assert [e["step"] for e in ranks[0]["log_history"] if "reward" in e] == [1, 2, 3]
    # Only step 3 was trained: fewer forward passes than the two-step run (seeded sampling makes a run
    # from scratch log the same steps 1-2, so the log alone would not tell).
    first = json.loads((reports / "rank0.json").read_text())
    assert len(ranks[0]["images_per_row"]) < len(first["images_per_row"])


# --- ZeRO-2: full fine-tuning and LoRA ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["full", "lora"])
def test_zero2_two_ranks_agree(method, tmp_path, judge, mixed_steps):
    extra = ["--model_name_or_path", str(tiny_model_dir())]
    if method == "lora":
        extra += ["--use_peft", "true", "--lora_r", "4", "--lora_alpha", "8"]
    reports = tmp_path / "reports"
    out = tmp_path / "out"
    proc = launch(
        "training/accelerate/zero2.yaml", ROOT, reports, recipe_args(out, mixed_steps, judge, *extra)
    )
    ranks = rank_reports(proc, reports)
    assert all(r["step"] == 2 for r in ranks)
    assert_mixed_screens(ranks)
    if method == "full":
        assert ranks[0]["hash"] != initial_fingerprint(tiny_model_dir()), "weights did not change"
    else:
        adapter = load_file(out / "adapter_model.safetensors")
        assert any(v.abs().sum() > 0 for k, v in adapter.items() if "lora_B" in k), "LoRA B still zero"


# --- Two nodes of one process each on loopback (ZeRO-2), through scripts/launch_multinode.sh ---------


def _node_command(node: int, port: int, reports: Path, args: list[str]) -> tuple[list[str], dict[str, str]]:
    """The launcher's own accelerate command for `node`, training through the reporting rank module.

    The launcher prints its command with DRY_RUN=1; only `-m phone_r1.cli train` is swapped for
    `-m tests.helpers.rank_train REPORTS` (the same training entry point, plus a report per rank).
    """
    import shlex

    env = {
        **_env(),
        "NNODES": "2",
        "NODE_RANK": str(node),
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "GPUS_PER_NODE": "1",
        "ACCELERATE_CONFIG": "training/accelerate/zero2.yaml",
    }
    dry = subprocess.run(
        ["bash", "scripts/launch_multinode.sh", "grpo", *args],
        cwd=ROOT,
        env={**env, "DRY_RUN": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    words = shlex.split(dry.stdout)
    at = words.index("phone_r1.cli")
    assert words[at - 1 : at + 3] == ["-m", "phone_r1.cli", "train", "grpo"], words
    return [*words[:at], RANK_MODULE, str(reports), *words[at + 2 :]], env


def test_two_nodes_on_loopback_train_and_agree(tmp_path, judge, mixed_steps):
    port = free_port()
    reports = tmp_path / "reports"
    args = recipe_args(tmp_path / "out", mixed_steps, judge, "--model_name_or_path", str(tiny_model_dir()))
    procs = []
    for node in (0, 1):
        cmd, env = _node_command(node, port, reports, args)
        log = open(tmp_path / f"node{node}.log", "w")  # noqa: SIM115 - closed below
        procs.append((subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    codes = []
    for process, log in procs:
        try:
            codes.append(process.wait(timeout=LAUNCH_TIMEOUT_S))
        finally:
            if process.poll() is None:
                process.kill()
            log.close()
    logs = [(tmp_path / f"node{n}.log").read_text() for n in (0, 1)]
    assert codes == [0, 0], [_errors(text) for text in logs]
    ranks = [json.loads((reports / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["world"] == 2 and r["step"] == 2 for r in ranks)
    assert all(r["distributed_type"] == "DistributedType.DEEPSPEED" for r in ranks)
    assert ranks[0]["hash"] == ranks[1]["hash"], "the nodes disagree on the final weights"
    assert ranks[0]["hash"] != initial_fingerprint(tiny_model_dir()), "weights did not change"
    assert_mixed_screens(ranks)


# --- ZeRO-3 with semi-online GRPO: per-step-index generation with sharded parameters ---------------


def test_zero3_semi_online_ranks_walk_their_episodes_and_agree(tmp_path, judge):
    # Episodes of 3 and 2 steps: each rank holds one episode x 2 rollouts, so the rank with the shorter
    # episode makes a filler step batch while the other generates its third step.
    data = write_episodes(tmp_path / "eps", n_episodes=2, steps=3)
    (data / "101" / "step_2.json").unlink()
    (tmp_path / "training").symlink_to(ROOT / "training")
    args = recipe_args(tmp_path / "out", data, judge, "--model_name_or_path", str(tiny_model_dir()))
    args += ["--per_device_train_batch_size", "2", "--max_steps", "1"]
    args += ["--semi_online", "true", "--semi_online_max_patches", "-1", "--save_strategy", "no"]
    reports = tmp_path / "reports"
    ranks = rank_reports(launch("training/accelerate/zero3.yaml", tmp_path, reports, args), reports)
    assert all(r["step"] == 1 for r in ranks)
    assert ranks[0]["hash"] != initial_fingerprint(tiny_model_dir()), "weights did not change"
    entry = next(e for e in ranks[0]["log_history"] if "semi_online/steps" in e)
    # Averaged over the two ranks' rollouts: 3 steps on one, 2 on the other.
    assert entry["semi_online/steps"] == pytest.approx(2.5)
    assert all(f"semi_online/return/step_{k}" in entry for k in range(3))
