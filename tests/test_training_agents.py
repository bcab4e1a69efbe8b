"""Training released agents in their own grammar: round trips, prompt identity, rewards, the recorded agent.

- Every adapter renders every expressible gold step of the demo data as an SFT target that it reads back
  to an action the matcher counts as the gold, with its thought, in both coordinate grids (tiles 28, 32).
- The training prompt of a step and the prompt `eval run --agent` sends for it render to the same text.
- The rewards read completions with the adapter; the format reward is the adapter's own parts.
- `train grpo --agent` runs on tiny Qwen3-VL and Qwen2.5-VL checkpoints, logs the parts, and records the
  agent so `eval run` and `serve` take it by default.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actions.coords import PixelBudget
from actions.match import match_step
from agent.adapters import ADAPTERS, DEFAULT_ADAPTER
from agent.adapters.training import (
    InexpressibleStep,
    agent_target,
    agent_training_prompt,
    expressible,
    make_training_adapter,
)
from agent.checkpoint import CheckpointMeta, CheckpointMismatchError
from agent.prompt import screen_size_of
from agent.spec import resolve_spec
from episodes.readers import iter_steps
from tests.helpers.tiny import tiny_model_dir, write_episodes
from training.context_length import stored_rows
from training.dataset import DatasetSpec, Skipped, build_dataset, prompt_messages
from training.rewards import build_reward_funcs

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo" / "train"
AGENTS = [name for name in ADAPTERS.names() if name != DEFAULT_ADAPTER]
# The two coordinate grids of the model families: Qwen2.5-VL's tile 28 and Qwen3-VL's tile 32.
GRIDS = {"tile28": PixelBudget(3136, 1003520, 28), "tile32": PixelBudget(4096, 1048576, 32)}


@pytest.fixture(scope="module")
def demo_steps():
    return list(iter_steps(DEMO))


@pytest.mark.parametrize("grid", sorted(GRIDS))
@pytest.mark.parametrize("agent", AGENTS)
def test_gold_renders_and_reads_back_for_every_expressible_step(agent, grid, demo_steps):
    assert _round_trips(agent, grid, demo_steps) >= 20  # every grammar says the demo's clicks at least


@pytest.fixture(scope="module")
def imported_steps(tmp_path_factory):
    """Steps of every public format the importers read, from the importer tests' small fixtures."""
    from tests.helpers.importers import write_ac, write_aitz, write_amex, write_odyssey

    root = tmp_path_factory.mktemp("imported")
    sources = {
        "androidcontrol": [str(write_ac(root / "ac"))],
        "aitz": [str(write_aitz(root / "aitz")), "--split", "test"],
        "gui-odyssey": [str(write_odyssey(root / "ody"))],
        "amex": [str(write_amex(root / "amex"))],
    }
    from phone_r1.cli import main

    steps = []
    for fmt, args in sources.items():
        out = root / f"out-{fmt}"
        assert main(["data", "import", fmt, *args, "-o", str(out)]) == 0, fmt
        steps += list(iter_steps(out))
    return steps


@pytest.mark.parametrize("grid", sorted(GRIDS))
@pytest.mark.parametrize("agent", AGENTS)
def test_imported_golds_render_and_read_back(agent, grid, imported_steps):
    assert _round_trips(agent, grid, imported_steps) >= 1


def _round_trips(agent: str, grid: str, steps: list) -> int:
    """How many of `steps` `agent` can say; each one's target reads back as its gold (the matcher's
    verdict), with every part of the agent's format score at 1."""
    adapter = make_training_adapter(agent, GRIDS[grid])
    said = 0
    for step in steps:
        screen = screen_size_of(step)
        try:
            target = agent_target(adapter, step)
        except InexpressibleStep as err:
            assert str(err).startswith(f"{step.source}: agent {agent} cannot express the gold action")
            assert repr(step.gold.action_type) in str(err)
            continue
        said += 1
        reading = adapter.parse(target, screen)
        assert reading.action is not None, (step.step_id, target, reading.problems)
        assert reading.action.action_type == step.gold.action_type, (step.step_id, target)
        verdict = match_step(reading.action, step.gold, screen)
        assert verdict.correct, (step.step_id, target, verdict.reason)
        parts = adapter.well_formed(target, screen)
        assert set(parts) == set(adapter.format_parts())
        assert all(value == 1.0 for value in parts.values()), (step.step_id, target, parts, reading.problems)
    return said


def test_what_no_grammar_says_is_refused_naming_the_step_and_action(demo_steps):
    inquiry = next(s for s in demo_steps if s.gold.action_type == "inquiry")
    for agent in AGENTS:
        with pytest.raises(InexpressibleStep, match="inquiry"):
            agent_target(make_training_adapter(agent, GRIDS["tile28"]), inquiry)


def test_a_resized_agent_on_a_family_without_a_tile_is_refused():
    with pytest.raises(ValueError, match="resized pixels"):
        make_training_adapter("ui-tars-1.5", PixelBudget(3136, 1003520, None, no_tile_reason="none"))


def _eval_messages(agent: str, budget: PixelBudget, step) -> list:
    """What `eval run --agent` sends for `step` (the PhoneAgent's messages)."""
    from agent.agent import PhoneAgent
    from agent.backends.predictions import PredictionsBackend

    spec = resolve_spec(None, adapter=agent, min_pixels=budget.min_pixels, max_pixels=budget.max_pixels)
    adapter = spec.make_adapter()
    adapter.budget = budget  # the family's tile, as a checkpoint's phone_r1.json gives it
    return PhoneAgent(PredictionsBackend.__new__(PredictionsBackend), adapter=adapter).messages(step)


@pytest.mark.parametrize("agent", AGENTS)
def test_training_prompt_is_the_eval_prompt(agent, demo_steps):
    from agent.processor import load_processor

    folder = tiny_model_dir()
    processor = load_processor(folder)
    budget = GRIDS["tile28"]
    spec = DatasetSpec(min_pixels=budget.min_pixels, max_pixels=budget.max_pixels, agent=agent)
    adapter = make_training_adapter(agent, budget)
    steps = [s for s in demo_steps if s.history and expressible(adapter, s)][:3]
    dataset = build_dataset(steps, spec)
    for i, step in enumerate(steps):
        row = stored_rows(dataset)[i]
        train_prompt = prompt_messages(row)
        eval_messages = _eval_messages(agent, budget, step)
        rendered_train = processor.apply_chat_template(
            train_prompt, tokenize=False, add_generation_prompt=True
        )
        rendered_eval = processor.apply_chat_template(
            eval_messages, tokenize=False, add_generation_prompt=True
        )
        assert rendered_train == rendered_eval
        parts = [p for m in eval_messages if isinstance(m["content"], list) for p in m["content"]]
        assert row["images"] == [p["image"] for p in parts if p["type"] == "image"]
        assert agent_training_prompt(adapter, step).messages == train_prompt


def test_inexpressible_steps_stop_the_dataset_unless_skipped_and_counted(demo_steps):
    spec = DatasetSpec(agent="ui-tars-1.5", with_target=True)
    with pytest.raises(InexpressibleStep, match="skip_inexpressible"):
        build_dataset(demo_steps, spec)
    counts = Skipped()
    skipping = DatasetSpec(agent="ui-tars-1.5", with_target=True, skip_inexpressible=True)
    dataset = build_dataset(demo_steps, skipping, counts=counts)
    assert counts.by_type == {"inquiry": 2, "task_impossible": 2, "wait": 1}
    assert len(dataset) == len(demo_steps) - 5
    row = dataset[0]
    assert row["completion"][0]["content"][0]["text"].startswith("Thought: ")
    assert row["prompt"] == json.loads(stored_rows(dataset)[0]["prompt_json"])


def _columns(step, budget: PixelBudget, space: str) -> dict:
    width, height = screen_size_of(step)
    return {
        "gold": [step.gold.to_json_str()],
        "screen_width": [width],
        "screen_height": [height],
        "coord_space": [space],
        "min_pixels": [budget.min_pixels],
        "max_pixels": [budget.max_pixels],
        "tile": [budget.tile],
    }


@pytest.mark.parametrize("agent", ["qwen3-vl", "ui-tars-1.5", "agentcpm-gui"])
def test_rewards_score_the_typed_action_and_log_the_agents_format_parts(agent, demo_steps):
    budget = GRIDS["tile32"]
    adapter = make_training_adapter(agent, budget)
    step = next(s for s in demo_steps if s.gold.action_type == "click")
    gold_answer = agent_target(adapter, step)
    names = ["format", "action", "gaussian_point", "iou"]
    funcs = build_reward_funcs(names, agent=agent)
    logged: dict[str, float] = {}
    problems: list = []
    columns = _columns(step, budget, adapter.coord_space)

    def log_metric(name, value):
        logged[name] = value

    def log_extra(name, values):
        problems.append((name, values))

    scores = {
        name: func([gold_answer], log_metric=log_metric, log_extra=log_extra, **columns)[0]
        for name, func in zip(names, funcs, strict=True)
    }
    assert scores["format"] == 1.0 and scores["action"] == 1.0 and scores["gaussian_point"] > 0.5
    for part in adapter.format_parts():
        assert logged[f"rewards/format/{part}"] == 1.0, part
    assert logged["rewards/action/type_hit"] == 1.0
    # The seed format's reward would read nothing in this grammar: the typed action is what is scored.
    seed = build_reward_funcs(["action"])[0]([gold_answer], **{**columns, "coord_space": ["original"]})[0]
    assert seed == 0.0
    garbage = {name: func(["no idea"], **columns)[0] for name, func in zip(names, funcs, strict=True)}
    assert garbage == {"format": 0.0, "action": 0.0, "gaussian_point": 0.0, "iou": 0.0}
    assert ("agent_problems", [""]) in problems


def test_the_judge_is_given_the_typed_action_as_wire_json(demo_steps):
    from training.rewards import AgentReader, typed_reward

    seen: list = []

    def judge(completions, **kwargs):
        seen.append((list(completions), kwargs["coord_space"]))
        return [0.0] * len(completions)

    budget = GRIDS["tile28"]
    step = next(s for s in demo_steps if s.gold.action_type == "type")
    answer = agent_target(make_training_adapter("ui-tars-1.5", budget), step)
    typed_reward(judge, AgentReader("ui-tars-1.5"), as_text=True)(
        [answer], **_columns(step, budget, "resized")
    )
    ((texts, spaces),) = seen
    read = json.loads(texts[0])
    gold = json.loads(step.gold.to_json_str())
    assert (read["action_type"], read["action_parameter"]) == (gold["action_type"], gold["action_parameter"])
    assert spaces == ["original"]


def test_seed_format_rewards_are_untouched():
    from actions.rewards import format_reward

    assert build_reward_funcs(["format"])[0] is format_reward


def _recorded(tmp_path: Path, agent: str) -> Path:
    folder = tmp_path / agent
    CheckpointMeta(coord_space="resized", agent=agent).save(folder)
    return folder


def test_eval_and_serve_take_the_recorded_agent_and_a_differing_flag_is_an_override(tmp_path):
    folder = _recorded(tmp_path, "ui-tars-1.5")
    assert resolve_spec(folder).adapter == "ui-tars-1.5"
    assert resolve_spec(folder, adapter="ui-tars-1.5").overrides == {}
    with pytest.raises(CheckpointMismatchError, match="agent"):
        resolve_spec(folder, adapter="qwen3-vl")
    spec = resolve_spec(folder, adapter="qwen3-vl", allow_override=True)
    assert spec.adapter == "qwen3-vl"
    assert spec.overrides == {"agent": {"checkpoint": "ui-tars-1.5", "given": "qwen3-vl"}}
    # A phone_r1.json from before agents were recorded takes the flag as it did.
    old = tmp_path / "old"
    CheckpointMeta().save(old)
    assert resolve_spec(old, adapter="qwen3-vl").adapter == "qwen3-vl"
    assert resolve_spec(old).seed_format


ARGS = [
    "--per_device_train_batch_size", "2", "--num_generations", "2", "--max_completion_length", "24",
    "--learning_rate", "1e-2", "--logging_steps", "1", "--save_steps", "100", "--gradient_checkpointing",
    "false", "--disable_tqdm", "true", "--dataloader_num_workers", "0", "--max_steps", "2",
]  # fmt: skip


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return write_episodes(tmp_path_factory.mktemp("toy"), n_episodes=2, steps=2)


def _logged(out: Path) -> dict[str, list[float]]:
    keys: dict[str, list[float]] = {}
    for entry in json.loads((out / "trainer_state.json").read_text())["log_history"]:
        for key, value in entry.items():
            keys.setdefault(key, []).append(value)
    return keys


@pytest.mark.slow
@pytest.mark.parametrize(
    ("family", "agent", "space"),
    [("qwen3_vl", "qwen3-vl", "norm999"), ("qwen2_5_vl", "ui-tars-1.5", "resized")],
)
def test_train_grpo_in_an_agents_grammar_logs_its_parts_and_records_it(
    family, agent, space, toy, tmp_path, capsys
):
    import torch

    from phone_r1.cli import main

    torch.set_num_threads(2)
    out = tmp_path / "run"
    argv = [
        "train",
        "grpo",
        "--config",
        str(ROOT / "training/recipes/tiny/grpo.yaml"),
        "--model_name_or_path",
    ]
    argv += [str(tiny_model_dir(family=family)), "--dataset_path", str(toy), "--output_dir", str(out)]
    argv += ["--agent", agent, "--coord_space", space, *ARGS]
    argv += ["--reward_funcs", "format", "action", "gaussian_point", "--reward_weights", "1", "1", "1"]
    assert main(argv) == 0
    logged = _logged(out)
    adapter = make_training_adapter(agent, GRIDS["tile28"])
    for part in adapter.format_parts():
        assert f"rewards/format/{part}" in logged, part
    for name in ("rewards/action/type_hit", "rewards/action/parsed", "rewards/gaussian_point/typed"):
        assert name in logged, name
    assert not any(k.startswith("rewards/format/think_") for k in logged)  # not the seed's parts
    meta = CheckpointMeta.load(out)
    assert (meta.agent, meta.coord_space, meta.family) == (agent, space, family)
    # `eval run --checkpoint-meta` and `serve` ask in the recorded grammar without a flag.
    assert resolve_spec(out).adapter == agent
    assert main(["serve", str(out), "--engine", "vllm", "--dry-run"]) == 0
    assert f"# agent: {agent}" in capsys.readouterr().out


@pytest.mark.slow
def test_train_sft_targets_are_the_gold_in_the_agents_grammar(toy, tmp_path):
    from training.run import build_dataset_for, plan, train

    out = tmp_path / "sft"
    argv = ["--config", str(ROOT / "training/recipes/tiny/sft.yaml"), "--model_name_or_path"]
    argv += [
        str(tiny_model_dir()),
        "--dataset_path",
        str(toy),
        "--output_dir",
        str(out),
        "--agent",
        "ui-tars-1.5",
    ]
    argv += [
        "--max_steps",
        "1",
        "--save_steps",
        "100",
        "--disable_tqdm",
        "true",
        "--per_device_train_batch_size",
        "2",
    ]
    plan_ = plan("sft", argv)
    row = build_dataset_for(plan_)[0]
    target = row["completion"][0]["content"][0]["text"]
    assert target.startswith("Thought: ") and "\nAction: " in target
    train(plan_)
    assert CheckpointMeta.load(out).agent == "ui-tars-1.5"


def test_recipe_agent_fields_are_checked_before_anything_loads(toy):
    from training.config import RecipeError
    from training.run import plan

    base = ["--config", str(ROOT / "training/recipes/tiny/grpo.yaml"), "--dataset_path", str(toy)]
    base += ["--model_name_or_path", str(tiny_model_dir(family="qwen3_vl"))]
    with pytest.raises(RecipeError, match="agent: unknown agent adapter"):
        plan("grpo", [*base, "--agent", "ui-tars-9"])
    with pytest.raises(RecipeError, match="coord_space: 'resized' with agent qwen3-vl"):
        plan("grpo", [*base, "--agent", "qwen3-vl"])
    with pytest.raises(RecipeError, match="agent_prompt"):
        plan("grpo", [*base, "--agent_prompt", str(ROOT / "README.md")])
    assert (
        plan("grpo", [*base, "--agent", "qwen3-vl", "--coord_space", "norm999"]).script.answer_space
        == "norm999"
    )


def test_export_verl_in_an_agents_grammar_and_its_reward_file(tmp_path, capsys):
    import importlib.util

    import pyarrow.parquet as pq

    from actions.match import read_gold
    from phone_r1.cli import main

    out = tmp_path / "verl"
    flags = ["--agent", "ui-tars-1.5", "--min-pixels", "3136", "--max-pixels", "1003520"]
    assert main(["data", "export-verl", str(DEMO), "-o", str(out), *flags]) == 2
    assert "cannot express the gold action 'inquiry'" in capsys.readouterr().err
    assert main(["data", "export-verl", str(DEMO), "-o", str(out), *flags, "--skip-inexpressible"]) == 0
    assert "skipped 5 steps" in capsys.readouterr().out
    rows = pq.read_table(out / "train.parquet").to_pylist()
    assert len(rows) == 47
    spec = importlib.util.spec_from_file_location("verl_reward", out / "reward.py")
    reward = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reward)
    adapter = make_training_adapter("ui-tars-1.5", GRIDS["tile28"])
    for row in rows[:6]:
        extra = row["extra_info"]
        assert (extra["agent"], extra["coord_space"]) == ("ui-tars-1.5", "resized")
        slots = sum(message["content"].count("<image>") for message in row["prompt"])
        assert slots == len(row["images"]) >= 1
        gold = row["reward_model"]["ground_truth"]
        answer = adapter.render_target(read_gold(gold), (extra["screen_width"], extra["screen_height"]), "go")
        scored = reward.compute_score(row["data_source"], answer, gold, extra)
        assert scored["type_hit"] == 1.0 and scored["format"] == 1.0 and scored["format_thought"] == 1.0
        # A scroll is said by its direction only: the end point earns partial credit.
        assert scored["score"] == 1.0 or read_gold(gold).action_type == "swipe"
        assert reward.compute_score(row["data_source"], "<answer>{}</answer>", gold, extra)["format"] == 0.0
