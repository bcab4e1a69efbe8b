"""Image accounting for multi-image GRPO: every screenshot reaches the model, in the prompt it belongs to.

A sample's images, the image placeholders in its prompt and the rows of `image_grid_thw` assigned to it
must agree. When they do not, a Qwen-VL forward pass does not always fail: images shift to the
next prompt of the batch, or a truncated prompt keeps fewer image tokens than its pictures produce,
and training goes on learning from the wrong screens. So every batch the GRPO trainer builds is
counted twice: before generation (images vs placeholders in the prompt messages) and after the
processor ran (placeholders and image tokens in the prompt ids vs the grid rows, and vs the count the
processor itself gives for each picture's size). Families without grids (InternVL's tiles: `<img>`,
tokens per tile, `</img>`) are checked against the processor's count alone. A mismatch stops the run
with the step id and the counts.

The image tokens per sample (mean / max) are logged each step, so the cost of a pixel budget shows in
the training logs as `images/tokens_per_sample_mean` and `images/tokens_per_sample_max`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trl import GRPOTrainer

# TRL aggregates these per logging step like its own metrics (`completions/mean_length`, ...).
TOKENS_MEAN = "images/tokens_per_sample_mean"
TOKENS_MAX = "images/tokens_per_sample_max"


class ImageAccountingError(RuntimeError):
    """A sample whose images, prompt placeholders and processor output disagree."""


@dataclass(frozen=True)
class SampleCount:
    """What one sample of a batch holds; `None` where a count is not known at that stage."""

    step_id: str
    images: int
    placeholders: int
    grid_rows: int | None = None
    image_tokens: int | None = None
    expected_tokens: int | None = None

    def problem(self) -> str | None:
        if self.placeholders != self.images:
            return "its prompt has a different number of image placeholders than images"
        if self.grid_rows is not None and self.grid_rows != self.images:
            return "the processor produced a different number of image_grid_thw rows than images"
        if self.image_tokens is not None and self.image_tokens != self.expected_tokens:
            return "its prompt ids hold a different number of image tokens than its image grids produce"
        return None

    def describe(self) -> str:
        parts = [f"images {self.images}", f"placeholders {self.placeholders}"]
        parts.append("image_grid_thw rows " + ("-" if self.grid_rows is None else str(self.grid_rows)))
        if self.image_tokens is not None:
            source = "processor counts" if self.grid_rows is None else "grids give"
            parts.append(f"image tokens {self.image_tokens} ({source} {self.expected_tokens})")
        return ", ".join(parts)


def _step_id(example: dict[str, Any], position: int) -> str:
    return str(example.get("step_id") or f"sample {position} of the batch")


def count_prompt_placeholders(prompt: Any) -> int:
    """Image parts in a conversational prompt (filled or not); 0 for a plain-text prompt."""
    if not isinstance(prompt, list):
        return 0
    return sum(
        1
        for message in prompt
        if isinstance(message.get("content"), list)
        for part in message["content"]
        if isinstance(part, dict) and part.get("type") == "image"
    )


def check_inputs(inputs: Sequence[dict[str, Any]]) -> list[SampleCount]:
    """Before generation: each sample's images against the placeholders of its prompt messages."""
    counts = [
        SampleCount(
            step_id=_step_id(example, i),
            images=len(example.get("images") or []),
            placeholders=count_prompt_placeholders(example.get("prompt")),
        )
        for i, example in enumerate(inputs)
    ]
    _raise_on_mismatch(counts, stage="before generation")
    return counts


def _token_count(ids: Any, token_ids: Sequence[int]) -> int:
    return int(sum((ids == token).sum() for token in token_ids))


def check_processed(
    counts: Sequence[SampleCount],
    prompt_ids: Any,
    image_grid_thw: Any,
    num_images: Sequence[int] | None,
    *,
    image_token_id: int,
    vision_start_id: int,
    merge_size: int,
    expected: Sequence[int] | None = None,
    image_token_ids: Sequence[int] | None = None,
) -> list[SampleCount]:
    """After the processor: placeholders and image tokens in the prompt ids against the grid rows.

    `image_grid_thw` rows are assigned to samples in order, `num_images[i]` rows to sample i (the split
    the trainer uses for the forward pass); each image of grid (t, h, w) takes t*h*w / merge_size**2
    image tokens in the prompt. `expected[i]` is the processor's own count for sample i's pictures;
    without grids (InternVL) it is the only reference, and `image_token_ids` are the ids that count as
    image tokens (default `[image_token_id]`; `vision_start_id` opens each picture).
    """
    token_ids = list(image_token_ids or [image_token_id])
    if image_grid_thw is None and expected is not None:
        checked = [
            SampleCount(
                step_id=count.step_id,
                images=count.images,
                placeholders=int((prompt_ids[i] == vision_start_id).sum()),
                image_tokens=_token_count(prompt_ids[i], token_ids),
                expected_tokens=int(expected[i]),
            )
            for i, count in enumerate(counts)
        ]
        _raise_on_mismatch(checked, stage="after the processor")
        return checked
    total_images = sum(c.images for c in counts)
    rows = 0 if image_grid_thw is None else int(image_grid_thw.shape[0])
    per_sample = list(num_images) if num_images is not None else [0] * len(counts)
    if len(per_sample) != len(counts) or sum(per_sample) != rows or rows != total_images:
        raise ImageAccountingError(
            f"image accounting after the processor: the batch holds {total_images} images in {len(counts)} "
            f"samples, but image_grid_thw has {rows} rows split as {per_sample}; "
            f"step ids: {[c.step_id for c in counts]}"
        )
    grids = image_grid_thw.tolist() if image_grid_thw is not None else []
    checked, start = [], 0
    for i, count in enumerate(counts):
        own = grids[start : start + per_sample[i]]
        start += per_sample[i]
        ids = prompt_ids[i]
        from_grids = sum(t * h * w for t, h, w in own) // (merge_size * merge_size)
        if expected is not None and int(expected[i]) != from_grids:
            raise ImageAccountingError(
                f"image accounting after the processor: step {count.step_id}: its image grids give "
                f"{from_grids} image tokens but the processor counts {int(expected[i])} for its pictures' "
                "sizes (a grid from another picture, or a pixel budget that differs between the two)"
            )
        checked.append(
            SampleCount(
                step_id=count.step_id,
                images=count.images,
                placeholders=int((ids == vision_start_id).sum()),
                grid_rows=len(own),
                image_tokens=_token_count(ids, token_ids),
                expected_tokens=from_grids,
            )
        )
    _raise_on_mismatch(checked, stage="after the processor")
    return checked


def _raise_on_mismatch(counts: Sequence[SampleCount], *, stage: str) -> None:
    for count in counts:
        problem = count.problem()
        if problem is not None:
            raise ImageAccountingError(
                f"image accounting {stage}: step {count.step_id}: {problem} ({count.describe()}); "
                "every screenshot must reach the prompt it belongs to, so the run stops here"
            )


def _special_ids(processing_class: Any) -> tuple[list[int], int, int]:
    """(ids counted as image tokens, the id opening each picture, the merge size) of a processor."""
    tokenizer = getattr(processing_class, "tokenizer", processing_class)
    start = getattr(processing_class, "start_image_token_id", None)
    if start is not None:  # InternVL: <img> + <IMG_CONTEXT> per tile token + </img>, all counted
        return list(processing_class.image_token_ids), int(start), 1
    image_token_id = tokenizer.convert_tokens_to_ids("<|image_pad|>")
    vision_start_id = tokenizer.convert_tokens_to_ids("<|vision_start|>")
    image_processor = getattr(processing_class, "image_processor", None)
    merge_size = int(getattr(image_processor, "merge_size", 2) or 2)
    return [image_token_id], vision_start_id, merge_size


def expected_tokens(processing_class: Any, inputs: Sequence[dict[str, Any]]) -> list[int]:
    """Per sample, the image tokens the processor says its pictures take (their sizes, its budget)."""
    from training.context_length import image_tokens

    out = []
    for example in inputs:
        sizes = [getattr(image, "size", None) for image in example.get("images") or []]
        out.append(sum(image_tokens(processing_class, *size) for size in sizes if size is not None))
    return out


class AccountedGRPOTrainer(GRPOTrainer):
    """TRL's GRPOTrainer with every built batch's images counted, and image prompts safe through vLLM.

    Only `_generate_and_score_completions` is wrapped (the one place a batch's prompts, images and
    processor output meet); generation, scoring and the loss are TRL's own. With `use_vllm`, the
    trainer's vLLM generation object gets phone-r1's seam (`training.vllm_generation`): vLLM expands
    each screenshot once and generates from exactly the prompt the trainer scores, or the step stops.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.use_vllm:
            from training.vllm_generation import make_image_safe

            make_image_safe(self.vllm_generation, self.processing_class)

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        counts = check_inputs(inputs)
        output = super()._generate_and_score_completions(inputs)
        if not any(c.images for c in counts):
            return output
        token_ids, vision_start_id, merge_size = _special_ids(self.processing_class)
        checked = check_processed(
            counts,
            output["prompt_ids"],
            output.get("image_grid_thw"),
            output.get("num_images"),
            image_token_id=token_ids[0],
            vision_start_id=vision_start_id,
            merge_size=merge_size,
            expected=expected_tokens(self.processing_class, inputs),
            image_token_ids=token_ids,
        )
        tokens = [c.image_tokens or 0 for c in checked]
        mode = "train" if self.model.training else "eval"
        # `_metrics` is where TRL collects its per-step logs; values are averaged over a logging window.
        self._metrics[mode][TOKENS_MEAN].append(sum(tokens) / len(tokens))
        self._metrics[mode][TOKENS_MAX].append(float(max(tokens)))
        return output
