"""Semi-online GRPO through `phone-r1 train grpo --semi_online true` on the tiny model, one and two ranks.

Rewards include the LLM judge stub (as in test_training_grpo.py): the untrained model earns no rule
reward, and the judge's spread gives the rollouts different returns, so advantages and weights move.
The untrained model never answers the gold `back`, so with the `patch` policy every step k > 0 is
asked with the patched history (the first step's recorded history, then the gold's description per
earlier step), which differs from the recorded history of that step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from serving.launch import free_port
from tests.helpers.tiny import FAMILY_NAMES, JudgeServer, family_geometry, tiny_model_dir, write_episodes
from tests.test_training_distributed import RANK_SCRIPT
from tests.test_training_grpo import grpo_args
from training.config import RecipeError
from training.credit import credit
from training.run import build_dataset_for, build_trainer, plan, train
from training.semi_online import join_step_outputs

ROOT = Path(__file__).resolve().parents[1]
STEPS = 3


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return write_episodes(tmp_path_factory.mktemp("toy"), n_episodes=2, steps=STEPS, single_first=True)


@pytest.fixture(scope="module")
def judge():
    with JudgeServer() as server:
        yield server


def semi_args(out: Path, toy: Path, judge: JudgeServer, *extra: str) -> list[str]:
    return grpo_args(out, toy, judge, "--semi_online", "true", "--save_strategy", "no", *extra)


def record_rows(trainer) -> list:
    """The steps `trainer` builds a prompt row for, in order (its own builder still builds them)."""
    asked = []
    row = trainer._row

    def spy(step):
        asked.append(step)
        return row(step)

    trainer._row = spy
    return asked


@pytest.mark.slow
def test_semi_online_run_logs_per_step_index_and_trains_on_own_history(tmp_path, toy, judge):
    torch.set_num_threads(2)
    plan_ = plan(
        "grpo", semi_args(tmp_path / "run", toy, judge, "--max_steps", "2", "--semi_online_max_patches", "-1")
    )
    trainer = build_trainer(plan_, build_dataset_for(plan_))
    asked = record_rows(trainer)
    trainer.train()
    trainer.save_model(str(tmp_path / "run"))
    assert trainer.state.global_step == 2
    logged = {k for entry in trainer.state.log_history for k in entry}
    for k in range(STEPS):
        for name in ("reward", "return", "advantage", "advantage_abs", "diverged_at"):
            assert f"semi_online/{name}/step_{k}" in logged, (name, k)
    for name in ("patches", "stopped", "no_divergence", "steps", "images/tokens_per_sample_max"):
        assert any(name in key for key in logged), name
    # Every step index of both rollouts was asked (2 optimiser steps x 3 step batches x 2 rollouts).
    assert len(asked) == 2 * STEPS * 2
    later = [s for s in asked if s.index > 0]
    assert later and all(s.history == ["打开APP", *["回退"] * s.index] for s in later)
    before = load_file(tiny_model_dir() / "model.safetensors")
    after = load_file(tmp_path / "run" / "model.safetensors")
    assert any(not torch.equal(before[k], after[k]) for k in before), "weights did not change"


@pytest.mark.slow
@pytest.mark.parametrize("weights", ["full", "lora"])
def test_semi_online_stop_policy_trains_with_the_semi_online_credit(tmp_path, toy, judge, weights):
    torch.set_num_threads(2)
    lora = ["--use_peft", "true", "--lora_r", "4", "--lora_alpha", "8", "--lora_dropout", "0"]
    args = ["--max_steps", "1", "--semi_online_patch", "stop", *(lora if weights == "lora" else [])]
    plan_ = plan("grpo", semi_args(tmp_path / "run", toy, judge, *args))
    trainer = build_trainer(plan_, build_dataset_for(plan_))
    batches = []
    generate = trainer._generate_and_score_completions

    def spy(inputs):
        out = generate(inputs)
        batches.append(out)
        return out

    trainer._generate_and_score_completions = spy
    trainer.train()
    (out,) = batches
    # Both rollouts stop at step 0 (the model never answers `back`): one step batch, nothing masked.
    assert out["completion_ids"].shape[0] == 2
    entry = next(e for e in trainer.state.log_history if "semi_online/stopped" in e)
    assert entry["semi_online/stopped"] == 1.0 and entry["semi_online/steps"] == 1.0
    # The trained advantages are the semi-online credit of the rewards TRL scored, not TRL's own.
    per_func, _ = trainer._captured
    rewards = (per_func * trainer.reward_weights.unsqueeze(0)).nansum(dim=1).tolist()
    expected = credit([[r] for r in rewards], gamma=0.5, step_weight=1.0).advantages
    assert out["advantages"].tolist() == pytest.approx([a[0] for a in expected], abs=1e-5)


@pytest.mark.slow
def test_semi_online_masks_the_rows_of_a_finished_rollout(tmp_path, judge):
    torch.set_num_threads(2)
    # Two episodes per batch, 3 and 2 steps: at step index 2 the shorter one's two rows are fillers.
    toy = write_episodes(tmp_path / "toy", n_episodes=2, steps=STEPS, single_first=True)
    (toy / "101" / f"step_{STEPS - 1}.json").unlink()
    args = ["--max_steps", "1", "--semi_online_max_patches", "-1", "--per_device_train_batch_size", "4"]
    plan_ = plan("grpo", semi_args(tmp_path / "run", toy, judge, *args))
    trainer = build_trainer(plan_, build_dataset_for(plan_))
    batches = []
    generate = trainer._generate_and_score_completions

    def spy(inputs):
        out = generate(inputs)
        batches.append(out)
        return out

    trainer._generate_and_score_completions = spy
    trainer.train()
    (out,) = batches
    assert out["completion_ids"].shape[0] == 4 * STEPS
    empty = (out["completion_mask"].sum(dim=1) == 0).tolist()
    assert sum(empty) == 2
    assert all(out["advantages"][i] == 0 for i, e in enumerate(empty) if e)
    assert out["num_items_in_batch"] == out["completion_mask"].sum()


def test_join_step_outputs_pads_each_side_and_refuses_unknown_fields():
    first = {
        "prompt_ids": torch.tensor([[5, 6]]),
        "completion_ids": torch.tensor([[7]]),
        "mm_token_type_ids": torch.tensor([[1, 1, 0]]),
        "num_images": [1],
    }
    second = {
        "prompt_ids": torch.tensor([[1, 2, 3]]),
        "completion_ids": torch.tensor([[8, 9]]),
        "mm_token_type_ids": torch.tensor([[0, 1, 1, 0, 0]]),
        "num_images": [2],
    }
    joined = join_step_outputs([first, second], pad_id=0)
    assert joined["prompt_ids"].tolist() == [[0, 5, 6], [1, 2, 3]]
    assert joined["completion_ids"].tolist() == [[7, 0], [8, 9]]
    assert joined["mm_token_type_ids"].tolist() == [[0, 1, 1, 0, 0], [0, 1, 1, 0, 0]]
    assert joined["num_images"] == [1, 2]
    with pytest.raises(ValueError, match="'surprise'"):
        join_step_outputs([{**first, "surprise": torch.zeros(1)}], pad_id=0)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--use_vllm", "true"], "use_vllm"),
        (["--semi_online_patch", "rewind"], "semi_online_patch"),
        (["--semi_online_gamma", "1.5"], "semi_online_gamma"),
        (["--semi_online_protocol", "boxx"], "semi_online_protocol"),
    ],
)
def test_semi_online_refuses_what_it_cannot_run(tmp_path, toy, judge, extra, message):
    with pytest.raises(RecipeError, match=message):
        plan("grpo", semi_args(tmp_path / "run", toy, judge, *extra))


def test_semi_online_refuses_groups_split_across_ranks():
    # 1 per device x 2 processes passes GRPO's batch rule for 2 generations, but each rank would hold
    # half a group; the check is per rank, so a config object of one rank shows it.
    from types import SimpleNamespace

    from training.config import PhoneR1Arguments
    from training.run import _check_semi_online

    config = SimpleNamespace(
        per_device_train_batch_size=1, steps_per_generation=1, num_generations=2, use_vllm=False
    )
    with pytest.raises(RecipeError, match="whole groups"):
        _check_semi_online("grpo", PhoneR1Arguments(semi_online=True), config)
    config.per_device_train_batch_size = 2
    _check_semi_online("grpo", PhoneR1Arguments(semi_online=True), config)


def test_semi_online_refused_for_sft(tmp_path, toy):
    argv = ["--config", str(ROOT / "training/recipes/tiny/sft.yaml"), "--dataset_path", str(toy)]
    with pytest.raises(RecipeError, match="GRPO mode"):
        plan("sft", [*argv, "--semi_online", "true", "--output_dir", str(tmp_path)])


@pytest.mark.slow
def test_semi_online_two_ranks_agree_with_episodes_of_different_lengths(tmp_path):
    # Episode 101 has one step fewer and no patch cap lets every rollout walk its whole episode: ranks
    # holding different episodes make the same number of step batches (the shorter one fills with
    # masked rows), or the reward gathers would mismatch.
    toy = write_episodes(tmp_path / "toy", n_episodes=2, steps=STEPS, single_first=True)
    (toy / "101" / f"step_{STEPS - 1}.json").unlink()
    script = tmp_path / "rank_train.py"
    script.write_text(RANK_SCRIPT)
    reports = tmp_path / "reports"
    reports.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    with JudgeServer() as judge:
        args = semi_args(tmp_path / "out", toy, judge, "--max_steps", "2", "--semi_online_max_patches", "-1")
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(free_port()),
            str(script),
            str(reports),
            *args,
        ]
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    ranks = [json.loads((reports / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["world"] == 2 and r["step"] == 2 and r["backend"] == "gloo" for r in ranks), ranks
    assert ranks[0]["hash"] == ranks[1]["hash"], "ranks disagree on the final weights"
    history = json.loads((tmp_path / "out" / "trainer_state.json").read_text())["log_history"]
    # Averaged over both ranks' rollouts: 3 steps walked on one rank, 2 on the other, at each step.
    assert [e["semi_online/steps"] for e in history if "semi_online/steps" in e] == [2.5, 2.5]


@pytest.mark.slow
def test_semi_online_resumes_from_a_checkpoint(tmp_path, toy, judge):
    torch.set_num_threads(2)
    out = tmp_path / "run"
    first = train(plan("grpo", grpo_args(out, toy, judge, "--semi_online", "true", "--max_steps", "1")))
    assert first.state.global_step == 1 and (out / "checkpoint-1").is_dir()
    resumed = ["--semi_online", "true", "--max_steps", "2", "--resume_from_checkpoint", "true"]
    second = train(plan("grpo", grpo_args(out, toy, judge, *resumed)))
    assert second.state.global_step == 2
    logged = [e["step"] for e in second.state.log_history if "semi_online/steps" in e]
    assert logged == [1, 2]  # step 1 restored from the checkpoint, step 2 rolled out after resuming


@pytest.mark.slow
def test_semi_online_in_an_agents_grammar(tmp_path, toy, judge):
    # `--agent`: each step's row is the agent's own prompt (built from the rollout's history), and
    # the answers are read with that agent's adapter.
    torch.set_num_threads(2)
    args = ["--max_steps", "1", "--semi_online_max_patches", "-1", "--agent", "ui-tars-1.5"]
    plan_ = plan("grpo", semi_args(tmp_path / "run", toy, judge, *args, "--coord_space", "resized"))
    trainer = build_trainer(plan_, build_dataset_for(plan_))
    assert trainer._adapter.name == "ui-tars-1.5"
    rows = []
    row = trainer._row

    def spy(step):
        rows.append((step, row(step)))
        return rows[-1][1]

    trainer._row = spy
    trainer.train()
    assert trainer.state.global_step == 1
    assert {r.get("agent") for _, r in rows} == {"ui-tars-1.5"}
    later = [(s, r) for s, r in rows if s.index > 0]
    assert later and all(s.history == ["打开APP", *["回退"] * s.index] for s, _ in later)
    assert all("回退" in r["prompt_json"] for _, r in later)


def family_recipe(tmp_path: Path, family: str) -> Path:
    """The tiny GRPO recipe in `family`'s geometry (`family_geometry`), as `benchmarks/train_step.py`
    runs it."""
    import yaml

    recipe = yaml.safe_load((ROOT / "training/recipes/tiny/grpo.yaml").read_text())
    space, budget = family_geometry(family)
    recipe.pop("min_pixels")
    recipe.pop("max_pixels")
    recipe.update(budget, coord_space=space)
    path = tmp_path / f"{family}.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("family", [f for f in FAMILY_NAMES if f != "qwen2_5_vl"])
def test_semi_online_runs_on_every_model_family(tmp_path, toy, judge, family):
    torch.set_num_threads(2)
    args = semi_args(tmp_path / "run", toy, judge, "--max_steps", "1", "--semi_online_max_patches", "-1")
    args[args.index("--config") + 1] = str(family_recipe(tmp_path, family))
    args[args.index("--model_name_or_path") + 1] = str(tiny_model_dir(family=family))
    plan_ = plan("grpo", args)
    assert plan_.family.name == family
    trainer = build_trainer(plan_, build_dataset_for(plan_))
    asked = record_rows(trainer)
    trainer.train()
    assert trainer.state.global_step == 1
    # Both rollouts walk every step index, each later one asked with its own patched history.
    assert sorted(s.index for s in asked) == sorted([*range(STEPS)] * 2)
    assert all(s.history == ["打开APP", *["回退"] * s.index] for s in asked if s.index > 0)
    entry = next(e for e in trainer.state.log_history if "semi_online/steps" in e)
    assert entry["semi_online/steps"] == STEPS
    for k in range(STEPS):
        assert f"semi_online/return/step_{k}" in entry and f"semi_online/advantage/step_{k}" in entry
