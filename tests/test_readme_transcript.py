"""The README's demo transcript is a recorded run of `make demo`: its commands are the ones the demo
runs today, and its summary shows what the demo promises (GRPO's reward rising)."""

from __future__ import annotations

import re
from pathlib import Path

from phone_r1.cli import main
from phone_r1.demo import DEFAULT_MIN_REWARD_RISE

ROOT = Path(__file__).resolve().parent.parent


def transcript() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```console\n\$ CI=true make demo.*?\n```", readme, flags=re.S)
    assert match, "README.md has no `CI=true make demo` transcript"
    return match.group(0)


def ports(command: str) -> str:
    return re.sub(r"(--port |127\.0\.0\.1:)\d+", r"\1PORT", command)


def test_readme_demo_transcript_is_the_demos_own_plan(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    for name in ("MODEL", "RECIPES", "DATA", "TEST_DATA", "SFT_STEPS", "GRPO_STEPS", "MAX_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    assert main(["demo", "--dry-run", "--no-ui"]) == 0, capsys.readouterr().err
    plan = [line.strip()[2:] for line in capsys.readouterr().out.splitlines() if line.startswith("  $ ")]
    recorded = [ports(line.strip()[2:]) for line in transcript().splitlines() if line.startswith("  $ ")]
    assert recorded == plan


def test_readme_demo_transcript_shows_grpos_reward_rising():
    text = transcript()
    summary = text.split("== GRPO reward (training report) ==", 1)
    assert len(summary) == 2, "the transcript has no GRPO reward summary"
    rise = re.search(r"rose: \+(\d\.\d+) \(the demo asks for at least \+(\d\.\d+)\)", summary[1])
    assert rise, summary[1][:400]
    assert float(rise.group(2)) == DEFAULT_MIN_REWARD_RISE and float(rise.group(1)) >= DEFAULT_MIN_REWARD_RISE
