"""`phone-r1 merge`: fold a LoRA adapter into its base model, as a folder any server can load.

The merged folder carries everything serving needs: weights, the processor files (tokenizer, chat
template, image processor) and `phone_r1.json` with the coordinate space, pixel budget and template
the adapter was trained with.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from serving.adapter import ADAPTER_CONFIG, Adapter

logger = logging.getLogger(__name__)

# Files that make up a processor (tokenizer, chat template, image processor) in transformers 4 and 5.
PROCESSOR_FILES = (
    "processor_config.json",
    "preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "chat_template.jinja",
    "chat_template.json",
)


def _processor_source(folders: list[Path]) -> Path:
    for folder in folders:
        if (folder / "processor_config.json").is_file() or (folder / "preprocessor_config.json").is_file():
            return folder
    raise FileNotFoundError(
        "no processor files (processor_config.json or preprocessor_config.json) in "
        f"{[str(f) for f in folders]}"
    )


def merge_adapter(
    adapter_dir: str | Path, out_dir: str | Path, *, base_model: str | None = None, dtype: str = "auto"
) -> Path:
    """Merge the LoRA adapter in `adapter_dir` into its base model and save the result to `out_dir`.

    The base model is `base_model`, else the adapter's `base_model_name_or_path`. Returns `out_dir`.
    """
    from peft import PeftModel
    from transformers import AutoModelForImageTextToText

    from agent.checkpoint import META_FILENAME, CheckpointMeta

    adapter_dir, out_dir = Path(adapter_dir), Path(out_dir)
    adapter = Adapter.read(adapter_dir)
    if adapter is None:
        raise ValueError(f"{adapter_dir}: expected a LoRA adapter folder with {ADAPTER_CONFIG}, found none")
    base = base_model or adapter.base_model
    if not base:
        raise ValueError(f"{adapter_dir / ADAPTER_CONFIG}: no base_model_name_or_path; pass --base-model")
    if out_dir.resolve() in (adapter_dir.resolve(), Path(base).resolve()):
        raise ValueError(f"-o {out_dir}: choose a new folder, not the adapter or the base model")

    logger.info("merging %s into %s", adapter_dir, base)
    model = AutoModelForImageTextToText.from_pretrained(str(base), dtype=dtype)
    merged = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    out_dir.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out_dir)

    folders = [adapter_dir] + ([Path(base)] if Path(base).is_dir() else [])
    source = _processor_source(folders)
    for name in PROCESSOR_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, out_dir / name)
    # A base or adapter saved by an older phone-r1 names a processor class stock loaders do not know.
    from agent.processor import repair_checkpoint

    repair_checkpoint(out_dir)

    meta_source = next((f for f in folders if (f / META_FILENAME).is_file()), None)
    if meta_source is not None:
        meta = CheckpointMeta.load(meta_source)
    else:
        from agent.checkpoint import checkpoint_budget

        budget = checkpoint_budget(source)  # the processor's saved budget is what the model saw
        meta = CheckpointMeta(min_pixels=budget.min_pixels, max_pixels=budget.max_pixels)
    if meta.base_model is None:
        from dataclasses import replace

        meta = replace(meta, base_model=str(base))
    meta.save(out_dir)
    logger.info("merged checkpoint written to %s", out_dir)
    return out_dir
