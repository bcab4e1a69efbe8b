"""The model-family records: chosen by `config.model_type`, and every geometric fact matches the processor.

Each family's tiny checkpoint comes from `phone-r1 train tiny --family` (processor files as released);
where torchvision is installed the tests load them with stock classes only, so the checks hold for
checkpoints built by anyone's code, not just ours.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from PIL import Image

from actions.coords import model_screen_size
from actions.registry import UnknownName
from agent.families import FAMILIES, family_for, family_of
from tests.helpers.tiny import FAMILY_NAMES, tiny_model_dir

HAS_TORCHVISION = importlib.util.find_spec("torchvision") is not None
SCREENS = [(1080, 2400), (1440, 3120), (720, 1600)]


def test_every_registered_family_loads_and_has_a_tiny_builder():
    from training.tiny_families import SPECS

    assert FAMILIES.names() == list(FAMILY_NAMES)
    for name in FAMILIES:
        family = family_of(name)
        assert family.name == name
        assert name in SPECS
        assert family.video_processor.get("video_processor_type")


def test_unknown_model_type_is_refused_listing_the_supported_ones():
    with pytest.raises(UnknownName, match=r"unknown model family 'llava'.*qwen3_5.*internvl.*agent/families"):
        family_of("llava")


def test_tiles_budgets_and_grids_of_the_released_families():
    assert [family_of(n).tile for n in FAMILY_NAMES] == [28, 28, 32, 32, 32, 32, None]
    assert family_of("qwen3_vl").budget().max_pixels == 32 * 32 * 16384
    assert family_of("qwen2_5_vl").answer_space == "resized"
    assert {family_of(n).answer_space for n in FAMILY_NAMES[1:]} == {"norm1000"}
    assert [n for n in FAMILY_NAMES if family_of(n).opens_think] == ["qwen3_5", "qwen3_5_moe"]
    assert [n for n in FAMILY_NAMES if family_of(n).fused_experts] == ["qwen3_vl_moe", "qwen3_5_moe"]


def test_internvl_refuses_resized_naming_why():
    internvl = family_of("internvl")
    with pytest.raises(ValueError, match="'resized' is refused for InternVL.*448x448 tiles.*norm1000"):
        internvl.check_space("resized")
    with pytest.raises(ValueError, match="448x448 tiles"):
        model_screen_size("resized", (1080, 2400), internvl.budget())
    assert internvl.check_space("norm1000") == "norm1000"


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_tiny_checkpoint_names_its_family_and_its_own_processor_class(name):
    folder = tiny_model_dir(family=name)
    family = family_for(folder)
    assert family.name == name
    saved = json.loads((folder / "processor_config.json").read_text())
    assert saved["processor_class"] == family.processor_class
    assert saved["video_processor"]["video_processor_type"] == family.video_processor["video_processor_type"]
    if name.startswith("qwen3"):
        image = saved["image_processor"]
        assert (image["patch_size"], image["merge_size"]) == (16, 2)
        assert image["image_mean"] == image["image_std"] == [0.5, 0.5, 0.5]
    if name.startswith("qwen3_5"):
        template = (folder / "chat_template.jinja").read_text()
        assert "enable_thinking" in template


@pytest.mark.parametrize("name", [n for n in FAMILY_NAMES if family_of(n).tile is not None])
def test_resized_size_is_the_size_the_processor_produces(name):
    """The `resized` size a prompt states equals what the checkpoint's own processor feeds the model."""
    from agent.processor import load_processor

    folder = tiny_model_dir(family=name)
    family = family_of(name)
    for low, high in [(None, None), (family.tile**2 * 4, family.tile**2 * 40)]:
        processor = load_processor(folder, low, high)
        size = processor.image_processor.size
        budget = family.budget(size["shortest_edge"], size["longest_edge"])
        patch = processor.image_processor.patch_size
        for screen in SCREENS:
            out = processor.image_processor(images=[Image.new("RGB", screen)], return_tensors="pt")
            _, grid_h, grid_w = out["image_grid_thw"][0].tolist()
            assert model_screen_size("resized", screen, budget) == (grid_w * patch, grid_h * patch)


def _stock_load(folder) -> str:
    code = (
        "import sys\n"
        "from transformers import AutoModelForImageTextToText, AutoProcessor\n"
        f"p = AutoProcessor.from_pretrained({str(folder)!r})\n"
        f"m = AutoModelForImageTextToText.from_pretrained({str(folder)!r})\n"
        "print(type(p).__name__, type(m).__name__, type(p.image_processor).__name__)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(not HAS_TORCHVISION, reason="stock video processors need torchvision")
def test_stock_classes_load_every_tiny_checkpoint():
    for name in FAMILY_NAMES:
        folder = tiny_model_dir(family=name)
        out = _stock_load(folder)
        assert out.returncode == 0, out.stderr[-2000:]
        processor_name, model_name, _ = out.stdout.split()
        assert processor_name == family_of(name).processor_class
        assert model_name.endswith("ForConditionalGeneration")


@pytest.mark.skipif(HAS_TORCHVISION, reason="the CPU stack (no torchvision) is what this checks")
def test_without_torchvision_stock_autoprocessor_fails_and_registered_classes_load():
    folder = tiny_model_dir(family="qwen3_vl")
    out = _stock_load(folder)
    assert out.returncode != 0 and "torchvision" in out.stderr.lower()
    code = (
        "from agent.processor import register_processor\n"
        "from transformers import AutoProcessor\n"
        "register_processor()\n"
        f"for folder in {[str(tiny_model_dir(family=n)) for n in FAMILY_NAMES]!r}:\n"
        "    p = AutoProcessor.from_pretrained(folder)\n"
        "    print(type(p).__name__, hasattr(p, 'video_processor'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    names = [line.split()[0] for line in out.stdout.splitlines()]
    assert names == [family_of(n).processor_class for n in FAMILY_NAMES]
    assert all(line.endswith("False") for line in out.stdout.splitlines())


def test_train_tiny_cli_builds_the_named_family(tmp_path, capsys):
    from phone_r1.cli import main

    assert main(["train", "tiny", "-o", str(tmp_path / "t"), "--family", "qwen3_vl"]) == 0
    assert "Qwen3-VL (qwen3_vl)" in capsys.readouterr().out
    assert family_for(tmp_path / "t").name == "qwen3_vl"
    assert main(["train", "tiny", "-o", str(tmp_path / "u"), "--family", "llava"]) == 2
    assert "invalid choice: 'llava'" in capsys.readouterr().err
