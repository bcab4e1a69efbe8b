"""`phone-r1 data import`: each format's fixtures imported, validated, converted the seed's way, and
its conventions checked."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from episodes.importers.tfrecord import frame, parse_example
from episodes.validate import validate
from phone_r1.cli import main
from tests.helpers.importers import (
    AC_EPISODES,
    H,
    W,
    ac_example,
    write_ac,
    write_ac_jsonl,
    write_aitz,
    write_amex,
    write_odyssey,
)


def seed_convert(root: Path, prefix: str = "PROMPT") -> list[dict]:
    """Seed 001's conversion loop (x05生成训练数据集代码.py), restated: numeric episode folders, step
    files by number."""
    out = []
    for d in sorted((d for d in os.listdir(root) if d.isdigit()), key=int):
        files = sorted(
            (f for f in os.listdir(root / d) if f.startswith("step_") and f.endswith(".json")),
            key=lambda f: int(f.split("_")[1].split(".")[0]),
        )
        for name in files:
            data = json.loads((root / d / name).read_text(encoding="utf-8"))
            inp, output = data["input"], data["output"]
            images = [os.path.join(d, inp[k]) for k in ("screen_path1", "screen_path2") if inp.get(k)]
            assert all((root / i).is_file() for i in images)
            out.append(
                {
                    "id": len(out) + 1,
                    "image": images,
                    "conversations": [
                        {"from": "human", "value": prefix + json.dumps(inp, ensure_ascii=False)},
                        {"from": "gpt", "value": json.dumps(output, ensure_ascii=False)},
                    ],
                }
            )
    return out


def run_import(*args: str) -> int:
    return main(["data", "import", *args])


def step(out: Path, episode: str, n: int) -> dict:
    return json.loads((out / episode / f"step_{n}.json").read_text(encoding="utf-8"))


CONTEXT_KEYS = {
    "point",
    "candidate_boxes",
    "ui_boxes",
    "scroll_direction",
    "scroll_direction_means",
    "step_instruction",
    "source",
}


def check_valid(out: Path) -> list[dict]:
    for path in out.rglob("step_*.json"):  # only the shared schema's keys at the top of context
        assert set(json.loads(path.read_text(encoding="utf-8"))["context"]) <= CONTEXT_KEYS, path
    report = validate(out)
    assert report.ok, [str(p) for p in report.problems]
    from episodes.convert import convert

    convert(out, out.parent / f"{out.name}.jsonl")
    return seed_convert(out)


def test_androidcontrol_conventions(tmp_path: Path) -> None:
    src = write_ac(tmp_path / "ac")
    out = tmp_path / "out"
    assert run_import("androidcontrol", str(src), "-o", str(out), "--split", "test") == 0
    records = check_valid(out)
    assert len(records) == 6 + 4  # navigate_home is the home key press, kept
    # click: gold box is the smallest clickable node holding the point; point and every containing node kept
    s1 = step(out, "101", 1)
    assert s1["output"]["action_parameter"] == {"click": "10,20,60,50"}
    assert s1["context"]["point"] == [30, 35]
    assert s1["context"]["candidate_boxes"] == [[10, 20, 60, 50], [0, 10, 108, 200], [0, 0, 108, 240]]
    assert s1["context"]["source"] == {
        "format": "androidcontrol",
        "episode_id": "101",
        "step_index": 1,
        "box_from": "element",
    }
    # scroll "down" names the content: the finger swipes up
    s2 = step(out, "101", 2)
    assert s2["output"]["action_parameter"] == {"swipe": "54,180,54,60"}
    assert (
        s2["context"]["scroll_direction"] == "down" and s2["context"]["scroll_direction_means"] == "content"
    )
    assert step(out, "102", 3)["output"]["action_parameter"] == {
        "swipe": "81,120,27,120"
    }  # "right": finger left
    # the home step is kept: the next step's previous screen is the home step's, its history names it
    home = step(out, "101", 3)
    assert home["output"] == {
        "action_type": "home",
        "action_parameter": {"home": ""},
        "action_description": "go home",
    }
    s3 = step(out, "101", 4)
    assert s3["output"]["action_parameter"] == {"long_click": "10,100,100,130"}  # a leaf node
    assert s3["input"]["screen_path1"] == home["input"]["screen_path2"] == "101_3.png"
    assert s3["input"]["history_path_all"] == ["open settings", "tap wi-fi", "scroll down", "go home"]
    assert "dropped_before" not in s3["context"]["source"]
    assert s3["context"]["source"]["step_index"] == 4
    # only the full-screen root holds this point: the small square fallback
    assert step(out, "102", 2)["output"]["action_parameter"] == {"click": "104,229,106,231"}
    assert step(out, "101", 5)["output"]["action_parameter"] == {"type": "hello\x00"}
    # screenshots are the record's PNG bytes, untouched
    shots = parse_example(ac_example(AC_EPISODES[0]))["screenshots"]
    assert (out / "101" / "101_4.png").read_bytes() == shots[4]
    assert step(out, "101", 0)["input"]["app_name"] == "com.example.app"
    assert "step_instruction" not in s1["input"] and s1["context"]["step_instruction"] == "tap wi-fi"
    card = json.loads((out / "dataset_card.json").read_text())
    assert card["steps_in"] == {
        "click": 2,
        "input_text": 1,
        "long_press": 1,
        "navigate_back": 1,
        "navigate_home": 1,
        "open_app": 1,
        "scroll": 2,
        "wait": 1,
    }
    assert card["steps_out"] == {
        "back": 1,
        "click": 2,
        "home": 1,
        "long_click": 1,
        "open_app": 1,
        "swipe": 2,
        "type": 1,
        "wait": 1,
    }
    assert card["dropped"] == {}
    assert card["episodes_out"] == 2 and card["split"] == "test" and not card["add_finish"]
    assert "inverted" in card["conventions"]["scroll"] and "65%" in card["conventions"]["click_box"]


def test_androidcontrol_split_limit_and_finish(tmp_path: Path) -> None:
    src = write_ac(tmp_path / "ac", splits={"train": [101], "validation": [], "test": [102]})
    out = tmp_path / "out"
    assert run_import("androidcontrol", str(src), "-o", str(out), "--split", "test", "--add-finish") == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["102"]
    last = step(out, "102", 4)
    assert last["output"]["action_type"] == "task_completed" and last["input"]["screen_path2"] == "102_4.png"
    card = json.loads((out / "dataset_card.json").read_text())
    assert card["add_finish"] and card["steps_out"]["task_completed"] == 1 == card["finish_steps_added"]
    assert last["context"]["source"]["synthetic"] is True
    check_valid(out)
    out2 = tmp_path / "out2"
    assert run_import("androidcontrol", str(src), "-o", str(out2), "--limit", "1") == 0
    assert sorted(p.name for p in out2.iterdir() if p.is_dir()) == ["101"]


def test_androidcontrol_shards_in_parallel_workers_match_one_process(tmp_path: Path) -> None:
    src = write_ac(tmp_path / "ac")
    shard = src / "android_control-00000-of-00001"
    second = [dict(ep, episode_id=ep["episode_id"] + 100) for ep in AC_EPISODES]
    with gzip.open(src / "android_control-00001-of-00002", "wb") as f:
        for ep in second:
            f.write(frame(ac_example(ep)))
    shard.rename(src / "android_control-00000-of-00002")
    outs = {}
    for workers in ("1", "2"):
        outs[workers] = tmp_path / f"out{workers}"
        assert run_import("androidcontrol", str(src), "-o", str(outs[workers]), "--workers", workers) == 0
    one, two = (json.loads((outs[w] / "dataset_card.json").read_text()) for w in ("1", "2"))
    assert one == {**two, "source": one["source"]} and one["episodes_out"] == 4
    files = sorted(str(p.relative_to(outs["1"])) for p in outs["1"].rglob("*"))
    assert files == sorted(str(p.relative_to(outs["2"])) for p in outs["2"].rglob("*"))
    assert (outs["1"] / "201" / "step_1.json").read_bytes() == (
        outs["2"] / "201" / "step_1.json"
    ).read_bytes()


def test_low_setting_puts_the_step_instruction_in_the_prompt(tmp_path: Path) -> None:
    from agent.prompt import build_messages
    from episodes.records import read_record

    def read_raw_step(path):
        return read_record(path).step

    src = write_ac(tmp_path / "ac")
    for setting in ("high", "low"):
        assert (
            run_import("androidcontrol", str(src), "-o", str(tmp_path / setting), "--setting", setting) == 0
        )
    low, high = (read_raw_step(tmp_path / s / "101" / "step_1.json") for s in ("low", "high"))
    assert low.input["step_instruction"] == "tap wi-fi" and "step_instruction" not in high.input
    for template in ("zh", "en"):
        low_msgs, high_msgs = build_messages(low, template=template), build_messages(high, template=template)
        assert (
            "step_instruction" in low_msgs[0]["content"] and "step_instruction" not in high_msgs[0]["content"]
        )
        assert '"step_instruction": "tap wi-fi"' in low_msgs[1]["content"][0]["text"]
    # the seed's converter carries the instruction into the prompt text as part of the input JSON
    assert '"step_instruction": "tap wi-fi"' in seed_convert(tmp_path / "low")[1]["conversations"][0]["value"]


def _shard(tmp_path: Path, records: list[bytes]) -> Path:
    return write_ac(tmp_path / "ac", records=records)


@pytest.mark.parametrize("case", ["bad_crc", "truncated_gzip", "missing_screenshot"])
def test_corrupt_shards_fail_with_file_record_and_reason_or_go_to_rejects(
    tmp_path: Path, capsys, case: str
) -> None:
    good = [ac_example(ep) for ep in AC_EPISODES]
    if case == "missing_screenshot":
        src = _shard(tmp_path, [good[0], ac_example(AC_EPISODES[1], drop_screenshot=True)])
        reason, record = "4 actions, 4 screenshots", 1
    else:
        src = _shard(tmp_path, good)
        shard = src / "android_control-00000-of-00001"
        raw = bytearray(gzip.decompress(shard.read_bytes()))
        if case == "bad_crc":
            raw[len(frame(good[0])) + 40] ^= 0xFF  # a byte inside the second record's data
            shard.write_bytes(gzip.compress(bytes(raw)))
            reason, record = "data CRC mismatch", 1
        else:
            shard.write_bytes(gzip.compress(bytes(raw))[:-200])
            reason, record = "record 1:", 1
    out = tmp_path / "out"
    assert run_import("androidcontrol", str(src), "-o", str(out)) == 2
    err = capsys.readouterr().err
    assert "android_control-00000-of-00001: record 1:" in err and reason in err
    out2 = tmp_path / "out2"
    assert run_import("androidcontrol", str(src), "-o", str(out2), "--skip-invalid") == 0
    rejects = [json.loads(line) for line in (out2 / "rejects.jsonl").read_text().splitlines()]
    assert [r["record"] for r in rejects] == [record]
    assert (out2 / "101" / "step_4.json").is_file() and not (out2 / "102").exists()
    assert json.loads((out2 / "dataset_card.json").read_text())["rejected"] == 1
    check_valid(out2)


def test_androidcontrol_jsonl(tmp_path: Path) -> None:
    path = write_ac_jsonl(tmp_path / "uis1")
    out = tmp_path / "out"
    assert (
        run_import(
            "androidcontrol-jsonl",
            str(path),
            "-o",
            str(out),
            "--screenshots",
            str(tmp_path / "uis1" / "images"),
            "--setting",
            "low",
        )
        == 0
    )
    check_valid(out)
    s0, s1 = step(out, "8193", 0), step(out, "8193", 1)
    assert s0["output"]["action_parameter"] == {"click": "45,221,62,233"}
    assert s0["context"]["candidate_boxes"] == [[45, 221, 62, 233], [0, 47, 108, 233]]
    assert s1["output"]["action_parameter"] == {"swipe": "54,180,54,60"}  # from the word "down", inverted
    assert s1["input"]["step_instruction"] == "swipe up"
    assert step(out, "8193", 2)["output"]["action_type"] == "home"  # system_button Home: kept
    assert not (out / "8193" / "step_3.json").exists()  # Menu has no counterpart
    assert json.loads((out / "dataset_card.json").read_text())["dropped"] == {
        "no_counterpart:system_button:menu": 1
    }


def test_aitz(tmp_path: Path) -> None:
    src = write_aitz(tmp_path / "aitz")
    out = tmp_path / "out"
    assert run_import("aitz", str(src), "-o", str(out), "--split", "test") == 0
    check_valid(out)
    ep = "523638528775825151"
    s0, s1, home, s2 = (step(out, ep, n) for n in range(4))
    assert s0["output"]["action_parameter"] == {"click": "17,54,29,62"}
    assert s0["context"]["point"] == [27, 60] and len(s0["context"]["ui_boxes"]) == 3
    assert s1["output"]["action_parameter"] == {"swipe": "135,480,135,120"}  # the finger's path as stored
    assert s1["context"]["scroll_direction"] == "up" and s1["context"]["scroll_direction_means"] == "finger"
    assert home["output"]["action_type"] == "home"  # PRESS_HOME (6): kept
    assert (
        s2["output"]["action_type"] == "type" and s2["input"]["screen_path1"] == home["input"]["screen_path2"]
    )
    assert step(out, ep, 4)["output"]["action_type"] == "task_completed"


def test_gui_odyssey_v1_and_v2(tmp_path: Path) -> None:
    src = write_odyssey(tmp_path / "ody")
    out = tmp_path / "out"
    assert (
        run_import("gui-odyssey", str(src), "-o", str(out), "--split", "random/test", "--setting", "low") == 0
    )
    check_valid(out)
    assert step(out, "1001", 0)["output"]["action_parameter"] == {
        "click": "53,119,55,121"
    }  # v1: no box, square
    assert step(out, "1001", 1)["output"]["action_type"] == "home"  # CLICK KEY_HOME: kept
    scroll = step(out, "1001", 2)
    assert scroll["output"]["action_parameter"] == {"swipe": "54,192,54,48"}
    assert step(out, "1001", 3)["output"]["action_parameter"] == {"task_completed": "done"}
    v2 = step(out, "1002", 0)
    assert v2["output"]["action_parameter"] == {"click": "11,12,43,36"}  # sam2_bbox scaled from 0-1000
    assert (
        v2["input"]["step_instruction"] == "tap the search bar" and v2["input"]["app_name"] == "Chrome, Notes"
    )
    assert step(out, "1002", 2)["output"]["action_type"] == "back"
    card = json.loads((out / "dataset_card.json").read_text())
    assert card["field_versions"] == {"v1": 1, "v2": 1}


def test_amex(tmp_path: Path) -> None:
    src = write_amex(tmp_path / "amex")
    out = tmp_path / "out"
    assert run_import("amex", str(src), "-o", str(out), "--split", "train") == 0
    check_valid(out)
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    assert folder.name.isdigit()
    first = json.loads((folder / "step_0.json").read_text())
    # The tap (60, 70) on a device twice the screenshot's size is (30, 35) on the screenshot, inside the
    # clickable element found through the element file's image_path.
    assert first["context"]["point"] == [30, 35]
    assert first["output"]["action_parameter"] == {"click": "10,20,60,50"}
    assert first["context"]["ui_boxes"] == [[10, 20, 60, 50], [0, 0, W, H], [0, 10, W, 200]]
    assert first["context"]["source"]["episode_id"] == "ep_a"
    swipe = json.loads((folder / "step_1.json").read_text())
    assert swipe["output"]["action_parameter"] == {"swipe": "54,200,54,50"}
    assert swipe["context"]["scroll_direction"] == "up"
    enter = json.loads((folder / "step_2.json").read_text())
    assert enter["output"]["action_type"] == "enter"  # PRESS_ENTER: kept
    assert json.loads((folder / "step_3.json").read_text())["output"]["action_type"] == "type"
    assert json.loads((out / "dataset_card.json").read_text())["dropped"] == {}
    # amex_to_qa.py's level-3 test split: "Open Gmail." is a test app
    test = tmp_path / "test"
    assert run_import("amex", str(src), "-o", str(test), "--split", "test") == 0
    assert json.loads((test / "dataset_card.json").read_text())["episodes_out"] == 1
    assert run_import("amex", str(src), "-o", str(tmp_path / "o2"), "--split", "validation") == 2


def test_eval_run_with_scripted_predictions_on_each_imported_format(tmp_path: Path) -> None:
    from episodes.readers import iter_steps
    from tests.helpers.eval import answer, phone_r1, predictions_file

    sources = {
        "androidcontrol": [str(write_ac(tmp_path / "ac"))],
        "androidcontrol-jsonl": [
            str(write_ac_jsonl(tmp_path / "j")),
            "--screenshots",
            str(tmp_path / "j" / "images"),
        ],
        "aitz": [str(write_aitz(tmp_path / "aitz")), "--split", "test"],
        "gui-odyssey": [str(write_odyssey(tmp_path / "ody"))],
        "amex": [str(write_amex(tmp_path / "amex"))],
    }
    for fmt, args in sources.items():
        out = tmp_path / f"out-{fmt}"
        assert run_import(fmt, *args, "-o", str(out)) == 0
        steps = list(iter_steps(out))
        preds = predictions_file(
            tmp_path / f"{fmt}.jsonl", {s.step_id: answer(s.gold.to_json()) for s in steps}
        )
        results = tmp_path / f"{fmt}-results.jsonl"
        phone_r1(
            "eval",
            "run",
            "--episodes",
            str(out),
            "--predictions",
            str(preds),
            "-o",
            str(results),
            "--no-progress",
        )
        records = [json.loads(line) for line in results.read_text().splitlines()[1:]]
        assert len(records) == len(steps) and all(r["verdict"]["correct"] for r in records), fmt


def test_missing_screenshot_in_a_file_layout_names_the_file(tmp_path: Path, capsys) -> None:
    src = write_aitz(tmp_path / "aitz")
    (next((src / "test").rglob("*_2.png"))).unlink()
    assert run_import("aitz", str(src), "-o", str(tmp_path / "out"), "--split", "test") == 2
    err = capsys.readouterr().err
    assert "GENERAL-523638528775825151.json" in err and "_2.png, found no such file" in err
    out = tmp_path / "out2"
    assert run_import("aitz", str(src), "-o", str(out), "--split", "test", "--skip-invalid") == 0
    (reject,) = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert reject["source"].endswith("GENERAL-523638528775825151.json") and "_2.png" in reject["reason"]
    assert json.loads((out / "dataset_card.json").read_text())["episodes_out"] == 0
