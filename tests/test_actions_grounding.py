"""Grounding rewards (GUI-G²'s Gaussian point and coverage, IoU): table cases from the definitions, bounds."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.grounding import (
    ALPHA,
    POINT_GOLD_SIZE,
    gaussian_coverage_reward,
    gaussian_point_reward,
    gaussian_point_score,
    grounding_score,
    iou_reward,
)
from actions.reward_registry import REWARDS, build_reward
from tests.helpers.actions import actions_strategy, completion, mutated_completions

SCREEN = (1000, 2000)
# Centre (200, 300), 200 x 200: σx = σy = ALPHA * 200 = 100 pixels.
GOLD_BOX = (100, 200, 300, 400)
SIGMA = ALPHA * 200


def click(param: str, action_type: str = "click") -> dict:
    return {"action_type": action_type, "action_parameter": {action_type: param}, "action_description": ""}


def answer(param: str, action_type: str = "click") -> str:
    return completion(action=click(param, action_type))


GOLD = json.dumps(click("100,200,300,400"))
E = math.exp


# (case, gold wire, answer parameter, expected point, coverage, iou, inside)
TABLE = [
    # Same box: every reward is 1.
    ("same box", GOLD, "100,200,300,400", 1.0, 1.0, 1.0, 1.0),
    # Gold corners written swapped: the same region.
    ("swapped gold corners", json.dumps(click("300,400,100,200")), "100,200,300,400", 1.0, 1.0, 1.0, 1.0),
    # Centred, half the size: point 1; per axis sqrt(2·50·100 / (50² + 100²)) = sqrt(0.8); IoU 1/4.
    ("centred half box", GOLD, "150,250,250,350", 1.0, 0.8, 0.25, 1.0),
    # Answer centre on the gold's right edge (one σ in x): point e^-½; coverage e^(-100²/(4·2·100²)).
    ("box centred on the edge", GOLD, "200,200,400,400", E(-0.5), E(-0.125), 1 / 3, 1.0),
    # A point answer at the gold centre: point 1, no area so no coverage and no IoU.
    ("point at the centre", GOLD, "200,300", 1.0, 0.0, 0.0, 1.0),
    # A point on the edge is inside (the matcher's box rule) and one σ from the centre.
    ("point on the edge", GOLD, "300,300", E(-0.5), 0.0, 0.0, 1.0),
    # Outside: 2σ left and 1σ up from the centre: point e^(-½(4 + 1)).
    ("point outside", GOLD, "0,200", E(-2.5), 0.0, 0.0, 0.0),
    # Far outside: effectively 0 everywhere.
    ("box far outside", GOLD, "900,1800,1000,2000", 0.0, 0.0, 0.0, 0.0),
    # A degenerate (zero-width) gold box: σx from the stand-in size, 0.5·0.14·1000 = 70; IoU 0.
    ("degenerate gold", json.dumps(click("200,200,200,400")), "270,300", E(-0.5), 0.0, 0.0, 0.0),
    # A point gold "x,y": σx = 70, σy = 0.5·0.14·2000 = 140; an answer 2σ below scores e^-2.
    ("point gold", json.dumps(click("200,300")), "200,580", E(-2.0), 0.0, 0.0, 0.0),
    ("point gold hit", json.dumps(click("200,300")), "200,300", 1.0, 0.0, 0.0, 1.0),
    # A point gold against a box answer around it: coverage against the stand-in Gaussian.
    (
        "point gold, box answer",
        json.dumps(click("200,300")),
        "130,160,270,440",
        1.0,
        1.0,  # the answer box is 140 x 280, exactly the stand-in element: the same Gaussian
        0.0,
        1.0,
    ),
]


@pytest.mark.parametrize(("case", "gold", "param", "point", "coverage", "iou", "inside"), TABLE)
def test_table(case, gold, param, point, coverage, iou, inside):
    s = grounding_score(answer(param), gold, SCREEN)
    assert s.gaussian_point == pytest.approx(point, abs=1e-9), case
    assert s.gaussian_coverage == pytest.approx(coverage, abs=1e-9), case
    assert s.iou == pytest.approx(iou, abs=1e-9), case
    assert s.inside == inside, case
    assert s.applicable == s.typed == 1.0


def test_stand_in_size_is_the_aitw_distance():
    assert POINT_GOLD_SIZE == 0.14


def test_other_type_and_non_box_gold_score_zero():
    swipe = completion(action={"action_type": "swipe", "action_parameter": {"swipe": "1,2,3,4"}})
    s = grounding_score(swipe, GOLD, SCREEN)
    assert (s.applicable, s.typed, s.gaussian_point, s.gaussian_coverage, s.iou) == (1, 0, 0, 0, 0)
    # long_click is another action type than click.
    assert grounding_score(answer("100,200,300,400", "long_click"), GOLD, SCREEN).typed == 0.0
    typed = json.dumps({"action_type": "type", "action_parameter": {"type": "hi"}, "action_description": ""})
    s = grounding_score(completion(action=json.loads(typed)), typed, SCREEN)
    assert (s.applicable, s.gaussian_point) == (0.0, 0.0)


def test_answer_in_model_space_is_mapped_back_first():
    # norm1000 on a 1000 x 2000 screen: y halves.
    s = grounding_score(answer("100,100,300,200"), GOLD, SCREEN, coord_space="norm1000")
    assert (s.gaussian_point, s.gaussian_coverage, s.iou) == (1.0, 1.0, 1.0)


def test_bad_gold_raises_but_reward_row_scores_zero(caplog):
    with pytest.raises(ValueError):
        grounding_score(answer("1,2"), json.dumps(click("1,2,3")), SCREEN)
    rewards = gaussian_point_reward(
        [answer("200,300")] * 2, gold=[GOLD, '{"action_type": "tap"}'], screen_width=1000, screen_height=2000
    )
    assert rewards == [1.0, 0.0]
    assert "row 1" in caplog.text


def test_rewards_log_their_parts_and_read_conversational_completions():
    logged: dict[str, float] = {}
    completions = [
        [{"role": "assistant", "content": answer(p)}] for p in ("200,300", "100,200,300,400", "0,0")
    ]
    cols = dict(gold=[GOLD] * 3, screen_width=[1000] * 3, screen_height=[2000] * 3)
    point = gaussian_point_reward(completions, **cols, log_metric=logged.__setitem__)
    coverage = gaussian_coverage_reward(completions, **cols, log_metric=logged.__setitem__)
    iou = iou_reward(completions, **cols, log_metric=logged.__setitem__)
    assert point[:2] == [1.0, 1.0] and coverage[:2] == [0.0, 1.0] and iou[:2] == [0.0, 1.0]
    for name in ("gaussian_point", "gaussian_coverage", "iou"):
        assert logged[f"rewards/{name}/applicable"] == 1.0
        assert logged[f"rewards/{name}/inside"] == pytest.approx(2 / 3)
        assert logged[f"rewards/{name}/point_answer"] == pytest.approx(2 / 3)
        assert logged[f"rewards/{name}/typed"] == 1.0


def test_miswired_columns_raise():
    with pytest.raises(ValueError, match=r"gaussian_point needs dataset columns \['gold'\]"):
        gaussian_point_reward([answer("1,2")], screen_width=1, screen_height=1)


def test_registered_by_name():
    assert build_reward("gaussian_point") is gaussian_point_reward
    assert build_reward("gaussian_coverage") is gaussian_coverage_reward
    assert build_reward("iou") is iou_reward


coords = st.floats(min_value=-50, max_value=5000, allow_nan=False, allow_infinity=False)
answers = st.one_of(
    st.tuples(coords, coords).map(lambda p: answer(f"{p[0]},{p[1]}")),
    st.tuples(coords, coords, coords, coords).map(lambda b: answer(",".join(map(str, b)))),
    actions_strategy.map(lambda a: completion(action=a.to_json())),
    mutated_completions(),
    st.text(max_size=40),
)
golds = st.one_of(
    st.tuples(coords, coords).map(lambda p: json.dumps(click(f"{max(p[0], 0)},{max(p[1], 0)}"))),
    st.tuples(coords, coords, coords, coords).map(
        lambda b: json.dumps(click(",".join(str(max(v, 0)) for v in b)))
    ),
    actions_strategy.map(lambda a: a.to_json_str()),
)


@settings(max_examples=300, deadline=None)
@given(
    completions=st.lists(answers, min_size=1, max_size=4),
    gold=golds,
    screen=st.tuples(st.integers(1, 4000), st.integers(1, 4000)),
    space=st.sampled_from(["original", "resized", "norm1000"]),
)
def test_every_registered_reward_stays_in_bounds(completions, gold, screen, space):
    # One property over the whole family: any answer against any gold never raises and lands in [0, 1].
    # The rule rewards of the registry (llm_judge asks a network judge; its own tests cover it).
    for name in [n for n in REWARDS if n != "llm_judge"]:
        fn = build_reward(name)
        rewards = fn(
            completions,
            gold=[gold] * len(completions),
            screen_width=screen[0],
            screen_height=screen[1],
            coord_space=space,
            min_pixels=3136,
            max_pixels=1003520,
        )
        assert len(rewards) == len(completions), name
        assert all(0.0 <= r <= 1.0 and not math.isnan(r) for r in rewards), (name, rewards)


def test_a_gold_box_too_thin_for_its_spread_scores_as_its_centre_line():
    # 5e-324 high: α × the height underflows to 0.0 (a box hypothesis found); the Gaussian's limit,
    # not a division by zero.
    sliver = (0.0, 0.0, 20.0, 5e-324)
    assert gaussian_point_score((10.0, 0.0), sliver, (100, 100)) == 1.0
    assert gaussian_point_score((10.0, 1.0), sliver, (100, 100)) == 0.0
