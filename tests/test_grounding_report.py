"""`eval report`, `eval rescore` and `eval compare` on grounding runs: the numbers are hand-counted from
recorded answers, every applicable protocol is listed, an inapplicable one is named as such, and two
runs compare item by item."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eval.grounding_report import paired_delta_ci
from phone_r1.cli import main as cli_main
from tests.helpers.eval import predictions_file
from tests.helpers.grounding import item_line, write_set

# Eight ScreenSpot-shaped items: boxes only, platform x ui_type.
PLATFORMS = ["mobile", "mobile", "mobile", "web", "web", "web", "desktop", "desktop"]
TYPES = ["text", "icon", "text", "icon", "text", "icon", "text", "icon"]
INSIDE, OUTSIDE = "[175,250]", "[900,900]"  # ui-venus-1.5's 0-1000 grid: (35, 25) is in every box


def box_set(root):
    lines = [
        item_line(0, id=f"ss/{i}", categories={"platform": p, "ui_type": t})
        for i, (p, t) in enumerate(zip(PLATFORMS, TYPES, strict=True))
    ]
    return write_set(root, lines)


def run(tmp_path, root, name, right, *extra):
    answers = {f"ss/{i}": INSIDE if i in right else OUTSIDE for i in range(len(PLATFORMS))}
    preds = predictions_file(tmp_path / f"{name}.preds.jsonl", answers)
    out = tmp_path / f"{name}.jsonl"
    args = ["eval", "run", "--episodes", str(root), "--predictions", str(preds), "--agent", "ui-venus-1.5"]
    assert cli_main([*args, "-o", str(out), "--no-progress", *extra]) == 0
    return out


@pytest.fixture
def root(tmp_path):
    return box_set(tmp_path / "set")


def test_report_gives_the_headline_micro_macro_and_breakdowns_hand_counted(tmp_path, root, capsys):
    # right: mobile 2 of 3, web 1 of 3, desktop 2 of 2; text 3 of 4, icon 2 of 4
    results = run(tmp_path, root, "a", {0, 1, 3, 6, 7}, "--protocol", "screenspot")
    out = tmp_path / "report"
    assert cli_main(["eval", "report", str(results), "-o", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["protocol"] == "screenspot" and metrics["counted"] == 8 and metrics["correct"] == 5
    assert metrics["headline"]["definition"] == "micro" and metrics["headline"]["value"] == 5 / 8
    assert metrics["macro"]["platform"]["value"] == pytest.approx((2 / 3 + 1 / 3 + 1) / 3)
    assert metrics["macro"]["ui_type"]["value"] == pytest.approx((3 / 4 + 2 / 4) / 2)
    assert metrics["breakdowns"]["platform/ui_type"]["web/icon"] == {"n": 2, "correct": 1, "accuracy": 0.5}
    low, high = metrics["micro"]["ci95"]
    assert low < 5 / 8 < high
    assert metrics["header"]["grounding"]["adapter"] == "ui-venus-1.5"
    # every grounding protocol judges these box items; the run's own is marked
    assert set(metrics["protocols"]) >= {"region", "screenspot", "screenspot-pro", "ui-vision", "mmbench-gui"}
    assert (
        metrics["protocols"]["screenspot"]["run_protocol"]
        and metrics["protocols"]["region"]["micro"] == 5 / 8
    )
    markdown = (out / "report.md").read_text()
    assert "| micro (all counted items) | 62.50 |" in markdown
    assert "| macro over platform (3 values) | 66.67 |" in markdown
    assert "| image/text order |" in markdown and "## By platform/ui_type" in markdown
    pictures = sorted((out / "failures").glob("*.png"))
    assert len(pictures) == 3 and all(f"failures/{p.name}" in markdown for p in pictures)
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "src='failures" not in page
    printed = capsys.readouterr().out
    assert (
        "micro (all counted items): 62.50" in printed and "macro over platform (3 values): 66.67" in printed
    )


def test_report_under_another_protocol_and_a_navigation_protocol_refused(tmp_path, root, capsys):
    results = run(tmp_path, root, "a", {0, 1})
    out = tmp_path / "report"
    assert cli_main(["eval", "report", str(results), "-o", str(out), "--protocol", "mmbench-gui"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["protocol"] == "mmbench-gui" and metrics["correct"] == 2
    capsys.readouterr()
    assert cli_main(["eval", "report", str(results), "-o", str(out), "--protocol", "aitw"]) == 2
    assert "grounding run" in capsys.readouterr().err


def test_rescore_lists_every_protocol_and_names_the_item_one_cannot_judge(tmp_path, capsys):
    lines = [item_line(0), item_line(1), item_line(2), item_line(3)]  # box, polygon, refusal, box
    root = write_set(tmp_path / "mixed", lines)
    preds = predictions_file(
        tmp_path / "p.jsonl",
        {"set/0": "[175,250]", "set/1": "[625,500]", "set/2": "[-1,-1]", "set/3": "[900,900]"},
    )
    out = tmp_path / "r.jsonl"
    args = ["eval", "run", "--episodes", str(root), "--predictions", str(preds), "--agent", "ui-venus-1.5"]
    assert cli_main([*args, "-o", str(out), "--no-progress", "--protocol", "osworld-g"]) == 0
    capsys.readouterr()
    assert cli_main(["eval", "rescore", str(out), "-o", str(tmp_path / "table.json")]) == 0
    printed = capsys.readouterr().out
    table = json.loads((tmp_path / "table.json").read_text())["protocols"]
    # the refusal item refused right: counted by osworld-g (3 of 4), left out by its no-refusal variant
    assert table["osworld-g"]["micro"] == 3 / 4 and table["osworld-g"]["run_protocol"]
    assert table["osworld-g-no-refusal"]["micro"] == 2 / 3 and table["osworld-g-no-refusal"]["counted"] == 3
    assert table["region"]["micro"] == 3 / 4
    assert (
        "item set/1" in table["screenspot"]["not_applicable"]
        and "polygon" in table["screenspot"]["not_applicable"]
    )
    assert "osworld-g (the run's)" in printed and "screenspot: not applicable: item set/1" in printed
    assert cli_main(["eval", "rescore", str(out), "--protocol", "region", "androidcontrol-qwen"]) == 2


def test_compare_lists_flips_and_the_paired_interval(tmp_path, root, capsys):
    a = run(tmp_path, root, "a", {0, 1, 2, 3})
    b = run(tmp_path, root, "b", {2, 3, 4, 5, 6, 7}, "--protocol", "screenspot")
    capsys.readouterr()
    assert cli_main(["eval", "compare", str(a), str(b), "--json", str(tmp_path / "c.json")]) == 0
    printed = capsys.readouterr().out
    comparison = json.loads((tmp_path / "c.json").read_text())
    # B was run under screenspot; both are judged under A's protocol (region)
    assert comparison["protocol"] == "region" and comparison["shared_items"] == 8
    assert [e["id"] for e in comparison["fixed"]] == ["ss/4", "ss/5", "ss/6", "ss/7"]
    assert [e["id"] for e in comparison["broken"]] == ["ss/0", "ss/1"]
    assert comparison["deltas"]["micro"] == pytest.approx(2 / 8)
    low, high = comparison["micro_delta_ci95"]
    assert low <= 2 / 8 <= high
    assert "micro B-A paired bootstrap 95% CI" in printed and "fixed (wrong in A, right in B): 4" in printed


def test_compare_refuses_a_grounding_run_against_a_navigation_run(tmp_path, root, capsys):
    from tests.helpers.eval import write_episodes

    a = run(tmp_path, root, "a", {0})
    episodes = write_episodes(
        tmp_path / "episodes",
        [
            (
                "1",
                "app",
                "task",
                [{"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": ""}],
            )
        ],
    )
    preds = predictions_file(tmp_path / "nav.jsonl", {"1/0": "x"})
    nav = tmp_path / "nav-results.jsonl"
    args = [
        "eval",
        "run",
        "--episodes",
        str(episodes),
        "--predictions",
        str(preds),
        "-o",
        str(nav),
        "--no-progress",
    ]
    assert cli_main(args) == 0
    capsys.readouterr()
    assert cli_main(["eval", "compare", str(a), str(nav)]) == 2
    assert "one run is a grounding run" in capsys.readouterr().err


def test_the_paired_interval_matches_resampling_the_items():
    fixed, broken, n = 30, 12, 200
    rng = np.random.default_rng(1)
    pairs = np.array([1] * fixed + [-1] * broken + [0] * (n - fixed - broken))
    brute = [pairs[rng.integers(0, n, n)].mean() for _ in range(4000)]
    expected = np.percentile(brute, [2.5, 97.5])
    low, high = paired_delta_ci(fixed, broken, n, n_resamples=4000)
    assert low == pytest.approx(expected[0], abs=0.01) and high == pytest.approx(expected[1], abs=0.01)
    assert paired_delta_ci(0, 0, 50) == [0.0, 0.0]
