"""The tiny Qwen2.5-VL factory and the torchvision-free processor."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from tests.helpers.tiny import tiny_model_dir


@pytest.fixture(scope="module")
def tiny():
    return tiny_model_dir(0)


def _prompt(processor, n_images: int) -> str:
    messages = [
        {"role": "system", "content": "你是一个手机任务执行专家"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "请根据以下的任务描述"}] + [{"type": "image"}] * n_images,
        },
    ]
    return processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def test_model_loads_through_auto_class_and_generates(tiny):
    import torch
    from transformers import AutoModelForImageTextToText

    from agent.processor import load_processor

    model = AutoModelForImageTextToText.from_pretrained(tiny)
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    text_cfg = model.config.text_config
    head_dim = text_cfg.hidden_size // text_cfg.num_attention_heads
    assert sum(text_cfg.rope_parameters["mrope_section"]) == head_dim // 2
    assert model.config.vision_config.out_hidden_size == text_cfg.hidden_size

    processor = load_processor(tiny)
    image = Image.new("RGB", (1080, 2400), (30, 60, 90))
    batch = processor(text=[_prompt(processor, 2)], images=[image, image], return_tensors="pt")
    torch.manual_seed(0)
    out = model.generate(**batch, max_new_tokens=4, do_sample=True)
    assert out.shape[1] > batch["input_ids"].shape[1]


def test_prompt_tokens_grow_with_each_image(tiny):
    from agent.processor import load_processor

    processor = load_processor(tiny, min_pixels=3136, max_pixels=28 * 28 * 16)
    image = Image.new("RGB", (1080, 2400))
    lengths = []
    for n in range(3):
        batch = processor(text=[_prompt(processor, n)], images=[image] * n or None, return_tensors="pt")
        lengths.append(batch["input_ids"].shape[1])
        if n:
            assert batch["pixel_values"].shape[0] > 0 and batch["image_grid_thw"].shape[0] == n
    assert lengths[0] < lengths[1] < lengths[2]
    assert lengths[2] - lengths[1] == lengths[1] - lengths[0]


def test_pixel_budget_override_changes_image_grid(tiny):
    from agent.processor import load_processor

    image = Image.new("RGB", (1080, 2400))
    text = ["<|vision_start|><|image_pad|><|vision_end|>"]
    small = load_processor(tiny, min_pixels=3136, max_pixels=28 * 28 * 16)(text=text, images=[image])
    large = load_processor(tiny, min_pixels=3136, max_pixels=28 * 28 * 64)(text=text, images=[image])
    assert small["image_grid_thw"][0].prod() < large["image_grid_thw"][0].prod()
    with pytest.raises(ValueError, match="min_pixels <= max_pixels"):
        load_processor(tiny, min_pixels=10_000, max_pixels=5_000)


def test_tokenizer_keeps_completions_short_and_round_trips(tiny):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny)
    completion = (
        '<think>{"task_interpretation": "用户需要", "current_page_audit": "当前页面", '
        '"path_alignment_check": "符合任务路径", "action_validation": "点击"}</think>'
        '<answer>{"action_type": "click", "action_parameter": {"click": "49,721,1368,1008"}, '
        '"action_description": "点击剑来"}</answer>'
    )
    ids = tok(completion)["input_ids"]
    assert tok.decode(ids) == completion
    assert len(ids) < len(completion) / 2
    for special in ("<|vision_start|>", "<|image_pad|>", "<|vision_end|>", "<|im_start|>", "<|im_end|>"):
        assert len(tok(special)["input_ids"]) == 1, special
    assert tok.eos_token == "<|im_end|>"


def test_cli_builds_the_same_model_for_a_seed(tmp_path, tiny):
    from safetensors.numpy import load_file

    from phone_r1.cli import main

    again = tmp_path / "again"
    assert main(["train", "tiny", "-o", str(again), "--seed", "0"]) == 0
    a, b = load_file(tiny / "model.safetensors"), load_file(again / "model.safetensors")
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
    assert json.loads((again / "tokenizer.json").read_text()) == json.loads(
        (tiny / "tokenizer.json").read_text()
    )


def test_transformers_cli_runs_through_the_registering_entry_point():
    """`python -m agent.processor serve ...` is how a `transformers serve` process gets the fix."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "agent.processor", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "--port" in out.stdout and "FORCE_MODEL" in out.stdout


def test_saved_processor_config_lets_the_stock_processor_find_a_video_config(tiny):
    """Where torchvision exists (vLLM, GPU training) the stock processor loads: it needs a video config."""
    from transformers.video_processing_utils import BaseVideoProcessor

    config = json.loads((tiny / "processor_config.json").read_text())
    assert config["image_processor"]["size"]["longest_edge"] == 28 * 28 * 64
    video, _ = BaseVideoProcessor.get_video_processor_dict(str(tiny))
    assert video["video_processor_type"] == "Qwen2VLVideoProcessor" and video["merge_size"] == 2
