"""One rank of a distributed test run: `phone-r1 train` (`training.run.plan` + `train`), then a report.

    accelerate launch --config_file CONFIG --num_processes 2 -m tests.helpers.rank_train REPORT_DIR grpo \\
        --config RECIPE [--field value ...]

Each rank writes `REPORT_DIR/rank<R>.json`: the world size, the final step, a fingerprint of its full
weights (gathered first under ZeRO-3, where each rank holds only shards), the log history and, for
every forward pass that carried images, how many screenshots each prompt row of the batch held.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any


def fingerprint(named_tensors: Any) -> str:
    """sha256 over (name, float32 bytes) of tensors sorted by name; names are the model's own."""
    digest = hashlib.sha256()
    for name, tensor in sorted(named_tensors, key=lambda item: item[0]):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _full_weights_fingerprint(model: Any) -> str:
    from transformers.integrations.deepspeed import is_deepspeed_zero3_enabled

    params = list(model.named_parameters())
    if not is_deepspeed_zero3_enabled():
        return fingerprint(params)
    import deepspeed

    with deepspeed.zero.GatheredParameters([p for _, p in params], modifier_rank=None):
        return fingerprint(params)


def main() -> None:
    import torch

    torch.set_num_threads(1)
    import training.run as run

    report_dir, kind, argv = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    images_per_row: list[list[int]] = []
    build_trainer = run.build_trainer

    def build_and_watch(*args: Any, **kwargs: Any) -> Any:
        trainer = build_trainer(*args, **kwargs)
        vision_start = trainer.model.config.vision_start_token_id

        def record(_module: Any, _args: Any, inputs: dict[str, Any]) -> None:
            ids = inputs.get("input_ids")
            if ids is not None and inputs.get("image_grid_thw") is not None:
                images_per_row.append((ids == vision_start).sum(dim=1).tolist())

        trainer.model.register_forward_pre_hook(record, with_kwargs=True)
        return trainer

    run.build_trainer = build_and_watch
    trainer = run.train(run.plan(kind, argv))
    model = trainer.accelerator.unwrap_model(trainer.model)
    rank = int(os.environ["RANK"])
    report = {
        "rank": rank,
        "world": trainer.accelerator.num_processes,
        "step": trainer.state.global_step,
        "hash": _full_weights_fingerprint(model),
        "backend": str(torch.distributed.get_backend()),
        "distributed_type": str(trainer.accelerator.distributed_type),
        "images_per_row": images_per_row,
        "log_history": trainer.state.log_history,
    }
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / f"rank{rank}.json").write_text(json.dumps(report))
    # Ends the rank as `phone-r1 train` does (training.run.main).
    from training.distributed import end_rank

    end_rank(0, accelerator=trainer.accelerator)


if __name__ == "__main__":
    main()
