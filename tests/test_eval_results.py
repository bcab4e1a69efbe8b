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
        {"endpoint": "http://127.0.0.1:2/v1"},
        {"template_hash": "def"},
        {"coord_space": "resized"},
        {"min_pixels": 1000},
        {"max_pixels": 2000000},
        {"protocol": "aitw"},
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
