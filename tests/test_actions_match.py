"""The matcher: partial-credit action scores and box/aitw verdicts, as tables with a reason per case."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions import (
    Back,
    Click,
    Inquiry,
    LongClick,
    OpenApp,
    PixelBudget,
    Swipe,
    TaskCompleted,
    TypeText,
    Wait,
    action_score,
    match_step,
)
from tests.helpers.actions import actions_strategy, completion, mutated_completions

SCREEN = (1000, 2000)  # 0.07 normalised = 70 px horizontally, 140 px vertically
BOX = Click(box=(400, 1000, 600, 1200))


def wire(action_type: str, parameter: str) -> str:
    return json.dumps({"action_type": action_type, "action_parameter": {action_type: parameter}})


def inquiry(question: str, candidates: str, index) -> Inquiry | str:
    payload = json.dumps(
        {"Question": question, "CandidatesList": candidates, "PicDescribe": "", "AnswerIndex": index}
    )
    return wire("inquiry", payload)


@pytest.mark.parametrize(
    ("prediction", "gold", "param_score", "total"),
    [
        # tap point inside the box: full credit
        (Click(box=(450, 1050, 550, 1150)), BOX, 1.0, 1.0),
        # point exactly on the box edge counts as inside
        (Click(box=(600, 1200, 600, 1200)), BOX, 1.0, 1.0),
        # 70 px right of the box = 0.07 normalised: half the 0.14 range
        (Click(box=(670, 1100, 670, 1100)), BOX, 0.5, 0.75),
        # 140 px below the box on a 2000 px tall screen = 0.07: half credit again (axes normalised separately)
        (Click(box=(500, 1340, 500, 1340)), BOX, 0.5, 0.75),
        # far away: right type only
        (Click(box=(0, 0, 10, 10)), BOX, 0.0, 0.5),
        # gold box given as a point (zero size): exact hit, then 0.07 away
        (Click(box=(300, 300, 300, 300)), Click(box=(300, 300, 300, 300)), 1.0, 1.0),
        (Click(box=(370, 300, 370, 300)), Click(box=(300, 300, 300, 300)), 0.5, 0.75),
        # swapped x1/x2 (and y1/y2) in the gold box: the same region
        (Click(box=(450, 1050, 550, 1150)), Click(box=(600, 1200, 400, 1000)), 1.0, 1.0),
        # prediction written as a point "x,y" in the wire text
        (wire("click", "500,1100"), BOX, 1.0, 1.0),
        # long_click scored like click
        (LongClick(box=(500, 1100, 500, 1100)), LongClick(box=(400, 1000, 600, 1200)), 1.0, 1.0),
        # swipe: same direction and same end points
        (Swipe(start=(500, 1500), end=(500, 500)), Swipe(start=(500, 1500), end=(500, 500)), 1.0, 1.0),
        # swipe: opposite direction, end points swapped and far apart -> nothing for the parameter
        (Swipe(start=(500, 500), end=(500, 1500)), Swipe(start=(500, 1500), end=(500, 500)), 0.0, 0.5),
        # swipe: same direction (up), end points far -> direction half only
        (Swipe(start=(100, 1900), end=(100, 1600)), Swipe(start=(900, 800), end=(900, 100)), 0.5, 0.75),
        # swipe direction tie: a gold diagonal (dx == dy) accepts either of its axes, here "down";
        # same start (closeness 1), far end (closeness 0): 0.5 + 0.5 * 0.5
        (Swipe(start=(0, 0), end=(0, 1900)), Swipe(start=(0, 0), end=(900, 900)), 0.75, 0.875),
        # ... but not an axis it does not contain ("left" against right+down); end points far apart
        (Swipe(start=(900, 0), end=(0, 0)), Swipe(start=(0, 0), end=(900, 900)), 0.0, 0.5),
        # two zero-length swipes have the same (no) direction
        (Swipe(start=(5, 5), end=(5, 5)), Swipe(start=(5, 5), end=(5, 5)), 1.0, 1.0),
        # type: identical text, and NFKC + case + white space normalisation (full-width ＡＢＣ)
        (TypeText(text="无锡 天气"), TypeText(text="无锡 天气"), 1.0, 1.0),
        (TypeText(text="ＡＢＣ  def"), TypeText(text="abc def"), 1.0, 1.0),
        # empty text against empty text is identical; against a word it shares nothing
        (TypeText(text=""), TypeText(text=""), 1.0, 1.0),
        (TypeText(text=""), TypeText(text="无锡"), 0.0, 0.5),
        # open_app: Levenshtein ratio of 微信 vs 微信读书 = 2*2/6
        (OpenApp(app="微信"), OpenApp(app="微信读书"), 2 / 3, 0.5 + 0.5 * 2 / 3),
        # inquiry: same AnswerIndex and question
        (inquiry("选哪个?", "['甲', '乙']", 1), inquiry("选哪个?", "['甲', '乙']", 1), 1.0, 1.0),
        # inquiry with a malformed CandidatesList in the prediction: scored on index and question anyway
        (inquiry("选哪个?", "['甲', ", 1), inquiry("选哪个?", "['甲', '乙']", 1), 1.0, 1.0),
        # inquiry: other AnswerIndex, same question -> question half only
        (inquiry("选哪个?", "['甲']", 0), inquiry("选哪个?", "['甲', '乙']", 1), 0.5, 0.75),
        # parameterless types score on type alone, whatever the text
        (Wait(), Wait(), 1.0, 1.0),
        (TaskCompleted(summary="完成"), TaskCompleted(summary="另一段总结"), 1.0, 1.0),
        # type differs: nothing
        (Back(), Wait(), 0.0, 0.0),
        (Click(box=(450, 1050, 550, 1150)), LongClick(box=(400, 1000, 600, 1200)), 0.0, 0.0),
        # unparseable completion: nothing
        ("I would tap the button", BOX, 0.0, 0.0),
        ("", Wait(), 0.0, 0.0),
    ],
)
def test_action_score_table(prediction, gold, param_score, total):
    breakdown = action_score(prediction, gold, SCREEN)
    assert breakdown.param_score == pytest.approx(param_score, abs=1e-9), breakdown.reason
    assert breakdown.total == pytest.approx(total, abs=1e-9), breakdown.reason


def test_unparseable_reason_names_the_problems():
    breakdown = action_score("<answer>{oops</answer>", BOX, SCREEN)
    assert breakdown.total == 0.0 and breakdown.predicted_type is None
    assert breakdown.reason == "unparseable: no_think_tag, answer_not_json"


def test_model_space_predictions_are_mapped_back_and_clamped():
    # norm1000 (500, 550) on 1000x2000 is (500, 1100): inside the box.
    assert action_score(wire("click", "500,550"), BOX, SCREEN, coord_space="norm1000").total == 1.0
    # Outside the screen in model space clamps to the corner (0, 0): far from the box.
    assert (
        action_score(
            wire("click", "-50,-50"), Click(box=(0, 0, 10, 10)), SCREEN, coord_space="norm1000"
        ).total
        == 1
    )
    budget = PixelBudget(3136, 401408)
    from actions import model_screen_size

    mw, mh = model_screen_size("resized", SCREEN, budget)
    x, y = round(500 * mw / 1000), round(1100 * mh / 2000)
    assert match_step(wire("click", f"{x},{y}"), BOX, SCREEN, coord_space="resized", budget=budget).correct


@pytest.mark.parametrize(
    ("prediction", "gold", "protocol", "correct", "type_match"),
    [
        # box: inside, on the edge, just outside
        (Click(box=(500, 1100, 500, 1100)), BOX, "box", True, True),
        (Click(box=(400, 1000, 400, 1000)), BOX, "box", True, True),
        (Click(box=(610, 1100, 610, 1100)), BOX, "box", False, True),
        # aitw: just outside but inside the box enlarged 1.4x around its centre (x up to 640)
        (Click(box=(630, 1100, 630, 1100)), BOX, "aitw", True, True),
        # aitw: a point gold (zero-size box) is hit within 0.14 normalised of it, missed beyond
        (Click(box=(430, 300, 430, 300)), Click(box=(300, 300, 300, 300)), "aitw", True, True),
        (Click(box=(450, 300, 450, 300)), Click(box=(300, 300, 300, 300)), "aitw", False, True),
        # box: a point gold is hit within 0.14 normalised of it, missed beyond
        (Click(box=(301, 300, 301, 300)), Click(box=(300, 300, 300, 300)), "box", True, True),
        (Click(box=(450, 300, 450, 300)), Click(box=(300, 300, 300, 300)), "box", False, True),
        # swipe: direction decides, not length
        (
            Swipe(start=(500, 1900), end=(500, 1800)),
            Swipe(start=(100, 1000), end=(100, 10)),
            "box",
            True,
            True,
        ),
        # aitw (card 1): the main axis decides, the sign is not compared
        (
            Swipe(start=(500, 1800), end=(500, 1900)),
            Swipe(start=(100, 1000), end=(100, 10)),
            "aitw",
            True,
            True,
        ),
        # type: similarity 0.8 or more
        (TypeText(text="无锡天气预"), TypeText(text="无锡天气预报"), "box", True, True),
        (TypeText(text="无锡"), TypeText(text="无锡天气预报"), "box", False, True),
        # inquiry and the other types: by type
        (inquiry("x", "[", None), inquiry("y", "['a']", 0), "box", True, True),
        (Back(), Back(), "aitw", True, True),
        # type mismatch
        (Wait(), Back(), "box", False, False),
        ("garbage", BOX, "box", False, False),
    ],
)
def test_match_step_table(prediction, gold, protocol, correct, type_match):
    verdict = match_step(prediction, gold, SCREEN, protocol=protocol)
    assert (verdict.correct, verdict.type_match) == (correct, type_match), verdict.reason
    assert verdict.protocol == protocol


@pytest.mark.parametrize(
    ("gold", "message"),
    [
        ('{"action_type": "click", "action_parameter": {"click": "1,2,3"}}', "expected 4 numbers"),
        (inquiry("q", "['a', ", 0), "CandidatesList"),  # malformed CandidatesList in ground truth
        (42, "expected the gold action as wire JSON"),
    ],
)
def test_bad_ground_truth_is_a_value_error(gold, message):
    with pytest.raises(ValueError, match=message):
        action_score(completion(), gold, SCREEN)
    with pytest.raises(ValueError, match=message):
        match_step(completion(), gold, SCREEN)


def test_bad_screen_protocol_and_space_are_value_errors():
    with pytest.raises(ValueError, match="screen"):
        action_score(BOX, BOX, (0, 10))
    with pytest.raises(ValueError, match="protocol"):
        match_step(BOX, BOX, SCREEN, protocol="iou")
    with pytest.raises(ValueError, match="coord_space"):
        action_score(BOX, BOX, SCREEN, coord_space="pixels")


screens = st.tuples(st.integers(320, 1440), st.integers(640, 3200))


@settings(max_examples=250, deadline=None)
@given(
    st.one_of(mutated_completions(), actions_strategy, st.text(max_size=80)),
    actions_strategy,
    screens,
    st.sampled_from(["original", "resized", "norm1000"]),
)
def test_every_score_is_in_unit_interval(prediction, gold, screen, space):
    breakdown = action_score(prediction, gold.to_json(), screen, coord_space=space)
    assert 0.0 <= breakdown.total <= 1.0 and 0.0 <= breakdown.param_score <= 1.0
    # Only `box` shares the reward's notion of type; published protocols map types their own way
    # (AITW: click, long_click and swipe are one DUAL_POINT type), see tests/test_protocols.py.
    verdict = match_step(prediction, gold, screen, protocol="box", coord_space=space)
    assert verdict.type_match == bool(breakdown.type_hit)


@settings(max_examples=200, deadline=None)
@given(actions_strategy, screens)
def test_an_action_matches_itself(action, screen):
    # Inside the screen, any action matches itself fully, so training and eval agree on the ceiling.
    if isinstance(action, (Click, LongClick)):
        action = type(action)(box=tuple(min(v, 320) for v in action.box))
    if isinstance(action, Swipe):
        action = Swipe(
            start=tuple(min(v, 320) for v in action.start), end=tuple(min(v, 320) for v in action.end)
        )
    if isinstance(action, Inquiry) and action.answer_index is None:
        return  # no index to agree on
    assert action_score(action, action, screen).total == 1.0
    assert match_step(action, action, screen).correct
