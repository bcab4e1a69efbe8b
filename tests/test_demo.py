"""The whole loop end to end (`phone-r1 demo`) on a small budget, plus stage reruns and their errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from eval.results import read_results
from phone_r1.cli import main
from phone_r1.demo import DEFAULT_MIN_REWARD_RISE
from phone_r1.demo_plan import DemoRecipes
from tests.helpers.tiny import learning_check

ROOT = Path(__file__).resolve().parent.parent


def demo(*argv: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": "true", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "phone_r1.cli", "demo", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_stage_without_its_inputs_says_what_to_run_first(tmp_path):
    done = demo("--stage", "grpo", "--out", str(tmp_path / "empty"))
    assert done.returncode == 1
    assert "--stage sft" in done.stderr


@pytest.mark.slow
def test_demo_end_to_end_small_budget(tmp_path):
    out = tmp_path / "demo"
    done = demo(
        "--out",
        str(out),
        "--sft-steps",
        "3",
        "--grpo-steps",
        "1",
        "--eval-limit",
        "3",
        "--max-tokens",
        "16",
        "--min-reward-rise",
        "none",
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    # every stage ran and its time was printed
    summary = done.stdout.split("== stage times ==")[-1]
    for stage in ("data", "model", "sft", "grpo", "eval", "report", "ui"):
        assert f"  {stage} " in summary, summary
    assert "replay UI skipped" in done.stdout  # CI=true ends after the report

    # the trained checkpoint carries its pixel budget, both evaluations scored the same held-out steps
    meta = json.loads((out / "grpo" / "phone_r1.json").read_text())
    before, after = read_results(out / "eval" / "before.jsonl"), read_results(out / "eval" / "after.jsonl")
    assert len(before.records) == len(after.records) == 3
    assert set(before.records) == set(after.records)
    assert after.header["max_pixels"] == meta["max_pixels"] == before.header["max_pixels"]
    for record in after.records.values():
        assert record["error"] is None, record["error"]

    # reports exist and the before/after table was printed from them
    assert (out / "report" / "report.html").stat().st_size > 10_000
    assert json.loads((out / "report" / "metrics.json").read_text())
    assert "before vs after training" in done.stdout
    # both models also ran on their own history; the reports compare each with teacher forcing and
    # the summary sets before and after side by side
    for label, report in (
        ("before", out / "report" / "before" / "own-history"),
        ("after", out / "report" / "own-history"),
    ):
        own = read_results(out / "eval" / f"{label}-own.jsonl")
        assert own.header["history"] == "own" and own.records
        assert "Teacher-forced vs own history" in (report / "report.md").read_text()
    gap = done.stdout.split("teacher-forced vs own history, before and after training", 1)
    assert len(gap) == 2 and "own-history progress" in gap[1], done.stdout[-2000:]
    # the GRPO stage's training report: printed path, page with its alarms section
    train_report = out / "train-report" / "report.html"
    assert f"training report: {train_report}" in done.stdout
    assert "<h2>Alarms" in train_report.read_text() and (out / "train-report" / "rewards.png").is_file()

    # a stage reruns alone from the artifacts the others left
    again = demo("--out", str(out), "--stage", "report")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "  report " in again.stdout.split("== stage times ==")[-1]


RECIPE_FOLDERS = sorted(p for p in (ROOT / "training" / "recipes").iterdir() if p.is_dir())


@pytest.mark.parametrize("folder", RECIPE_FOLDERS, ids=lambda p: p.name)
def test_demo_plan_for_every_shipped_recipe_folder(folder, capsys, monkeypatch):
    # `MODEL=Qwen/Qwen2.5-VL-3B-Instruct RECIPES=training/recipes/qwen2.5-vl-3b make demo` looked for
    # grpo.yaml in a folder holding grpo_full.yaml and grpo_lora.yaml, and failed only after the SFT.
    monkeypatch.chdir(ROOT)
    model = (
        []
        if folder.name == "tiny"
        else ["--model", yaml.safe_load(DemoRecipes.find(folder).grpo.read_text())["model_name_or_path"]]
    )
    assert main(["demo", "--dry-run", "--no-ui", "--recipes", str(folder), *model]) == 0, (
        capsys.readouterr().err
    )
    out = capsys.readouterr().out
    train = [
        line.split("$ phone-r1 ", 1)[1]
        for line in out.splitlines()
        if "$ phone-r1 train sft " in line or "$ phone-r1 train grpo " in line
    ]
    for command in train:
        recipe = command.split("--config ", 1)[1].split()[0]
        assert (ROOT / recipe).is_file() and f"recipe {recipe}: parses" in out, (recipe, out)
    assert any(" train grpo " in f" {c}" for c in train)
    if (folder / "sft.yaml").is_file():
        assert any(c.startswith("train sft ") for c in train)
    else:
        assert "has no sft.yaml: no SFT stage, GRPO starts from the base model" in out
        grpo = next(c for c in train if c.startswith("train grpo "))
        assert f"--model_name_or_path {model[1]}" in grpo
    assert out.rstrip().endswith("dry run: nothing was run; the recipes parse as the stages would use them")


def test_a_previous_runs_cut_short_sft_folder_does_not_stop_a_new_run(tmp_path, capsys, monkeypatch):
    # The GRPO recipe reads its model family from the SFT checkpoint it starts from; before a run that
    # trains SFT first, that folder is a previous run's, here one cut short with no config.json.
    monkeypatch.chdir(ROOT)
    (tmp_path / "out" / "sft").mkdir(parents=True)
    assert main(["demo", "--dry-run", "--no-ui", "--out", str(tmp_path / "out")]) == 0, (
        capsys.readouterr().err
    )
    assert "grpo recipe training/recipes/tiny/grpo.yaml: parses" in capsys.readouterr().out


def test_a_recipe_folder_without_a_grpo_recipe_is_refused_before_anything_runs(tmp_path, capsys):
    (tmp_path / "sft.yaml").write_text((ROOT / "training/recipes/tiny/sft.yaml").read_text())
    assert main(["demo", "--recipes", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "expected a GRPO recipe named one of ['grpo.yaml', 'grpo_lora.yaml', 'grpo_full.yaml']" in err
    assert "found ['sft.yaml']" in err and not (tmp_path / "out").exists()
    # a recipe that does not parse stops the demo before its first stage, naming the recipe
    (tmp_path / "grpo.yaml").write_text("model_name_or_path: x\nlearning_rat: 1\n")
    assert main(["demo", "--recipes", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "grpo stage" in err and "learning_rat" in err and not (tmp_path / "out").exists()


# About 260 s on two idle cores (SFT and GRPO are the demo's own budgets, nothing here to cut);
# `make demo` runs on the CPU-torch .venv.
@learning_check("docs/training.md, 'The demo's GRPO'")
def test_demo_grpo_learns_with_its_own_defaults(tmp_path):
    # The demo's GRPO once earned reward 0 on every step (a bare-JSON SFT warm start, a format reward
    # asking for <think>/<answer> tags). Its model, SFT and GRPO stages run here as `make demo` runs
    # them, budgets included; the GRPO stage fails unless the reward rises by the default
    # --min-reward-rise.
    out = tmp_path / "demo"
    for stage in ("model", "sft", "grpo"):
        done = demo("--out", str(out), "--stage", stage, timeout=2400)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    trend = json.loads((out / "train-report" / "trend.json").read_text())["reward"]
    print(f"\ndemo GRPO reward: first quarter {trend['first']:.3f}, last quarter {trend['last']:.3f}")
    assert (
        f"rose: +{trend['rise']:.3f} (the demo asks for at least +{DEFAULT_MIN_REWARD_RISE:.3f})"
        in done.stdout
    )
    assert trend["rise"] >= DEFAULT_MIN_REWARD_RISE, trend


@pytest.mark.slow
def test_demo_fails_when_grpos_reward_does_not_rise(tmp_path):
    from tests.helpers.tiny import tiny_model_dir

    out = tmp_path / "demo"
    out.mkdir()
    os.symlink(tiny_model_dir(), out / "sft")  # a warm start the GRPO stage finds
    done = demo("--out", str(out), "--stage", "grpo", "--grpo-steps", "2", "--min-reward-rise", "1.0")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "== GRPO reward (training report) ==" in done.stdout and "did NOT rise" in done.stdout
    assert "GRPO's reward did not rise" in done.stderr and "at least +1.000 asked" in done.stderr


@pytest.mark.slow
def test_a_rise_asked_of_a_grpo_run_too_short_to_show_one_fails_the_demo(tmp_path):
    from tests.helpers.tiny import tiny_model_dir

    out = tmp_path / "demo"
    out.mkdir()
    os.symlink(tiny_model_dir(), out / "sft")
    done = demo("--out", str(out), "--stage", "grpo", "--grpo-steps", "1")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert (
        f"at least +{DEFAULT_MIN_REWARD_RISE:.3f} was asked, but GRPO logged fewer than 2 steps"
        in done.stderr
    )


def test_the_rise_asked_by_default_is_the_tiny_models_and_none_for_a_users_model(monkeypatch):
    from phone_r1.cli import build_parser
    from phone_r1.demo import Demo

    def asked(*argv: str) -> float | None:
        return Demo(build_parser().parse_args(["demo", *argv])).min_reward_rise

    monkeypatch.delenv("MIN_REWARD_RISE", raising=False)
    monkeypatch.delenv("MODEL", raising=False)
    assert asked() == DEFAULT_MIN_REWARD_RISE
    assert asked("--model", "Qwen/Qwen2.5-VL-3B-Instruct") is None
    assert asked("--model", "Qwen/Qwen2.5-VL-3B-Instruct", "--min-reward-rise", "0.1") == 0.1
    assert asked("--min-reward-rise", "none") is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--min-reward-rise", "lots"])


def test_the_reward_trend_fails_the_demo_only_when_a_rise_is_asked_for():
    from phone_r1.demo_plan import RewardCheck

    flat = RewardCheck(0.30, 0.28, (1, 2), (9, 10), None)
    assert flat.ok and "did NOT rise: -0.020 (nothing asked" in flat.lines()[2]
    asked = RewardCheck(0.30, 0.28, (1, 2), (9, 10), 0.05)
    assert not asked.ok and "at least +0.050" in asked.lines()[2]
    assert RewardCheck(0.30, 0.40, (1, 2), (9, 10), 0.05).ok
