"""`data convert` against the seed's own conversion script, round-trips and rejects."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from episodes.convert import ConvertError, convert
from episodes.readers import read_steps
from episodes.records import extract_input_json
from tests.helpers.data import make_raw_folder, rewrite_step


def seed_generate_jsonl_dataset(base_path: str, prefix_str: str, output_file: str) -> None:
    """The seed's x05 conversion script, verbatim apart from its three constants made parameters."""
    subdirs = [d for d in os.listdir(base_path) if os.path.isdir(os.path.join(base_path, d))]
    numeric_subdirs = sorted([d for d in subdirs if d.isdigit()], key=lambda x: int(x))
    sample_id = 1
    with open(output_file, "w", encoding="utf-8") as out_f:
        for dir_name in numeric_subdirs:
            dir_path = os.path.join(base_path, dir_name)
            json_files = sorted(
                [f for f in os.listdir(dir_path) if f.startswith("step_") and f.endswith(".json")],
                key=lambda x: int(x.split("_")[1].split(".")[0]),
            )
            for file_name in json_files:
                json_path = os.path.join(dir_path, file_name)
                with open(json_path, "r", encoding="utf-8") as json_f:  # noqa: UP015 (the seed's line)
                    data = json.load(json_f)
                input_data = data["input"]
                output_data = data["output"]
                image_paths = []
                if "screen_path1" in input_data and input_data["screen_path1"]:
                    img_path = os.path.join(dir_name, input_data["screen_path1"])
                    image_paths.append(img_path)
                if "screen_path2" in input_data and input_data["screen_path2"]:
                    img_path = os.path.join(dir_name, input_data["screen_path2"])
                    image_paths.append(img_path)
                conversations = [
                    {"from": "human", "value": prefix_str + json.dumps(input_data, ensure_ascii=False)},
                    {"from": "gpt", "value": json.dumps(output_data, ensure_ascii=False)},
                ]
                sample = {"id": sample_id, "image": image_paths, "conversations": conversations}
                out_f.write(json.dumps(sample, ensure_ascii=False) + "\n")
                sample_id += 1


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    # "9" < "10001" by value; step_10 after step_9 by value; "notes" is skipped by both.
    root = make_raw_folder(tmp_path / "raw", {"10002": 11, "10001": 3, "9": 2})
    (root / "notes").mkdir()
    return root


def test_convert_matches_the_seed_script(raw: Path, tmp_path: Path) -> None:
    seed_out, ours = tmp_path / "seed.jsonl", tmp_path / "ours.jsonl"
    seed_generate_jsonl_dataset(str(raw), "PROMPT:", str(seed_out))
    summary = convert(raw, ours)
    expected, got = _lines(seed_out), _lines(ours)
    assert summary.written == len(expected) == 16 and summary.skipped_episodes == ["notes"]
    assert [r["id"] for r in got] == [r["id"] for r in expected]
    assert [r["image"] for r in got] == [r["image"] for r in expected]
    assert [r["conversations"][1] for r in got] == [r["conversations"][1] for r in expected]
    for mine, theirs in zip(got, expected, strict=True):
        human = mine["conversations"][0]
        assert human["from"] == "human"
        seed_input = json.loads(theirs["conversations"][0]["value"].removeprefix("PROMPT:"))
        for key in ("screen_path1", "screen_path2"):
            if seed_input.get(key):
                seed_input[key] = "<image>"
        assert extract_input_json(human["value"]) == seed_input
        assert human["value"].count("<image>") >= len(mine["image"])
    assert expected[0]["image"] == ["9/9_0.jpg"]  # first step: one screenshot
    assert not (tmp_path / "ours.jsonl.part").exists()


def test_round_trip_raw_jsonl_steps_same_gold(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "ours.jsonl"
    convert(raw, out)
    direct = [s for s in read_steps(raw, strict=False) if s.episode_id.isdigit()]
    via = read_steps(out, image_root=raw)
    assert [s.step_id for s in via] == [s.step_id for s in direct]
    assert [s.gold for s in via] == [s.gold for s in direct]
    assert [s.gold.to_json() for s in via] == [s.gold.to_json() for s in direct]
    assert [s.screenshots for s in via] == [s.screenshots for s in direct]
    assert [(s.task, s.task_path, s.history, s.app, s.screen_size) for s in via] == [
        (s.task, s.task_path, s.history, s.app, s.screen_size) for s in direct
    ]


def test_bad_record_stops_or_goes_to_rejects(raw: Path, tmp_path: Path) -> None:
    rewrite_step(raw / "10001" / "step_1.json", lambda r: r["output"].update(action_type="fly"))
    (raw / "10002" / "10002_4.jpg").unlink()
    out = tmp_path / "out.jsonl"
    with pytest.raises(
        ConvertError, match=r"(?s)10001/step_1\.json:\d+: error: \[unknown_action_type\].*--skip-invalid"
    ):
        convert(raw, out)
    assert not out.exists() and not (tmp_path / "out.jsonl.part").exists()

    summary = convert(raw, out, skip_invalid=True)
    assert (summary.written, summary.rejected) == (
        13,
        3,
    )  # 10002_4.jpg is current of step_4, previous of step_5
    rejects = _lines(summary.rejects)
    assert [Path(r["path"]).relative_to(raw).as_posix() for r in rejects] == [
        "10001/step_1.json",
        "10002/step_4.json",
        "10002/step_5.json",
    ]
    assert rejects[0]["problems"][0]["code"] == "unknown_action_type"
    assert {p["code"] for p in rejects[1]["problems"]} == {"missing_image"}
    got = _lines(out)
    assert [r["id"] for r in got] == list(range(1, 14))
    # nothing substituted: every written record is the step it names
    for record in got:
        episode = record["image"][-1].split("/")[0]
        gold = json.loads(record["conversations"][1]["value"])
        n = int(record["image"][-1].split("_")[-1].split(".")[0])
        source = json.loads((raw / episode / f"step_{n}.json").read_text(encoding="utf-8"))
        assert gold == source["output"]


def test_episode_of_one_first_step_with_one_screenshot(tmp_path: Path) -> None:
    root = make_raw_folder(tmp_path / "raw", {"5": 1})
    assert "screen_path1" not in json.loads((root / "5" / "step_0.json").read_text(encoding="utf-8"))["input"]
    from episodes.validate import validate

    assert validate(root).ok
    out = tmp_path / "one.jsonl"
    convert(root, out)
    (record,) = _lines(out)
    assert record["image"] == ["5/5_0.jpg"]
    assert extract_input_json(record["conversations"][0]["value"])["screen_path2"] == "<image>"
    (step,) = read_steps(out, image_root=root)
    assert step.step_id == "5/0" and step.previous_screenshot is None and len(step.screenshots) == 1
    assert step.gold.action_type == "open_app"
