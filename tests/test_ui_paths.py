"""The UI opens and serves files only inside the episodes folder and the results' folders."""

from __future__ import annotations

import json
import os

import pytest

from tests.helpers.ui import make_episodes, make_results
from ui.paths import PathOutsideRoots, resolve_inside, serve_roots
from ui.replay import load_replay, screenshot_path
from ui.views import gallery_items, render_step


@pytest.fixture()
def tree(tmp_path):
    root = make_episodes(tmp_path / "eps")
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", root / "101" / "leak.png")
    os.symlink(root / "101" / "101_0.png", root / "102" / "inside.png")
    return tmp_path, root


def test_inside_paths_resolve(tree):
    _, root = tree
    assert resolve_inside("101/101_0.png", [root]) == (root / "101" / "101_0.png").resolve()
    assert resolve_inside(root / "101" / "step_0.json", [root]).name == "step_0.json"
    # a symlink that stays inside the folder is fine
    assert resolve_inside(root / "102" / "inside.png", [root]).name == "101_0.png"


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",  # climbs out
        "/etc/passwd",  # absolute, elsewhere
        "101/../../secret.txt",  # climbs out from inside
        "101/leak.png",  # symlink inside pointing out
    ],
)
def test_outside_paths_are_refused(tree, name):
    _, root = tree
    with pytest.raises(PathOutsideRoots, match="outside the allowed folders"):
        resolve_inside(name, [root])


def test_no_roots_refuses_everything(tmp_path):
    with pytest.raises(PathOutsideRoots):
        resolve_inside(tmp_path, [])


def test_serve_roots_are_episodes_and_results_folders(tmp_path):
    roots = serve_roots(
        tmp_path / "eps", [tmp_path / "runs" / "a.jsonl", None, tmp_path / "runs" / "b.jsonl"]
    )
    assert roots == [(tmp_path / "eps").resolve(), (tmp_path / "runs").resolve()]


def test_step_naming_an_outside_screenshot_is_not_opened(tree, caplog):
    tmp_path, root = tree
    make_results(tmp_path / "runs" / "a.jsonl")
    # a crafted step whose current screen climbs out of the episodes folder, another one via a symlink
    for n, name in ((1, "../../secret.txt"), (2, "leak.png")):
        step_file = root / "101" / f"step_{n}.json"
        record = json.loads(step_file.read_text(encoding="utf-8"))
        record["input"]["screen_path2"] = name
        step_file.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    data = load_replay(root, tmp_path / "runs" / "a.jsonl")
    steps = data.steps("101")
    assert [s.index for s in steps] == [
        0,
        1,
        2,
    ]  # the reader keeps them (non-strict); the UI refuses the files
    for step in steps[1:]:
        assert screenshot_path(data, step.current_screenshot) is None
        view = render_step(data, "101", step.index)
        assert view.current is None
    assert "outside the allowed folders" in caplog.text
    items, positions = gallery_items(data, "101", [0, 1, 2])
    assert positions == [0] and len(items) == 1
    assert screenshot_path(data, steps[0].current_screenshot) is not None
