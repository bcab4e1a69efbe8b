"""The rewards inside a real TRL GRPO step: the breakdown reaches the trainer's logs under the documented
keys."""

from __future__ import annotations

import json

import pytest

from actions.rewards import action_reward, format_reward


@pytest.mark.slow
def test_breakdown_keys_in_grpo_trainer_logs(tmp_path):
    from datasets import Dataset
    from transformers import Qwen2Config, Qwen2ForCausalLM
    from trl import GRPOConfig, GRPOTrainer

    from training.tiny_model import build_tokenizer

    tokenizer = build_tokenizer(vocab_size=512)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.pad_token_id,
    )
    gold = json.dumps(
        {"action_type": "click", "action_parameter": {"click": "1,2,30,40"}, "action_description": ""}
    )
    row = {
        "prompt": "click it",
        "gold": gold,
        "screen_width": 100,
        "screen_height": 200,
        "coord_space": "original",
    }
    logged: list[dict] = []

    class Recording(GRPOTrainer):
        def log(self, logs, start_time=None):
            super().log(logs, start_time)
            logged.append(dict(logs))

    args = GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=8,
        max_steps=1,
        logging_steps=1,
        report_to=[],
        bf16=False,
        use_cpu=True,
        save_strategy="no",
    )
    trainer = Recording(
        model=Qwen2ForCausalLM(config),
        processing_class=tokenizer,
        reward_funcs=[format_reward, action_reward],
        args=args,
        train_dataset=Dataset.from_list([row] * 4),
    )
    trainer.train()
    keys = {k for logs in logged for k in logs}
    expected = {
        f"rewards/format/{p}"
        for p in ("think_tag", "think_json", "think_fields", "answer_tag", "answer_json")
    }
    expected |= {f"rewards/action/{p}" for p in ("type_hit", "param_score", "parsed")}
    assert expected <= keys, sorted(keys)
    assert {"rewards/format_reward/mean", "rewards/action_reward/mean"} <= keys
