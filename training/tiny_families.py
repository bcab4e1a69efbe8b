"""What a tiny random checkpoint of each model family is made of: config, processor parts, chat template.

Each family's checkpoint has the real architecture at toy size and the processor files laid out as the
released checkpoints ship them (class names, patch and merge sizes, mean/std, video-processor config),
so that stock `AutoProcessor` and `AutoModelForImageTextToText` load it where torchvision exists. The
pixel budget is small so CPU runs stay fast; InternVL's tiles are 224 px instead of 448 for the same
reason (its tile size is a processor setting, not an architectural constant). The chat templates are
our own Jinja, written to render the messages phone-r1 sends (system, user text and images, assistant
text) as the released templates do: Qwen2/2.5-VL's (a default system message), Qwen3-VL Instruct's
(no default system, no think block), Qwen3.5's (a think block opened in the generation prompt unless
`enable_thinking` is false, and assistant turns after the last user turn rendered with their reasoning
inside `<think>\\n…\\n</think>\\n\\n`), and the InternVL -hf conversion's (`<IMG_CONTEXT>` per image).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

QWEN_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
# The -hf InternVL tokenizer: Qwen's tokens plus InternVL's image and grounding markers.
INTERNVL_TOKENS: tuple[str, ...] = QWEN_TOKENS + (
    "<img>",
    "</img>",
    "<IMG_CONTEXT>",
    "<quad>",
    "</quad>",
    "<ref>",
    "</ref>",
    "<box>",
    "</box>",
    "<video>",
)
INTERNVL_NAMED_TOKENS = {
    "start_image_token": "<img>",
    "end_image_token": "</img>",
    "context_image_token": "<IMG_CONTEXT>",
    "video_token": "<video>",
}

# Qwen2-VL / Qwen2.5-VL: a default system message, multi-image user turns, assistant turns as written.
QWEN2_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Rendering of one message's content (string, or text/image/video parts), shared by the Qwen3 templates.
# No whitespace control: transformers renders with trim_blocks, and every newline here is literal text.
_QWEN3_CONTENT = (
    "{% set images = namespace(value=0) %}{% set videos = namespace(value=0) %}"
    "{% macro content_of(content, count) %}"
    "{% if content is string %}{{ content }}"
    "{% elif content is not none %}{% for part in content %}"
    "{% if part['type'] == 'image' or 'image' in part or 'image_url' in part %}"
    "{% if count %}{% set images.value = images.value + 1 %}{% endif %}"
    "{% if add_vision_id %}Picture {{ images.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'video' or 'video' in part %}"
    "{% if count %}{% set videos.value = videos.value + 1 %}{% endif %}"
    "{% if add_vision_id %}Video {{ videos.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in part %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{% endmacro %}"
)

# Qwen3-VL Instruct: no default system message, no think block.
QWEN3_VL_TEMPLATE = (
    _QWEN3_CONTENT + "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ content_of(message['content'], message['role'] != 'system') }}"
    "<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Qwen3.5: assistant turns after the last user turn carry their reasoning in a think block; the
# generation prompt opens one (or, with enable_thinking false, closes an empty one).
QWEN3_5_TEMPLATE = (
    _QWEN3_CONTENT + "{% set last = namespace(index=-1) %}"
    "{% for message in messages %}{% if message['role'] == 'user' %}{% set last.index = loop.index0 %}"
    "{% endif %}{% endfor %}"
    "{% for message in messages %}"
    "{% set text = content_of(message['content'], message['role'] != 'system') | trim %}"
    "{% if message['role'] == 'assistant' %}"
    "{% set reasoning = message['reasoning_content'] if message['reasoning_content'] is string else '' %}"
    "{% if message['reasoning_content'] is not string and '</think>' in text %}"
    "{% set reasoning = text.split('</think>')[0].split('<think>')[-1] %}"
    "{% set text = text.split('</think>')[-1] %}"
    "{% endif %}"
    "<|im_start|>assistant\n"
    "{% if loop.index0 > last.index %}<think>\n{{ reasoning | trim }}\n</think>\n\n{% endif %}"
    "{{ text | trim }}<|im_end|>\n"
    "{% else %}"
    "<|im_start|>{{ message['role'] }}\n{{ text }}<|im_end|>\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n"
    "{% else %}<think>\n{% endif %}"
    "{% endif %}"
)

# InternVL -hf: ChatML, `<IMG_CONTEXT>` and a newline per image, no default system message.
INTERNVL_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<IMG_CONTEXT>\n"
    "{% elif part['type'] == 'video' %}<video>\n"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@dataclass(frozen=True)
class TinySpec:
    """How to build one family's tiny checkpoint (see `training.tiny_model.build_tiny_model`)."""

    family: str
    model_class: str
    chat_template: str
    tokens: tuple[str, ...] = QWEN_TOKENS
    named_tokens: dict[str, str] = field(default_factory=dict)
    tokenizer_class: str = "Qwen2Tokenizer"
    eos: tuple[str, ...] = ("<|im_end|>", "<|endoftext|>")


SPECS: dict[str, TinySpec] = {
    "qwen2_5_vl": TinySpec("qwen2_5_vl", "Qwen2_5_VLForConditionalGeneration", QWEN2_TEMPLATE),
    "qwen2_vl": TinySpec("qwen2_vl", "Qwen2VLForConditionalGeneration", QWEN2_TEMPLATE),
    "qwen3_vl": TinySpec("qwen3_vl", "Qwen3VLForConditionalGeneration", QWEN3_VL_TEMPLATE),
    "qwen3_vl_moe": TinySpec("qwen3_vl_moe", "Qwen3VLMoeForConditionalGeneration", QWEN3_VL_TEMPLATE),
    "qwen3_5": TinySpec(
        "qwen3_5", "Qwen3_5ForConditionalGeneration", QWEN3_5_TEMPLATE, tokenizer_class="Qwen3_5Tokenizer"
    ),
    "qwen3_5_moe": TinySpec(
        "qwen3_5_moe",
        "Qwen3_5MoeForConditionalGeneration",
        QWEN3_5_TEMPLATE,
        tokenizer_class="Qwen3_5Tokenizer",
    ),
    "internvl": TinySpec(
        "internvl",
        "InternVLForConditionalGeneration",
        INTERNVL_TEMPLATE,
        tokens=INTERNVL_TOKENS,
        named_tokens=INTERNVL_NAMED_TOKENS,
        eos=("<|im_end|>",),
    ),
}

# InternVL's tile side for the tiny model (the released processors use 448).
INTERNVL_TINY_TILE = 224
INTERNVL_TINY_MAX_PATCHES = 2


def _mrope(head_dim: int, rotary_fraction: float = 1.0) -> list[int]:
    """M-RoPE sections (temporal, height, width) splitting the rotary half of `head_dim`."""
    half = int(head_dim * rotary_fraction) // 2
    return [half - 2 * (half // 4), half // 4, half // 4]


def model_config(
    family: str,
    ids: dict[str, int],
    vocab: int,
    *,
    hidden_size: int,
    num_layers: int,
    vision_depth: int,
    vision_hidden_size: int,
) -> Any:
    """The tiny transformers config of `family` (token ids from the tiny tokenizer)."""
    import transformers

    heads = 4
    head_dim = hidden_size // heads
    text: dict[str, Any] = {
        "vocab_size": vocab,
        "hidden_size": hidden_size,
        "intermediate_size": hidden_size * 2,
        "num_hidden_layers": num_layers,
        "num_attention_heads": heads,
        "num_key_value_heads": 2,
        "max_position_embeddings": 4096,
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
        "tie_word_embeddings": False,
    }
    qwen_ids = {
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
    }
    if family in ("qwen2_5_vl", "qwen2_vl"):
        text["rope_parameters"] = {
            "rope_type": "default",
            "rope_theta": 1e6,
            "mrope_section": _mrope(head_dim),
        }
        if family == "qwen2_5_vl":
            vision = {
                "depth": vision_depth,
                "hidden_size": vision_hidden_size,
                "intermediate_size": vision_hidden_size * 2,
                "num_heads": 2,
                "out_hidden_size": hidden_size,
                "patch_size": 14,
                "spatial_merge_size": 2,
                "temporal_patch_size": 2,
                "window_size": 56,
                "fullatt_block_indexes": [vision_depth - 1],
            }
            return transformers.Qwen2_5_VLConfig(text_config=text, vision_config=vision, **qwen_ids)
        vision = {
            "depth": vision_depth,
            "embed_dim": vision_hidden_size,
            "hidden_size": hidden_size,
            "mlp_ratio": 2,
            "num_heads": 2,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        }
        return transformers.Qwen2VLConfig(text_config=text, vision_config=vision, **qwen_ids)
    qwen3_vision = {
        "depth": vision_depth,
        "hidden_size": vision_hidden_size,
        "intermediate_size": vision_hidden_size * 2,
        "num_heads": 2,
        "out_hidden_size": hidden_size,
        "patch_size": 16,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "num_position_embeddings": 64,
    }
    experts = {"num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": hidden_size}
    if family in ("qwen3_vl", "qwen3_vl_moe"):
        text["head_dim"] = head_dim
        text["rope_parameters"] = {
            "rope_type": "default",
            "rope_theta": 5e6,
            "mrope_section": _mrope(head_dim),
            "mrope_interleaved": True,
        }
        vision = {**qwen3_vision, "deepstack_visual_indexes": [0]}
        if family == "qwen3_vl":
            return transformers.Qwen3VLConfig(text_config=text, vision_config=vision, **qwen_ids)
        text.update(experts, decoder_sparse_step=1)
        return transformers.Qwen3VLMoeConfig(text_config=text, vision_config=vision, **qwen_ids)
    if family in ("qwen3_5", "qwen3_5_moe"):
        # A hybrid decoder: one Gated DeltaNet (linear attention) layer, then one full-attention layer.
        head_dim = 32
        text.update(
            head_dim=head_dim,
            layer_types=["linear_attention", "full_attention"] * max(1, num_layers // 2),
            num_hidden_layers=2 * max(1, num_layers // 2),
            linear_conv_kernel_dim=4,
            linear_key_head_dim=16,
            linear_value_head_dim=16,
            linear_num_key_heads=2,
            linear_num_value_heads=4,
            rope_parameters={
                "rope_type": "default",
                "rope_theta": 1e7,
                "partial_rotary_factor": 0.25,
                "mrope_section": _mrope(head_dim, 0.25),
                "mrope_interleaved": True,
            },
        )
        if family == "qwen3_5":
            return transformers.Qwen3_5Config(text_config=text, vision_config=qwen3_vision, **qwen_ids)
        text.pop("intermediate_size")
        text.update(experts, shared_expert_intermediate_size=hidden_size)
        return transformers.Qwen3_5MoeConfig(text_config=text, vision_config=qwen3_vision, **qwen_ids)
    if family == "internvl":
        text["rope_parameters"] = {"rope_type": "default", "rope_theta": 1e6}
        vision = {
            "hidden_size": vision_hidden_size,
            "num_hidden_layers": vision_depth,
            "num_attention_heads": 2,
            "intermediate_size": vision_hidden_size * 2,
            "image_size": [INTERNVL_TINY_TILE, INTERNVL_TINY_TILE],
            "patch_size": [14, 14],
        }
        tokens_per_tile = (INTERNVL_TINY_TILE // 14) ** 2 // 4  # pixel shuffle at downsample_ratio 0.5
        return transformers.InternVLConfig(
            vision_config=vision,
            text_config={**text, "model_type": "qwen2"},
            image_token_id=ids["<IMG_CONTEXT>"],
            image_seq_length=tokens_per_tile,
            downsample_ratio=0.5,
            tie_word_embeddings=False,
        )
    raise ValueError(f"no tiny model for family {family!r}; expected one of {list(SPECS)}")


def image_processor(family: str, min_pixels: int, max_pixels: int) -> Any:
    """The family's image processor as its released checkpoints configure it, at the tiny budget."""
    if family == "internvl":
        from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import GotOcr2ImageProcessorPil

        from agent.families.internvl import IMAGENET_MEAN, IMAGENET_STD

        return GotOcr2ImageProcessorPil(
            size={"height": INTERNVL_TINY_TILE, "width": INTERNVL_TINY_TILE},
            crop_to_patches=True,
            min_patches=1,
            max_patches=INTERNVL_TINY_MAX_PATCHES,
            image_mean=IMAGENET_MEAN,
            image_std=IMAGENET_STD,
        )
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    if family in ("qwen2_5_vl", "qwen2_vl"):
        return Qwen2VLImageProcessorPil(
            min_pixels=min_pixels, max_pixels=max_pixels, patch_size=14, temporal_patch_size=2, merge_size=2
        )
    return Qwen2VLImageProcessorPil(
        size={"shortest_edge": min_pixels, "longest_edge": max_pixels},
        patch_size=16,
        temporal_patch_size=2,
        merge_size=2,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )


def processor_kwargs(family: str, config: Any) -> dict[str, Any]:
    """Extra arguments of the family's processor class (InternVL: tokens per tile)."""
    if family == "internvl":
        return {"image_seq_length": int(config.image_seq_length)}
    return {}


def video_config(family: str, base: dict[str, Any]) -> dict[str, Any]:
    """The video-processor config saved with the tiny checkpoint: the released one, InternVL's tile size."""
    if family == "internvl":
        return {**base, "size": {"height": INTERNVL_TINY_TILE, "width": INTERNVL_TINY_TILE}}
    return dict(base)
