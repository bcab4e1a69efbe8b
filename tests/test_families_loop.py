"""The whole loop on a tiny checkpoint of every model family: train, merge, serve, evaluate, compare.

Per family, once (module fixtures keyed by family): GRPO with LoRA on a batch mixing a one-screenshot
and a two-screenshot prompt of two screen sizes, in the `resized` space where the family has one; the
adapter merged; SFT with full weights; the merged checkpoint served by `phone-r1 serve --engine
transformers`, evaluated with `eval run` and compared with in-process generation by `eval parity`.
Each algorithm and each training mode runs for every family (GRPO+LoRA, SFT+full); the other two
pairings are the Qwen2.5-VL tests' (tests/test_training_grpo.py, tests/test_training_lora.py), which
keeps both stacks' suites inside their time budget.

Where torchvision is installed the checkpoint is first re-saved by transformers' own classes
(`AutoProcessor`, `AutoModelForImageTextToText`), so the loop runs on files phone-r1 did not write,
and everything it saves is loaded back with stock classes only.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from actions.coords import model_screen_size
from agent.checkpoint import CheckpointMeta
from agent.families import family_of
from phone_r1.cli import main
from serving.launch import free_port
from tests.helpers.serving import ServeProcess
from tests.helpers.tiny import FAMILY_NAMES, tiny_model_dir, write_episodes

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
HAS_TORCHVISION = importlib.util.find_spec("torchvision") is not None
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def episodes(tmp_path_factory) -> Path:
    """Two steps: a first step showing one 540x1200 screen, a later one showing two 720x1560 screens."""
    root = tmp_path_factory.mktemp("loop-eps")
    first = write_episodes(root / "a", n_episodes=1, steps=1, single_first=True)
    later = write_episodes(root / "b", n_episodes=1, steps=2, size=(720, 1560))
    data = root / "data"
    shutil.copytree(first / "100", data / "100")
    shutil.copytree(later / "100", data / "200")
    (data / "200" / "step_0.json").unlink()  # keep the step with two screenshots
    return data


def _stock_copy(source: Path, out: Path) -> Path:
    """The checkpoint as transformers' own classes save it (torchvision stack), else as it is."""
    if not HAS_TORCHVISION:
        return source
    from transformers import AutoModelForImageTextToText, AutoProcessor

    AutoModelForImageTextToText.from_pretrained(source).save_pretrained(out)
    AutoProcessor.from_pretrained(source).save_pretrained(out)
    return out


def _recipe(kind: str, family: str, out: Path) -> Path:
    """The tiny recipe without its pixel budget: the checkpoint processor's own applies (InternVL has
    none to give), in the family's `resized` space where it has one, its answer grid otherwise."""
    recipe = yaml.safe_load((ROOT / "training" / "recipes" / "tiny" / f"{kind}.yaml").read_text())
    recipe.pop("min_pixels")
    recipe.pop("max_pixels")
    recipe["coord_space"] = "resized" if family_of(family).tile else family_of(family).answer_space
    path = out / f"{kind}-{family}.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def _common(model: Path, data: Path, out: Path) -> list[str]:
    return [
        "--model_name_or_path",
        str(model),
        "--dataset_path",
        str(data),
        "--output_dir",
        str(out),
        "--max_steps",
        "1",
        "--save_strategy",
        "no",
        "--disable_tqdm",
        "true",
        "--dataloader_num_workers",
        "0",
    ]


@pytest.fixture(scope="module", params=FAMILY_NAMES)
def family_loop(request, tmp_path_factory, episodes) -> dict:
    import torch

    from serving.merge import merge_adapter
    from training.run import plan, train

    name = request.param
    torch.set_num_threads(2)
    root = tmp_path_factory.mktemp(f"loop-{name}")
    base = _stock_copy(tiny_model_dir(family=name), root / "base")
    grpo_plan = plan(
        "grpo",
        [
            "--config",
            str(_recipe("grpo", name, root)),
            *_common(base, episodes, root / "grpo"),
            "--use_peft",
            "true",
            "--lora_r",
            "4",
            "--lora_alpha",
            "8",
            "--lora_dropout",
            "0",
            "--per_device_train_batch_size",
            "4",
            "--num_generations",
            "2",
            "--max_completion_length",
            "8",
        ],
    )
    trainer = train(grpo_plan)
    merged = merge_adapter(root / "grpo", root / "merged", base_model=str(base))
    sft_plan = plan(
        "sft",
        [
            "--config",
            str(_recipe("sft", name, root)),
            *_common(base, episodes, root / "sft"),
            "--per_device_train_batch_size",
            "2",
        ],
    )
    train(sft_plan)
    return {
        "name": name,
        "base": base,
        "grpo": root / "grpo",
        "sft": root / "sft",
        "merged": merged,
        "plan": grpo_plan,
        "log": trainer.state.log_history,
        "root": root,
    }


def _processor_view(checkpoint: Path, plan_, row: dict) -> tuple[int, list[tuple[int, int]]]:
    """(prompt tokens, resized sizes of the pictures) as the checkpoint's own processor makes them."""
    from agent.processor import load_processor

    processor = load_processor(checkpoint, plan_.budget.min_pixels, plan_.budget.max_pixels)
    text = processor.apply_chat_template(
        row["prompt"], tokenize=False, add_generation_prompt=True, **(plan_.chat_template_kwargs or {})
    )
    batch = processor(text=[text], images=row["images"], return_tensors="pt")
    sizes = []
    if "image_grid_thw" in batch:
        patch = processor.image_processor.patch_size
        sizes = [(int(w) * patch, int(h) * patch) for _, h, w in batch["image_grid_thw"].tolist()]
    return int(batch["input_ids"].shape[1]), sizes


def test_grpo_states_the_processors_size_and_records_the_family(family_loop):
    from training.run import build_dataset_for

    name, plan_ = family_loop["name"], family_loop["plan"]
    family = family_of(name)
    meta = CheckpointMeta.load(family_loop["grpo"])
    assert (meta.family, meta.tile, meta.processor_class) == (name, family.tile, family.processor_class)
    assert meta.chat_template_kwargs == (family.chat_template_kwargs or None)
    assert meta.answer_prefix == family.think_prefix
    lengths = []
    for row in build_dataset_for(plan_):
        tokens, sizes = _processor_view(family_loop["base"], plan_, row)
        lengths.append(tokens)
        system = row["prompt"][0]["content"][0]["text"]
        if family.tile is not None:
            # The prompt states the size of the current screenshot as the processor feeds it.
            width, height = sizes[-1]
            assert (width, height) == model_screen_size("resized", row["images"][-1].size, plan_.budget)
            assert re.search(rf"\b{width}\b", system) and re.search(rf"\b{height}\b", system), system[-400:]
    assert len(lengths) == 2 and meta.max_prompt_length == max(lengths)
    # Image accounting ran on the mixed batch (one- and two-screenshot prompts) and logged its counts.
    assert any("images/tokens_per_sample_max" in entry for entry in family_loop["log"])


def test_sft_records_exact_lengths_and_saves_the_families_own_processor(family_loop):
    name = family_loop["name"]
    meta = CheckpointMeta.load(family_loop["sft"])
    assert meta.family == name and meta.max_completion_length and meta.max_prompt_length
    saved = json.loads((family_loop["sft"] / "processor_config.json").read_text())
    assert saved["processor_class"] == family_of(name).processor_class
    video = family_of(name).video_processor["video_processor_type"]
    assert saved["video_processor"]["video_processor_type"] == video


def test_merged_checkpoint_loads_with_stock_classes(family_loop):
    from transformers import AutoModelForImageTextToText

    merged = family_loop["merged"]
    assert CheckpointMeta.load(merged).family == family_loop["name"]
    if HAS_TORCHVISION:
        from transformers import AutoProcessor

        processor = AutoProcessor.from_pretrained(merged)  # nothing registered: stock classes only
    else:
        from agent.processor import load_processor

        processor = load_processor(merged)
    assert type(processor).__name__ == family_of(family_loop["name"]).processor_class
    assert type(AutoModelForImageTextToText.from_pretrained(merged)).__name__.endswith(
        "ForConditionalGeneration"
    )


def test_served_checkpoint_evaluates_and_matches_in_process_generation(family_loop, episodes, capsys):
    name, merged, root = family_loop["name"], family_loop["merged"], family_loop["root"]
    port = free_port()
    serve = ["serve", str(merged), "--engine", "transformers", "--device", "cpu", "--port", str(port)]
    results, parity = root / "results.jsonl", root / "parity.json"
    with ServeProcess(serve, port=port, log_path=root / "serve.log") as server:
        run = [
            "eval",
            "run",
            "--episodes",
            str(episodes),
            "--base-url",
            server.base_url,
            "--model",
            "phone-r1",
        ]
        run += ["--checkpoint-meta", str(merged), "-o", str(results), "--max-tokens", "12", "--no-progress"]
        assert main(run) == 0, capsys.readouterr()
        both = ["eval", "parity", "--episodes", str(episodes), "--a", server.base_url, "--b", str(merged)]
        assert main([*both, "--max-tokens", "12", "-o", str(parity)]) == 0, capsys.readouterr()
    records = [json.loads(line) for line in results.read_text().splitlines()][1:]
    assert len(records) == 2 and all(r["error"] is None for r in records)
    prefix = family_of(name).think_prefix
    # The whole answer is scored: with Qwen3.5 it starts inside the think block the template opened.
    assert all(r["raw"].startswith(prefix) for r in records)
    summary = json.loads(parity.read_text())
    assert summary["errors"] == {"a": 0, "b": 0} and summary["identical_text"] == 1.0, summary
