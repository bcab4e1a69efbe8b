"""Grounding metrics: micro and macro side by side, each benchmark's headline, breakdowns, intervals."""

from __future__ import annotations

import pytest

from actions.grounding_protocols import get_grounding_protocol
from eval.grounding_metrics import format_grounding_metrics, grounding_metrics


def rec(correct: bool, counted: bool = True, box_type: str = "box", **categories) -> dict:
    outcome = "correct" if correct else "wrong"
    return {
        "categories": categories,
        "box_type": box_type,
        "verdict": {"correct": correct, "counted": counted, "outcome": outcome},
    }


def many(n_right: int, n: int, **categories) -> list[dict]:
    return [rec(i < n_right, **categories) for i in range(n)]


def test_screenspot_micro_and_the_six_cell_macro_differ_and_are_both_named():
    # SeeClick's "Avg" is the mean of its platform x type cells; OS-Atlas's the accuracy over all items.
    records = (
        many(9, 10, platform="mobile", ui_type="text")
        + many(1, 2, platform="mobile", ui_type="icon")
        + many(3, 4, platform="web", ui_type="text")
        + many(0, 4, platform="web", ui_type="icon")
    )
    m = grounding_metrics(records, get_grounding_protocol("screenspot"))
    assert m["micro"]["value"] == pytest.approx(13 / 20)
    assert m["headline"]["definition"] == "micro" and m["headline"]["value"] == m["micro"]["value"]
    assert m["macro"]["platform"]["value"] == pytest.approx((10 / 12 + 3 / 8) / 2)
    assert m["macro"]["ui_type"]["value"] == pytest.approx((12 / 14 + 1 / 6) / 2)
    cells = m["breakdowns"]["platform/ui_type"]
    assert cells["mobile/text"] == {"n": 10, "correct": 9, "accuracy": 0.9}
    assert cells["web/icon"]["accuracy"] == 0.0
    assert sum(c["accuracy"] for c in cells.values()) / 4 == pytest.approx((0.9 + 0.5 + 0.75 + 0) / 4)
    text = format_grounding_metrics(m)
    assert "headline (micro): 65.00" in text and "macro over platform (2 values): 60.42" in text


def test_ui_vision_headline_is_the_mean_of_its_three_settings():
    records = many(2, 4, setting="basic") + many(3, 4, setting="functional") + many(1, 2, setting="spatial")
    m = grounding_metrics(records, get_grounding_protocol("ui-vision"))
    assert m["micro"]["value"] == pytest.approx(0.6)
    assert m["headline"]["definition"] == "macro over setting"
    assert m["headline"]["value"] == pytest.approx((0.5 + 0.75 + 0.5) / 3)


def test_mmbench_headline_is_the_mean_of_the_two_levels_each_weighted_by_items():
    records = (
        many(3, 4, grounding_type="basic", platform="windows")
        + many(1, 2, grounding_type="basic", platform="android")
        + many(1, 4, grounding_type="advanced", platform="windows")
    )
    m = grounding_metrics(records, get_grounding_protocol("mmbench-gui"))
    # matrics.py: a level's score is its item-weighted mean over platforms (4/6), not (3/4 + 1/2) / 2.
    assert m["headline"]["value"] == pytest.approx((4 / 6 + 1 / 4) / 2)
    assert m["breakdowns"]["grounding_type/platform"]["basic/android"]["accuracy"] == 0.5


def test_osworld_capabilities_count_an_item_in_each_class_and_refusals_apart():
    records = [
        rec(True, capability=["text_matching", "layout_understanding"]),
        rec(False, capability=["layout_understanding"]),
        rec(True, box_type="polygon", capability=["fine_grained_manipulation"]),
        rec(True, counted=False, box_type="refuse"),
        rec(False, counted=False, box_type="refuse"),
    ]
    m = grounding_metrics(records, get_grounding_protocol("osworld-g-no-refusal"))
    assert (m["items"], m["counted"], m["correct"]) == (5, 3, 2)
    assert m["breakdowns"]["capability"]["layout_understanding"] == {"n": 2, "correct": 1, "accuracy": 0.5}
    assert m["breakdowns"]["capability"]["text_matching"]["n"] == 1
    assert m["breakdowns"]["box_type"]["polygon"]["n"] == 1 and "refuse" not in m["breakdowns"]["box_type"]
    assert m["uncounted"] == {"n": 2, "correct": 1, "box_types": {"refuse": 2}}
    assert "not counted by this protocol: 2 items" in format_grounding_metrics(m)


def test_intervals_hold_the_estimate_narrow_with_more_items_and_repeat_with_the_seed():
    small = grounding_metrics(many(30, 50, platform="a"), get_grounding_protocol("region"))
    large = grounding_metrics(many(600, 1000, platform="a"), get_grounding_protocol("region"))
    for m in (small, large):
        low, high = m["micro"]["ci95"]
        assert low <= m["micro"]["value"] <= high
    width = lambda m: m["micro"]["ci95"][1] - m["micro"]["ci95"][0]  # noqa: E731
    assert width(large) < width(small) / 3
    again = grounding_metrics(many(30, 50, platform="a"), get_grounding_protocol("region"))
    assert again["micro"]["ci95"] == small["micro"]["ci95"]


def test_macro_interval_is_stratified_and_holds_its_value():
    records = (
        many(45, 50, setting="basic") + many(5, 50, setting="functional") + many(25, 50, setting="spatial")
    )
    m = grounding_metrics(records, get_grounding_protocol("ui-vision"))
    low, high = m["headline"]["ci95"]
    assert low <= m["headline"]["value"] <= high
    # Resampling within each setting: the mean of three independent rates, sd sqrt(sum p(1-p)/n) / 3
    # (a pooled resample of all 150 items would be about a third wider).
    expected = 3.92 * (sum(p * (1 - p) / 50 for p in (0.9, 0.1, 0.5)) ** 0.5) / 3
    assert abs((high - low) - expected) < 0.15 * expected


def test_outcomes_are_counted_over_counted_items():
    records = [
        rec(True),
        rec(False),
        {
            "categories": {},
            "box_type": "box",
            "verdict": {"correct": False, "counted": True, "outcome": "wrong_format"},
        },
    ]
    m = grounding_metrics(records, get_grounding_protocol("region"))
    assert m["outcomes"] == {"correct": 1, "wrong": 1, "wrong_format": 1, "refused": 0}


def test_an_interval_depends_only_on_its_own_cells_not_on_the_protocols_other_breakdowns():
    rows = [
        {
            "categories": {"platform": p, "setting": s},
            "box_type": "box",
            "verdict": {"correct": c, "counted": True},
        }
        for p, s, c in [("web", "basic", True), ("mobile", "basic", False), ("web", "functional", True)] * 400
    ]
    # few resamples: the interval's ends move with any change in the random draws behind them
    micro = {
        name: grounding_metrics(rows, get_grounding_protocol(name), n_resamples=40)["micro"]
        for name in ("region", "ui-vision")
    }
    assert micro["region"] == micro["ui-vision"]
