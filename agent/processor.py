"""Build a Qwen2.5-VL processor on machines without torchvision; repair checkpoints saved before.

What was observed, with transformers 5.23.0:

- torch 2.13.0 (CPU wheel, no torchvision): `AutoProcessor.from_pretrained` on a checkpoint whose
  `processor_config.json` names the stock `Qwen2_5_VLProcessor` raises `ImportError`
  ("Qwen2VLVideoProcessor requires the Torchvision library"): the stock processor always builds a video
  processor, and that needs torchvision. On a checkpoint naming a class transformers does not know it
  returns a bare `Qwen2Tokenizer`, without a warning.
- torch 2.14.1 + torchvision 0.29.1: the stock name loads the stock processor (images give
  `pixel_values` and `image_grid_thw`); an unknown name (`Qwen2_5_VLImageOnlyProcessor`, what
  phone-r1 wrote before) again returns a bare `Qwen2Tokenizer`, so training, `transformers serve` and
  vLLM lose every image.

So checkpoints name the stock class and carry a video-processor config, which makes them stock
checkpoints wherever torchvision exists. Without torchvision, phone-r1 builds them with the subclass
below: it has no `video_processor` argument (transformers derives a processor's parts from its
`__init__` signature), and it carries the stock class name, because `save_pretrained` writes the
class name into `processor_config.json` and `tokenizer_config.json`.

`load_processor` calls the class of this stack directly, bypassing `AutoProcessor`, so it loads new
and old checkpoints on both stacks; it warns on an old one and names `phone-r1 checkpoint repair`.

`register_processor()` is for code that goes through a bare `AutoProcessor` (a `transformers serve`
process): where torchvision is missing it points the stock name at the subclass, in this process only
and never at import time. Start such a server through this module; it registers, then hands the
argument list to transformers' own CLI::

    python -m agent.processor serve --host 127.0.0.1 --port 8000 /path/to/checkpoint

(`run_transformers_cli(["serve", ...])` does the same from Python.)

When this module can go: once every phone-r1 stack has torchvision, or once transformers builds
`Qwen2_5_VLProcessor` without torchvision when no video is processed. Then `load_processor` reduces
to `AutoProcessor.from_pretrained` plus the pixel budget, and `register_processor` to a no-op. The
repair (`repair_checkpoint`) can go once no checkpoint naming the old class is in use.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_REGISTERED: type | None = None

# The class checkpoints name in processor_class: the stock one, so stock loaders accept them.
STOCK_PROCESSOR_CLASS = "Qwen2_5_VLProcessor"
# Names phone-r1 wrote before; `repair_checkpoint` replaces them.
LEGACY_PROCESSOR_CLASSES = ("Qwen2_5_VLImageOnlyProcessor",)
REPAIR_COMMAND = "phone-r1 checkpoint repair"
# Where transformers records the processor class in a saved checkpoint.
CLASS_FILES = ("processor_config.json", "tokenizer_config.json", "preprocessor_config.json")

# Qwen2-VL's video processor defaults. Saved checkpoints carry them in processor_config.json so that a
# machine with torchvision (vLLM, GPU training) can build the stock `Qwen2_5_VLProcessor` from them:
# its video processor needs a config even when only images are used.
VIDEO_PROCESSOR_DEFAULTS: dict[str, Any] = {
    "video_processor_type": "Qwen2VLVideoProcessor",
    "do_resize": True,
    "size": {"shortest_edge": 128 * 28 * 28, "longest_edge": 28 * 28 * 768},
    "resample": 3,
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "do_convert_rgb": True,
    "patch_size": 14,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "min_frames": 4,
    "max_frames": 768,
    "do_sample_frames": False,
}


def _processor_class() -> type:
    """Define the video-free processor class lazily so importing this module stays light."""
    global _REGISTERED
    if _REGISTERED is not None:
        return _REGISTERED
    from transformers import Qwen2_5_VLProcessor as StockProcessor
    from transformers.processing_utils import ProcessorMixin

    class ImageOnlyProcessor(StockProcessor):
        """`Qwen2_5_VLProcessor` without the video processor (which needs torchvision)."""

        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
            self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
            self.image_token_id = getattr(
                tokenizer, "image_token_id", None
            ) or tokenizer.convert_tokens_to_ids(self.image_token)
            self.video_token_id = getattr(
                tokenizer, "video_token_id", None
            ) or tokenizer.convert_tokens_to_ids(self.video_token)
            # Skip Qwen2_5_VLProcessor.__init__, which passes a video_processor positionally.
            ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

        def to_dict(self) -> dict[str, Any]:
            data = super().to_dict()
            data.setdefault("video_processor", dict(VIDEO_PROCESSOR_DEFAULTS))
            return data

    # save_pretrained records type(self).__name__ as processor_class; under the stock name what this
    # class saves is a stock checkpoint.
    ImageOnlyProcessor.__name__ = ImageOnlyProcessor.__qualname__ = STOCK_PROCESSOR_CLASS
    _REGISTERED = ImageOnlyProcessor
    return _REGISTERED


def _torchvision_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torchvision") is not None


def processor_class() -> type:
    """The class that builds a Qwen2.5-VL processor on this stack: the stock one, or the video-free one."""
    if _torchvision_available():
        from transformers import Qwen2_5_VLProcessor

        return Qwen2_5_VLProcessor
    return _processor_class()


def register_processor() -> type:
    """Make a bare `AutoProcessor` build an image-capable Qwen2.5-VL processor here. Idempotent.

    Returns the processor class in use. With torchvision installed the stock processor works and is
    left in place (its class is returned).
    """
    cls = processor_class()
    if _torchvision_available():
        return cls
    import transformers.models.qwen2_5_vl as qwen2_5_vl
    from transformers import AutoProcessor, Qwen2_5_VLConfig

    AutoProcessor.register(Qwen2_5_VLConfig, cls, exist_ok=True)
    # AutoProcessor resolves a saved processor_class by name in the model's module before looking at
    # registrations, so the stock name must lead to the subclass there.
    setattr(qwen2_5_vl, STOCK_PROCESSOR_CLASS, cls)
    return cls


def legacy_files(folder: str | Path) -> list[Path]:
    """The processor files in `folder` that name a class phone-r1 no longer writes (see the docstring)."""
    found = []
    for name in CLASS_FILES:
        path = Path(folder) / name
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("processor_class") in LEGACY_PROCESSOR_CLASSES:
                found.append(path)
    return found


def repair_checkpoint(folder: str | Path) -> list[Path]:
    """Make a checkpoint saved with an old processor class name load as a stock Qwen2.5-VL checkpoint.

    Rewrites `processor_class` to the stock name in the processor files of `folder` and of its
    `checkpoint-*` sub-folders (a training output), and adds the video-processor config the stock
    processor needs where it is missing. Idempotent. Returns the files it changed.
    """
    folder = Path(folder)
    changed = []
    for checkpoint in [folder, *sorted(p for p in folder.glob("checkpoint-*") if p.is_dir())]:
        for path in legacy_files(checkpoint):
            data = json.loads(path.read_text(encoding="utf-8"))
            data["processor_class"] = STOCK_PROCESSOR_CLASS
            if path.name == "processor_config.json":
                data.setdefault("video_processor", dict(VIDEO_PROCESSOR_DEFAULTS))
            path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            changed.append(path)
    return changed


def load_processor(path: str | Path, min_pixels: int | None = None, max_pixels: int | None = None) -> Any:
    """Load the processor of a Qwen2.5-VL checkpoint, with images, with or without torchvision.

    `min_pixels` / `max_pixels` override the saved pixel budget of the image processor. Raises
    ValueError when what loads cannot process images (so a tokenizer is never mistaken for a
    processor). A checkpoint naming the old processor class still loads, with a warning naming the
    repair command.
    """
    legacy = legacy_files(path)
    if legacy:
        logger.warning(
            "%s names the processor class %s, which stock transformers and vLLM do not load (they fall "
            "back to the tokenizer where torchvision is installed); fix it in place with: %s %s",
            legacy[0],
            json.loads(legacy[0].read_text(encoding="utf-8"))["processor_class"],
            REPAIR_COMMAND,
            path,
        )
    # Called directly rather than through AutoProcessor, which resolves the saved processor_class by
    # name: that fails without torchvision for the stock name and yields a tokenizer for the old one.
    # An old checkpoint may lack the video config the stock class needs; the video-free class does not.
    cls = _processor_class() if legacy else processor_class()
    processor = cls.from_pretrained(str(path))
    image_processor = getattr(processor, "image_processor", None)
    if image_processor is None:
        raise ValueError(
            f"{path}: expected a processor with an image processor, got {type(processor).__name__}; "
            "is processor_config.json (or preprocessor_config.json) missing from the checkpoint?"
        )
    # transformers 5 keeps the budget in `size` (shortest_edge = min_pixels, longest_edge = max_pixels);
    # passing min_pixels/max_pixels per call is deprecated.
    size = dict(image_processor.size) if image_processor.size else {}
    if min_pixels is not None:
        size["shortest_edge"] = int(min_pixels)
    if max_pixels is not None:
        size["longest_edge"] = int(max_pixels)
    if (
        size.get("shortest_edge")
        and size.get("longest_edge")
        and size["shortest_edge"] > size["longest_edge"]
    ):
        raise ValueError(f"pixel budget must satisfy min_pixels <= max_pixels, got {size}")
    image_processor.size = size
    return processor


def run_transformers_cli(argv: list[str]) -> int:
    """Register the processor, then run transformers' own CLI (`serve`, `chat`, ...) in this process."""
    register_processor()
    from transformers.cli.transformers import main as transformers_main

    sys.argv = ["transformers", *argv]
    result = transformers_main()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(run_transformers_cli(sys.argv[1:]))
