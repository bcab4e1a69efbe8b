"""Checkpoints are stock Qwen2.5-VL checkpoints: stock `AutoProcessor` loads them where torchvision is
installed, phone-r1's own loading everywhere; checkpoints saved under the old class name are repaired."""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from agent.processor import (
    LEGACY_PROCESSOR_CLASSES,
    REPAIR_COMMAND,
    STOCK_PROCESSOR_CLASS,
    load_processor,
    register_processor,
)
from phone_r1.cli import main
from tests.helpers.tiny import tiny_model_dir, write_episodes

HAS_TORCHVISION = importlib.util.find_spec("torchvision") is not None
needs_torchvision = pytest.mark.skipif(
    not HAS_TORCHVISION,
    reason="stock Qwen2_5_VLProcessor needs torchvision (it builds a video processor); "
    "this stack has none, so only phone-r1's load_processor applies here",
)
CLASS_FILES = ("processor_config.json", "tokenizer_config.json")
ROOT = Path(__file__).resolve().parents[1]


def _classes(folder) -> dict[str, str]:
    return {name: json.loads((folder / name).read_text())["processor_class"] for name in CLASS_FILES}


def _legacy_copy(tmp_path):
    """The tiny checkpoint as phone-r1 saved it before: the old class name and no video config."""
    folder = tmp_path / "legacy"
    shutil.copytree(tiny_model_dir(), folder)
    for name in CLASS_FILES:
        data = json.loads((folder / name).read_text())
        data["processor_class"] = LEGACY_PROCESSOR_CLASSES[0]
        data.pop("video_processor", None)
        (folder / name).write_text(json.dumps(data))
    return folder


def _screens(tmp_path, n: int) -> list:
    paths = []
    for i in range(n):
        image = Image.new("RGB", (270, 600), (240, 200 - 40 * i, 200))
        ImageDraw.Draw(image).rectangle((20, 100, 200, 160), fill=(30, 120, 60))
        path = tmp_path / f"screen_{i}.png"
        image.save(path)
        paths.append(path)
    return paths


def test_fresh_tiny_checkpoint_names_the_stock_processor_class():
    tiny = tiny_model_dir()
    assert _classes(tiny) == dict.fromkeys(CLASS_FILES, STOCK_PROCESSOR_CLASS)
    assert "video_processor" in json.loads((tiny / "processor_config.json").read_text())


@needs_torchvision
@pytest.mark.parametrize("screens", [1, 2])
def test_stock_auto_processor_loads_a_fresh_tiny_checkpoint(tmp_path, screens):
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_model_dir())
    assert type(processor).__name__ == STOCK_PROCESSOR_CLASS
    text = "<|vision_start|><|image_pad|><|vision_end|>" * screens
    images = [Image.open(p) for p in _screens(tmp_path, screens)]
    batch = processor(text=[text], images=images, return_tensors="pt")
    assert batch["pixel_values"].shape[0] > 0
    assert batch["image_grid_thw"].shape == (screens, 3)


@pytest.mark.skipif(HAS_TORCHVISION, reason="with torchvision the stock processor needs no registration")
def test_registration_makes_a_bare_auto_processor_load_the_stock_name_without_torchvision():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from transformers import AutoProcessor\n"
        "try:\n"
        "    AutoProcessor.from_pretrained(sys.argv[1]); before = 'loaded'\n"
        "except ImportError as err:\n"
        "    before = 'torchvision' if 'Torchvision' in str(err) else repr(err)\n"
        "from agent.processor import register_processor\n"
        "register_processor(); register_processor()\n"
        "after = AutoProcessor.from_pretrained(sys.argv[1])\n"
        "print(before, hasattr(after, 'image_processor'), type(after).__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tiny_model_dir())], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["torchvision", "True", STOCK_PROCESSOR_CLASS]


def test_legacy_checkpoint_loads_with_a_warning_naming_the_repair_command(tmp_path, caplog):
    legacy = _legacy_copy(tmp_path)
    with caplog.at_level(logging.WARNING, logger="agent.processor"):
        processor = load_processor(legacy)
    assert processor.image_processor is not None
    assert f"{REPAIR_COMMAND} {legacy}" in caplog.text
    caplog.clear()
    load_processor(tiny_model_dir())
    assert REPAIR_COMMAND not in caplog.text


def test_repair_command_rewrites_old_checkpoints_and_their_training_checkpoints(tmp_path, capsys):
    legacy = _legacy_copy(tmp_path)
    inner = legacy / "checkpoint-5"
    shutil.copytree(legacy, inner)
    assert main(["checkpoint", "repair", str(legacy)]) == 0
    printed = capsys.readouterr().out
    assert printed.count(f"-> {STOCK_PROCESSOR_CLASS}") == 4
    for folder in (legacy, inner):
        assert _classes(folder) == dict.fromkeys(CLASS_FILES, STOCK_PROCESSOR_CLASS)
        video = json.loads((folder / "processor_config.json").read_text())["video_processor"]
        assert video["video_processor_type"] == "Qwen2VLVideoProcessor"
    assert main(["checkpoint", "repair", str(legacy)]) == 0
    assert "nothing to repair" in capsys.readouterr().out
    register_processor()
    assert load_processor(legacy).image_processor is not None
    if HAS_TORCHVISION:
        from transformers import AutoProcessor

        assert type(AutoProcessor.from_pretrained(legacy)).__name__ == STOCK_PROCESSOR_CLASS


def test_repair_command_refuses_a_folder_without_processor_files(tmp_path, capsys):
    assert main(["checkpoint", "repair", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "processor_config.json" in err


def test_merge_writes_the_stock_class_even_from_a_legacy_base(tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageTextToText

    from serving.merge import merge_adapter

    legacy = _legacy_copy(tmp_path)
    torch.manual_seed(0)
    model = AutoModelForImageTextToText.from_pretrained(str(legacy))
    adapter = tmp_path / "adapter"
    get_peft_model(model, LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj"])).save_pretrained(adapter)
    out = merge_adapter(adapter, tmp_path / "merged", base_model=str(legacy))
    assert _classes(out) == dict.fromkeys(CLASS_FILES, STOCK_PROCESSOR_CLASS)


@pytest.fixture(scope="module")
def trained_checkpoint(tmp_path_factory):
    """A tiny checkpoint saved by `phone-r1 train sft` (the training save path), one step."""
    import torch

    root = tmp_path_factory.mktemp("trained")
    episodes = write_episodes(root / "episodes", n_episodes=1, steps=2)
    out = root / "out"
    torch.set_num_threads(2)
    code = main(
        [
            "train",
            "sft",
            "--config",
            str(ROOT / "training" / "recipes" / "tiny" / "sft.yaml"),
            "--model_name_or_path",
            str(tiny_model_dir()),
            "--dataset_path",
            str(episodes),
            "--output_dir",
            str(out),
            "--max_steps",
            "1",
            "--save_strategy",
            "no",
            "--disable_tqdm",
            "true",
        ]
    )
    assert code == 0
    return out


@pytest.mark.slow
def test_training_saves_the_stock_processor_class(trained_checkpoint):
    assert _classes(trained_checkpoint) == dict.fromkeys(CLASS_FILES, STOCK_PROCESSOR_CLASS)


@pytest.mark.slow
@needs_torchvision
def test_seed_inference_pattern_runs_on_a_freshly_trained_checkpoint(trained_checkpoint, tmp_path):
    """Seed 001's inference script, at toy size: stock classes, two screenshots in one message, generate."""
    import torch
    from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration

    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(trained_checkpoint, dtype=torch.float32)
    processor = AutoProcessor.from_pretrained(trained_checkpoint)
    paths = _screens(tmp_path, 2)
    images = [Image.open(p).convert("RGB") for p in paths]
    content = [{"type": "image", "image": str(p)} for p in paths]
    content.append(
        {"type": "text", "text": "打开设置。First output the thinking process in <think> </think> tags."}
    )
    text = processor.apply_chat_template(
        [{"role": "user", "content": content}], tokenize=False, add_generation_prompt=True
    )
    inputs = processor(text=text, images=images, padding=True, return_tensors="pt")
    assert inputs["image_grid_thw"].shape[0] == 2
    with torch.no_grad():
        generated = model.generate(**inputs, use_cache=True, max_new_tokens=8, do_sample=False)
    new_tokens = generated[0][inputs.input_ids.shape[1] :]
    assert len(new_tokens) > 0
    assert isinstance(processor.decode(new_tokens, skip_special_tokens=True), str)
