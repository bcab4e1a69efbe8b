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


IMAGE_TOKENS_KEY = "images/tokens_per_sample"


def image_tokens_per_sample(dataset: Any) -> float:
    """Mean image tokens a prompt of `dataset` carries: per screenshot, the merged 28-pixel patches of
    the screen after the processor's resize, summed over the row's screenshots.

    Read from the stored columns (screen size, pixel budget, screenshot paths), without opening images.
    """
    from actions.coords import PATCH_FACTOR, PixelBudget, model_screen_size

    rows = dataset.with_format(None).select_columns(
        ["images", "screen_width", "screen_height", "min_pixels", "max_pixels"]
    )
    total = 0
    for row in rows:
        w, h = model_screen_size(
            "resized",
            (row["screen_width"], row["screen_height"]),
            PixelBudget(int(row["min_pixels"]), int(row["max_pixels"])),
        )
        total += len(row["images"]) * (w // PATCH_FACTOR) * (h // PATCH_FACTOR)
    return total / max(len(rows), 1)


class ImageTokensCallback(TrainerCallback):
    """Record the dataset's mean image tokens per sample on every logged training step.

    TRL logs no image-token count; it is fixed by the screenshots' sizes and the pixel budget, so it is
    computed once and added to each training entry of the log history (`trainer_state.json`), where
    `phone-r1 train report` plots it.
    """

    def __init__(self, dataset: Any) -> None:
        self.value = image_tokens_per_sample(dataset)

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        # The trainer appends its own copy of `logs` to the history before callbacks run; that copy is
        # what trainer_state.json keeps.
        if logs is not None and "loss" in logs and state.log_history:
            state.log_history[-1][IMAGE_TOKENS_KEY] = self.value
        return control
