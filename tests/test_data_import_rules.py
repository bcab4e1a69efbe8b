"""The importers' shared rules: the gold box, eligible a11y nodes, the Example reader, the registry and
one property over all importers."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions import parse_action
from episodes.importers import aitz, amex, androidcontrol, androidcontrol_jsonl, gui_odyssey
from episodes.importers.tfrecord import parse_example, parse_forest
from tests.helpers.importers import encode_example, standard_forest


@pytest.mark.parametrize(
    ("eligible", "point", "expected"),
    [
        ([(0, 0, 50, 100), (10, 10, 30, 30)], (20, 20), ((10, 10, 30, 30), "element")),  # smallest containing
        ([(0, 0, 108, 240), (0, 10, 108, 200)], (50, 50), ((49, 49, 51, 51), "fallback")),  # both >= 65%
        ([(0, 0, 108, 150)], (50, 50), ((0, 0, 108, 150), "element")),  # 62.5%: allowed
        ([(60, 60, 90, 90)], (50, 50), ((49, 49, 51, 51), "fallback")),  # misses the point
        ([], (0, 240), ((0, 239, 1, 240), "fallback")),  # square clipped to the screen
    ],
)
def test_gold_box_rule(eligible, point, expected) -> None:
    from episodes.importers.geometry import gold_box

    assert gold_box(eligible, point, (108, 240)) == expected


def test_androidcontrol_eligible_nodes() -> None:
    from episodes.importers.androidcontrol import _boxes
    from episodes.importers.tfrecord import Node

    nodes = [
        Node(bounds=(0, 0, 1, 1), visible=True, children=2, action_ids=[16]),  # click action: interactive
        Node(bounds=(0, 0, 2, 2), visible=True, children=2),  # a container: candidate only
        Node(bounds=(0, 0, 3, 3), visible=True),  # a leaf
        Node(bounds=(0, 0, 4, 4), visible=False, clickable=True),  # not visible: neither
        Node(bounds=(0, 0, 5, 5), visible=True, children=1, focusable=True),
    ]
    eligible, candidates = _boxes(nodes)
    assert eligible == [(0, 0, 1, 1), (0, 0, 3, 3), (0, 0, 5, 5)]
    assert candidates == [(0, 0, 1, 1), (0, 0, 2, 2), (0, 0, 3, 3), (0, 0, 5, 5)]


def test_byte_features_keep_trailing_nul_bytes() -> None:
    ex = parse_example(encode_example({"b": [b"ab\x00\x00", b"\x08\x00"], "i": [7, -1]}))
    assert ex == {"b": [b"ab\x00\x00", b"\x08\x00"], "i": [7, -1]}


def test_every_importer_resolves_names_its_source_and_has_a_docs_section() -> None:
    import sys

    from episodes.importers import IMPORTERS, resolve

    docs = (Path(__file__).resolve().parents[1] / "docs" / "data.md").read_text(encoding="utf-8")
    for name in IMPORTERS:
        fn, version = resolve(name)
        doc = sys.modules[fn.__module__].__doc__ or ""
        assert "Source:" in doc and "What differs" in doc and version, name
        assert f"### `{name}`" in docs, name
    fn, _ = resolve("episodes.importers.amex:import_episodes")
    assert fn is resolve("amex")[0]
    with pytest.raises(ValueError, match="unknown import format"):
        resolve("nope")


# --- one property over every importer: any point or direction gives a valid wire action on the screen ---

SCREEN = (108, 240)
FOREST = parse_forest(standard_forest())


def _entries(x: float, y: float, x2: float, y2: float, direction: str) -> dict:
    """One source action per importer (click-like and swipe-like), in each source's own units."""
    w, h = SCREEN
    return {
        "androidcontrol": [
            lambda: androidcontrol.convert_action(
                {"action_type": "click", "x": x * w, "y": y * h}, FOREST, SCREEN, "d"
            )[0],
            lambda: androidcontrol.convert_action(
                {"action_type": "scroll", "direction": direction}, FOREST, SCREEN, "d"
            )[0],
        ],
        "androidcontrol-jsonl": [
            lambda: androidcontrol_jsonl.convert_step(
                {
                    "action_content": {"action": "long_press", "coordinate": [x * w, y * h]},
                    "check_options": {"candidate_bbox": [[0, 0, x2 * w, y2 * h]]},
                },
                SCREEN,
                "d",
            )[0],
            lambda: androidcontrol_jsonl.convert_step(
                {"action_content": {"action": "swipe"}, "check_options": {"direction": direction}},
                SCREEN,
                "d",
            )[0],
        ],
        "aitz": [
            lambda: aitz.convert_entry(
                {
                    "result_action_type": 4,
                    "result_touch_yx": f"[{y}, {x}]",
                    "result_lift_yx": f"[{y2}, {x2}]",
                    "ui_positions": "[[10, 10, 50, 50]]",
                },
                SCREEN,
                "d",
            )[0]
        ],
        "gui-odyssey": [
            lambda: gui_odyssey.convert_step(
                {
                    "action": "CLICK",
                    "info": [[x * 1000, y * 1000]],
                    "sam2_bbox": [0, 0, x2 * 1000, y2 * 1000],
                },
                SCREEN,
                "d",
            )[0],
            lambda: gui_odyssey.convert_step(
                {"action": "SCROLL", "info": [[x * 1000, y * 1000], [x2 * 1000, y2 * 1000]]}, SCREEN, "d"
            )[0],
        ],
        "amex": [
            lambda: amex.convert_step(
                {"action": "TAP", "touch_coord": [x * w, y * h]}, SCREEN, [[0, 0, x2 * w, y2 * h]], [], "d"
            )[0],
            lambda: amex.convert_step(
                {"action": "SWIPE", "touch_coord": [x * w, y * h], "lift_coord": [x2 * w, y2 * h]},
                SCREEN,
                [],
                [],
                "d",
            )[0],
        ],
    }


unit = st.floats(min_value=-0.2, max_value=1.2, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(unit, unit, unit, unit, st.sampled_from(["up", "down", "left", "right", "Down"]))
def test_every_importer_yields_wire_actions_inside_the_screen(x, y, x2, y2, direction) -> None:
    from episodes.importers import IMPORTERS, grounding_formats

    entries = _entries(x, y, x2, y2, direction)
    assert set(entries) == set(IMPORTERS) - set(grounding_formats())  # grounding sets have no actions
    for name, makers in entries.items():
        for make in makers:
            action = parse_action(make(), strict=True)
            coords = getattr(action, "box", None) or (*action.start, *action.end)
            assert all(0 <= v <= SCREEN[i % 2] for i, v in enumerate(coords)), (name, action)
            if getattr(action, "box", None):
                x1, y1, bx2, by2 = action.box
                assert x1 <= bx2 and y1 <= by2 and (bx2 - x1) * (by2 - y1) < 0.65 * SCREEN[0] * SCREEN[1]


def test_androidcontrol_jsonl_keeps_the_candidate_boxes_as_given() -> None:
    """InfiGUI-R1 and UI-S1 enlarge `check_options.candidate_bbox` as the file gives it: a node reaching
    past the screen edge stays as it is (clipping it shrinks the enlarged box and loses taps)."""
    step = {
        "action_content": {"action": "click", "coordinate": [62, 198]},
        "check_options": {"candidate_bbox": [[28, 164, 97, 233], [-55, 136, 183, 319]]},
    }
    wired, _, context, _ = androidcontrol_jsonl.convert_step(step, (1080, 2400), "tap")
    assert context["candidate_boxes"] == [[28, 164, 97, 233], [-55, 136, 183, 319]]
    assert context["point"] == [62, 198]
    assert wired["action_parameter"]["click"] == "28,164,97,233"
