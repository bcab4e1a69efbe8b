"""The context a checkpoint needs at serving time, measured on its training data.

A server started with a shorter context than training used rejects the longest prompts (two
screenshots at a large pixel budget take thousands of tokens), and one started with the model's full
context wastes KV-cache memory. Training therefore records the longest prompt it saw, with its images,
and the completion limit, in `phone_r1.json`; `phone-r1 serve --engine vllm` derives `--max-model-len`
from them.

A prompt's length is its chat-template text tokenized with one image token per picture, plus, per
picture, the image tokens its resized size produces (`smart_resize` with the pixel budget; one token
per 28x28 pixels after the 2x2 merge), less the one placeholder already counted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger(__name__)

# Pixels per side of one image token after Qwen2.5-VL's 14-pixel patches are merged 2x2.
TOKEN_PIXELS = 28


def image_tokens(width: int, height: int, min_pixels: int, max_pixels: int) -> int:
    """Image tokens of one picture of `width` x `height` pixels under the pixel budget."""
    from actions.coords import PixelBudget, model_screen_size

    resized_w, resized_h = model_screen_size("resized", (width, height), PixelBudget(min_pixels, max_pixels))
    return (resized_w // TOKEN_PIXELS) * (resized_h // TOKEN_PIXELS)


def _image_size(path: str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:  # reads the header only
        return image.size


def measure_lengths(rows: Iterable[dict[str, Any]], processing_class: Any) -> tuple[int, int | None]:
    """`(longest prompt, longest SFT target or None)` in tokens over stored dataset rows."""
    from training.dataset import prompt_messages

    tokenizer = getattr(processing_class, "tokenizer", processing_class)
    longest_prompt, longest_target = 0, None
    sizes: dict[str, tuple[int, int]] = {}
    for row in rows:
        text = processing_class.apply_chat_template(
            prompt_messages(row), tokenize=False, add_generation_prompt=True
        )
        length = len(tokenizer(text, add_special_tokens=False)["input_ids"])
        for path in row["images"]:
            if path not in sizes:  # consecutive steps share screenshots
                sizes[path] = _image_size(path)
            length += image_tokens(*sizes[path], int(row["min_pixels"]), int(row["max_pixels"])) - 1
        longest_prompt = max(longest_prompt, length)
        if row.get("target") is not None:
            # The target plus the end-of-turn token the chat template closes it with.
            target = len(tokenizer(row["target"], add_special_tokens=False)["input_ids"]) + 1
            longest_target = max(longest_target or 0, target)
    return longest_prompt, longest_target


def stored_rows(dataset: Any) -> Iterable[dict[str, Any]]:
    """A lazy dataset's stored rows (paths and text), without the transform that opens images."""
    return dataset.with_format(None)
