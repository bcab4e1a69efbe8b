"""GRPO generation through vLLM for prompts with screenshots: each image expanded once, and checked.

What TRL 1.16 sends vLLM (`trl/generation/vllm_generation.py`, `VLLMGeneration.generate`), for a
prompt whose token ids the processor has already expanded (every image written as its full run of
image tokens: `<|image_pad|>` x N for the Qwen families, `<img>` + `<IMG_CONTEXT>` x 256 per tile +
`</img>` for InternVL):

- colocate: `{"prompt_token_ids": ids, "multi_modal_data": {"image": images}}` to `LLM.generate`.
  vLLM's renderer runs the model's multimodal processor on the images and expands the image
  placeholders in `ids` itself, so the expanded prompt is expanded a second time. `make vllm-check`
  puts exactly that through vLLM 0.33's own renderer on CPU: for every family the prompt vLLM would
  generate from is longer than the one the trainer scores (the prompt's first image tokens, one per
  screenshot, each grow into a whole image; every other image token stays in the prompt as a plain
  token), for uniform screens as for a batch mixing 1080x2400 and 1440x3120 screens. TRL issues
  #6294 and #6401 report it; the fix PRs #6718/#6719 were open in August 2026. vLLM also resizes
  with the processor config saved in the model folder (TRL builds `LLM(model=...)` without the
  recipe's pixel budget).
- server: the images go alone to the server's `/v1/chat/completions/render`, and the features it
  returns are moved onto the runs of image tokens of the trainer's ids (`_place_features`). That is
  right as long as the server's processor gives every image as many tokens as the trainer's did; a
  server resizing with another pixel budget pairs N tokens of the prompt with M image embeddings.

`ImageSafeVLLMGeneration` is phone-r1's one seam on that path (no forked trainer): the trainer's own
`vllm_generation` object gets this subclass (`make_image_safe`), which changes two methods.

- colocate: vLLM is handed what it expects, the ids with each image folded back to the chat
  template's single placeholder (`ImageExpansion.fold`) plus the images and the trainer's pixel budget
  as `mm_processor_kwargs`; vLLM expands them once, and the ids it built must equal the trainer's, or
  the step stops with `VLLMPromptError`.
- server: before the features are placed, each image's length in the server's features must equal
  its length in the trainer's ids, or the step stops with `VLLMPromptError` naming the pixel budget
  to serve with.

Never is a completion generated from one prompt scored against another. When this module can go:
once TRL hands vLLM unexpanded ids itself (PR #6718) and passes the processor's budget; then the
check in `check_vllm_prompts` is what remains worth keeping.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from trl.generation.vllm_generation import VLLMGeneration

TRL_ISSUES = "TRL issues #6294 and #6401 (fix PRs #6718/#6719)"


class VLLMPromptError(RuntimeError):
    """vLLM would generate from other prompt tokens than the ones the trainer scores."""


@dataclass(frozen=True)
class ImageExpansion:
    """How a processor writes one image into the prompt ids, and what the chat template wrote before.

    An expanded image is `prefix + [image_token_id] * n + suffix`; the chat template's unexpanded
    placeholder (what vLLM expects, and expands itself) is `placeholder`.
    """

    image_token_id: int
    prefix: tuple[int, ...]
    suffix: tuple[int, ...]
    placeholder: tuple[int, ...]

    @classmethod
    def of(cls, processor: Any) -> ImageExpansion:
        """Read the expansion off the processor itself: one small image through it, text = its image token."""
        from PIL import Image

        token = processor.image_token
        token_id = int(processor.image_token_id)
        placeholder = processor.tokenizer.encode(token, add_special_tokens=False)
        out = processor(
            text=[token], images=[Image.new("RGB", (64, 64))], add_special_tokens=False, return_tensors=None
        )
        ids = list(out["input_ids"][0])
        if token_id not in ids or placeholder != [token_id]:
            raise ValueError(
                f"{type(processor).__name__}: expected its image token {token!r} (id {token_id}) to be one "
                f"token that the processor expands, found {placeholder} expanding to {ids[:8]}..."
            )
        first = ids.index(token_id)
        last = len(ids) - 1 - ids[::-1].index(token_id)
        return cls(token_id, tuple(ids[:first]), tuple(ids[last + 1 :]), tuple(placeholder))

    def images(self, ids: Sequence[int]) -> list[tuple[int, int]]:
        """(start, length) of each expanded image in `ids`, prefix and suffix included."""
        found, i, n = [], 0, len(ids)
        while i < n:
            if ids[i] != self.image_token_id:
                i += 1
                continue
            end = i
            while end < n and ids[end] == self.image_token_id:
                end += 1
            start = i - len(self.prefix)
            stop = end + len(self.suffix)
            if start < 0 or tuple(ids[start:i]) != self.prefix or tuple(ids[end:stop]) != self.suffix:
                raise VLLMPromptError(
                    f"the image tokens at {i}..{end} of a prompt are not framed by the processor's "
                    f"{list(self.prefix)} ... {list(self.suffix)}; cannot tell where the image starts"
                )
            found.append((start, stop - start))
            i = end
        return found

    def fold(self, ids: Sequence[int]) -> list[int]:
        """`ids` with every expanded image replaced by the chat template's placeholder."""
        out: list[int] = []
        pos = 0
        for start, length in self.images(ids):
            out += ids[pos:start]
            out += self.placeholder
            pos = start + length
        out += ids[pos:]
        return out


def first_difference(a: Sequence[int], b: Sequence[int]) -> int:
    """Index of the first token where `a` and `b` differ (the shorter length when one is a prefix)."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def check_vllm_prompts(vllm_ids: Sequence[Sequence[int]], trainer_ids: Sequence[Sequence[int]]) -> None:
    """The prompt ids vLLM built must be the trainer's; else `VLLMPromptError` naming the first difference."""
    if len(vllm_ids) != len(trainer_ids):
        raise VLLMPromptError(
            f"vLLM returned {len(vllm_ids)} prompts for the trainer's {len(trainer_ids)}; {TRL_ISSUES}"
        )
    for n, (got, want) in enumerate(zip(vllm_ids, trainer_ids, strict=True)):
        got, want = list(got), list(want)
        if got != want:
            at = first_difference(got, want)
            raise VLLMPromptError(
                f"prompt {n} of the batch: vLLM built {len(got)} prompt tokens, the trainer scores "
                f"{len(want)} (first difference at token {at}); completions generated from it would be "
                "scored against another prompt, so the step stops here. Image placeholders expanded "
                f"twice: {TRL_ISSUES}; another pixel budget: vLLM must resize with the recipe's "
                "min_pixels/max_pixels"
            )


def check_server_features(
    features: dict[str, Any], prompt_ids: Sequence[int], expansion: ImageExpansion
) -> None:
    """Each image's length in the server's rendered features must be its length in the trainer's ids."""
    server = [int(p["length"]) for p in features.get("mm_placeholders", {}).get("image", [])]
    ours = [length for _, length in expansion.images(prompt_ids)]
    if server != ours:
        raise VLLMPromptError(
            f"the vLLM server processed this prompt's images into {server} tokens, the trainer's processor "
            f"into {ours}: the server resizes with another pixel budget. Serve with the recipe's budget "
            '(`trl vllm-serve ... --mm-processor-kwargs \'{"min_pixels": MIN, "max_pixels": MAX}\'`, the '
            "recipe's values) or a model folder whose processor config carries it"
        )


def processor_kwargs(processor: Any) -> dict[str, int]:
    """The trainer's pixel budget as vLLM's `mm_processor_kwargs` (empty for processors without one)."""
    size = dict(getattr(processor.image_processor, "size", None) or {})
    if "shortest_edge" in size and "longest_edge" in size:
        return {"min_pixels": int(size["shortest_edge"]), "max_pixels": int(size["longest_edge"])}
    return {}


@contextlib.contextmanager
def _generate_with(llm: Any, **kwargs: Any) -> Iterator[None]:
    """`llm.generate` with extra keyword arguments for the duration of one TRL call.

    TRL's colocate branch calls `self.llm.generate(prompts, sampling_params=..., use_tqdm=False)`;
    `mm_processor_kwargs` is `LLM.generate`'s own argument, given here without copying TRL's branch.
    """
    llm.generate = functools.partial(type(llm).generate, llm, **kwargs)
    try:
        yield
    finally:
        del llm.generate


class ImageSafeVLLMGeneration(VLLMGeneration):
    """TRL's `VLLMGeneration` whose image prompts vLLM expands exactly once (see the module docstring).

    Made by `make_image_safe` from the instance the trainer built; adds `expansion` and `mm_kwargs`.
    """

    expansion: ImageExpansion
    mm_kwargs: dict[str, int]

    def generate(self, prompts: list[list[int]], images: Any, num_generations: int, profiler: Any = None):
        if images is None or self.mode != "colocate":
            return super().generate(prompts, images, num_generations, profiler)
        sent = [self.expansion.fold(ids) for ids in prompts]
        with _generate_with(self.llm, mm_processor_kwargs=self.mm_kwargs or None):
            vllm_ids, completion_ids, logprobs, logprob_token_ids = super().generate(
                sent, images, num_generations, profiler
            )
        check_vllm_prompts(vllm_ids, prompts)
        return [list(ids) for ids in prompts], completion_ids, logprobs, logprob_token_ids

    def _place_features(self, features: dict | None, prompt_ids: list[int]) -> dict | None:
        if features is not None:
            check_server_features(features, prompt_ids, self.expansion)
        return super()._place_features(features, prompt_ids)


def make_image_safe(generation: VLLMGeneration, processor: Any) -> ImageSafeVLLMGeneration:
    """Give the trainer's `vllm_generation` the checked subclass (it is built inside TRL's trainer,
    vLLM engine included, so it is re-classed rather than rebuilt); idempotent."""
    generation.__class__ = ImageSafeVLLMGeneration
    generation.expansion = ImageExpansion.of(processor)
    generation.mm_kwargs = processor_kwargs(processor)
    return generation  # type: ignore[return-value]
