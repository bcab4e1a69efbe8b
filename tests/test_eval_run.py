"""`phone-r1 eval run` against the scripted OpenAI-compatible stub server: scoring, resume, secrets."""

from __future__ import annotations

import asyncio
import json

import pytest

from episodes.readers import read_steps
from eval.metrics import compute_metrics
from eval.results import read_results
from eval.testing.stub_server import StubServer, gold_replies, render_reply, scripted_replies, step_key
from phone_r1.cli import main as cli_main
from tests.helpers.eval import demo_or_generated

BACK = {"action_type": "back", "action_parameter": {"back": ""}, "action_description": "回退"}


@pytest.fixture(scope="module")
def episodes(tmp_path_factory):
    return demo_or_generated(tmp_path_factory.mktemp("eval_run"))


@pytest.fixture(scope="module")
def steps(episodes):
    return read_steps(episodes)


def scripted(steps):
    """Gold answers, except `back` on every step with index 1 (right only where the gold is a back)."""
    replies = {}
    for step in steps:
        action = BACK if step.index == 1 else step.gold.to_json()
        replies[step_key(step.task, step.history, step.app)] = render_reply(action)
    return scripted_replies(replies)


def run(episodes, server, out, *extra):
    return cli_main(
        [
            "eval",
            "run",
            "--episodes",
            str(episodes),
            "--base-url",
            server.base_url,
            "--model",
            "stub-model",
            "-o",
            str(out),
            "--no-progress",
            "--timeout",
            "10",
            *map(str, extra),
        ]
    )


def step_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()[1:]]


def test_scores_scripted_answers_concurrently(episodes, steps, tmp_path):
    out = tmp_path / "r.jsonl"
    with StubServer(scripted(steps)) as server:
        assert run(episodes, server, out, "--concurrency", 8) == 0
    results = read_results(out)
    # every step once (in finishing order: steps run concurrently)
    assert sorted(results.records) == sorted(s.step_id for s in steps)
    assert len(step_lines(out)) == len(steps)
    m = compute_metrics(results)
    # Worked out from the gold actions alone: wrong exactly where index 1 meets a non-back gold.
    wrong = [s for s in steps if s.index == 1 and s.gold.action_type != "back"]
    assert m["sr"] == pytest.approx(1 - len(wrong) / len(steps))
    assert m["errors"]["total"] == 0 and m["format_validity"] == 1.0
    assert server.stats["requests"] == len(steps)
    record = results.records[steps[0].step_id]
    assert record["prompt_hash"] and record["usage"]["prompt_tokens"] > 0 and record["latency_s"] > 0
    assert record["think"]["task_interpretation"] == "scripted"
    assert results.header["model"] == "stub-model" and results.header["endpoint"] == server.base_url


def test_rerun_skips_finished_steps(episodes, steps, tmp_path):
    out = tmp_path / "r.jsonl"
    with StubServer(gold_replies(steps)) as server:
        assert run(episodes, server, out, "--limit", 3) == 0
        assert len(step_lines(out)) == 3
        assert run(episodes, server, out) == 0
        assert server.stats["requests"] == len(steps)  # the first three were not asked again
        assert run(episodes, server, out) == 0
        assert server.stats["requests"] == len(steps)
    lines = step_lines(out)
    assert sorted(r["step_id"] for r in lines) == sorted(s.step_id for s in steps)
    assert compute_metrics(read_results(out))["sr"] == 1.0


def test_resume_with_another_protocol_is_refused(episodes, steps, tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    with StubServer(gold_replies(steps)) as server:
        assert run(episodes, server, out, "--limit", 2) == 0
        before = out.read_bytes()
        assert run(episodes, server, out, "--protocol", "aitw", "--coord-space", "norm1000") == 2
    err = capsys.readouterr().err
    assert "protocol: file has 'box', this run has 'aitw'" in err
    assert "coord_space: file has 'original', this run has 'norm1000'" in err
    assert out.read_bytes() == before


def test_api_key_from_the_environment_never_reaches_the_results(episodes, steps, tmp_path, monkeypatch):
    secret = "sk-test-not-for-logs-123"
    monkeypatch.setenv("EVAL_TEST_KEY", secret)
    out = tmp_path / "r.jsonl"
    with StubServer(gold_replies(steps), api_key=secret) as server:
        assert run(episodes, server, out, "--api-key-env", "EVAL_TEST_KEY", "--limit", 2) == 0
        assert server.stats["unauthorized"] == 0
        wrong = tmp_path / "wrong.jsonl"
        monkeypatch.setenv("EVAL_TEST_KEY", "wrong")
        # Every request failed: recorded, and the run exits 1 (a failed run), not 2 or a traceback.
        assert run(episodes, server, wrong, "--api-key-env", "EVAL_TEST_KEY", "--limit", 2) == 1
    assert secret not in out.read_text()
    assert {r["error"]["kind"] for r in step_lines(wrong)} == {"http_4xx"}  # recorded, not raised


def test_resized_coordinates_are_mapped_back_to_original_pixels(episodes, steps, tmp_path):
    out = tmp_path / "r.jsonl"
    budget = ["--min-pixels", 3136, "--max-pixels", 50000]
    with StubServer(gold_replies(steps, coord_space="norm1000")) as server:
        assert run(episodes, server, out, "--coord-space", "norm1000", *budget) == 0
    results = read_results(out)
    assert results.header["coord_space"] == "norm1000" and results.header["max_pixels"] == 50000
    assert compute_metrics(results)["sr"] == 1.0


def test_workers_really_run_concurrently(steps, tmp_path):
    """Every worker is inside `astep` at once before any answers: the pool is as wide as asked."""
    from agent.agent import AgentResult
    from eval.loop import run_eval
    from eval.results import ResultsWriter, RunHeader

    width = 4

    class GatedAgent:
        def __init__(self):
            self.inside = 0
            self.full = asyncio.Event()

        async def astep(self, step):
            self.inside += 1
            if self.inside >= width:
                self.full.set()
            await asyncio.wait_for(self.full.wait(), timeout=30)  # never reached with fewer workers
            return AgentResult(step.gold, None, render_reply(step.gold.to_json()))

    header = RunHeader("m", "e", "h", "original", 1, 2, "box")
    with ResultsWriter(tmp_path / "r.jsonl", header) as writer:
        summary = asyncio.run(run_eval(GatedAgent(), steps, writer, concurrency=width, progress=False))
    assert summary.ran == len(steps) and summary.correct == len(steps)


@pytest.mark.slow
def test_local_checkpoint_runs_in_process(tmp_path):
    """`--local`: the tiny random model answers garbage, which is scored, not raised."""
    from tests.helpers.eval import many_episodes
    from tests.helpers.tiny import tiny_model_dir

    episodes = many_episodes(tmp_path / "episodes", 1, 2)
    out = tmp_path / "r.jsonl"
    args = [
        "eval",
        "run",
        "--episodes",
        str(episodes),
        "--local",
        str(tiny_model_dir()),
        "-o",
        str(out),
        "--no-progress",
        "--max-tokens",
        "8",
        "--max-pixels",
        "50176",
    ]
    assert cli_main(args) == 0
    results = read_results(out)
    assert results.header["endpoint"].startswith("local:") and results.header["max_pixels"] == 50176
    assert len(results.records) == 2
    for record in results.records.values():
        assert record["error"] is None and record["usage"]["completion_tokens"] > 0


def test_partial_reward_uses_the_checkpoint_reward_weights(episodes, steps, tmp_path):
    from agent.checkpoint import CheckpointMeta

    def totals(out):
        return {r["step_id"]: r["reward"] for r in step_lines(out)}

    with StubServer(scripted(steps)) as server:
        plain = tmp_path / "plain.jsonl"
        assert run(episodes, server, plain) == 0
        meta_dir = tmp_path / "ckpt"
        CheckpointMeta(rewards=["format", "action"], reward_weights=[0.5, 1.0]).save(meta_dir)
        weighted = tmp_path / "weighted.jsonl"
        assert run(episodes, server, weighted, "--checkpoint-meta", meta_dir) == 0
    header = read_results(weighted).header
    assert header["rewards"] == ["format", "action"] and header["reward_weights"] == [0.5, 1.0]
    mixed = 0
    for step_id, reward in totals(weighted).items():
        fmt, act = reward["format"]["total"], reward["action"]["total"]
        assert reward["total"] == pytest.approx((0.5 * fmt + act) / 1.5)
        assert totals(plain)[step_id]["total"] == pytest.approx((fmt + act) / 2)  # the defaults: 1.0 each
        mixed += fmt != act
    assert mixed  # some steps tell the two weightings apart


# --- resume keyed on what makes results comparable; malformed steps; a run where nothing answered -----


def test_resume_after_the_server_moved_to_another_port(episodes, steps, tmp_path, capsys):
    """A server restarted elsewhere serves the same model: the run resumes where it was."""
    out = tmp_path / "r.jsonl"
    with StubServer(gold_replies(steps)) as first:
        assert run(episodes, first, out, "--limit", 2) == 0
    with StubServer(gold_replies(steps)) as moved:
        assert moved.base_url != first.base_url
        assert run(episodes, moved, out) == 0
        assert moved.stats["requests"] == len(steps) - 2  # the first two were not asked again
    assert "resuming" in capsys.readouterr().err
    assert sorted(read_results(out).records) == sorted(s.step_id for s in steps)


def test_resume_onto_other_episodes_is_refused(episodes, steps, tmp_path, capsys):
    """Another test set (the same step ids, other gold actions) cannot be appended to a run's file."""
    import shutil

    other = tmp_path / "other"
    shutil.copytree(episodes, other)
    changed = sorted(other.glob("*/step_1.json"))[0]
    record = json.loads(changed.read_text(encoding="utf-8"))
    record["output"] = BACK if record["output"]["action_type"] != "back" else steps[0].gold.to_json()
    changed.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "r.jsonl"
    with StubServer(gold_replies(steps)) as server:
        assert run(episodes, server, out, "--limit", 2) == 0
        before = out.read_bytes()
        capsys.readouterr()
        assert run(other, server, out) == 2
    assert "episodes_fingerprint: file has" in capsys.readouterr().err
    assert out.read_bytes() == before
    header = read_results(out).header
    assert header["episodes"] == str(episodes.resolve()) and len(header["episodes_fingerprint"]) == 16


def _with_a_malformed_step(episodes, tmp_path):
    import shutil

    root = tmp_path / "bad"
    shutil.copytree(episodes, root)
    bad = sorted(root.glob("*/step_1.json"))[0]
    bad.write_text('{"input": {"task_content": "x"}, "output": {"action_type": "fly"', encoding="utf-8")
    return root, bad


def test_a_malformed_step_is_one_line_naming_the_file(episodes, steps, tmp_path, capsys):
    root, bad = _with_a_malformed_step(episodes, tmp_path)
    out = tmp_path / "r.jsonl"
    with StubServer(gold_replies(steps)) as server:
        assert run(root, server, out) == 2
        assert server.stats["requests"] == 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and "Traceback" not in err
    assert not out.exists()


def test_skip_invalid_goes_on_and_counts_the_skipped_steps(episodes, steps, tmp_path, capsys):
    root, bad = _with_a_malformed_step(episodes, tmp_path)
    out = tmp_path / "r.jsonl"
    with StubServer(gold_replies(steps)) as server:
        assert run(root, server, out, "--skip-invalid") == 0
    captured = capsys.readouterr()
    assert f"skipping invalid step: {bad}" in captured.err
    assert f"{len(steps) - 1} steps (" in captured.out and "1 invalid step(s) skipped" in captured.out
    assert len(read_results(out).records) == len(steps) - 1


def test_a_run_where_every_request_failed_exits_1(episodes, tmp_path, capsys):
    from serving.launch import free_port

    out = tmp_path / "r.jsonl"
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    args = ["eval", "run", "--episodes", str(episodes), "--base-url", dead, "--model", "m", "-o", str(out)]
    assert cli_main([*args, "--no-progress", "--max-retries", "0", "--timeout", "5", "--limit", "3"]) == 1
    assert "every request failed (3 of 3)" in capsys.readouterr().err
    assert {r["error"]["kind"] for r in step_lines(out)} == {"connection"}
