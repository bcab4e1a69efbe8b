"""`data validate`: each kind of problem is found, with its file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from episodes.validate import validate
from tests.helpers.data import make_raw_folder, rewrite_step, write_image


def _codes(report) -> set[str]:
    return {p.code for p in report.errors}


def test_clean_folder_has_no_problems(tmp_path: Path) -> None:
    report = validate(make_raw_folder(tmp_path / "raw"))
    assert report.ok and report.problems == [] and report.steps == 10 and report.episodes == 3


def _set_param(value: str):
    def edit(record: dict) -> None:
        record["output"] = {
            "action_type": "click",
            "action_parameter": {"click": value},
            "action_description": "点击",
        }

    return edit


# (case name, how to break episode "1" of two 3-step episodes, expected code, file, expected line or None)
CASES = [
    (
        "bad json",
        lambda ep: (ep / "step_1.json").write_text('{\n "input": {\n  "task_content": ,\n', encoding="utf-8"),
        "bad_json",
        "step_1.json",
        3,
    ),
    (
        "unknown type",
        lambda ep: rewrite_step(ep / "step_2.json", lambda r: r["output"].update(action_type="fly")),
        "unknown_action_type",
        "step_2.json",
        None,
    ),
    (
        "bad parameter",
        lambda ep: rewrite_step(ep / "step_1.json", _set_param("1,2,3")),
        "bad_action",
        "step_1.json",
        None,
    ),
    (
        "box outside",
        lambda ep: rewrite_step(ep / "step_1.json", _set_param("10,10,500,30")),
        "box_outside_screen",
        "step_1.json",
        None,
    ),
    (
        "box inverted",
        lambda ep: rewrite_step(ep / "step_1.json", _set_param("60,50,10,20")),
        "box_inverted",
        "step_1.json",
        None,
    ),
    ("missing image", lambda ep: (ep / "1_1.jpg").unlink(), "missing_image", "step_1.json", None),
    (
        "unreadable image",
        lambda ep: (ep / "1_2.jpg").write_bytes(b"not an image"),
        "unreadable_image",
        "step_2.json",
        None,
    ),
    ("gap", lambda ep: (ep / "step_1.json").rename(ep / "step_4.json"), "step_gap", "step_2.json", None),
    (
        "screen size",
        lambda ep: write_image(ep / "1_2.jpg", (100, 200)),
        "screen_size_mismatch",
        "step_2.json",
        None,
    ),
    (
        "missing key",
        lambda ep: rewrite_step(ep / "step_0.json", lambda r: r["input"].pop("task_path")),
        "bad_record",
        "step_0.json",
        None,
    ),
    (
        "duplicate step",
        lambda ep: (ep / "step_01.json").write_text(
            (ep / "step_1.json").read_text(encoding="utf-8"), encoding="utf-8"
        ),
        "duplicate_step",
        "step_1.json",
        None,
    ),
    (
        "bad step name",
        lambda ep: (ep / "step_x.json").write_text("{}", encoding="utf-8"),
        "bad_step_name",
        "step_x.json",
        None,
    ),
]


@pytest.mark.parametrize("name,breaker,code,filename,line", CASES, ids=[c[0] for c in CASES])
def test_each_problem_is_reported_with_file_and_line(
    tmp_path: Path, name, breaker, code, filename, line
) -> None:
    root = make_raw_folder(tmp_path / "raw", {"1": 3, "2": 3})
    breaker(root / "1")
    report = validate(root)
    assert not report.ok
    hits = [p for p in report.errors if p.code == code]
    assert hits, f"{code} not in {[str(p) for p in report.problems]}"
    assert Path(hits[0].path).name == filename and Path(hits[0].path).parent.name == "1"
    if line is not None:
        assert hits[0].line == line
    if code in {"unknown_action_type", "box_outside_screen", "box_inverted", "bad_action"}:
        # the line points at the offending key in the pretty-printed step file
        text = Path(hits[0].path).read_text(encoding="utf-8").splitlines()
        assert '"action_' in text[hits[0].line - 1]
    # episode "2" is untouched
    assert not [p for p in report.problems if Path(p.path).parent.name == "2" or Path(p.path).name == "2"]


def test_all_problems_are_collected_not_just_the_first(tmp_path: Path) -> None:
    root = make_raw_folder(tmp_path / "raw", {"1": 3, "2": 3})
    (root / "1" / "step_1.json").write_text("{", encoding="utf-8")
    rewrite_step(root / "2" / "step_2.json", lambda r: r["output"].update(action_type="fly"))
    assert _codes(validate(root)) == {"bad_json", "unknown_action_type"}


def test_jsonl_problems_carry_the_line(tmp_path: Path) -> None:
    write_image(tmp_path / "7" / "7_0.jpg")
    inp = {
        "task_content": "t",
        "task_path": {},
        "screen_path2": "<image>",
        "history_path_all": [],
        "app_name": "a",
    }
    good = {"action_type": "click", "action_parameter": {"click": "1,2,3,4"}, "action_description": ""}
    bad = dict(good, action_parameter={"click": "1,2,300,4"})

    def line(out, images):
        conv = [{"from": "human", "value": "p" + json.dumps(inp)}, {"from": "gpt", "value": json.dumps(out)}]
        return json.dumps({"id": 1, "image": images, "conversations": conv})

    path = tmp_path / "d.jsonl"
    path.write_text(
        "\n".join([line(good, ["7/7_0.jpg"]), "{oops", line(bad, ["7/7_0.jpg"]), line(good, ["7/7_9.jpg"])])
        + "\n",
        encoding="utf-8",
    )
    found = {(p.code, p.line) for p in validate(path).errors}
    assert found == {("bad_json", 2), ("box_outside_screen", 3), ("missing_image", 4)}


def test_decode_catches_a_truncated_screenshot(tmp_path: Path) -> None:
    root = make_raw_folder(tmp_path / "raw", {"1": 2})
    image = root / "1" / "1_1.jpg"
    write_image(image, (120, 240), shade=90)
    from PIL import Image, ImageDraw

    with Image.open(image) as im:  # noisy content so the JPEG body is long enough to cut
        im = im.copy()
    draw = ImageDraw.Draw(im)
    for i in range(0, 240, 3):
        draw.line((0, i, 120, 240 - i), fill=(i, 255 - i, (7 * i) % 255))
    im.save(image, quality=95)
    image.write_bytes(image.read_bytes()[: image.stat().st_size // 2])
    assert validate(root).ok  # the header is intact
    report = validate(root, decode=True)
    assert [(Path(p.path).name, p.code) for p in report.errors] == [("step_1.json", "unreadable_image")]
