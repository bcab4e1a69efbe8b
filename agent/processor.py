"""Build a Qwen2.5-VL processor on machines without torchvision.

`Qwen2_5_VLProcessor.__init__` takes a `video_processor`, and the Qwen2-VL video processor needs
torchvision. Without torchvision `AutoProcessor.from_pretrained` does not fail: it silently returns
only the tokenizer, so GRPO then dies with `KeyError: 'pixel_values'` and `transformers serve` drops
every image. The subclass below has no `video_processor` argument (transformers derives a processor's
parts from its `__init__` signature), so it builds from the image processor and tokenizer alone.

`register_processor()` makes `AutoProcessor` pick it for every `Qwen2_5_VLConfig`. Registration lives
in the process that calls it; it is never done at import time.

Reaching a `transformers serve` process: that server loads processors through `AutoProcessor` in its
own process, so the registration must happen inside it. Start the server through this module instead
of the `transformers` script; it registers, then hands the argument list to transformers' own CLI::

    python -m agent.processor serve --host 127.0.0.1 --port 8000 /path/to/checkpoint

(`run_transformers_cli(["serve", ...])` does the same from Python.)

Checkpoints saved with this processor name its class in `processor_config.json`; transformers falls
back to the stock `Qwen2_5_VLProcessor` for that unknown name where torchvision is installed (GPU
machines, vLLM), and resolves it to this class where it is registered. A checkpoint that names the
stock class (one saved elsewhere) is still loaded by `load_processor`, which bypasses `AutoProcessor`,
but not by a bare `AutoProcessor` call without torchvision.

When this module can go: once torchvision is installed wherever phone-r1 runs, or once transformers
builds `Qwen2_5_VLProcessor` without a video processor when torchvision is missing. Then
`load_processor` reduces to `AutoProcessor.from_pretrained` and `register_processor` to a no-op.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_REGISTERED: type | None = None

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
    from transformers import Qwen2_5_VLProcessor
    from transformers.processing_utils import ProcessorMixin

    class Qwen2_5_VLImageOnlyProcessor(Qwen2_5_VLProcessor):
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

    _REGISTERED = Qwen2_5_VLImageOnlyProcessor
    return _REGISTERED


def _torchvision_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torchvision") is not None


def register_processor() -> type:
    """Make `AutoProcessor` build the image-only Qwen2.5-VL processor. Idempotent.

    Returns the processor class in use. With torchvision installed the stock processor works and is
    left in place (its class is returned).
    """
    from transformers import AutoProcessor, Qwen2_5_VLConfig

    if _torchvision_available():
        from transformers import Qwen2_5_VLProcessor

        return Qwen2_5_VLProcessor
    cls = _processor_class()
    AutoProcessor.register(Qwen2_5_VLConfig, cls, exist_ok=True)
    return cls


def load_processor(path: str | Path, min_pixels: int | None = None, max_pixels: int | None = None) -> Any:
    """Load the processor of a Qwen2.5-VL checkpoint, with images, with or without torchvision.

    `min_pixels` / `max_pixels` override the saved pixel budget of the image processor. Raises
    ValueError when what loads cannot process images (so a tokenizer is never mistaken for a
    processor).
    """
    from transformers import AutoProcessor

    cls = register_processor()
    if _torchvision_available():
        processor = AutoProcessor.from_pretrained(str(path))
    else:
        # Called directly rather than through AutoProcessor: a checkpoint saved elsewhere names the
        # stock `Qwen2_5_VLProcessor` in processor_class, and that name wins over the registration.
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
