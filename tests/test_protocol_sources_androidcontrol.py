"""Table tests for the five AndroidControl protocols, one row per category of their sources' behaviour.

Each row is written from the source (InfiGUI-R1 / UI-S1's copy of the Qwen2.5-VL gist, OS-Atlas's
`evaluation_unify.py`, GUI-R1's `eval_omni.py` and inference readers, UI-R1's `eval_ac.py`) and names the
behaviour it pins; the raw rows give the answer as the agent the source was written for writes it.
"""

from __future__ import annotations

import json

import pytest

from actions import Click, LongClick, OpenApp, Swipe, TypeText, Wait, match_step
from actions.context import GoldContext
from actions.protocols import get_protocol
from actions.protocols.base import Answer, StepOutcome
from actions.types import Back

SCREEN = (1000, 2000)
RESIZED = (1000, 2000)  # resized == screen keeps the rows' arithmetic readable
GOLD = Click(box=(400, 1000, 600, 1200))  # centre (500, 1100)
BOXES = GoldContext(candidate_boxes=((400, 1000, 600, 1200),), point=(500, 1100))


def raw(protocol, text, gold, agent, context=None, model=RESIZED):
    return match_step(None, gold, SCREEN, protocol, context=context, answer=Answer(text, agent, model))


def call(args, think=""):
    return f"{think}<tool_call>\n{json.dumps({'name': 'mobile_use', 'arguments': args})}\n</tool_call>"


# ---- androidcontrol-qwen (InfiGUI-R1) ----------------------------------------------------------------


def test_qwen_open_step_without_candidate_boxes_is_scored_not_refused():
    # `current_check_pam.get('candidate_bbox', [])`: a click on such an open step fails, an open is judged.
    gold, none = OpenApp(app="Maps"), GoldContext()
    assert not raw(
        "androidcontrol-qwen", call({"action": "click", "coordinate": [5, 5]}), gold, "qwen2.5-vl", none
    ).correct
    assert raw(
        "androidcontrol-qwen", call({"action": "open", "text": "maps"}), gold, "qwen2.5-vl", none
    ).correct
    # The typed path reaches the same rule.
    assert match_step(OpenApp(app="maps"), gold, SCREEN, "androidcontrol-qwen").correct


def test_qwen_a_missing_text_field_is_a_wrong_step_the_script_raised_on():
    v = raw("androidcontrol-qwen", call({"action": "type"}), TypeText(text="hi"), "qwen2.5-vl")
    assert (v.correct, v.type_match, v.raised) == (False, False, True)
    # phone-r1's own reading of the same answer is an empty text, which the rule would accept.
    assert match_step(TypeText(text=""), TypeText(text="hi"), SCREEN, "androidcontrol-qwen").correct


@pytest.mark.parametrize(
    ("model", "end", "stated", "correct"),
    [
        # 150 px right, 200 px down in a 1000x4000 image: 0.15 across, 0.05 down in its units -> 'right'
        # (in pixels it would be 'down'). The finger's word is compared with the stated word as it is.
        ((1000, 4000), (650, 1300), "right", True),
        ((1000, 4000), (650, 1300), "down", False),
        # In a 2000x2000 image the same pixels are 0.075 across, 0.1 down: 'down'.
        ((2000, 2000), (650, 1300), "down", True),
        # A zero-length swipe is read as 'up' (neither across nor down).
        ((1000, 2000), (500, 1100), "up", True),
    ],
)
def test_qwen_swipe_axis_is_taken_in_the_resized_image_units(model, end, stated, correct):
    args = {"action": "swipe", "coordinate": [500, 1100], "coordinate2": list(end)}
    gold, context = (
        Swipe(start=(0, 0), end=(0, 10)),
        GoldContext(scroll_direction=stated, scroll_direction_means="content"),
    )
    assert raw("androidcontrol-qwen", call(args), gold, "qwen2.5-vl", context, model).correct is correct


def test_qwen_answer_reading_thinking_mode_and_the_bare_call():
    wait, click = {"action": "wait"}, {"action": "click", "coordinate": [500, 1100]}
    decoy = f"<think>first {call(wait)}</think>{call(click)}"
    # InfiGUI-R1 runs in thinking mode: the text after the last </think> is read.
    assert raw("androidcontrol-qwen", decoy, GOLD, "infigui-r1", BOXES).correct
    # Qwen2.5-VL does not: the first <tool_call> (inside the thought) is read.
    assert not raw("androidcontrol-qwen", decoy, GOLD, "qwen2.5-vl", BOXES).correct
    bare = '{"name": "mobile_use", "arguments": ' + json.dumps(click) + "}"
    assert raw("androidcontrol-qwen", bare + "<conclusion>x</conclusion>", GOLD, "gui-owl", BOXES).correct
    # Without the exact '{"name": "mobile_use", "arguments":' the script finds no call and raises.
    compact = bare.replace('", "', '","').replace(": ", ":")
    v = raw("androidcontrol-qwen", compact, GOLD, "gui-owl", BOXES)
    assert (v.correct, v.raised) == (False, True)


def test_qwen_a_candidate_box_with_swapped_corners_is_kept_inverted():
    swapped = GoldContext(candidate_boxes=((600, 1200, 400, 1000),), point=(900, 1900))
    assert not raw(
        "androidcontrol-qwen",
        call({"action": "click", "coordinate": [500, 1100]}),
        GOLD,
        "qwen2.5-vl",
        swapped,
    ).correct


def test_qwen_click_counts_as_compute_scores_counts_them():
    proto = get_protocol("androidcontrol-qwen")
    outcomes = [
        StepOutcome("e", 0, "click", True, True, True, facts={"pred_action": "click"}),
        StepOutcome("e", 1, "click", False, False, True, raised=True),  # raised: not in all_click_num
        StepOutcome("e", 2, "open_app", True, True, True, facts={"pred_action": "click"}),  # counts as a hit
        StepOutcome("e", 3, "long_click", True, True, True, facts={"pred_action": "long_press"}),
        StepOutcome("e", 4, "click", False, True, True, facts={"pred_action": "click"}),
    ]
    assert proto.metrics(outcomes) == {"click_match_acc": 2 / 2, "error_num": 1}


# ---- androidcontrol-uis1 ------------------------------------------------------------------------------


def action(args):
    return f"<think>\nx\n</think>\n<action>\n{json.dumps(args)}\n</action>"


def test_uis1_a_swipe_without_end_points_matches_any_swipe():
    assert raw(
        "androidcontrol-uis1", action({"action": "swipe"}), Swipe(start=(0, 0), end=(0, 9)), "ui-s1"
    ).correct
    # End points it cannot divide make the script raise.
    v = raw(
        "androidcontrol-uis1",
        action({"action": "swipe", "coordinate": "x"}),
        Swipe(start=(0, 0), end=(0, 9)),
        "ui-s1",
    )
    assert (v.correct, v.raised) == (False, True)


def test_uis1_a_click_never_answers_an_open_step_and_taps_are_measured_in_0_1_units():
    assert not raw(
        "androidcontrol-uis1",
        action({"action": "click", "coordinate": [20, 20]}),
        OpenApp(app="x"),
        "ui-s1",
        BOXES,
    ).correct
    # 0.039 across in 0-1 units (the gold box is ignored): right; 0.041: wrong.
    assert raw(
        "androidcontrol-uis1", action({"action": "click", "coordinate": [539, 1100]}), GOLD, "ui-s1"
    ).correct
    assert not raw(
        "androidcontrol-uis1", action({"action": "click", "coordinate": [541, 1100]}), GOLD, "ui-s1"
    ).correct


@pytest.mark.parametrize(
    ("steps", "progress"),
    [
        ([(True, False), (True, False), (False, False)], 2 / 3),  # right prefix of 2
        ([(True, False), (False, True), (True, False)], 0.0),  # the script raised at the first mismatch
        ([(True, False), (False, False), (False, True)], 1 / 3),  # a raise after the stop is never reached
        ([(True, False), (True, False), (True, False)], 1.0),
    ],
)
def test_uis1_episode_progress_is_zeroed_by_an_exception(steps, progress):
    outcomes = [StepOutcome("e", i, "click", ok, ok, True, raised=r) for i, (ok, r) in enumerate(steps)]
    got = get_protocol("androidcontrol-uis1").metrics(outcomes)
    assert got["average_progress"] == pytest.approx(progress)
    assert got["success_rate"] == (1.0 if progress == 1.0 else 0.0)


def test_uis1_an_unreadable_answer_is_a_raise():
    v = raw("androidcontrol-uis1", "click the button", GOLD, "ui-s1")
    assert (v.correct, v.raised) == (False, True)
    assert match_step(None, GOLD, SCREEN, "androidcontrol-uis1").raised


# ---- androidcontrol-osatlas -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "gold", "correct"),
    [
        ("actions:\nTYPE [hello there]", TypeText(text="hello world"), True),  # '[hello' == '[hello'
        ("actions:\nTYPE [hello]", TypeText(text="hello world"), False),  # '[hello]' != '[hello'
        ("actions:\nTYPE [Hello]", TypeText(text="hello"), True),  # F1 is lower-cased
        ("Actions:\nWAIT", Wait(), False),  # the header is lower case
        ("actions: WAIT", Wait(), False),  # and ends in a newline
        ("actions:\nWAIT\n", Wait(), False),  # a trailing newline: 'WAIT\n' != 'WAIT'
        ("thoughts:\nwait\nactions:\nWAIT<|im_end|>", Wait(), True),  # <|im_end|> stripped
        ("actions:\n<|WAIT", Wait(), True),  # characters of the set, from both ends
        ("actions:\nSCROLL UP", Swipe(start=(500, 1500), end=(500, 500)), False),  # not 'SCROLL [DOWN]' form
        (
            "actions:\nSCROLL [DOWN]",
            Swipe(start=(500, 1500), end=(500, 500)),
            True,
        ),  # finger up = content down
        ("actions:\nSCROLL [down]", Swipe(start=(500, 1500), end=(500, 500)), False),  # case-sensitive
        ("actions:\nOPEN_APP [mind", OpenApp(app="mind"), False),  # 'd', 'n', 'i', 'm' stripped: '['
        ("actions:\nCLICK <point>[[640,550]]</point>", GOLD, True),  # 140 from (500, 550)
        ("actions:\nCLICK <point>[[641,550]]</point>", GOLD, False),
        ("actions:\nCLICK <point>[[500.5,550]]</point>", GOLD, False),  # digit runs: (500, 5)
        ("actions:\nCLICK <point>[[-500,550]]</point>", GOLD, True),  # the minus sign is dropped
        ("actions:\nCLICK now", GOLD, False),  # fewer than two numbers: (-100, -100)
    ],
)
def test_osatlas_reads_the_command_as_its_script_does(text, gold, correct):
    assert raw("androidcontrol-osatlas", text, gold, "os-atlas").correct is correct


def test_osatlas_an_empty_command_is_a_raise():
    for text in ("actions:\n", "actions:\n<|im_end|>", "actions:\nTYPE"):
        v = raw("androidcontrol-osatlas", text, TypeText(text="a b"), "os-atlas")
        assert (v.correct, v.raised) == (False, True), text


def test_osatlas_grounding_is_click_right_over_click_answered_with_click():
    outcomes = [
        StepOutcome("e", 0, "click", True, True, True),
        StepOutcome("e", 1, "click", False, True, True),
        StepOutcome("e", 2, "click", False, False, True),  # answered otherwise: not in the denominator
        StepOutcome("e", 3, "long_click", True, True, True),  # LONG_PRESS is not in it
        StepOutcome("e", 4, "long_click", True, True, True),
    ]
    assert get_protocol("androidcontrol-osatlas").metrics(outcomes) == {"grounding": 0.5}


def test_osatlas_typed_taps_keep_their_exact_position():
    # 140.5 from the gold in 0-1000: rounding the tap to 640 would make it a hit.
    assert not match_step(
        Click(box=(640.5, 1100, 640.5, 1100)), GOLD, SCREEN, "androidcontrol-osatlas"
    ).correct
    assert match_step(Click(box=(640, 1100, 640, 1100)), GOLD, SCREEN, "androidcontrol-osatlas").correct


# ---- gui-r1 -------------------------------------------------------------------------------------------


def gui(item, think="<think>x</think> "):
    return f"{think}<answer>{[item]!r}</answer>"


@pytest.mark.parametrize(
    ("answer", "gold", "correct"),
    [
        ({"action": "click", "point": [500, 1100], "input_text": "no input text"}, GOLD, True),
        ({"action": "click", "point": [500.5, 1100], "input_text": "no input text"}, GOLD, False),  # (0, 0)
        ({"action": "click", "point": [-1, 1100], "input_text": "no input text"}, GOLD, False),  # (0, 0)
        ({"action": "click", "point": [30, 60]}, Click(box=(0, 0, 0, 0)), True),  # (0, 0)-ish gold
        ({"action": "type", "point": [500, 1100], "input_text": "x"}, GOLD, True),  # a type answer's point
        ({"action": "type", "point": [-100, -100], "input_text": "Maps"}, OpenApp(app="maps"), True),
        (
            {"action": "scroll", "point": [-100, -100], "input_text": "swipe up"},
            Swipe(start=(5, 50), end=(5, 5)),
            False,
        ),
        (
            {"action": "scroll", "point": [-100, -100], "input_text": "swipe down"},
            Swipe(start=(5, 50), end=(5, 5)),
            True,
        ),
        (
            {"action": "type", "point": [-100, -100], "input_text": "down"},
            Swipe(start=(5, 50), end=(5, 5)),
            True,
        ),
        (
            {"action": "scroll", "point": [-100, -100]},
            TypeText(text="no input"),
            True,
        ),  # 'no input text' default
    ],
)
def test_gui_r1_reads_answers_with_its_regular_expressions(answer, gold, correct):
    assert raw("gui-r1", gui(answer), gold, "gui-r1").correct is correct


def test_gui_r1_an_apostrophe_cuts_the_input_text():
    answer = "<answer>[{'action': 'open_app', 'point': [-100, -100], 'input_text': 'Maps's store'}]</answer>"
    assert not raw("gui-r1", answer, OpenApp(app="Maps's store"), "gui-r1").correct  # read as 'Maps'
    assert raw("gui-r1", answer.replace("Maps's", "Mapss"), OpenApp(app="Mapss store"), "gui-r1").correct


def test_gui_r1_action_names_need_single_quotes_and_word_characters():
    item = {"action": "press_back", "point": [-100, -100], "input_text": "no input text"}
    assert raw("gui-r1", gui(item), Back(), "gui-r1").type_match
    assert not raw("gui-r1", f"<answer>{json.dumps([item])}</answer>", Back(), "gui-r1").type_match
    # No <answer>: no action, the point (0, 0).
    assert not raw("gui-r1", "[{'action': 'click', 'point': [500, 1100]}]", GOLD, "gui-r1").correct


def test_gui_r1_drops_action_types_with_no_hit_from_all_step():
    proto = get_protocol("gui-r1")
    outcomes = [
        StepOutcome("e", 0, "click", True, True, True, facts={"category": "click"}),
        StepOutcome("e", 1, "click", False, True, True, facts={"category": "click"}),
        StepOutcome("e", 2, "type", False, False, True, facts={"category": "type"}),  # no type hit: dropped
        StepOutcome("e", 3, "wait", True, True, False, facts={"category": "wait"}),  # not in ALL Step
        StepOutcome("e", 4, "back", False, False, False, facts={"category": "press_back"}),
    ]
    assert proto.denominator_rule(outcomes) == [True, True, False, False, False]
    # ALL Type: type hits over the categories with one (click 2/2, wait 1/1; type and press_back dropped).
    assert proto.metrics(outcomes) == {"all_type": 3 / 3, "all_gr": 1 / 2}


# ---- ui-r1 --------------------------------------------------------------------------------------------


def uir1(item):
    return f"<think>x</think> <answer>{[item]!r}</answer>"


def test_ui_r1_the_greedy_content_pattern_lets_the_answer_name_the_gold_type():
    # An open_app gold answered with a click is scored as a click step (the last type word found).
    v = raw("ui-r1", uir1({"action": "click", "coordinate": [300, 600]}), OpenApp(app="Maps"), "ui-r1")
    assert v.type_match and v.facts["category"] == "click"
    # The typed path has no line to leak through.
    w = match_step(Click(box=(500, 1000, 500, 1000)), OpenApp(app="Maps"), SCREEN, "ui-r1")
    assert not w.type_match


def test_ui_r1_scroll_by_type_alone_and_clicks_with_fewer_than_two_numbers_not_counted():
    assert raw("ui-r1", uir1({"action": "scroll"}), Swipe(start=(5, 5), end=(5, 50)), "ui-r1").correct
    v = raw("ui-r1", uir1({"action": "click", "coordinate": [300]}), GOLD, "ui-r1")
    assert (v.counted, v.type_match, v.correct) == (False, True, False)


@pytest.mark.parametrize(
    ("coordinate", "correct"),
    [
        ([298, 680], True),  # (499, 1099) after 1080/644, 2400/1484, truncated
        ([298.7, 680], False),  # digit runs: (298, 7)
        ([0, 680], False),  # a zero coordinate misses
        ([388, 680], True),  # int(650.68...) = 650: 150 px
        ([389, 680], False),  # int(652.35...) = 652: 152 px >= 151.2
        ([298, 774], True),  # (499, 1251): 151.003 px; rounding would give (500, 1252): 152 px
    ],
)
def test_ui_r1_rescales_by_fixed_factors_and_truncates(coordinate, correct):
    assert raw("ui-r1", uir1({"action": "click", "coordinate": coordinate}), GOLD, "ui-r1").correct is correct


def test_ui_r1_a_gold_without_a_type_word_is_a_raise_unless_the_answer_names_one():
    v = raw("ui-r1", uir1({"action": "wait"}), Wait(), "ui-r1")
    assert (v.raised, v.counted) == (True, False)
    assert raw("ui-r1", uir1({"action": "navigate_back"}), Wait(), "ui-r1").correct  # counted as back


def test_long_click_gold_under_qwen_needs_the_same_type():
    v = raw(
        "androidcontrol-qwen",
        call({"action": "click", "coordinate": [500, 1100]}),
        LongClick(box=GOLD.box),
        "qwen2.5-vl",
        BOXES,
    )
    assert (v.correct, v.type_match) == (False, False)
