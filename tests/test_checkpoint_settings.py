"""Checkpoint settings are enforced: phone_r1.json against the command line, context length, old folders."""

from __future__ import annotations

import pytest

from agent.checkpoint import CheckpointMeta, CheckpointMismatchError, resolve_settings
from phone_r1.cli import main
from serving.vllm_command import context_length
from tests.helpers.tiny import FAMILY_NAMES, tiny_model_dir, write_episodes
from training.context_length import image_tokens, measure_lengths, stored_rows
from training.dataset import DatasetSpec, load_steps_dataset


@pytest.fixture
def ckpt(tmp_path):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    meta = CheckpointMeta(coord_space="resized", min_pixels=3136, max_pixels=12544)
    CheckpointMeta(**{**meta.__dict__, "max_prompt_length": 900, "max_completion_length": 100}).save(folder)
    return folder


def test_given_settings_equal_to_the_checkpoints_pass(ckpt):
    meta, overrides = resolve_settings(ckpt, coord_space="resized", min_pixels=3136, prompt_template=None)
    assert (meta.coord_space, meta.min_pixels, meta.max_pixels, overrides) == ("resized", 3136, 12544, {})


def test_a_differing_setting_is_refused_with_both_values(ckpt):
    with pytest.raises(CheckpointMismatchError) as err:
        resolve_settings(ckpt, coord_space="norm1000", max_pixels=50176)
    text = str(err.value)
    assert str(ckpt / "phone_r1.json") in text and "--override-checkpoint-meta" in text
    assert "coord_space: the checkpoint has 'resized', the command line gives 'norm1000'" in text
    assert "max_pixels: the checkpoint has 12544, the command line gives 50176" in text


def test_an_override_is_used_and_returned(ckpt):
    meta, overrides = resolve_settings(ckpt, allow_override=True, prompt_template="en")
    assert meta.prompt_template == "en"
    assert overrides == {"prompt_template": {"checkpoint": "zh", "given": "en"}}


def test_without_phone_r1_json_flags_apply_and_the_processor_budget_is_assumed(tmp_path):
    meta, overrides = resolve_settings(tiny_model_dir(), coord_space="norm1000")
    assert overrides == {} and meta.coord_space == "norm1000"
    assert (meta.min_pixels, meta.max_pixels) == (3136, 50176)  # the tiny processor's saved budget


def test_serve_refuses_a_pixel_budget_other_than_the_checkpoints(ckpt, capsys):
    assert main(["serve", str(ckpt), "--engine", "vllm", "--dry-run", "--max-pixels", "50176"]) == 2
    assert "max_pixels: the checkpoint has 12544, the command line gives 50176" in capsys.readouterr().err
    args = ["serve", str(ckpt), "--engine", "vllm", "--dry-run", "--max-pixels", "50176"]
    assert main([*args, "--override-checkpoint-meta"]) == 0
    out = capsys.readouterr().out
    assert "# --override-checkpoint-meta: max_pixels 12544 -> 50176" in out
    assert '"max_pixels": 50176' in out


def test_serve_sizes_the_context_from_the_recorded_lengths(ckpt, capsys):
    assert main(["serve", str(ckpt), "--engine", "vllm", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert context_length(900, 100) == 1280  # 1000 tokens + 10%, in whole blocks of 256
    assert "--max-model-len 1280" in out and "longest training prompt 900 + completion limit 100" in out
    assert main(["serve", str(ckpt), "--engine", "vllm", "--dry-run", "--max-model-len", "512"]) == 2
    assert "needs 1000 tokens" in capsys.readouterr().err
    assert main(["serve", str(ckpt), "--engine", "vllm", "--dry-run", "--max-model-len", "4096"]) == 0
    assert "--max-model-len 4096" in capsys.readouterr().out


def test_serve_warns_which_defaults_it_assumes_without_phone_r1_json(capsys):
    assert main(["serve", str(tiny_model_dir()), "--engine", "vllm", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "no phone_r1.json; assuming coord_space 'original', prompt_template 'zh'" in out
    assert "records no prompt/completion lengths" in out and "--max-model-len" not in out.split("\n")[-2]


@pytest.fixture(scope="module")
def mixed_screens(tmp_path_factory):
    """Two episodes on different screen sizes, first steps with one screenshot, later ones with two."""
    root = tmp_path_factory.mktemp("eps")
    write_episodes(root / "a", n_episodes=1, steps=2, single_first=True)
    write_episodes(root / "b", n_episodes=1, steps=2, size=(720, 1560))
    return root


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_measured_lengths_equal_the_processors_token_count(name, mixed_screens):
    """The recorded prompt length is what the family's own processor makes of the longest prompt, and the
    recorded SFT completion length what TRL's SFT collator trains on (less the template's newline after
    the end-of-turn token, which generation never produces)."""
    from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

    from agent.families import family_of
    from agent.processor import load_processor

    family = family_of(name)
    budget = family.budget(*((3136, 12544) if family.tile == 28 else (4096, 16384)))
    space = "resized" if family.tile else "norm1000"
    kwargs = dict(family.chat_template_kwargs)
    processor = load_processor(tiny_model_dir(family=name), budget.min_pixels, budget.max_pixels)
    lengths, targets = [], []
    for root in (mixed_screens / "a", mixed_screens / "b"):
        spec = DatasetSpec(
            template="zh",
            coord_space=space,
            min_pixels=budget.min_pixels,
            max_pixels=budget.max_pixels,
            tile=budget.tile,
            with_target=True,
            chat_template_kwargs=kwargs,
        )
        dataset = load_steps_dataset(root, spec)
        lengths.append(measure_lengths(stored_rows(dataset), processor, kwargs))
        collator = DataCollatorForVisionLanguageModeling(processor, completion_only_loss=True)
        for row in dataset:
            text = processor.apply_chat_template(
                row["prompt"], tokenize=False, add_generation_prompt=True, **kwargs
            )
            batch = processor(text=[text], images=row["images"], return_tensors="pt")
            trained = collator([dict(row)])  # the collator TRL's SFTTrainer uses for images
            targets.append((batch["input_ids"].shape[1], int((trained["labels"] != -100).sum()) - 1))
    prompt = max(p for p, _ in lengths)
    target = max(t for _, t in lengths)
    assert prompt == max(p for p, _ in targets)
    assert len({p for p, _ in targets}) > 1  # one- and two-screen prompts, two screen sizes
    assert target == max(t for _, t in targets)


def test_image_tokens_are_the_processors_count():
    from agent.processor import load_processor

    processor = load_processor(tiny_model_dir(), 3136, 12544)
    assert image_tokens(processor, 540, 1200) == 10  # resized to 56x140 under 12544 pixels: 2 x 5 tokens
    qwen3 = load_processor(tiny_model_dir(family="qwen3_vl"), 4096, 16384)
    assert image_tokens(qwen3, 540, 1200) == 10  # 64x160 under 16384 pixels with 32-px tiles: 2 x 5


def _predictions(tmp_path):
    """Answers for the demo test episodes' steps (all `back`), as another harness would write them."""
    import json

    from episodes.readers import read_steps

    path = tmp_path / "predictions.jsonl"
    answer = (
        '<answer>{"action_type": "back", "action_parameter": {"back": ""}, "action_description": ""}</answer>'
    )
    rows = [json.dumps({"step_id": s.step_id, "raw": answer}) for s in read_steps("data/demo/test")]
    path.write_text("\n".join(rows) + "\n")
    return path


def _eval(tmp_path, ckpt, out, *extra):
    args = ["eval", "run", "--episodes", "data/demo/test", "--predictions", str(_predictions(tmp_path))]
    return main([*args, "--checkpoint-meta", str(ckpt), "-o", str(out), "--no-progress", *extra])


def test_eval_run_refuses_settings_other_than_the_checkpoints(tmp_path, ckpt, capsys):
    assert _eval(tmp_path, ckpt, tmp_path / "r.jsonl", "--coord-space", "norm1000") == 2
    assert (
        "coord_space: the checkpoint has 'resized', the command line gives 'norm1000'"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "r.jsonl").exists()


def test_an_eval_override_is_recorded_and_reported(tmp_path, ckpt, capsys):
    import json

    out = tmp_path / "r.jsonl"
    assert _eval(tmp_path, ckpt, out, "--coord-space", "norm1000", "--override-checkpoint-meta") == 0
    header = json.loads(out.read_text().splitlines()[0])
    assert header["coord_space"] == "norm1000" and header["checkpoint"] == str(ckpt.resolve())
    assert header["overrides"] == {"coord_space": {"checkpoint": "resized", "given": "norm1000"}}
    capsys.readouterr()
    assert main(["eval", "report", str(out), "-o", str(tmp_path / "report")]) == 0
    expected = "run overrode coord_space: checkpoint 'resized', run 'norm1000'"
    assert expected in capsys.readouterr().err
    assert expected in (tmp_path / "report" / "report.md").read_text()
    assert expected in (tmp_path / "report" / "report.html").read_text().replace("&#x27;", "'")


def test_report_flags_a_header_that_differs_from_the_checkpoint_it_names(tmp_path, ckpt, capsys):
    import json

    out = tmp_path / "r.jsonl"
    assert _eval(tmp_path, ckpt, out) == 0
    capsys.readouterr()
    assert main(["eval", "report", str(out), "-o", str(tmp_path / "same")]) == 0
    assert "checkpoint settings" not in capsys.readouterr().err  # header and checkpoint agree
    # The checkpoint is retrained at another budget after the run.
    meta = json.loads((ckpt / "phone_r1.json").read_text())
    (ckpt / "phone_r1.json").write_text(json.dumps({**meta, "max_pixels": 50176}))
    assert main(["eval", "report", str(out), "-o", str(tmp_path / "changed")]) == 0
    err = capsys.readouterr().err
    assert "max_pixels: the results header has 12544 but" in err and "not made with the checkpoint's" in err
    metrics = json.loads((tmp_path / "changed" / "metrics.json").read_text())
    assert len(metrics["checkpoint_warnings"]) == 1


def test_a_phone_r1_json_written_before_model_families_reads_as_qwen2_5_vl(tmp_path):
    import json

    from actions.coords import PixelBudget

    old = {
        "coord_space": "resized",
        "min_pixels": 3136,
        "max_pixels": 12544,
        "prompt_template": "zh",
        "base_model": "Qwen/Qwen2.5-VL-3B-Instruct",
        "rewards": ["format", "action"],
        "reward_weights": None,
        "max_prompt_length": 900,
        "max_completion_length": 100,
    }
    (tmp_path / "phone_r1.json").write_text(json.dumps(old))
    meta = CheckpointMeta.load(tmp_path)
    assert (meta.family, meta.tile, meta.chat_template_kwargs, meta.answer_prefix) == (
        "qwen2_5_vl",
        28,
        None,
        "",
    )
    assert meta.budget == PixelBudget(3136, 12544, 28)
