"""One step writer: a step file's `input` is derived from the typed `Step` by `episodes.step.step_input`.

Every writer (importers, synth, own-history, the prompt builder) goes through it, so a step read from
a file and written back gives the file's input exactly, key order included.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.prompt import build_messages, step_text
from episodes.readers import iter_step_records
from episodes.records import read_record
from episodes.step import step_input
from eval.own_history import with_history
from tests.helpers.data import make_raw_folder, rewrite_step

ROOT = Path(__file__).resolve().parents[1]


def _same_input(path: Path) -> None:
    rec = read_record(path)
    assert rec.step is not None, rec.problems
    written = json.loads(path.read_text(encoding="utf-8"))["input"]
    assert list(rec.step.input.items()) == list(written.items()), path


def test_demo_steps_derive_their_file_input_exactly() -> None:
    records = list(iter_step_records(ROOT / "data" / "demo" / "train"))
    assert len(records) > 50
    for rec in records:
        assert list(rec.step.input.items()) == list(rec.raw["input"].items()), rec.source


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda inp: inp.update(step_instruction="tap wi-fi"), id="step-instruction"),
        pytest.param(lambda inp: inp.update(step_instruction=""), id="empty-step-instruction"),
        pytest.param(lambda inp: inp.pop("action_type_list"), id="no-labels"),
        pytest.param(lambda inp: inp.update(action_type_list={}), id="empty-labels"),
        pytest.param(lambda inp: inp.update(my_key=[1, "x"], other={"a": 1}), id="user-keys"),
        pytest.param(
            lambda inp: inp.update({"screen_path1": "", **{k: inp.pop(k) for k in list(inp)[2:]}}),
            id="empty-previous-screen-in-place",
        ),
    ],
)
def test_odd_inputs_are_written_back_as_read(tmp_path: Path, edit) -> None:
    root = make_raw_folder(tmp_path / "raw", {"5": 2})
    first = root / "5" / "step_0.json"  # a first step: no previous screen

    rewrite_step(first, lambda record: edit(record["input"]))
    _same_input(first)


def test_step_instruction_is_read_one_way(tmp_path: Path) -> None:
    root = make_raw_folder(tmp_path / "raw", {"5": 2})
    path = root / "5" / "step_1.json"
    rewrite_step(path, lambda r: r["input"].update(step_instruction="tap wi-fi"))
    low = read_record(path).step
    rewrite_step(path, lambda r: r["input"].update(step_instruction=""))
    empty = read_record(path).step
    assert low.instruction == "tap wi-fi" and empty.instruction is None
    # The prompt describes the field only for a step that has an instruction.
    assert "step_instruction" in build_messages(low)[0]["content"]
    assert "step_instruction" not in build_messages(empty)[0]["content"]


def test_prompt_shows_the_derived_input_with_images(tmp_path: Path) -> None:
    root = make_raw_folder(tmp_path / "raw", {"5": 2})
    step = read_record(root / "5" / "step_1.json").step
    shown = json.loads(step_text(step))
    assert shown == {**step.input, "screen_path1": "<image>", "screen_path2": "<image>"}
    assert list(shown) == list(step.input)


def test_own_history_changes_only_the_history(tmp_path: Path) -> None:
    root = make_raw_folder(tmp_path / "raw", {"5": 3})
    step = read_record(root / "5" / "step_2.json").step
    asked = with_history(step, ["我的第一步", "我的第二步"])
    assert asked.input == {**step.input, "history_path_all": ["我的第一步", "我的第二步"]}
    assert json.loads(step_text(asked))["history_path_all"] == ["我的第一步", "我的第二步"]


def test_screen_names_must_match_the_screenshots(tmp_path: Path) -> None:
    step = read_record(make_raw_folder(tmp_path / "raw", {"5": 2}) / "5" / "step_1.json").step
    with pytest.raises(ValueError, match="one screen name per screenshot"):
        step_input(step, screens=["<image>"])


def test_synthesized_and_imported_steps_read_back_as_written(tmp_path: Path) -> None:
    from episodes.importers import run_import
    from episodes.importers.base import ImportOptions
    from episodes.synth import synthesize
    from tests.helpers.importers import write_ac

    synthesize(tmp_path / "synth", episodes=2, seed=1, size=(360, 800))
    run_import("androidcontrol", write_ac(tmp_path / "ac"), tmp_path / "low", ImportOptions(setting="low"))
    paths = sorted((tmp_path / "synth").rglob("step_*.json")) + sorted(
        (tmp_path / "low").rglob("step_*.json")
    )
    assert len(paths) > 6
    for path in paths:
        _same_input(path)
    assert any(read_record(p).step.instruction for p in paths)
