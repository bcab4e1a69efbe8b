"""InternVL3 / InternVL3.5 in transformers' own format (`internvl`, the `-hf` checkpoints).

Sources, as read: transformers 5.23 `models/internvl/processing_internvl.py` (each image becomes
`<img>` + 256 `<IMG_CONTEXT>` per tile + `</img>`), `models/got_ocr2/image_processing_pil_got_ocr2.py`
(`crop_to_patches`: the image is cut into 1..12 fixed 448x448 tiles in the grid closest to its aspect
ratio, plus a thumbnail), and the -hf conversion script (`convert_internvl_weights_to_hf.py`: ImageNet
mean/std, the ChatML template with `<IMG_CONTEXT>` per image). InternVL's grounding answers boxes in a
relative 0-1000 grid (InternVL2.5/3 reports, `<box>[[x1, y1, x2, y2]]</box>`).

Because every tile is resized to 448x448 independently, no single "resized screen" exists whose
pixels the model could answer in: `resized` is refused for this family, naming why, and the pixel
budget does not apply (the processor's `max_patches` bounds the tiles instead).
"""

from __future__ import annotations

from agent.families.base import ModelFamily

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]

# The video processor a stock InternVLProcessor builds from the -hf files (InternVLVideoProcessor).
INTERNVL_VIDEO = {
    "video_processor_type": "InternVLVideoProcessor",
    "do_resize": True,
    "size": {"height": 448, "width": 448},
    "resample": 3,
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": IMAGENET_MEAN,
    "image_std": IMAGENET_STD,
    "do_convert_rgb": True,
    "initial_shift": True,
    "do_sample_frames": False,
}

INTERNVL = ModelFamily(
    name="internvl",
    title="InternVL3 / InternVL3.5",
    processor_class="InternVLProcessor",
    config_class="InternVLConfig",
    tile=None,
    min_pixels=None,
    max_pixels=None,
    answer_space="norm1000",
    answer_space_note="relative 0-1000 boxes (InternVL grounding, <box>[[x1, y1, x2, y2]]</box>)",
    video_processor=INTERNVL_VIDEO,
    no_resized_reason=(
        "its processor cuts each screenshot into fixed 448x448 tiles (1-12 plus a thumbnail), each resized "
        "on its own, so there is no single resized screen to answer in"
    ),
    image_note="448-px tiles, 256 tokens each (max_patches bounds the tiles; no pixel budget)",
)
