"""GRPO through `phone-r1 train grpo` on the tiny model: two images per prompt, full and LoRA.

Rewards include the LLM judge (a local stub grading from a hash of the text): on an untrained model
the rule rewards are all 0, and the judge's spread gives GRPO non-zero advantages, so parameters move.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from agent.checkpoint import META_FILENAME, CheckpointMeta
from agent.processor import load_processor
from phone_r1.cli import main
from serving.vllm_command import context_length
from tests.helpers.tiny import JudgeServer, tiny_model_dir, write_episodes
from training.context_length import image_tokens
from training.run import plan, train

RECIPE = "training/recipes/tiny/grpo.yaml"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return write_episodes(tmp_path_factory.mktemp("toy"), n_episodes=2, steps=2)


@pytest.fixture(scope="module")
def judge():
    with JudgeServer() as server:
        yield server


def grpo_args(out: Path, toy: Path, judge: JudgeServer, *extra: str) -> list[str]:
    return [
        "--config",
        str(ROOT / RECIPE),
        "--model_name_or_path",
        str(tiny_model_dir()),
        "--dataset_path",
        str(toy),
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
        "2",
        "--num_generations",
        "2",
        "--max_completion_length",
        "12",
        "--learning_rate",
        "1e-2",
        "--logging_steps",
        "1",
        "--save_steps",
        "1",
        "--save_total_limit",
        "2",
        "--gradient_checkpointing",
        "false",
        "--disable_tqdm",
        "true",
        "--dataloader_num_workers",
        "0",
        *extra,
    ]


def _logged(trainer) -> dict[str, list[float]]:
    keys: dict[str, list[float]] = {}
    for entry in trainer.state.log_history:
        for key, value in entry.items():
            keys.setdefault(key, []).append(value)
    return keys


@pytest.mark.slow
def test_full_grpo_two_images_metrics_checkpoints_and_resume(tmp_path, toy, judge, capsys):
    torch.set_num_threads(2)
    out = tmp_path / "run"
    plan_ = plan("grpo", grpo_args(out, toy, judge, "--max_steps", "2", "--freeze_vision_tower", "true"))
    # Every prompt shows two screenshots (previous and current).
    dataset_row = __import__("training.run", fromlist=["x"]).build_dataset_for(plan_)[0]
    assert len(dataset_row["images"]) == 2
    assert [p["type"] for p in dataset_row["prompt"][1]["content"]].count("image") == 2

    trainer = train(plan_)
    assert trainer.state.global_step == 2
    logged = _logged(trainer)
    for name in ("rewards/format_reward/mean", "rewards/action_reward/mean", "rewards/llm_judge_reward/mean"):
        assert name in logged, name
    for part in ("think_tag", "think_json", "think_fields", "answer_tag", "answer_json"):
        assert f"rewards/format/{part}" in logged, part
    for part in ("type_hit", "param_score", "parsed"):
        assert f"rewards/action/{part}" in logged, part
    assert "rewards/llm_judge/fallback" in logged and logged["rewards/llm_judge/fallback"] == [0.0, 0.0]
    assert judge.requests > 0

    # Weights moved in the language model; the frozen vision tower did not.
    before = load_file(tiny_model_dir() / "model.safetensors")
    after = load_file(out / "model.safetensors")
    # (Saved in the checkpoint layout: `visual.*` for the vision tower, `model.*`/`lm_head` for text.)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert any(k.startswith("model.layers.") for k in changed), "language model unchanged"
    assert not any("visual" in k.split(".") for k in changed), f"vision tower changed: {sorted(changed)[:3]}"

    # Checkpoints carry weights, processor and the pixel budget; so does the final folder.
    for folder in (out / "checkpoint-1", out / "checkpoint-2", out):
        meta = CheckpointMeta.load(folder)
        assert (meta.coord_space, meta.min_pixels, meta.max_pixels) == ("resized", 3136, 12544)
        assert meta.base_model == str(tiny_model_dir())
        assert meta.rewards == list(plan_.script.reward_funcs)  # the mix `eval run` weighs with
        assert (folder / "processor_config.json").is_file() and (folder / "tokenizer.json").is_file()
    assert json.loads((out / "checkpoint-2" / META_FILENAME).read_text())["prompt_template"] == "zh"
    # The longest prompt (two screens' image tokens included) and the completion limit are recorded,
    # and a vLLM dry-run sizes its context from them.
    final = CheckpointMeta.load(out)
    assert final.max_completion_length == 12 and final.max_prompt_length > 2 * image_tokens(
        load_processor(tiny_model_dir(), 3136, 12544), 540, 1200
    )
    assert CheckpointMeta.load(out / "checkpoint-1").max_prompt_length == final.max_prompt_length
    assert main(["serve", str(out), "--engine", "vllm", "--dry-run"]) == 0
    expected = context_length(final.max_prompt_length, 12)
    assert f"--max-model-len {expected}" in capsys.readouterr().out

    # Resume from the latest checkpoint: the step count continues from 2.
    resumed = train(
        plan("grpo", grpo_args(out, toy, judge, "--max_steps", "3", "--resume_from_checkpoint", "true"))
    )
    assert resumed.state.global_step == 3
    steps = [e["step"] for e in resumed.state.log_history if "reward" in e]
    assert steps == [1, 2, 3]
    assert (out / "checkpoint-3" / META_FILENAME).is_file()


@pytest.mark.slow
def test_lora_grpo_adapts_only_the_language_model(tmp_path, toy, judge):
    torch.set_num_threads(2)
    out = tmp_path / "lora"
    trainer = train(
        plan(
            "grpo",
            grpo_args(
                out,
                toy,
                judge,
                "--max_steps",
                "2",
                "--use_peft",
                "true",
                "--lora_r",
                "4",
                "--lora_alpha",
                "8",
                "--save_steps",
                "100",
            ),
        )
    )
    assert trainer.state.global_step == 2
    adapter = load_file(out / "adapter_model.safetensors")
    assert adapter and not any("visual" in k.split(".") for k in adapter)
    lora_b = [v for k, v in adapter.items() if "lora_B" in k]
    assert lora_b and any(v.abs().sum() > 0 for v in lora_b), "LoRA B matrices still zero: no update"
    config = json.loads((out / "adapter_config.json").read_text())
    assert "language_model" in json.dumps(config["target_modules"])
    assert CheckpointMeta.load(out).coord_space == "resized"
    assert (out / "processor_config.json").is_file()


def test_lora_targets_found_on_the_model_and_vision_only_when_asked():
    import re

    from transformers import AutoModelForImageTextToText

    from training.model import freeze, lora_target_regex, vision_tower

    model = AutoModelForImageTextToText.from_pretrained(tiny_model_dir())
    linear = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    text_only = re.compile(lora_target_regex(model))
    with_vision = re.compile(lora_target_regex(model, include_vision=True))
    lm = [n for n in linear if ".language_model." in n]
    vis = [n for n in linear if ".visual." in n]
    assert lm and vis
    assert all(text_only.fullmatch(n) for n in lm)
    assert not any(text_only.fullmatch(n) for n in vis) and not text_only.fullmatch("lm_head")
    assert all(with_vision.fullmatch(n) for n in lm) and any(with_vision.fullmatch(n) for n in vis)
    frozen = freeze(vision_tower(model))
    assert frozen > 0 and not any(p.requires_grad for p in vision_tower(model).parameters())
    assert all(p.requires_grad for p in model.model.language_model.parameters())


def test_attention_backend_prefers_flash_attn_only_when_usable(monkeypatch):
    import importlib.util

    from training.model import pick_attn_implementation

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: object() if name == "flash_attn" else real_find_spec(name, *a),
    )
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_attn_implementation(None) == "flash_attention_2"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_attn_implementation(None) == "sdpa"
    assert pick_attn_implementation("eager") == "eager"
