"""The replay UI on a grounding set: each item a one-step episode, its target region and every run's
answered point drawn, the verdict under the run's protocol, and the run's numbers as `eval report`
gives them."""

from __future__ import annotations

import numpy as np
import pytest

from eval.grounding_report import metrics_of
from eval.results import read_results
from phone_r1.cli import main as cli_main
from tests.helpers.eval import predictions_file
from tests.helpers.grounding import item_line, write_set
from ui.app import make_filters, show_step
from ui.overlay import GOLD_COLOR, PRED_B_COLOR, PRED_COLOR
from ui.replay import episode_rows, load_replay
from ui.views import metrics_summary


def has_color(image, color) -> bool:
    return bool(np.all(np.asarray(image.convert("RGB")) == np.array(color, dtype=np.uint8), axis=-1).any())


@pytest.fixture
def replay(tmp_path):
    """A box, a polygon and a refusal item; run A answers the first two right, run B only the polygon."""
    root = write_set(tmp_path / "set", [item_line(0), item_line(1), item_line(2)])
    outs = []
    for name, answers in (
        ("a", {"set/0": "[175,250]", "set/1": "[625,500]", "set/2": "[900,900]"}),
        ("b", {"set/0": "[900,900]", "set/1": "[600,400]", "set/2": "[-1,-1]"}),
    ):
        preds = predictions_file(tmp_path / f"{name}.preds.jsonl", answers)
        out = tmp_path / f"{name}.jsonl"
        args = [
            "eval",
            "run",
            "--episodes",
            str(root),
            "--predictions",
            str(preds),
            "--agent",
            "ui-venus-1.5",
        ]
        assert cli_main([*args, "-o", str(out), "--no-progress"]) == 0
        outs.append(out)
    return root, outs


def test_items_are_one_step_episodes_scored_as_the_report_scores_them(replay):
    root, (a, b) = replay
    data = load_replay(root, a, b)
    rows = episode_rows(data)
    assert [r.episode_id for r in rows] == ["set/0", "set/1", "set/2"]
    assert [r.scores for r in rows] == [(1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    assert data.runs[0].metrics == metrics_of(read_results(a))
    overall = metrics_summary([(run.label, run.metrics) for run in data.runs], "Overall")
    assert "| micro (95% CI) | 66.7%" in overall and "macro over platform" in overall
    # failures only: the items some run got wrong
    failing = [r.episode_id for r in episode_rows(data, make_filters(True, None, None))]
    assert failing == ["set/0", "set/2"]


def test_the_target_polygon_and_each_answer_are_drawn(replay):
    root, (a, b) = replay
    data = load_replay(root, a, b)
    shown = show_step(data, "set/1", 0, make_filters(False, None, None))
    assert "**Item set/1**" in shown["header"] and "press button 1" in shown["header"]
    assert "按下按钮1" in shown["header"] and "target **polygon**" in shown["header"]
    assert '"type": "polygon"' in shown["gold"]
    assert "✔ correct" in shown["runs"][0] and "click at (125" in shown["runs"][0]
    assert "Verdict (region)" in shown["runs"][1]
    for color in (GOLD_COLOR, PRED_COLOR, PRED_B_COLOR):
        assert has_color(shown["current"], color), color


def test_a_refusal_item_says_so_for_the_target_and_the_answer(replay):
    root, (a, b) = replay
    data = load_replay(root, a, b)
    shown = show_step(data, "set/2", 0, make_filters(False, None, None))
    assert '"type": "refuse"' in shown["gold"]
    assert "refused (no element matches)" in shown["runs"][1] and "✔ correct" in shown["runs"][1]
    assert "✘ wrong" in shown["runs"][0]


@pytest.mark.slow
def test_the_gradio_app_builds_over_a_grounding_set(replay):
    from ui.app import build_app

    root, (a, b) = replay
    demo = build_app(load_replay(root, a, b))
    assert demo is not None


def test_a_grounding_run_on_another_set_is_refused(replay, tmp_path):
    # Grounding records carry no gold action, so the episodes check compares item ids: a run shown
    # beside another set's items would read "not evaluated" under its own Overall numbers.
    _, (a, _) = replay
    other = write_set(tmp_path / "other", [item_line(i, id=f"other/{i}") for i in range(3)])
    with pytest.raises(ValueError, match=r"3 of its 3 recorded items are not items of .*\(first: set/0"):
        load_replay(other, a)
