"""Runs inside the veRL environment (`make verl-venv`): veRL's own code reads a phone-r1 export.

    .venv-verl/bin/python tests/helpers/verl_check.py PARQUET MODEL_DIR REWARD_PY COMPLETIONS_JSON OUT_JSON

- `verl.utils.dataset.rl_dataset.RLHFDataset` loads the parquet with the model's processor, as veRL's
  trainer does (its overlong-prompt filter runs every prompt, images included, through the processor);
  for each row the images of `raw_prompt` and the processor's image tokens are recorded.
- `verl.trainer.ppo.reward.get_custom_reward_fn` loads `compute_score` from REWARD_PY by path, and
  veRL's `naive` reward manager scores each completion (tokenised, then decoded by veRL) with it.

The repository root must be on PYTHONPATH: the exported reward file imports `actions`. MODEL_DIR must
name the stock `Qwen2_5_VLProcessor` (veRL's `hf_processor` accepts only known processor classes).
"""

from __future__ import annotations

import json
import sys
import tempfile


def main(parquet: str, model: str, reward_file: str, completions_file: str, out_file: str) -> None:
    import numpy as np
    import torch
    import transformers
    import verl
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.experimental.reward_loop.reward_manager import get_reward_manager_cls
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.utils.dataset.rl_dataset import RLHFDataset
    from verl.utils.tokenizer import build_multimodal_processor_inputs, hf_processor, hf_tokenizer

    tokenizer = hf_tokenizer(model)
    processor = hf_processor(model)
    if processor is None:
        raise SystemExit(f"veRL's hf_processor found no multimodal processor in {model}")
    data_config = OmegaConf.create(
        {
            "prompt_key": "prompt",
            "image_key": "images",
            "max_prompt_length": 65536,
            "filter_overlong_prompts": True,
            "filter_overlong_prompts_workers": 1,
            "cache_dir": tempfile.mkdtemp(prefix="verl-cache-"),
        }
    )
    dataset = RLHFDataset(parquet, tokenizer, data_config, processor)
    image_token = processor.tokenizer.convert_tokens_to_ids(processor.image_token)
    rows = []
    for i in range(len(dataset)):
        item = dataset[i]
        messages = item["raw_prompt"]
        images, videos, _ = RLHFDataset._process_multi_modal_info(
            messages, dataset.image_patch_size, data_config
        )
        text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        inputs = build_multimodal_processor_inputs(processor, text=[text], images=images, videos=videos)
        rows.append(
            {
                "step_id": item["extra_info"]["step_id"],
                "image_parts": sum(
                    1
                    for m in messages
                    if isinstance(m["content"], list)
                    for part in m["content"]
                    if part.get("type") == "image"
                ),
                "image_sizes": [list(image.size) for image in images],
                "image_tokens": int((inputs["input_ids"][0] == image_token).sum()),
                "ground_truth": item["reward_model"]["ground_truth"],
                "extra_info": {
                    k: v for k, v in item["extra_info"].items() if isinstance(v, (int, float, str))
                },
            }
        )

    reward_config = OmegaConf.create(
        {
            "reward": {
                "custom_reward_function": {"path": reward_file, "name": "compute_score", "reward_kwargs": {}}
            }
        }
    )
    compute_score = get_custom_reward_fn(reward_config)
    manager = get_reward_manager_cls("naive")(reward_config, tokenizer, compute_score)
    by_step = {row["step_id"]: row for row in rows}
    scores = []
    for case in json.loads(open(completions_file, encoding="utf-8").read()):
        row = by_step[case["step_id"]]
        ids = tokenizer(case["completion"], add_special_tokens=False)["input_ids"]
        data = DataProto.from_dict(
            tensors={
                "responses": torch.tensor([ids]),
                "attention_mask": torch.ones(1, len(ids), dtype=torch.long),
            },
            non_tensors={
                "data_source": np.array(["phone_r1"], dtype=object),
                "reward_model": np.array([{"ground_truth": row["ground_truth"]}], dtype=object),
                "extra_info": np.array([dict(row["extra_info"])], dtype=object),
            },
        )
        result = manager.loop.run_until_complete(manager.run_single(data))
        scores.append(
            {
                **case,
                "decoded_equal": tokenizer.decode(ids, skip_special_tokens=True) == case["completion"],
                "score": float(result["reward_score"]),
                "extra": {k: float(v) for k, v in result["reward_extra_info"].items()},
            }
        )
    with open(out_file, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "versions": {
                    "verl": verl.__version__,
                    "transformers": transformers.__version__,
                    "torch": torch.__version__,
                },
                "rows": rows,
                "scores": scores,
            },
            handle,
            ensure_ascii=False,
        )


if __name__ == "__main__":
    main(*sys.argv[1:6])
