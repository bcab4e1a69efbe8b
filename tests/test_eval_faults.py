"""Faults: a server that fails, stalls and drops connections, and an eval killed with SIGKILL mid-run."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from episodes.readers import read_steps
from eval.metrics import compute_metrics
from eval.results import read_results
from eval.testing.stub_server import Faults, StubServer, render_reply, scripted_replies, step_key
from phone_r1.cli import main as cli_main
from tests.helpers.eval import kill_eval_mid_run, many_episodes

pytestmark = pytest.mark.slow

WAIT = {"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": "等待"}


def mixed_replies(steps):
    """Gold answers, with `wait` on every third step, so the metrics are not trivially perfect."""
    return scripted_replies(
        {
            step_key(s.task, s.history, s.app): render_reply(WAIT if i % 3 == 0 else s.gold.to_json())
            for i, s in enumerate(steps)
        }
    )


def step_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()[1:]]


def comparable(metrics):
    """Metrics that do not depend on timing."""
    return {k: v for k, v in metrics.items() if k not in ("latency_s",)}


def test_faulty_server_every_step_recorded_and_retry_errors_fills_the_gaps(tmp_path):
    episodes = many_episodes(tmp_path / "episodes", 12, 5)
    steps = read_steps(episodes)
    faults = Faults(error_rate=0.10, delay_rate=0.05, delay_s=20.0, drop_rate=0.05, seed=7)
    out = tmp_path / "r.jsonl"
    args = [
        "eval",
        "run",
        "--episodes",
        str(episodes),
        "--model",
        "stub-model",
        "-o",
        str(out),
        "--no-progress",
        "--timeout",
        "3",
        "--max-retries",
        "0",
        "--concurrency",
        "8",
    ]
    with StubServer(mixed_replies(steps), faults=faults) as server:
        assert cli_main([*args, "--base-url", server.base_url]) == 0
        first = Counter(server.stats)
        results = read_results(out)
        assert sorted(results.records) == sorted(s.step_id for s in steps)  # every step recorded
        kinds = Counter(r["error"]["kind"] for r in results.records.values() if r["error"])
        # each injected fault shows up as its own typed error, and nothing else fails
        assert kinds == {"http_5xx": first["error"], "timeout": first["delay"], "connection": first["drop"]}
        assert min(kinds.values()) >= 1
        for record in results.records.values():
            assert (record["prediction"] is None) == (record["error"] is not None)
        failed_ids = {sid for sid, r in results.records.items() if r["error"]}

        for _ in range(6):  # each retry is a new draw; seed 7 clears all faults within a few passes
            if not compute_metrics(read_results(out))["errors"]["total"]:
                break
            assert cli_main([*args, "--base-url", server.base_url, "--retry-errors"]) == 0
    results = read_results(out)
    m = compute_metrics(results)
    assert m["errors"]["total"] == 0
    wrong = sum(1 for i, s in enumerate(steps) if i % 3 == 0 and s.gold.action_type != "wait")
    assert m["sr"] == pytest.approx(1 - wrong / len(steps))
    # the file holds the first record of every step plus one per retry; the latest wins
    lines = step_lines(out)
    assert len({r["step_id"] for r in lines}) == len(steps)
    assert {sid for sid, n in Counter(r["step_id"] for r in lines).items() if n > 1} == failed_ids


def test_kill_9_mid_run_then_resume_equals_an_uninterrupted_run(tmp_path, capsys):
    episodes = many_episodes(tmp_path / "episodes", 12, 5)
    steps = read_steps(episodes)
    whole, killed = tmp_path / "whole.jsonl", tmp_path / "killed.jsonl"
    with StubServer(mixed_replies(steps), faults=Faults(latency_s=0.05)) as server:
        args = [
            "--episodes",
            episodes,
            "--base-url",
            server.base_url,
            "--model",
            "stub-model",
            "--no-progress",
            "--concurrency",
            "4",
        ]
        assert cli_main(["eval", "run", *map(str, args), "-o", str(whole)]) == 0

        kill_eval_mid_run(args, killed, after_lines=12)
        interrupted = len(read_results(killed).records)
        assert 0 < interrupted < len(steps)
        capsys.readouterr()
        assert cli_main(["eval", "run", *map(str, args), "-o", str(killed)]) == 0
        # only the steps not yet recorded were asked again
        summary = capsys.readouterr().out
        assert f"({len(steps) - interrupted} run, {interrupted} already done)" in summary

    lines = step_lines(killed)
    assert sorted(r["step_id"] for r in lines) == sorted(s.step_id for s in steps)  # none missing, none twice
    assert comparable(compute_metrics(read_results(killed))) == comparable(
        compute_metrics(read_results(whole))
    )
