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
from agent.families import MODEL_FAMILIES, family_for, family_of
from tests.helpers.tiny import FAMILY_NAMES, tiny_model_dir

HAS_TORCHVISION = importlib.util.find_spec("torchvision") is not None
SCREENS = [(1080, 2400), (1440, 3120), (720, 1600)]


def test_every_registered_family_loads_and_has_a_tiny_builder():
    from training.tiny_families import SPECS

    assert MODEL_FAMILIES.names() == list(FAMILY_NAMES)
    for name in MODEL_FAMILIES:
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
    from agent.processor import load_processor

    # Loaded (on either stack) as its own class, never relabelled as Qwen2.5-VL's.
    assert type(load_processor(folder)).__name__ == family.processor_class


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


@pytest.mark.parametrize("name", ["qwen3_vl_moe", "qwen3_5_moe"])
def test_lora_adapts_the_fused_experts_of_moe_families(name, caplog):
    from peft import get_peft_model
    from transformers import AutoModelForImageTextToText
    from trl import ModelConfig

    from training.model import fused_expert_parameters, peft_config_for

    model = AutoModelForImageTextToText.from_pretrained(tiny_model_dir(family=name))
    experts = fused_expert_parameters(model)
    assert experts and all(e.endswith(("mlp.experts.gate_up_proj", "mlp.experts.down_proj")) for e in experts)
    assert not any("conv1d" in e for e in experts)  # Qwen3.5's DeltaNet convolution is 3-D but no expert
    args = ModelConfig(model_name_or_path="x", use_peft=True, lora_r=2, lora_alpha=4, lora_dropout=0.0)
    config = peft_config_for(model, args, include_vision=False, family=family_of(name))
    assert sorted(config.target_parameters) == sorted(family_of(name).fused_experts)
    trainable = [n for n, p in get_peft_model(model, config).named_parameters() if p.requires_grad]
    assert any(".experts." in n and "lora_" in n for n in trainable)
    # Told to leave the experts alone, LoRA still runs, and says loudly what it does not adapt.
    bare = AutoModelForImageTextToText.from_pretrained(tiny_model_dir(family=name))
    args = ModelConfig(model_name_or_path="x", use_peft=True, lora_dropout=0.0, lora_target_parameters=[])
    with caplog.at_level("WARNING", logger="training.model"):
        peft_config_for(bare, args, include_vision=False, family=family_of(name))
    assert "adapts only attention and dense layers" in caplog.text and "experts" in caplog.text


def test_expert_lora_with_dropout_is_refused_before_the_model_loads(tmp_path):
    from tests.helpers.tiny import write_episodes
    from training.config import RecipeError
    from training.run import plan

    data = write_episodes(tmp_path / "eps", n_episodes=1, steps=1)
    argv = ["--config", "training/recipes/tiny/grpo.yaml", "--dataset_path", str(data), "--use_peft", "true"]
    argv += [
        "--model_name_or_path",
        str(tiny_model_dir(family="qwen3_vl_moe")),
        "--output_dir",
        str(tmp_path),
    ]
    with pytest.raises(
        RecipeError, match="lora_dropout: 0.05 with LoRA on the fused MoE experts of Qwen3-VL-MoE"
    ):
        plan("grpo", argv)
    assert plan("grpo", [*argv, "--lora_dropout", "0"]).family.name == "qwen3_vl_moe"


def test_recipe_budget_is_checked_against_the_family(tmp_path):
    from tests.helpers.tiny import write_episodes
    from training.config import RecipeError
    from training.run import plan

    data = write_episodes(tmp_path / "eps", n_episodes=1, steps=1)
    base = ["--config", "training/recipes/tiny/grpo.yaml", "--dataset_path", str(data)]
    base += ["--output_dir", str(tmp_path / "o")]
    internvl = [*base, "--model_name_or_path", str(tiny_model_dir(family="internvl"))]
    with pytest.raises(RecipeError, match="coord_space: coord_space 'resized' is refused for InternVL"):
        plan("grpo", internvl)
    with pytest.raises(RecipeError, match="min_pixels/max_pixels: InternVL.* has no pixel budget"):
        plan("grpo", [*internvl, "--coord_space", "norm1000"])
    qwen3 = [*base, "--model_name_or_path", str(tiny_model_dir(family="qwen3_vl"))]
    with pytest.raises(RecipeError, match="max_pixels: 900 is smaller than one 32x32 tile"):
        plan("grpo", [*qwen3, "--min_pixels", "100", "--max_pixels", "900"])
    from training.run import checkpoint_meta

    qwen3_plan = plan("grpo", qwen3)
    meta = checkpoint_meta(qwen3_plan)
    assert qwen3_plan.budget.tile == 32
    assert (meta.family, meta.tile, meta.processor_class) == ("qwen3_vl", 32, "Qwen3VLProcessor")


# The family each shipped recipe's model belongs to (its config.json model_type on the hub).
RECIPE_FAMILIES = {
    "qwen2.5-vl-3b": "qwen2_5_vl",
    "qwen2.5-vl-7b": "qwen2_5_vl",
    "qwen3-vl-4b": "qwen3_vl",
    "qwen3-vl-8b": "qwen3_vl",
    "qwen3.5-9b": "qwen3_5",
    "ui-tars-1.5-7b": "qwen2_5_vl",
    "gui-owl-1.5-8b": "qwen3_vl",
}


def test_every_model_recipe_parses_and_fits_its_family():
    from pathlib import Path

    from training.config import parse_recipe

    root = Path(__file__).resolve().parents[1] / "training" / "recipes"
    folders = sorted(p for p in root.iterdir() if p.is_dir() and p.name != "tiny")
    assert [p.name for p in folders] == sorted(RECIPE_FAMILIES)
    for folder in folders:
        family = family_of(RECIPE_FAMILIES[folder.name])
        for recipe in sorted(folder.glob("*.yaml")):
            kind = "sft" if recipe.stem == "sft" else "grpo"
            script, _, _ = parse_recipe(
                kind, ["--config", str(recipe), "--bf16", "false", "--use_cpu", "true"]
            )
            budget = script.budget_for(family)
            assert budget.tile == family.tile, recipe
            if script.agent:
                # A released agent answers on its own grid (docs/training.md "Continuing a released agent").
                assert script.coord_space == script.answer_space, recipe
                assert "Continue" in recipe.read_text() and script.skip_inexpressible, recipe
            elif family.name != "qwen2_5_vl":
                # Qwen3 families train in the grid their released models answer in; the recipe says why.
                assert script.coord_space == family.answer_space, recipe
                assert "0-1000 grid" in recipe.read_text(), recipe


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_openai_pre_resize_sends_what_the_servers_processor_feeds_the_model(name, tmp_path):
    """The screenshot goes out at the size the checkpoint's processor produces, so the server finds
    nothing to resize (no second resample); InternVL's tiles are cut server-side from the original."""
    import base64
    import io

    from agent.backends.images import clear_image_cache, image_data_url
    from agent.checkpoint import CheckpointMeta
    from agent.processor import load_processor

    folder = tiny_model_dir(family=name)
    meta = CheckpointMeta.load_or_default(folder)
    assert (meta.family, meta.tile) == (name, family_of(name).tile)
    processor = load_processor(folder, meta.min_pixels, meta.max_pixels)
    path = tmp_path / "screen.png"
    Image.new("RGB", (1080, 2400), (200, 30, 30)).save(path)
    clear_image_cache()
    url = image_data_url(path, meta.budget)
    sent = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    if family_of(name).tile is None:
        assert sent.size == (1080, 2400) and base64.b64decode(url.split(",", 1)[1]) == path.read_bytes()
        return
    assert sent.size == model_screen_size("resized", (1080, 2400), meta.budget)
    grid = processor.image_processor(images=[sent], return_tensors="pt")["image_grid_thw"][0].tolist()
    patch = processor.image_processor.patch_size
    assert (grid[2] * patch, grid[1] * patch) == sent.size


def test_every_family_has_a_row_in_the_docs_table():
    from pathlib import Path

    table = (Path(__file__).resolve().parents[1] / "docs" / "families.md").read_text(encoding="utf-8")
    for name in MODEL_FAMILIES:
        assert f"| `{name}` |" in table, name


@pytest.mark.parametrize("name", ["qwen3_vl", "qwen2_5_vl"])
def test_dataset_prompts_state_the_familys_resized_size(name, tmp_path):
    from episodes.readers import read_steps
    from tests.helpers.tiny import write_episodes
    from training.dataset import DatasetSpec, build_dataset

    family = family_of(name)
    budget = family.budget(3136, 1003520)
    data = write_episodes(tmp_path / "eps", n_episodes=1, steps=1, size=(1080, 2400))
    spec = DatasetSpec(coord_space="resized", min_pixels=3136, max_pixels=1003520, tile=budget.tile)
    row = build_dataset(read_steps(data), spec)[0]
    system = row["prompt"][0]["content"][0]["text"]
    width, height = model_screen_size("resized", (1080, 2400), budget)
    assert (width, height) == ((672, 1472) if name == "qwen3_vl" else (672, 1484))
    assert f"{height}" in system and row["tile"] == budget.tile
