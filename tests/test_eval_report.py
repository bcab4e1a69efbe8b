"""`eval report` (metrics.json, report.md, self-contained report.html) and `eval compare`."""

from __future__ import annotations

import json
import re

import pytest

from eval.compare import compare_files, format_comparison
from eval.metrics import compute_metrics
from eval.results import read_results
from phone_r1.cli import main as cli_main
from tests.helpers.eval import HAND_EPISODES, HAND_PREDICTIONS, answer, predictions_file, wire, write_episodes


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The hand-made steps scored twice: A with HAND_PREDICTIONS, B with two answers changed."""
    tmp = tmp_path_factory.mktemp("report")
    episodes = write_episodes(tmp / "episodes", HAND_EPISODES)
    changed = dict(HAND_PREDICTIONS)
    changed["3/1"] = answer(wire("task_completed", "done"))  # error in A, right in B
    changed["1/1"] = answer(wire("back", ""))  # right in A, wrong in B
    out = {}
    for name, preds in (("a", HAND_PREDICTIONS), ("b", changed)):
        pred_file = predictions_file(tmp / f"{name}.pred.jsonl", preds)
        out[name] = tmp / f"{name}.jsonl"
        args = [
            "eval",
            "run",
            "--episodes",
            str(episodes),
            "--predictions",
            str(pred_file),
            "-o",
            str(out[name]),
            "--no-progress",
        ]
        assert cli_main(args) == 0
    return tmp, out["a"], out["b"]


def test_report_files(runs, capsys):
    tmp, a, _ = runs
    out = tmp / "report_a"
    assert cli_main(["eval", "report", str(a), "-o", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(out / "metrics.json"), str(out / "report.md"), str(out / "report.html")]

    metrics = json.loads((out / "metrics.json").read_text())
    expected = compute_metrics(read_results(a))
    assert {k: metrics[k] for k in expected} == json.loads(json.dumps(expected))
    assert metrics["header"]["protocol"] == "box"

    md = (out / "report.md").read_text()
    assert "| SR | 50.0% |" in md and "| GR | 66.7% |" in md and "| episode success | 33.3% |" in md
    assert "count as wrong" in md
    for stem in ("per_type", "confusion", "sr_by_step", "failure_reasons"):
        assert (out / "plots" / f"{stem}.png").read_bytes().startswith(b"\x89PNG")
        assert f"plots/{stem}.png" in md
    assert "| 2/1 | swipe 60,200,60,40 | click 60,100,60,100 | type mismatch" in md

    html = (out / "report.html").read_text()
    # self-contained: every image is inline, nothing is fetched from a path or URL
    sources = re.findall(r'src="([^"]*)"', html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert len(sources) == 4 + 4  # four plots, four failed steps with screenshots
    assert "href=" not in html and "error: bad_response" not in html  # errors show their message
    assert "no prediction for step" in html


def test_report_under_the_other_protocol(runs):
    tmp, a, _ = runs
    out = tmp / "report_aitw"
    assert cli_main(["eval", "report", str(a), "-o", str(out), "--protocol", "aitw"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["protocol"] == "aitw" and metrics["sr"] == pytest.approx(5 / 8)


def test_compare_deltas_and_flips(runs, capsys):
    _, a, b = runs
    comparison = compare_files(a, b)
    assert comparison["shared_steps"] == 8 and comparison["only_a"] == comparison["only_b"] == 0
    assert [f["step_id"] for f in comparison["fixed"]] == ["3/1"]
    assert [f["step_id"] for f in comparison["broken"]] == ["1/1"]
    assert comparison["deltas"]["sr"] == pytest.approx(0.0)
    assert comparison["deltas"]["gr"] == pytest.approx(1 / 3 - 2 / 3)
    assert comparison["deltas"]["format_validity"] == pytest.approx(7 / 8 - 6 / 8)
    text = format_comparison(comparison)
    assert "fixed (wrong in A, right in B): 1" in text and "broken (right in A, wrong in B): 1" in text
    assert cli_main(["eval", "compare", str(a), str(b)]) == 0
    assert "3/1" in capsys.readouterr().out


def _overlaps(boxes) -> list[tuple[int, int]]:
    return [
        (i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])
    ]


def test_per_type_labels_do_not_overlap():
    # task_completed and task_impossible side by side overlapped when written level.
    from actions import ACTION_TYPES
    from eval.plots import per_type_figure

    metrics = {"per_type": {t: {"n": 12, "sr": 0.5, "tm": 0.75} for t in ACTION_TYPES}}
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = per_type_figure(metrics)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    labels = fig.axes[0].get_yticklabels()
    texts = [label.get_text() for label in labels]
    assert texts.index("task_impossible (n=12)") == texts.index("task_completed (n=12)") + 1
    assert _overlaps([label.get_window_extent(renderer) for label in labels]) == []


def test_a_single_step_index_or_episode_gets_whole_number_axes():
    from eval.own_report import first_error_figure, progress_figure
    from eval.plots import sr_by_step_figure

    def ticks(axis) -> list[float]:
        low, high = axis.get_view_interval()
        return [t for t in axis.get_ticklocs() if low - 1e-9 <= t <= high + 1e-9]

    one_index = sr_by_step_figure({"sr_by_step_index": {"0": {"sr": 1.0, "n": 3}}}).axes[0]
    assert one_index.get_xlim() == (-0.5, 0.5)  # was -0.055...0.055 around the lone point
    assert ticks(one_index.xaxis) == [0]
    assert all(float(t).is_integer() for t in ticks(one_index.xaxis))
    outcomes = {"e1": {"progress": 0.5, "first_error_step": 2, "first_error_type": "click"}}
    for ax in (
        progress_figure({"outcomes": outcomes}).axes[0],
        first_error_figure({"outcomes": outcomes}).axes[0],
    ):
        assert all(float(t).is_integer() for t in ticks(ax.yaxis)), ticks(ax.yaxis)  # no half episodes
    first = first_error_figure({"outcomes": outcomes}).axes[0]
    assert first.get_xlim() == (1.5, 2.5) and ticks(first.xaxis) == [2]
    nothing = first_error_figure({"outcomes": {"e1": {"progress": 1.0, "first_error_step": None}}}).axes[0]
    assert [t.get_text() for t in nothing.texts] == ["no episode has an error"]
