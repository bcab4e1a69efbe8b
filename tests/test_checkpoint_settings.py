"""Checkpoint settings are enforced: phone_r1.json against the command line, context length, old folders."""

from __future__ import annotations

import pytest

from agent.checkpoint import CheckpointMeta, CheckpointMismatchError, resolve_settings
from phone_r1.cli import main
from serving.vllm_command import context_length
from tests.helpers.tiny import tiny_model_dir, write_episodes
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


def test_measured_prompt_length_equals_the_processors_token_count(tmp_path):
    from agent.processor import load_processor

    root = write_episodes(tmp_path / "eps", n_episodes=1, steps=2, single_first=True)
    spec = DatasetSpec(
        template="zh", coord_space="resized", min_pixels=3136, max_pixels=12544, with_target=True
    )
    dataset = load_steps_dataset(root, spec)
    processor = load_processor(tiny_model_dir(), 3136, 12544)
    prompt, target = measure_lengths(stored_rows(dataset), processor)
    real = []
    for row in dataset:
        text = processor.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        real.append(processor(text=[text], images=row["images"], return_tensors="pt")["input_ids"].shape[1])
    assert prompt == max(real) and min(real) < max(real)  # one- and two-screen prompts
    assert image_tokens(540, 1200, 3136, 12544) == 10  # resized to 56x140 under 12544 pixels: 2 x 5 tokens
    assert target is not None and target > 10


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
