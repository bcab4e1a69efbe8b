"""Trainer callbacks: the checkpoint metadata that serving and evaluation read."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from agent.checkpoint import CheckpointMeta

logger = logging.getLogger(__name__)


class CheckpointMetaCallback(TrainerCallback):
    """Write `phone_r1.json` (coordinate space, pixel budget, template, base model) into every checkpoint.

    The trainer already saves weights and the processor there; with this file a checkpoint folder is
    servable and evaluable on its own, at the resolution and in the space it was trained with.
    """

    def __init__(self, meta: CheckpointMeta) -> None:
        self.meta = meta

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if state.is_world_process_zero:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir():
                self.meta.save(folder)
            else:
                logger.warning("checkpoint folder %s not found; %s not written", folder, "phone_r1.json")
        return control
