"""`phone-r1 train report`: alarms on synthetic log histories, and the page and plots of a run folder."""

from __future__ import annotations

import json
import math

import pytest

from training.alarms import AlarmSettings, find_alarms
from training.report import ReportError, build_report, find_state

STEPS = 30


def history(**curves) -> list[dict]:
    """A TRL-shaped log history: one entry per step; each curve is a function of the step (1-based)."""
    base = {
        "reward": lambda s: 0.3 + 0.01 * s,
        "reward_std": lambda s: 0.2,
        "frac_reward_zero_std": lambda s: 0.1,
        "rewards/format_reward/mean": lambda s: 0.4 + 0.005 * s,
        "rewards/action_reward/mean": lambda s: 0.2 + 0.01 * s,
        "rewards/format/think_tag": lambda s: 0.9,
        "rewards/action/type_hit": lambda s: 0.5,
        "entropy": lambda s: 2.0 - 0.02 * s,
        "completions/clipped_ratio": lambda s: 0.1,
        "completions/mean_length": lambda s: 60.0,
        "loss": lambda s: 0.01,
    }
    base.update(curves)
    out = [{"step": s, "epoch": s / STEPS, **{k: f(s) for k, f in base.items()}} for s in range(1, STEPS + 1)]
    # TRL's end-of-training summary entry, which carries no per-step metrics.
    return [*out, {"step": STEPS, "train_runtime": 12.0, "train_loss": 0.01}]


CASES = {
    # Format climbs from 0.1 to ~0.85 while the action reward does not move: learning the layout only.
    "format_only": dict(
        **{
            "rewards/format_reward/mean": lambda s: 0.1 + 0.025 * s,
            "rewards/action_reward/mean": lambda s: 0.2,
        }
    ),
    # Steps 10-20: 80% of groups score identically.
    "zero_std": dict(frac_reward_zero_std=lambda s: 0.8 if 10 <= s <= 20 else 0.1),
    # Entropy falls from 2 to 0.05 after step 15.
    "entropy_collapse": dict(entropy=lambda s: 2.0 if s < 15 else 0.05),
    # From step 22 on, 90% of completions hit the length limit.
    "clipped": {"completions/clipped_ratio": lambda s: 0.9 if s >= 22 else 0.0},
}


def test_healthy_run_trips_no_alarm():
    assert find_alarms(history()) == []
    # Format and action rising together is learning, not learning the format only.
    both = {
        "rewards/format_reward/mean": lambda s: 0.1 + 0.025 * s,
        "rewards/action_reward/mean": lambda s: 0.01 * s,
    }
    assert find_alarms(history(**both)) == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_alarm_trips_alone_and_names_its_steps(name):
    alarms = find_alarms(history(**CASES[name]))
    assert [a.name for a in alarms] == [name]
    alarm = alarms[0]
    expected = {
        "format_only": (1, 30),
        "zero_std": (10, 20),
        "entropy_collapse": (15, 30),
        "clipped": (22, 30),
    }
    assert (alarm.first_step, alarm.last_step) == expected[name]
    assert alarm.cause and f"steps {alarm.first_step}-{alarm.last_step}" in str(alarm)


def test_short_runs_of_a_condition_need_k_steps():
    spike = history(frac_reward_zero_std=lambda s: 0.9 if s in (5, 6, 7) else 0.0)
    assert find_alarms(spike) == []
    assert [a.name for a in find_alarms(spike, AlarmSettings(consecutive=3))] == ["zero_std"]


def test_run_without_optional_keys_has_no_alarms_and_no_errors():
    bare = [{"step": s, "loss": 0.0, "reward": 0.1} for s in range(1, 10)]
    assert find_alarms(bare) == []


def write_run(folder, entries, in_checkpoint=False):
    state_dir = folder / "checkpoint-30" if in_checkpoint else folder
    state_dir.mkdir(parents=True)
    (state_dir / "trainer_state.json").write_text(json.dumps({"log_history": entries, "global_step": STEPS}))
    return folder


def test_report_page_shows_alarms_first_and_every_panel(tmp_path, capsys):
    import pandas as pd

    run = write_run(tmp_path / "run", history(**CASES["zero_std"], kl=lambda s: 0.01 * s), in_checkpoint=True)
    (run / "completions").mkdir()
    pd.DataFrame(
        {
            "step": [1, 1],
            "prompt": ["p", "p"],
            "completion": ["<answer>{}</answer>", "<b>x</b>"],
            "format_reward": [0.2, 0.0],
        }
    ).to_parquet(run / "completions" / "completions_00001.parquet")
    page, alarms = build_report(run)
    assert page == run / "report" / "report.html"
    text = page.read_text()
    assert text.index("Alarms (1)") < text.index("<img")
    assert "zero_std" in text and "steps 10–20" in text
    assert "30 logged steps (1–30)" in text  # the end-of-training summary entry is not a step
    for png in (
        "rewards",
        "reward_std",
        "kl_entropy",
        "completions",
        "clipped",
        "parts_format",
        "parts_action",
    ):
        assert (run / "report" / f"{png}.png").stat().st_size > 1000, png
    assert "&lt;b&gt;x&lt;/b&gt;" in text  # completions are escaped
    assert "Image tokens per sample: not logged" in text
    assert json.loads((run / "report" / "alarms.json").read_text())[0]["name"] == "zero_std"


def test_cli_prints_alarms_and_exit_codes(tmp_path, capsys):
    from phone_r1.cli import main

    run = write_run(tmp_path / "run", history(**CASES["clipped"]))
    assert main(["train", "report", str(run), "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "ALARM [clipped] steps 22-30" in out and str(tmp_path / "out" / "report.html") in out
    assert main(["train", "report", str(run), "--fail-on-alarm", "-o", str(tmp_path / "out")]) == 1
    assert main(["train", "report", str(run), "--clipped-threshold", "0.95", "--fail-on-alarm"]) == 0
    assert main(["train", "report", str(tmp_path / "missing")]) == 2
    assert "expected a run folder" in capsys.readouterr().err


def test_latest_checkpoint_state_is_used(tmp_path):
    for step in (5, 40, 10):
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    assert find_state(tmp_path).parent.name == "checkpoint-40"
    with pytest.raises(ReportError, match="expected trainer_state.json"):
        find_state(tmp_path / "checkpoint-5" / "none")


def test_nan_values_are_skipped():
    entries = history(entropy=lambda s: math.nan if s % 2 else 2.0)
    assert find_alarms(entries) == []


def test_entropy_only_panel_says_kl_needs_beta(tmp_path):
    # beta = 0: TRL logs no `kl`; the panel titled "KL to the reference and token entropy" showed only
    # entropy without a word about it.
    page, _ = build_report(write_run(tmp_path / "beta0", history()))
    text = page.read_text()
    assert "Token entropy (no KL: beta = 0)" in text
    assert "KL to the reference not logged: TRL computes it only when beta &gt; 0" in text
    with_kl, _ = build_report(write_run(tmp_path / "beta", history(kl=lambda s: 0.01 * s)))
    assert "no KL" not in with_kl.read_text()
    assert 'alt="KL to the reference and token entropy"' in with_kl.read_text()


def test_reward_trend_first_and_last_quarter(tmp_path, capsys):
    from phone_r1.cli import main

    # reward 0.3 + 0.01 * step over 30 steps: quarters of 7 steps, means at steps 4 and 27
    run = write_run(tmp_path / "run", history())
    assert main(["train", "report", str(run)]) == 0
    reward = json.loads((run / "report" / "trend.json").read_text())["reward"]
    assert reward["window"] == 7 and reward["n_steps"] == STEPS
    assert reward["first"] == pytest.approx(0.34) and reward["last"] == pytest.approx(0.57)
    assert reward["first_steps"] == [1, 7] and reward["last_steps"] == [24, 30]
    assert "reward: first 0.340, last 0.570 (+0.230; means over the first and last 7 of 30 steps)" in (
        capsys.readouterr().out
    )
    assert (
        "reward: 0.340 over steps 1-7, 0.570 over steps 24-30 (+0.230)"
        in (run / "report" / "report.html").read_text()
    )
    # a single logged step has no trend
    one = write_run(tmp_path / "one", history()[:1])
    build_report(one)
    assert json.loads((one / "report" / "trend.json").read_text()) == {"reward": None}


def test_undecodable_bytes_in_completions_are_marked_and_explained(tmp_path):
    import pandas as pd

    run = write_run(tmp_path / "run", history())
    (run / "completions").mkdir()
    # What a byte-level BPE model's decoded text holds when it emits half of a 3-byte character.
    broken = b'<answer>{"type": "\xe5\x85'.decode("utf-8", errors="replace") + '"}</answer>'
    long = "<think>" + "好" * 700 + "</think>"
    pd.DataFrame(
        {"step": [1, 1], "prompt": ["p", "p"], "completion": [broken, long], "format_reward": [0.2, 0.4]}
    ).to_parquet(run / "completions" / "completions_00001.parquet")
    text = build_report(run)[0].read_text()
    assert "\ufffd" not in text
    assert '"}</answer>' not in text and "[bytes]</span>&quot;}&lt;/answer&gt;" in text
    assert "marks tokens that decode to no valid UTF-8" in text
    assert "… (115 more characters)" in text  # cut at 600 characters, and said so


def test_semi_online_run_gets_its_panels_and_a_plain_run_does_not(tmp_path):
    semi = {
        "semi_online/return/step_0": lambda s: 1.0 + 0.01 * s,
        "semi_online/return/step_1": lambda s: 0.5,
        "semi_online/diverged_at/step_0": lambda s: 0.5,
        "semi_online/diverged_at/step_1": lambda s: 0.25,
        "semi_online/patches": lambda s: 0.75,
        "semi_online/stopped": lambda s: 0.25,
        "semi_online/no_divergence": lambda s: 0.25,
        "semi_online/steps": lambda s: 1.75,
    }
    run = write_run(tmp_path / "semi", history(**semi))
    page, _ = build_report(run)
    text = page.read_text()
    for png in ("semi_online_return", "semi_online_patches", "semi_online_divergence"):
        assert (run / "report" / f"{png}.png").stat().st_size > 1000, png
    assert "mean return by step index" in text and "first diverging at each step index" in text
    plain = write_run(tmp_path / "plain", history())
    build_report(plain)
    assert not list((plain / "report").glob("semi_online_*.png"))
    assert "Semi-online" not in (plain / "report" / "report.html").read_text()
