"""Qwen2-VL, Qwen2.5-VL and Qwen3-VL (dense and MoE): one processor design, three geometries.

Sources, as read: transformers 5.23 `models/qwen2_vl/image_processing_pil_qwen2_vl.py` (smart_resize,
size = shortest/longest edge), the released processor files of Qwen/Qwen2.5-VL-*-Instruct (patch 14,
merge 2, CLIP mean/std, 3136..12845056 pixels) and Qwen/Qwen3-VL-*-Instruct (patch 16, merge 2,
mean/std 0.5, 65536..16777216 pixels, `Qwen3VLProcessor`, a `Qwen3VLVideoProcessor` sampling 2 fps).
Coordinates: Qwen2.5-VL answers in absolute pixels of the resized image (its grounding cookbooks);
Qwen2-VL and Qwen3-VL in a relative 0-1000 grid (the Qwen3-VL README; its mobile-agent cookbook asks
for a 0-999 grid, `norm999`). The Qwen3-VL Instruct chat template does not open `<think>` (the
Thinking variants do; phone-r1 reads the checkpoint's own template, see `agent.thinking`).
"""

from __future__ import annotations

from dataclasses import replace

from agent.families.base import ModelFamily

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# The video processor of Qwen2-VL and Qwen2.5-VL checkpoints (their preprocessor files).
QWEN2_VIDEO = {
    "video_processor_type": "Qwen2VLVideoProcessor",
    "do_resize": True,
    "size": {"shortest_edge": 128 * 28 * 28, "longest_edge": 28 * 28 * 768},
    "resample": 3,
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": CLIP_MEAN,
    "image_std": CLIP_STD,
    "do_convert_rgb": True,
    "patch_size": 14,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "min_frames": 4,
    "max_frames": 768,
    "do_sample_frames": False,
}

# Qwen/Qwen3-VL-*-Instruct video_preprocessor_config.json (also what Qwen3.5 checkpoints ship).
QWEN3_VIDEO = {
    "video_processor_type": "Qwen3VLVideoProcessor",
    "do_resize": True,
    "size": {"shortest_edge": 4096, "longest_edge": 25165824},
    "resample": 3,
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
    "do_convert_rgb": True,
    "patch_size": 16,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "fps": 2,
    "min_frames": 4,
    "max_frames": 768,
    "do_sample_frames": True,
    "return_metadata": False,
}

QWEN2_5_VL = ModelFamily(
    name="qwen2_5_vl",
    title="Qwen2.5-VL",
    processor_class="Qwen2_5_VLProcessor",
    config_class="Qwen2_5_VLConfig",
    tile=28,
    min_pixels=56 * 56,
    max_pixels=28 * 28 * 16384,
    answer_space="resized",
    answer_space_note="absolute pixels of the resized image (Qwen2.5-VL grounding and mobile cookbooks)",
    video_processor=QWEN2_VIDEO,
)

# Qwen2-VL: Qwen2.5-VL's processor geometry, its own classes and answer grid.
QWEN2_VL = replace(
    QWEN2_5_VL,
    name="qwen2_vl",
    title="Qwen2-VL",
    processor_class="Qwen2VLProcessor",
    config_class="Qwen2VLConfig",
    answer_space="norm1000",
    answer_space_note="relative 0-1000 boxes (Qwen2-VL README, <|box_start|>(x1,y1),(x2,y2)<|box_end|>)",
)

_QWEN3_GRID = "relative 0-1000 (Qwen3-VL README; the mobile-agent cookbook uses a 0-999 grid, norm999)"

QWEN3_VL = ModelFamily(
    name="qwen3_vl",
    title="Qwen3-VL",
    processor_class="Qwen3VLProcessor",
    config_class="Qwen3VLConfig",
    tile=32,
    min_pixels=256 * 256,
    max_pixels=32 * 32 * 16384,
    answer_space="norm1000",
    answer_space_note=_QWEN3_GRID,
    video_processor=QWEN3_VIDEO,
)

# The fused expert parameters of the Qwen3 MoE decoders (peft `target_parameters`).
QWEN3_FUSED_EXPERTS = ("mlp.experts.gate_up_proj", "mlp.experts.down_proj")

# The MoE variant: the dense model's processor and grid, its own config and fused experts.
QWEN3_VL_MOE = replace(
    QWEN3_VL,
    name="qwen3_vl_moe",
    title="Qwen3-VL-MoE",
    config_class="Qwen3VLMoeConfig",
    fused_experts=QWEN3_FUSED_EXPERTS,
)
