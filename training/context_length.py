"""The context a checkpoint needs at serving time, measured on its training data.

A server started with a shorter context than training used rejects the longest prompts (two
screenshots at a large pixel budget take thousands of tokens), and one started with the model's full
context wastes KV-cache memory. Training therefore records the longest prompt it saw, with its images,
and the completion limit, in `phone_r1.json`; `phone-r1 serve --engine vllm` derives `--max-model-len`
from them.

A prompt's length is its chat-template text (rendered with the family's template switches) tokenized
with one placeholder per picture, plus, per picture, the image tokens the checkpoint's own processor
says that picture becomes (`_get_num_multimodal_tokens`, the count vLLM uses too: Qwen's tile grid
after `smart_resize`, InternVL's 448-px tiles with their start and end tokens), less the one
placeholder already counted. Nothing here assumes a family's tile.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger(__name__)


def image_tokens(processor: Any, width: int, height: int) -> int:
    """Tokens one picture of `width` x `height` pixels takes in a prompt, as the processor counts them
    (at the processor's own pixel budget, which `agent.processor.load_processor` sets)."""
    counts = processor._get_num_multimodal_tokens(image_sizes=[(int(height), int(width))])
    return int(counts["num_image_tokens"][0])


def _image_size(path: str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:  # reads the header only
        return image.size


def measure_lengths(
    rows: Iterable[dict[str, Any]], processing_class: Any, chat_template_kwargs: dict[str, Any] | None = None
) -> tuple[int, int | None]:
    """`(longest prompt, longest SFT target or None)` in tokens over stored dataset rows.

    `processing_class` is the run's processor, loaded at the rows' pixel budget. An SFT target counts
    as the tokens generation produces for it, the end-of-turn token included."""
    from training.dataset import prompt_messages

    tokenizer = getattr(processing_class, "tokenizer", processing_class)
    kwargs = dict(chat_template_kwargs or {})
    longest_prompt, longest_target = 0, None
    sizes: dict[str, tuple[int, int]] = {}
    tokens: dict[tuple[int, int], int] = {}
    for row in rows:
        text = processing_class.apply_chat_template(
            prompt_messages(row), tokenize=False, add_generation_prompt=True, **kwargs
        )
        length = len(tokenizer(text, add_special_tokens=False)["input_ids"])
        for path in row["images"]:
            if path not in sizes:  # consecutive steps share screenshots
                sizes[path] = _image_size(path)
            if sizes[path] not in tokens:
                tokens[sizes[path]] = image_tokens(processing_class, *sizes[path])
            length += tokens[sizes[path]] - 1
        longest_prompt = max(longest_prompt, length)
        if row.get("target") is not None:
            generated = _generated_target(processing_class, row, text, kwargs)
            target = len(tokenizer(generated, add_special_tokens=False)["input_ids"])
            longest_target = max(longest_target or 0, target)
    return longest_prompt, longest_target


def _generated_target(processing_class: Any, row: dict[str, Any], prompt_text: str, kwargs: dict) -> str:
    """The text a model trained on `row` generates: the template's rendering of the target after the
    generation prompt, up to and including the end-of-turn token (Qwen3.5's template moves white space
    around the think block, so the target's own length would be off)."""
    from training.dataset import prompt_messages

    tokenizer = getattr(processing_class, "tokenizer", processing_class)
    completion = [{"role": "assistant", "content": [{"type": "text", "text": row["target"]}]}]
    full = processing_class.apply_chat_template(prompt_messages(row) + completion, tokenize=False, **kwargs)
    if not full.startswith(prompt_text):
        # A template that renders the prompt differently alone: TRL trains on the divergent rest too.
        shared = next((i for i, (a, b) in enumerate(zip(full, prompt_text, strict=False)) if a != b), 0)
        prompt_text = prompt_text[:shared]
    rest = full[len(prompt_text) :]
    eos = tokenizer.eos_token or ""
    end = rest.find(eos) if eos else -1
    return rest[: end + len(eos)] if end >= 0 else rest


def stored_rows(dataset: Any) -> Iterable[dict[str, Any]]:
    """A lazy dataset's stored rows (paths and text), without the transform that opens images."""
    return dataset.with_format(None)
