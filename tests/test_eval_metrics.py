"""Metrics on scripted predictions, against numbers worked out by hand for eight known steps."""

from __future__ import annotations

import pytest

from eval.metrics import bootstrap_ci, compute_metrics
from eval.results import read_results
from tests.helpers.eval import HAND_EPISODES, HAND_PREDICTIONS, phone_r1, predictions_file, write_episodes


@pytest.fixture(scope="module")
def hand_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hand")
    episodes = write_episodes(tmp / "episodes", HAND_EPISODES)
    preds = predictions_file(tmp / "pred.jsonl", HAND_PREDICTIONS)
    out = tmp / "results.jsonl"
    phone_r1("eval", "run", "--episodes", episodes, "--predictions", preds, "-o", out, "--no-progress")
    return read_results(out)


def test_every_step_recorded_once(hand_results):
    assert list(hand_results.records) == ["1/0", "1/1", "1/2", "2/0", "2/1", "2/2", "3/0", "3/1"]
    assert hand_results.records["3/1"]["error"]["kind"] == "bad_response"  # no prediction for it


def test_box_protocol_metrics_by_hand(hand_results):
    m = compute_metrics(hand_results)
    assert m["protocol"] == "box"
    assert m["n_steps"] == 8 and m["n_episodes"] == 3
    # right: 1/0 open_app, 1/1 click inside, 1/2 type, 3/0 long_click inside
    assert m["sr"] == pytest.approx(4 / 8)
    # type matches: those four plus 2/0 (click, outside the box)
    assert m["tm"] == pytest.approx(5 / 8)
    # grounding steps 1/1, 2/0, 3/0; 2/0 misses
    assert m["gr"] == pytest.approx(2 / 3) and m["n_grounding"] == 3
    # no action for 2/2 (unparseable) and 3/1 (error)
    assert m["format_validity"] == pytest.approx(6 / 8)
    # episode 1 is all right; 2 and 3 are not
    assert m["episode_success"] == pytest.approx(1 / 3)
    assert m["per_type"]["click"] == {"n": 2, "sr": 0.5, "tm": 1.0}
    assert m["per_type"]["swipe"] == {"n": 1, "sr": 0.0, "tm": 0.0}
    assert m["per_app"] == {"微信": {"n": 3, "sr": 0.0}, "设置": {"n": 5, "sr": 0.8}}
    assert m["sr_by_step_index"]["0"] == {"n": 3, "sr": pytest.approx(2 / 3)}
    assert m["errors"] == {"total": 1, "by_kind": {"bad_response": 1}}
    conf = m["confusion"]
    cell = {
        (g, p): conf["counts"][i][j]
        for i, g in enumerate(conf["gold"])
        for j, p in enumerate(conf["predicted"])
    }
    assert cell[("swipe", "click")] == 1 and cell[("back", "unparsed")] == 1
    assert cell[("task_completed", "error")] == 1 and cell[("click", "click")] == 2
    assert sum(map(sum, conf["counts"])) == 8
    # reward = (format + action) / 2; 2/0's tap is 11 px below the box on a 240 px screen
    action_2_0 = 0.5 + 0.5 * (1 - (11 / 240) / 0.14)
    rewards = [1, 1, 1, (1 + action_2_0) / 2, (1 + 0) / 2, 0, 1, 0]
    assert m["mean_reward"] == pytest.approx(sum(rewards) / 8)
    assert m["failure_reasons"] == {
        "tap point outside gold box": 1,
        "type mismatch": 1,
        "unparseable": 1,
        "error:bad_response": 1,
    }


def test_aitw_protocol_rescoring_by_hand(hand_results):
    m = compute_metrics(hand_results, protocol="aitw")
    # 2/0's tap is 31 px from the gold centre: 31/240 = 0.129 <= 0.14, so AITW counts it
    assert m["protocol"] == "aitw"
    assert m["sr"] == pytest.approx(5 / 8)
    assert m["gr"] == pytest.approx(3 / 3)


def test_bootstrap_interval_is_seeded_and_brackets_sr(hand_results):
    m1, m2 = compute_metrics(hand_results, seed=3), compute_metrics(hand_results, seed=3)
    assert m1["sr_ci95"] == m2["sr_ci95"]
    low, high = m1["sr_ci95"]
    assert 0 <= low < m1["sr"] < high <= 1
    assert bootstrap_ci(0, 0) == (0.0, 0.0)
    assert bootstrap_ci(50, 50) == (1.0, 1.0)
    narrow = bootstrap_ci(5000, 10000)
    assert narrow[1] - narrow[0] < 0.03  # ~ 2 * 1.96 * sqrt(.25 / 10000) = 0.0196
