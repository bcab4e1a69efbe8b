"""`phone-r1 eval run` on a grounding set: the navigation run's runner (concurrency, resume, faults,
`--limit`, recorded answers) with a grounding adapter asking and a grounding protocol judging, against a
real stub server answering in the adapter's grammar."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from actions.coords import PixelBudget
from actions.grounding_protocols import get_grounding_protocol
from agent.adapters.grounding import make_grounding_adapter
from episodes.grounding import read_grounding_items
from eval.results import read_results
from eval.testing.grounding_replies import grounding_replies
from eval.testing.stub_server import Faults, StubServer
from phone_r1.cli import main as cli_main
from tests.helpers.eval import predictions_file, write_episodes
from tests.helpers.grounding import item_line, write_set

N_ITEMS = 12


@pytest.fixture
def grounding_set(tmp_path):
    return write_set(tmp_path / "set", [item_line(i) for i in range(N_ITEMS)])


@pytest.fixture
def items(grounding_set):
    return read_grounding_items(grounding_set)


def run_args(root, out, *extra):
    return ["eval", "run", "--episodes", str(root), "-o", str(out), "--no-progress", *extra]


def endpoint(server):
    return ["--base-url", server.base_url, "--model", "stub-model"]


def records(out):
    return read_results(out).records


def wrong_on(items, adapter, every=3):
    """Replies: the target's centre, except a point far outside it on every `every`-th item."""

    def answer(item):
        if int(item.id.split("/")[1]) % every == 1:
            return adapter.render_point(adapter.to_model((199.0, 99.0), item.screen))
        return adapter.render(item.target, item.screen)

    return grounding_replies(items, adapter, answer=answer)


def test_every_item_is_asked_judged_and_recorded_with_the_settings_that_decide_reproduction(
    grounding_set, items, tmp_path, capsys
):
    adapter = make_grounding_adapter("qwen3-vl")
    out = tmp_path / "r.jsonl"
    with StubServer(wrong_on(items, adapter)) as server:
        code = cli_main(
            run_args(grounding_set, out, *endpoint(server), "--agent", "qwen3-vl", "--concurrency", "4")
        )
    assert code == 0
    found = records(out)
    assert sorted(found) == sorted(item.id for item in items)
    region = get_grounding_protocol("region")
    for item in items:
        record = found[item.id]
        expected = region.verdict(item, adapter.parse(record["raw"], item.screen))
        assert record["verdict"]["correct"] == expected.correct, item.id
        assert record["target"] == item.target.to_json()
        assert record["categories"]["platform"] in ("mobile", "desktop")
    # qwen3-vl refuses with a terminate call, which `region` counts right on a refusal item: only the
    # items `wrong_on` spoils are wrong.
    right = [i for i in items if int(i.id.split("/")[1]) % 3 != 1]
    assert sum(r["verdict"]["correct"] for r in found.values()) == len(right)
    header = read_results(out).header
    assert header["task"] == "grounding" and header["protocol"] == "region" and header["agent"] == "qwen3-vl"
    assert header["temperature"] == 0.0 and header["coord_space"] == "norm1000"
    settings = header["grounding"]
    assert settings["image_text_order"] and settings["user_prompt"] and "system_prompt" in settings
    assert settings["prompt_hash"] == header["template_hash"]
    printed = capsys.readouterr().out
    assert f"{N_ITEMS} items" in printed and f"accuracy {len(right) / N_ITEMS:.4f}" in printed


def test_limit_then_resume_asks_only_what_is_missing(grounding_set, items, tmp_path, capsys):
    adapter = make_grounding_adapter("os-atlas")
    out = tmp_path / "r.jsonl"
    with StubServer(grounding_replies(items, adapter)) as server:
        assert (
            cli_main(run_args(grounding_set, out, *endpoint(server), "--agent", "os-atlas", "--limit", "5"))
            == 0
        )
        assert len(records(out)) == 5
        asked = server.stats["requests"]
        assert cli_main(run_args(grounding_set, out, *endpoint(server), "--agent", "os-atlas")) == 0
        assert server.stats["requests"] - asked == N_ITEMS - 5
    assert "5 item(s) already recorded" in capsys.readouterr().err
    assert len(records(out)) == N_ITEMS


def test_resuming_with_another_adapter_or_protocol_is_refused(grounding_set, items, tmp_path, capsys):
    adapter = make_grounding_adapter("os-atlas")
    out = tmp_path / "r.jsonl"
    with StubServer(grounding_replies(items, adapter)) as server:
        assert (
            cli_main(run_args(grounding_set, out, *endpoint(server), "--agent", "os-atlas", "--limit", "2"))
            == 0
        )
        capsys.readouterr()
        again = run_args(grounding_set, out, *endpoint(server), "--agent", "gui-g2", "--limit", "2")
        assert cli_main(again) == 2
        assert "agent" in capsys.readouterr().err
        other = run_args(
            grounding_set, out, *endpoint(server), "--agent", "os-atlas", "--protocol", "screenspot"
        )
        assert cli_main(other) == 2
        assert "protocol" in capsys.readouterr().err


@pytest.mark.slow
def test_faults_are_typed_errors_and_retry_errors_fills_them(grounding_set, items, tmp_path):
    adapter = make_grounding_adapter("gui-owl", budget=PixelBudget(max_pixels=1_000_000))
    out = tmp_path / "r.jsonl"
    faults = Faults(error_rate=0.2, drop_rate=0.1, seed=3)
    args = run_args(grounding_set, out, "--agent", "gui-owl", "--max-pixels", "1000000", "--max-retries", "0")
    with StubServer(grounding_replies(items, adapter), faults=faults) as server:
        assert cli_main([*args, *endpoint(server), "--concurrency", "6"]) == 0
        first = Counter(server.stats)
        kinds = Counter(r["error"]["kind"] for r in records(out).values() if r["error"])
        assert kinds == {"http_5xx": first["error"], "connection": first["drop"]} and sum(kinds.values()) >= 1
        for record in records(out).values():
            if record["error"]:
                assert record["verdict"]["outcome"] == "error" and not record["verdict"]["correct"]
        for _ in range(8):
            if not any(r["error"] for r in records(out).values()):
                break
            assert cli_main([*args, *endpoint(server), "--retry-errors"]) == 0
    assert not any(r["error"] for r in records(out).values())
    assert all(r["verdict"]["correct"] for r in records(out).values())  # gui-owl refuses by terminating


def test_recorded_answers_are_scored_by_item_id(tmp_path):
    boxes = write_set(
        tmp_path / "boxes", [item_line(i) for i in range(0, N_ITEMS, 3)]
    )  # ScreenSpot: boxes only
    answers = {f"set/{i}": "[200,250]" if i in (0, 3) else "[990,990]" for i in range(0, N_ITEMS, 3)}
    preds = predictions_file(tmp_path / "p.jsonl", answers)
    out = tmp_path / "r.jsonl"
    args = run_args(
        boxes, out, "--predictions", str(preds), "--agent", "ui-venus-1.5", "--protocol", "screenspot"
    )
    assert cli_main(args) == 0
    found = records(out)
    assert {k for k, r in found.items() if r["verdict"]["correct"]} == {"set/0", "set/3"}
    assert found["set/0"]["answer"]["point"] == [40.0, 25.0]  # 200 and 250 of 1000 on the 200x100 screenshot
    assert read_results(out).header["endpoint"].startswith("predictions:")


def test_language_picks_the_instruction_sent_and_a_missing_one_stops_before_any_call(
    grounding_set, items, tmp_path, capsys
):
    adapter = make_grounding_adapter("os-atlas")
    out = tmp_path / "r.jsonl"
    with StubServer(grounding_replies(items, adapter, language="cn")) as server:
        args = run_args(grounding_set, out, *endpoint(server), "--agent", "os-atlas", "--language", "cn")
        assert cli_main(args) == 0
        assert server.stats["requests"] == N_ITEMS
    found = records(out)
    assert found["set/0"]["instruction"] == "按下按钮0" and found["set/0"]["language"] == "cn"
    assert sum(r["verdict"]["correct"] for r in found.values()) == sum(not i.refusal for i in items)
    assert read_results(out).header["language"] == "cn"
    lines = [item_line(0), item_line(1, instructions={})]
    other = write_set(tmp_path / "other", lines)
    assert (
        cli_main(
            run_args(
                other,
                tmp_path / "o.jsonl",
                "--base-url",
                "http://127.0.0.1:9/v1",
                "--model",
                "m",
                "--language",
                "cn",
            )
        )
        == 2
    )
    assert "no instruction in 'cn'" in capsys.readouterr().err


def test_the_official_prompt_file_is_what_is_sent_and_recorded(grounding_set, items, tmp_path):
    prompt = tmp_path / "official.txt"
    prompt.write_text("=== user ===\nOFFICIAL: where is ${instruction}? Answer (x,y).\n", encoding="utf-8")
    seen = []
    adapter = make_grounding_adapter("os-atlas")
    reply = grounding_replies(items, adapter)
    out = tmp_path / "r.jsonl"
    with StubServer(lambda step, messages: seen.append(messages) or reply(step, messages)) as server:
        args = run_args(
            grounding_set, out, *endpoint(server), "--agent", "os-atlas", "--agent-prompt", str(prompt)
        )
        assert cli_main([*args, "--limit", "2"]) == 0
    texts = [p["text"] for m in seen for part in [m[-1]["content"]] for p in part if p["type"] == "text"]
    assert texts and all(t.startswith("OFFICIAL: where is press button") for t in texts)
    settings = read_results(out).header["grounding"]
    assert settings["prompt_file"] == str(prompt) and settings["user_prompt"].startswith("OFFICIAL")


def test_bad_names_and_settings_exit_2_before_any_call(grounding_set, tmp_path, capsys):
    url = ["--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
    episodes = write_episodes(tmp_path / "episodes", [("1", "app", "task", [])])
    cases = [
        # a navigation protocol on a grounding set, a grounding one on episodes
        (run_args(grounding_set, tmp_path / "a.jsonl", *url, "--protocol", "box"), "grounding protocol"),
        (run_args(episodes, tmp_path / "b.jsonl", *url, "--protocol", "screenspot-pro"), "match protocol"),
        # a grounding-only adapter on episodes
        (run_args(episodes, tmp_path / "c.jsonl", *url, "--agent", "gui-g2"), "agent adapter"),
        # an adapter answering in resized pixels, with no pixel budget to map its answers back
        (run_args(grounding_set, tmp_path / "d.jsonl", *url, "--agent", "ui-tars-1.5"), "--max-pixels"),
        (run_args(grounding_set, tmp_path / "e.jsonl", *url, "--history", "own"), "no history"),
    ]
    for args, said in cases:
        assert cli_main(args) == 2, args
        assert said in capsys.readouterr().err, args
    assert cli_main(run_args(grounding_set, tmp_path / "f.jsonl", *url, "--agent", "ui-tars-15")) == 2
    assert "did you mean 'ui-tars-1.5'" in capsys.readouterr().err


def test_invalid_items_stop_the_run_unless_skipped(tmp_path, capsys):
    lines = [item_line(0), json.dumps({**item_line(1), "screen": [0, 5]}), item_line(3)]
    root = write_set(tmp_path / "set", lines)
    out = tmp_path / "r.jsonl"
    preds = predictions_file(tmp_path / "p.jsonl", {"set/0": "[200,250]", "set/3": "[200,250]"})
    args = run_args(root, out, "--predictions", str(preds), "--agent", "ui-venus-1.5")
    assert cli_main(args) == 2
    assert "grounding.jsonl:2" in capsys.readouterr().err
    assert cli_main([*args, "--skip-invalid"]) == 0
    captured = capsys.readouterr()
    assert "skipping invalid item" in captured.err and "grounding.jsonl:2" in captured.err
    assert "1 invalid item(s) skipped" in captured.out
    assert sorted(records(out)) == ["set/0", "set/3"]


def test_the_printed_accuracy_leaves_out_what_the_protocol_does_not_count(tmp_path, capsys):
    lines = [item_line(0), item_line(2), item_line(3), item_line(5)]  # box, refusal, box, refusal
    root = write_set(tmp_path / "set", lines)
    answers = {"set/0": "[175,250]", "set/2": "[-1,-1]", "set/3": "[900,900]", "set/5": "[-1,-1]"}
    preds = predictions_file(tmp_path / "p.jsonl", answers)
    for name, printed in (
        ("osworld-g-no-refusal", "accuracy 0.5000 (2 not counted by the protocol)"),
        ("osworld-g", "accuracy 0.7500;"),
    ):
        out = tmp_path / f"{name}.jsonl"
        args = run_args(root, out, "--predictions", str(preds), "--agent", "ui-venus-1.5", "--protocol", name)
        assert cli_main(args) == 0
        assert printed in capsys.readouterr().out
