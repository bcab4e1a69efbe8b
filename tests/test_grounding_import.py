"""Grounding importers: each benchmark's files as released become a valid grounding set; bad records are
named with file, record and reason, or skipped into rejects.jsonl with --skip-invalid."""

from __future__ import annotations

import json

import pytest

from actions.regions import Box, Polygon, Refusal
from episodes.grounding import read_grounding_items, validate_grounding
from episodes.importers.base import ImportFailure, ImportOptions
from episodes.importers.grounding_base import run_grounding_import
from episodes.importers.mmbench_gui import MMBENCH_GUI
from episodes.importers.osworld_g import OSWORLD_G
from episodes.importers.screenspot import SCREENSPOT, SCREENSPOT_V2
from episodes.importers.screenspot_pro import SCREENSPOT_PRO
from episodes.importers.ui_vision import UI_VISION
from tests.helpers import grounding_sources as release

IMPORTERS = {
    "screenspot": (SCREENSPOT, release.screenspot),
    "screenspot-v2": (SCREENSPOT_V2, lambda root: release.screenspot(root, v2=True)),
    "screenspot-pro": (SCREENSPOT_PRO, release.screenspot_pro),
    "osworld-g": (OSWORLD_G, release.osworld_g),
    "ui-vision": (UI_VISION, release.ui_vision),
    "mmbench-gui": (MMBENCH_GUI, release.mmbench_gui),
}


def imported(tmp_path, name, options=None, *, edit=None):
    importer, make = IMPORTERS[name]
    src = make(tmp_path / "src")
    if edit is not None:
        edit(src)
    out = tmp_path / "out"
    card = run_grounding_import(importer, name, src, out, options or ImportOptions())
    return card, out


@pytest.mark.parametrize("name", list(IMPORTERS))
def test_each_release_imports_into_a_valid_set(tmp_path, name):
    card, out = imported(tmp_path, name)
    report = validate_grounding(out)
    assert report.ok and not report.problems, [str(p) for p in report.problems]
    items = read_grounding_items(out)
    assert len(items) == card["items_out"] == card["items_in"] > 0
    assert card["kind"] == "grounding" and card["benchmark"] == name and card["rejected"] == 0
    assert all(i.benchmark == name and i.image.is_file() and i.image.is_relative_to(out) for i in items)
    assert json.loads((out / "dataset_card.json").read_text(encoding="utf-8"))["protocol"] == card["protocol"]


def test_screenspot_boxes_become_corners_and_platforms_come_from_the_file(tmp_path):
    card, out = imported(tmp_path, "screenspot")
    items = {i.id: i for i in read_grounding_items(out)}
    assert items["mobile/0"].target == Box((10, 20, 40, 60))  # [x, y, w, h] -> x + w, y + h
    assert items["mobile/1"].categories == {"platform": "mobile", "ui_type": "text", "source": "ios"}
    assert items["web/0"].screen == (300, 150) and items["web/0"].declared_screen is None
    assert card["categories"]["platform"] == {"mobile": 2, "web": 1} and card["protocol"] == "screenspot"


def test_screenspot_split_imports_one_platform(tmp_path):
    _, out = imported(tmp_path, "screenspot", ImportOptions(split="web"))
    assert [i.id for i in read_grounding_items(out)] == ["web/0"]


def test_screenspot_refuses_the_normalised_mirror_boxes(tmp_path):
    def normalise(src):
        path = src / "screenspot_web.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        data[0]["bbox"] = [0.1, 0.2, 0.3, 0.4]
        path.write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(ImportFailure, match=r"screenspot_web.json: record 0: bbox .* looks normalised"):
        imported(tmp_path, "screenspot", edit=normalise)


def test_screenspot_pro_keeps_the_declared_size_and_the_chinese_instruction(tmp_path):
    _, out = imported(tmp_path, "screenspot-pro")
    item = read_grounding_items(out)[0]
    assert item.id == "vscode_macos_0" and item.target == Box((300, 10, 320, 30))
    assert item.declared_screen == (400, 200) and item.instruction_in("cn") == "运行文件"
    assert item.categories == {
        "group": "Dev",
        "application": "vscode",
        "platform": "macos",
        "ui_type": "icon",
    }
    assert (out / "images" / "vscode_macos" / "s1.png").is_file()


def test_osworld_g_boxes_polygons_refusals_and_capabilities(tmp_path):
    card, out = imported(tmp_path, "osworld-g")
    box, polygon, refusal = read_grounding_items(out)
    assert box.target == Box((10, 20, 40, 60))  # [x, y, w, h]
    assert polygon.target == Polygon(((100, 10), (150, 10), (150, 60), (100, 60)))
    assert refusal.target == Refusal() and refusal.refusal
    assert box.categories["capability"] == ("text_matching", "layout_understanding")
    assert refusal.categories["capability"] == ("unclassified",)
    assert polygon.categories["gui_types"] == ("Slider",)
    assert card["targets"] == {"box": 1, "polygon": 1, "refuse": 1}


def test_ui_vision_keeps_inverted_boxes_and_names_the_setting(tmp_path):
    _, out = imported(tmp_path, "ui-vision")
    items = {i.id: i for i in read_grounding_items(out)}
    assert set(items) == {"basic/0", "functional/0", "spatial/0"}
    assert items["functional/0"].target == Box((40, 40, 10, 10))  # as released; the protocol swaps
    assert items["basic/0"].instruction == "Brush tool" and items["basic/0"].categories["setting"] == "basic"
    assert items["basic/0"].declared_screen == (300, 200)


def test_mmbench_boxes_stay_normalised_and_images_sit_under_their_platform(tmp_path):
    _, out = imported(tmp_path, "mmbench-gui")
    windows, android = read_grounding_items(out)
    assert windows.id == "7" and windows.target == Box((0.9, 0.0, 1.0, 0.1), "unit")
    assert windows.image == (out / "images" / "os_windows" / "w.png").resolve()
    assert (
        android.categories["grounding_type"] == "advanced"
        and android.categories["category"] == "communication"
    )


def test_mmbench_split_by_grounding_type(tmp_path):
    _, out = imported(tmp_path, "mmbench-gui", ImportOptions(split="advanced"))
    assert [i.id for i in read_grounding_items(out)] == ["8"]


def _break(path, index, **changes):
    data = json.loads(path.read_text(encoding="utf-8"))
    data[index].update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


BAD = [
    (
        "screenspot",
        "screenspot_mobile.json",
        1,
        {"bbox": [1, 2, 3]},
        "expected bbox [x, y, w, h] as 4 numbers",
    ),
    ("screenspot", "screenspot_mobile.json", 1, {"img_filename": "gone.png"}, "found no such file"),
    ("screenspot-pro", "annotations/vscode_macos.json", 1, {"img_size": [400]}, "expected the image size"),
    ("osworld-g", "OSWorld-G.json", 1, {"box_type": "circle"}, "expected box_type bbox, polygon or refusal"),
    ("osworld-g", "OSWorld-G.json", 1, {"box_coordinates": [1, 2, 3, 4, 5]}, "at least 3 x, y pairs"),
    (
        "ui-vision",
        "annotations/element_grounding/element_grounding_spatial.json",
        0,
        {"prompt_to_evaluate": ""},
        "expected prompt_to_evaluate as a non-empty string",
    ),
    (
        "mmbench-gui",
        "MMBench-GUI/L2_annotations.json",
        1,
        {"grounding_type": None},
        "expected grounding_type",
    ),
]


@pytest.mark.parametrize(
    "name,file,index,changes,reason", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)]
)
def test_bad_records_name_file_record_and_reason(tmp_path, name, file, index, changes, reason):
    with pytest.raises(ImportFailure) as err:
        imported(tmp_path / "strict", name, edit=lambda src: _break(src / file, index, **changes))
    assert err.value.source.endswith(file) and err.value.record == index and reason in err.value.reason
    card, out = imported(
        tmp_path / "lenient",
        name,
        ImportOptions(skip_invalid=True),
        edit=lambda src: _break(src / file, index, **changes),
    )
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rejects) == card["rejected"] == 1
    assert (
        rejects[0]["source"].endswith(file)
        and rejects[0]["record"] == index
        and reason in rejects[0]["reason"]
    )
    assert card["items_out"] == card["items_in"] - 1
    assert validate_grounding(out).ok


def test_limit_and_a_missing_release(tmp_path):
    card, out = imported(tmp_path, "osworld-g", ImportOptions(limit=2))
    assert card["items_out"] == 2 and len(read_grounding_items(out)) == 2
    with pytest.raises(FileNotFoundError, match="expected the ui-vision release"):
        run_grounding_import(UI_VISION, "ui-vision", tmp_path / "nowhere", tmp_path / "o2", ImportOptions())
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="expected OSWorld-G.json"):
        run_grounding_import(OSWORLD_G, "osworld-g", tmp_path / "empty", tmp_path / "o3", ImportOptions())


def test_a_used_output_folder_is_refused(tmp_path):
    _, out = imported(tmp_path, "osworld-g")
    with pytest.raises(FileExistsError, match="expected an empty or new output folder"):
        run_grounding_import(OSWORLD_G, "osworld-g", tmp_path / "src", out, ImportOptions())


def test_data_import_writes_a_grounding_set_and_names_bad_records(tmp_path, capsys):
    from phone_r1.cli import main

    src = release.osworld_g(tmp_path / "src")
    assert main(["data", "import", "osworld-g", str(src), "-o", str(tmp_path / "out")]) == 0
    assert "wrote 3 grounding items" in capsys.readouterr().out
    assert main(["data", "validate", str(tmp_path / "out")]) == 0
    _break(src / "OSWorld-G.json", 2, box_type="ellipse")
    assert main(["data", "import", "osworld-g", str(src), "-o", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert "OSWorld-G.json: record 2: expected box_type bbox, polygon or refusal, found 'ellipse'" in err
    code = main(["data", "import", "osworld-g", str(src), "-o", str(tmp_path / "skip"), "--skip-invalid"])
    assert code == 0 and "rejected 1" in capsys.readouterr().out
