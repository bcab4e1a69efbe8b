"""Recipe and data mistakes fail before any model loads, with a message that says what to change."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.tiny import write_episodes
from training.config import RecipeError, check_batch_rule, parse_recipe
from training.run import build_dataset_for, plan

ROOT = Path(__file__).resolve().parents[1]
GRPO = str(ROOT / "training/recipes/tiny/grpo.yaml")
SFT = str(ROOT / "training/recipes/tiny/sft.yaml")


@pytest.fixture(autouse=True)
def no_model_load(monkeypatch):
    """Any attempt to load weights fails the test: every error here must come first."""
    import transformers

    def forbidden(*args, **kwargs):
        raise AssertionError("a model was loaded before the configuration error was raised")

    monkeypatch.setattr(transformers.AutoModelForImageTextToText, "from_pretrained", forbidden)
    monkeypatch.delenv("WORLD_SIZE", raising=False)


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return write_episodes(tmp_path_factory.mktemp("toy"), n_episodes=1, steps=2)


def _plan_and_data(kind: str, *args: str):
    p = plan(kind, list(args))
    return build_dataset_for(p)


# (case, extra arguments, words the message must contain)
BATCH_CASES = [
    (
        "3 per device, 2 generations",
        ["--per_device_train_batch_size", "3", "--num_generations", "2"],
        [
            "batch rule",
            "3 × 1 × 1 = 3",
            "num_generations = 2",
            "per_device_train_batch_size to one of [2, 4, 6]",
        ],
    ),
    (
        "accumulation counts as steps per generation",
        [
            "--per_device_train_batch_size",
            "1",
            "--gradient_accumulation_steps",
            "3",
            "--num_generations",
            "2",
        ],
        ["1 × 1 × 3 = 3", "num_generations to one of [3]"],
    ),
]


@pytest.mark.parametrize("case,args,words", BATCH_CASES, ids=[c[0] for c in BATCH_CASES])
def test_batch_rule_says_what_to_change(case, args, words, toy):
    with pytest.raises(RecipeError) as err:
        plan("grpo", ["--config", GRPO, "--dataset_path", str(toy), *args])
    for word in words:
        assert word in str(err.value), (word, str(err.value))


def test_batch_rule_counts_processes(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "3")
    with pytest.raises(RecipeError, match=r"2 × 3 × 1 = 6, num_generations = 4"):
        parse_recipe("grpo", ["--config", GRPO, "--num_generations", "4"])
    check_batch_rule(2, 3, 2, 4)  # 12 is divisible by 4


def test_recipe_typo_names_the_key_and_suggests(tmp_path, toy):
    recipe = tmp_path / "typo.yaml"
    recipe.write_text(Path(GRPO).read_text().replace("learning_rate:", "lerning_rate:"))
    with pytest.raises(
        RecipeError, match=r"unknown recipe keys 'lerning_rate' \(did you mean 'learning_rate'\?\)"
    ):
        plan("grpo", ["--config", str(recipe), "--dataset_path", str(toy)])


def test_unknown_command_line_flag_suggests(toy):
    with pytest.raises(
        RecipeError, match=r"unknown option --lerning_rate \(did you mean --learning_rate\?\)"
    ):
        plan("grpo", ["--config", GRPO, "--dataset_path", str(toy), "--lerning_rate", "1"])


def test_unknown_reward_name(toy):
    with pytest.raises(RecipeError, match=r"unknown reward \['acton'\].*did you mean 'action'"):
        plan("grpo", ["--config", GRPO, "--dataset_path", str(toy), "--reward_funcs", "format", "acton"])


def test_missing_images_fail_before_the_model(tmp_path):
    root = write_episodes(tmp_path / "eps", n_episodes=1, steps=2)
    (root / "100" / "100_2.jpg").unlink()
    with pytest.raises(RecipeError, match=r"step_1\.json.*missing.*100_2\.jpg"):
        _plan_and_data("grpo", "--config", GRPO, "--dataset_path", str(root))


def test_missing_dataset_and_recipe_files(tmp_path):
    with pytest.raises(RecipeError, match="dataset_path: .*not found.*phone-r1 data synth"):
        plan("sft", ["--config", SFT, "--dataset_path", str(tmp_path / "nowhere")])
    with pytest.raises(RecipeError, match="recipe file .* not found"):
        plan("sft", ["--config", str(tmp_path / "nope.yaml")])


def test_other_checks(toy, monkeypatch):
    base = ["--config", GRPO, "--dataset_path", str(toy)]
    with pytest.raises(RecipeError, match="coord_space"):
        plan("grpo", [*base, "--coord_space", "pixels"])
    with pytest.raises(RecipeError, match="min_pixels"):
        plan("grpo", [*base, "--min_pixels", "20000", "--max_pixels", "10000"])
    with pytest.raises(RecipeError, match="remove_unused_columns"):
        plan("grpo", [*base, "--remove_unused_columns", "true"])
    with pytest.raises(RecipeError, match="sft_target"):
        plan("sft", ["--config", SFT, "--dataset_path", str(toy), "--sft_target", "xml"])
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(RecipeError, match="use_cpu: true"):
        plan("grpo", [*base, "--use_cpu", "false"])


def test_cli_prints_the_error_and_exits_2(tmp_path, toy, capsys):
    from phone_r1.cli import main

    code = main(["train", "grpo", "--config", GRPO, "--dataset_path", str(toy), "--num_generations", "3"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("phone-r1 train: batch rule") and "Traceback" not in err


def test_tiny_recipes_parse_as_shipped():
    for kind, recipe in (("grpo", GRPO), ("sft", SFT)):
        script, config, model = parse_recipe(kind, ["--config", recipe])
        assert model.model_name_or_path == "runs/tiny-model" and script.build_tiny_model_if_missing
        assert config.bf16 is False and config.use_cpu is True


def test_a_dotted_path_reward_runs_through_the_recipe(toy):
    from tests.helpers.rewards import short_answer_reward
    from training.rewards import build_reward_funcs
    from training.run import checkpoint_meta

    path = "tests.helpers.rewards:short_answer_reward"
    p = plan(
        "grpo",
        ["--config", GRPO, "--dataset_path", str(toy), "--reward_funcs", "format", path]
        + ["--reward_weights", "0.5", "2.0"],
    )
    funcs = build_reward_funcs(p.script.reward_funcs, p.script)
    assert funcs[1] is short_answer_reward and funcs[1](["short", "x" * 300]) == [1.0, 0.0]
    meta = checkpoint_meta(p)
    assert meta.rewards == ["format", path] and meta.reward_weights == [0.5, 2.0]
    # The tiny recipe builds a Qwen2.5-VL: its family and tile are recorded with the budget.
    assert (meta.family, meta.tile, meta.processor_class) == ("qwen2_5_vl", 28, "Qwen2_5_VLProcessor")
    with pytest.raises(RecipeError, match=r"reward_funcs: reward 'tests.helpers.rewards:nope'"):
        plan(
            "grpo",
            ["--config", GRPO, "--dataset_path", str(toy), "--reward_funcs", "tests.helpers.rewards:nope"],
        )
