"""The results file: header, append, torn last line, latest record wins, header mismatch refused."""

from __future__ import annotations

import json

import pytest

from eval.results import HeaderMismatchError, ResultsWriter, RunHeader, read_results


def header(**changes) -> RunHeader:
    fields = dict(
        model="m",
        endpoint="http://127.0.0.1:1/v1",
        template_hash="abc",
        coord_space="original",
        min_pixels=3136,
        max_pixels=1003520,
        protocol="box",
        episodes_fingerprint="fedcba9876543210",
    )
    fields.update(changes)
    return RunHeader(**fields)


def rec(step_id: str, correct: bool = True, error: dict | None = None) -> dict:
    return {
        "step_id": step_id,
        "verdict": {"correct": correct, "type_match": correct, "reason": "x"},
        "error": error,
    }


def test_header_then_records_and_latest_wins(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultsWriter(path, header()) as w:
        w.write(rec("1/0", error={"kind": "timeout", "message": "slow"}))
        w.write(rec("1/1"))
        w.write(rec("1/0", correct=False))  # a retry: appended, replaces the failed record
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["kind"] == "header"
    assert [json.loads(x)["kind"] for x in lines[1:]] == ["step"] * 3
    results = read_results(path)
    assert results.header["model"] == "m" and results.header["protocol"] == "box"
    assert list(results.records) == ["1/0", "1/1"]  # first-seen order
    assert results.records["1/0"]["error"] is None and results.records["1/0"]["verdict"]["correct"] is False


def test_torn_last_line_is_ignored_on_read_and_cut_on_resume(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultsWriter(path, header()) as w:
        w.write(rec("1/0"))
        w.write(rec("1/1"))
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"kind": "step", "step_id": "1/2", "verd')  # a kill mid-write
    assert list(read_results(path).records) == ["1/0", "1/1"]
    with ResultsWriter(path, header()) as w:
        assert set(w.done) == {"1/0", "1/1"}
        w.write(rec("1/2"))
    assert path.read_bytes().startswith(whole)
    assert list(read_results(path).records) == ["1/0", "1/1", "1/2"]
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_bad_line_in_the_middle_names_file_and_line(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultsWriter(path, header()) as w:
        w.write(rec("1/0"))
    with open(path, "a") as f:
        f.write("not json\n")
        f.write(json.dumps({"kind": "step", **rec("1/1")}) + "\n")
    with pytest.raises(ValueError, match=r"r\.jsonl:3: expected a JSON object"):
        read_results(path)


@pytest.mark.parametrize(
    "change",
    [
        # each field the header records must match on resume
        {"model": "other"},
        # An endpoint that names what answered (a local checkpoint, a predictions file) must match;
        # a URL only says where a server listens (test_a_moved_server_resumes below).
        {"endpoint": "local:/other/checkpoint"},
        {"template_hash": "def"},
        {"coord_space": "resized"},
        {"min_pixels": 1000},
        {"max_pixels": 2000000},
        {"protocol": "aitw"},
        {"history": "own"},
        {"agent": "qwen2.5-vl"},
        {"episodes_fingerprint": "0123456789abcdef"},
    ],
)
def test_resume_with_other_settings_is_refused_naming_the_field(tmp_path, change):
    path = tmp_path / "r.jsonl"
    with ResultsWriter(path, header()) as w:
        w.write(rec("1/0"))
    before = path.read_bytes()
    ((name, value),) = change.items()
    with pytest.raises(HeaderMismatchError, match=rf"{name}: file has .*, this run has {value!r}"):
        ResultsWriter(path, header(**change))
    assert path.read_bytes() == before  # nothing written


def test_created_time_does_not_block_resume(tmp_path):
    path = tmp_path / "r.jsonl"
    ResultsWriter(path, header(created="2020-01-01T00:00:00Z")).close()
    with ResultsWriter(path, header(created="2030-01-01T00:00:00Z")) as w:
        assert w.done == {}


def test_a_moved_server_resumes(tmp_path):
    """The same model behind another URL (a server restarted on another port) is the same run."""
    path = tmp_path / "r.jsonl"
    with ResultsWriter(path, header()) as w:
        w.write(rec("1/0"))
    with ResultsWriter(path, header(endpoint="http://10.0.0.7:8001/v1")) as w:
        assert set(w.done) == {"1/0"}


def test_history_is_a_typed_header_field(tmp_path):
    path = tmp_path / "r.jsonl"
    ResultsWriter(path, header(history="own-patched")).close()
    first = json.loads(path.read_text().splitlines()[0])
    assert first["history"] == "own-patched" and first["episodes_fingerprint"] == "fedcba9876543210"
    assert RunHeader.__dataclass_fields__["history"].default == "gold"


def _old_file(path, records) -> None:
    """A results file as the code before the episodes fingerprint wrote it (history in the header's
    untyped fields, no fingerprint, no agent)."""
    old = {
        "kind": "header",
        "model": "m",
        "endpoint": "http://127.0.0.1:1/v1",
        "template_hash": "abc",
        "coord_space": "original",
        "min_pixels": 3136,
        "max_pixels": 1003520,
        "protocol": "box",
        "created": "2026-01-01T00:00:00Z",
        "template": "zh",
        "history": "gold",
        "rewards": ["format", "action"],
        "reward_weights": None,
    }
    lines = [old, *({"kind": "step", **r} for r in records)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_a_file_from_before_the_fingerprint_reads_and_resumes_on_its_own_episodes(tmp_path):
    from eval.results import gold_key

    back = {"action_type": "back", "action_parameter": {"back": ""}, "action_description": ""}
    path = tmp_path / "old.jsonl"
    _old_file(path, [{**rec("1/0"), "gold": back}])
    results = read_results(path)
    assert results.header["history"] == "gold" and list(results.records) == ["1/0"]
    golds = {"1/0": gold_key(back), "1/1": gold_key(back)}
    with ResultsWriter(path, header(episodes_fingerprint="0123456789abcdef"), golds=golds) as w:
        assert set(w.done) == {"1/0"}


def test_a_file_from_before_the_fingerprint_refuses_other_episodes(tmp_path):
    from eval.results import gold_key

    back = {"action_type": "back", "action_parameter": {"back": ""}, "action_description": ""}
    wait = {"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": ""}
    path = tmp_path / "old.jsonl"
    _old_file(path, [{**rec("1/0"), "gold": back}, {**rec("1/1"), "gold": back}])
    before = path.read_bytes()
    # Step 1/0 has another gold action in these episodes, and 1/1 is not in them at all.
    golds = {"1/0": gold_key(wait), "2/0": gold_key(back)}
    with pytest.raises(HeaderMismatchError, match=r"2 recorded step\(s\) are not in this run's episodes"):
        ResultsWriter(path, header(), golds=golds)
    assert path.read_bytes() == before


def test_episodes_fingerprint_is_the_step_ids_and_gold_actions():
    from types import SimpleNamespace

    from actions import parse_action
    from eval.results import episodes_fingerprint

    back = parse_action({"action_type": "back", "action_parameter": {"back": ""}, "action_description": ""})
    wait = parse_action({"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": ""})

    def steps(*pairs):
        return [SimpleNamespace(step_id=step_id, gold=gold) for step_id, gold in pairs]

    one = episodes_fingerprint(steps(("1/0", back), ("1/1", wait)))
    assert one == episodes_fingerprint(steps(("1/1", wait), ("1/0", back)))  # order does not matter
    assert one != episodes_fingerprint(steps(("1/0", back), ("1/1", back)))  # a gold action does
    assert one != episodes_fingerprint(steps(("1/0", back), ("2/1", wait)))  # a step id does
    assert one != episodes_fingerprint(steps(("1/0", back)))  # a step fewer does
    assert len(one) == 16 and int(one, 16) >= 0


def test_a_raw_answer_is_placed_in_the_resized_image_of_the_tile_its_header_names():
    from actions.coords import PixelBudget, resized_size
    from eval.raw_answer import answer_from_record

    record = {"raw": "x", "screen": [1080, 2400]}
    header = {"agent": "qwen2.5-vl", "coord_space": "resized", "min_pixels": 3136, "max_pixels": 1003520}
    older = answer_from_record(record, header)  # written before headers named a tile: Qwen2.5-VL's 28
    qwen3 = answer_from_record(record, {**header, "tile": 32})
    assert older.model_screen == resized_size((1080, 2400), PixelBudget(3136, 1003520, 28))
    assert qwen3.model_screen == resized_size((1080, 2400), PixelBudget(3136, 1003520, 32))
    assert older.model_screen != qwen3.model_screen


def test_resume_with_another_tile_is_refused():
    from eval.results import RunHeader

    header = RunHeader("m", "http://h/v1", "t", "resized", 3136, 1003520, "box", extra={"tile": 32})
    assert header.mismatches({**header.to_json(), "tile": 28}) == ["tile: file has 28, this run has 32"]
    # A file written before headers named a tile was made with Qwen2.5-VL's 28.
    older = {k: v for k, v in header.to_json().items() if k != "tile"}
    assert header.mismatches(older) == ["tile: file has 28, this run has 32"]
