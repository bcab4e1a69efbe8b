"""Table cases per category of fidelity for `aitw`, `aitz`, `gui-odyssey`, `agentcpm` and `agentcpm-aitz`,
each written from its source's code (the file and function named in the comment), and the importers'
exact gold values those verdicts rest on.

The full comparison with the official code on thousands of generated answers is
`python -m scripts.protocol_diff` (docs/eval.md); these cases pin one behaviour each.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions import Click, Home, LongClick, Swipe, TaskCompleted, TypeText, Wait, match_step
from actions.context import ContextSource, GoldContext
from actions.protocols import get_protocol
from actions.protocols.agentcpm import read_answer, schema_valid
from actions.protocols.base import Answer, StepOutcome
from episodes.importers import aitz, androidcontrol, gui_odyssey
from episodes.importers.tfrecord import parse_forest

SCREEN = (1080, 2400)


def verdict(protocol, pred, gold, context=None, screen=SCREEN):
    return match_step(pred, gold, screen, protocol, context=context or GoldContext()).correct


def raw(protocol, text, gold, context=None, screen=SCREEN):
    answer = Answer(text, "agentcpm-gui", (1000, 1000))
    v = match_step(None, gold, screen, protocol, context=context or GoldContext(), answer=answer)
    return v.correct, v.counted


# ---- rounding: gold points and swipes are the source's exact values ---------------------------------


def test_aitz_import_keeps_the_exact_scaled_touch_point_and_swipe():
    # CoAT scales the normalised (y, x) touch by the PNG size; 0.10049 of 270 px is 27.1323, not 27.
    tap = {
        "result_action_type": 4,
        "result_touch_yx": "[0.20003, 0.10049]",
        "result_lift_yx": "[0.20003, 0.10049]",
    }
    wired, _, context, _ = aitz.convert_entry({**tap, "ui_positions": "[]"}, (270, 600), "click")
    assert context["point"] == [0.10049 * 270, 0.20003 * 600]
    swipe = {"result_action_type": 4, "result_touch_yx": "[0.8123, 0.5071]", "result_lift_yx": "[0.2, 0.55]"}
    wired, _, _, _ = aitz.convert_entry({**swipe, "ui_positions": "[]"}, (270, 600), "scroll up")
    numbers = [float(v) for v in wired["action_parameter"]["swipe"].split(",")]
    assert numbers == [0.5071 * 270, 0.8123 * 600, 0.55 * 270, 0.2 * 600]


def test_odyssey_import_keeps_exact_points_and_the_sam2_box_as_given():
    # decode_action's 0-1000 point; the SAM2 box is kept even where it misses the point.
    step = {"action": "CLICK", "info": [[333, 777]], "sam2_bbox": [400, 100, 500, 200]}
    wired, _, context, _ = gui_odyssey.convert_step(step, (1080, 2400), "tap")
    assert context["point"] == [333 / (1000 / 1080), 777 / (1000 / 2400)]
    assert context["candidate_boxes"] == [[400 / (1000 / 1080), 100 / (1000 / 2400), 540, 480]]
    v1 = {"action": "CLICK", "info": [[333, 777]]}
    assert "candidate_boxes" not in gui_odyssey.convert_step(v1, (1080, 2400), "tap")[2]


# ---- units of the swipe axis ------------------------------------------------------------------------


def test_odyssey_import_names_a_scroll_as_decode_action_does():
    # decode_action compares |dx| and |dy| in 0-1000 units: (100, 90) is RIGHT although on a 1080 x 2400
    # screen it is 108 x 216 pixels; a scroll of no length is DOWN.
    diagonal = {"action": "SCROLL", "info": [[0, 0], [100, 90]]}
    assert gui_odyssey.convert_step(diagonal, SCREEN, "s")[2]["scroll_direction"] == "right"
    still = {"action": "SCROLL", "info": [[500, 500], [500, 500]]}
    assert gui_odyssey.convert_step(still, SCREEN, "s")[2]["scroll_direction"] == "down"


@pytest.mark.parametrize(
    ("protocol", "pred", "gold", "correct"),
    [
        # gui-odyssey: the prediction's SCROLL word by decode_action's rule in 0-1000 (norm) units.
        ("gui-odyssey", Swipe(start=(0, 0), end=(108, 216)), Swipe(start=(0, 0), end=(0, 500)), False),
        ("gui-odyssey", Swipe(start=(0, 0), end=(108, 216)), Swipe(start=(0, 0), end=(500, 0)), True),
        ("gui-odyssey", Swipe(start=(5, 5), end=(5, 5)), Swipe(start=(0, 0), end=(0, 500)), True),  # DOWN
        # aitz: CoAT's label rule on normalised (y, x): vertical when |dy| >= 0.9 |dx|.
        ("aitz", Swipe(start=(0, 0), end=(108, 216)), Swipe(start=(0, 0), end=(500, 0)), True),
        ("aitz", Swipe(start=(0, 0), end=(108, 240)), Swipe(start=(0, 0), end=(0, 500)), True),
        ("aitz", Swipe(start=(5, 5), end=(5, 5)), Swipe(start=(0, 0), end=(0, 500)), True),  # "down"
        ("aitz", Swipe(start=(5, 5), end=(5, 5)), Swipe(start=(0, 500), end=(0, 0)), False),
    ],
)
def test_swipe_axis_units(protocol, pred, gold, correct):
    assert verdict(protocol, pred, gold) is correct


def test_odyssey_an_exact_diagonal_in_0_1000_is_vertical():
    # decode_action compares the agent's 0-1000 numbers: (363, 253) -> (604, 494) is a tie, DOWN; the same
    # path mapped to pixels and back is compared at 1e-9, so float noise does not decide it.
    from actions.coords import point_to_original

    start, end = (point_to_original(p, "norm1000", SCREEN, integer=False) for p in ((363, 253), (604, 494)))
    pred = Swipe(start=start, end=end)
    assert verdict("gui-odyssey", pred, Swipe(start=(0, 0), end=(0, 500)))
    assert not verdict("gui-odyssey", pred, Swipe(start=(0, 0), end=(500, 0)))


# ---- degenerate answers -----------------------------------------------------------------------------


def test_coat_keeps_an_inverted_predicted_box_which_holds_nothing():
    # CoAT's enlarge_bbox and _check_click_ use the box as written: right-to-left holds no point.
    gold, context = Click(box=(500, 1000, 500, 1000)), GoldContext(point=(500, 1000))
    assert verdict("aitz", Click(box=(480, 980, 520, 1020)), gold, context)
    assert not verdict("aitz", Click(box=(520, 1020, 480, 980)), gold, context)


def test_coat_rounds_the_predicted_box_and_truncates_the_gold_point():
    # round(x / 1000 * w) for the box, int(rel * w) for the gold point: (499.7, 999.9) is (499, 999).
    context = GoldContext(point=(499.7, 999.9))
    gold = Click(box=(499.7, 999.9, 499.7, 999.9))
    assert verdict("aitz", Click(box=(499.4, 999.4, 499.4, 999.4)), gold, context)
    assert not verdict("aitz", Click(box=(499.6, 999.6, 499.6, 999.6)), gold, context)


@pytest.mark.parametrize(
    ("text", "gold", "correct", "counted"),
    [
        # an edge-anchored swipe keeps its `to` word (phone-r1's adapter would clamp it to no length)
        ('{"POINT":[500,0],"to":"up"}', Swipe(start=(540, 1800), end=(540, 600)), True, True),
        # a `to` point on POINT itself has no direction
        ('{"POINT":[500,500],"to":[500,500]}', Swipe(start=(540, 1800), end=(540, 600)), False, True),
    ],
)
def test_agentcpm_degenerate_swipes(text, gold, correct, counted):
    assert raw("agentcpm-aitz", text, gold) == (correct, counted)


# ---- AgentCPM: its schema, its reading of POINT and duration, STATUS --------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ('{"POINT":[500,500]}', "click"),
        ('{"POINT":[500.0,500]}', "click"),  # an integral float is an integer to JSON Schema
        ('{"POINT":[500.5,500]}', None),  # a fraction is not
        ('{"POINT":[1001,500]}', None),  # out of 0-1000
        ('{"POINT":[true,500]}', None),
        ('{"POINT":[' + "9" * 400 + ",500]}", None),  # an integer too large for a float, out of range
        ('{"POINT":[500,500],"x":1}', None),  # additionalProperties: false
        ('{"POINT":[500,500],"PRESS":"BACK"}', None),  # two actions
        ('{"to":"up"}', None),  # `to` needs POINT
        ('{"STATUS":"continue"}', None),  # continue needs an action
        ("{}", None),
        ('Answer: {"POINT":[500,500]}', None),  # text around the JSON
        ('```json\n{"POINT":[500,500]}\n```', None),
        ("{'POINT': [500, 500]}", None),  # a Python literal is not JSON
        ('  {"POINT":[500,500]}\n', "click"),  # white space around it is
        ('{"POINT":[500,500],"duration":200}', "click"),
        ('{"POINT":[500,500],"duration":201}', "long_point"),
        ('{"POINT":[500,500],"duration":100}', "stop"),  # neither click nor long press: a pause
        ('{"POINT":[500,500],"to":"up","duration":500}', "long_point"),  # not a swipe with a duration
        ('{"duration":1000}', "stop"),
        ('{"CLEAR":null}', "stop"),
        ('{"DEEP_LINK":null}', "stop"),
        ('{"STATUS":"interrupt"}', "stop"),
        ('{"STATUS":"need_feedback"}', "stop"),
        ('{"STATUS":"finish","POINT":[1,2]}', "stop"),  # a stop status wins
        ('{"PRESS":"APPSELECT"}', "press"),
        ('{"TYPE":""}', "type"),
    ],
)
def test_agentcpm_reads_answers_as_its_scripts_do(text, kind):
    assert read_answer(text)[0] == kind
    if kind is None and text.startswith("{") and "'" not in text:
        assert not schema_valid(json.loads(text))


@pytest.mark.parametrize(
    ("text", "gold", "correct"),
    [
        ('{"STATUS":"interrupt"}', TaskCompleted(), True),  # any stop matches any stop
        ('{"STATUS":"need_feedback"}', Wait(), True),
        ('{"POINT":[500,500],"duration":100}', Wait(), True),  # a short POINT is a stop
        ('{"POINT":[500,500],"duration":1000}', Click(box=(540, 1200, 540, 1200)), False),  # long_point
        ('{"POINT":[500,500],"duration":1000}', LongClick(box=(540, 1200, 540, 1200)), False),  # AC: click
        ('{"PRESS":"HOME"}', Home(), True),
        ('{"TYPE":""}', TypeText(text="hello"), True),  # an empty text is contained in any
        ('{"POINT":[500.5,500]}', Click(box=(540, 1200, 540, 1200)), False),  # refused by the schema
    ],
)
def test_agentcpm_verdicts_on_raw_answers(text, gold, correct):
    context = GoldContext(point=(540, 1200), ui_boxes=())
    assert raw("agentcpm", text, gold, context)[0] is correct


def test_agentcpm_aitz_gold_direction_is_the_cosine_of_its_path_not_the_stated_word():
    # process_aitz.py keeps touch and lift; the evaluator snaps the path by largest cosine. A path 0.9
    # down per 1.0 left (norm) is "down" by CoAT's 0.9 rule (the word AITZ states) and "left" by cosine.
    gold = Swipe(start=(1000, 1000), end=(0, 1900))  # dx -1000 / 1080 = -0.926, dy 900 / 2400 = 0.375
    context = GoldContext(scroll_direction="down", scroll_direction_means="finger")
    assert raw("agentcpm-aitz", '{"POINT":[500,500],"to":"left"}', gold, context) == (True, True)
    assert raw("agentcpm-aitz", '{"POINT":[500,500],"to":"down"}', gold, context) == (False, True)


def test_agentcpm_ac_candidates_are_every_bounds_in_screen_box_grown_by_point_two():
    # process_ac.py reads every bounds_in_screen of the forest's text, windows' and invisible nodes'
    # included; the evaluator takes the 5 whose centres are nearest the gold point.
    gold = Click(box=(100, 100, 100, 100))
    box = ((500, 1000, 600, 1100),)  # grown by 0.2 of its size: 490-610 x 990-1110, away from the gold point
    context = GoldContext(point=(100, 100), ui_boxes=box)
    assert raw("agentcpm", '{"POINT":[560,438]}', gold, context)[0]  # (604.8, 1051.2) px: in the grown box
    assert not raw("agentcpm", '{"POINT":[566,438]}', gold, context)[0]  # (611.3, 1051.2) px: outside
    far = tuple((x, x, x + 10, x + 10) for x in (200, 300, 400, 500, 600))
    crowded = GoldContext(point=(100, 100), ui_boxes=(*far, (1000, 2300, 1080, 2400)))
    # the 5 nearest do not hold the tap at (1040, 2350): only the 0.04 rule, which it fails
    assert not raw("agentcpm", '{"POINT":[963,979]}', gold, crowded)[0]
    assert raw(
        "agentcpm", '{"POINT":[963,979]}', gold, GoldContext(point=(100, 100), ui_boxes=crowded.ui_boxes[-1:])
    )[0]


def test_androidcontrol_import_keeps_every_bounds_in_screen_box():
    from tests.helpers.importers import encode_forest, encode_node, f_bytes, f_varint

    nodes = [
        encode_node(1, (0, 0, 1080, 2400), visible=False),
        encode_node(2, (10, 20, 60, 50), clickable=True),
        encode_node(3, (10, 20, 60, 50)),  # a duplicate
        encode_node(4, (0, 0, 0, 0)),  # set, all zeros
    ]
    forest = encode_forest(nodes) + f_bytes(1, f_bytes(1, f_varint(4, 2400)) + f_varint(6, 2))  # IME window
    windows = parse_forest(forest)
    _, _, context = androidcontrol.convert_action(
        {"action_type": "click", "x": 30, "y": 35}, windows, SCREEN, "t"
    )
    assert context["ui_boxes"] == [
        [0, 0, 1080, 2400],
        [10, 20, 60, 50],
        [10, 20, 60, 50],
        [0, 0, 0, 0],
        [0, 0, 0, 2400],  # the IME window's own bounds (bottom only)
    ]


# ---- gui-odyssey: the SAM2 box, the ':' in a TYPE command, key names ----------------------------------


@pytest.mark.parametrize(
    ("pred", "gold", "context", "correct"),
    [
        # click_matching checks the SAM2 box first (edges included), then the 0.14 distance.
        (Click(box=(900, 2300, 900, 2300)), Click(box=(100, 100, 100, 100)), (800, 2200, 1000, 2400), True),
        (Click(box=(900, 2300, 900, 2300)), Click(box=(100, 100, 100, 100)), (1000, 2400, 800, 2200), False),
        (Click(box=(900, 2300, 900, 2300)), Click(box=(100, 100, 100, 100)), None, False),
        # simple_decode splits "TYPE: <text>" at ':', so only the text before a colon is compared.
        (TypeText(text="go: 1234567890"), TypeText(text="go: abcdefghij"), None, True),
        (TypeText(text="sunny: weather"), TypeText(text="weather: sunny"), None, False),
        (Home(), Home(), None, True),
    ],
)
def test_gui_odyssey_rules(pred, gold, context, correct):
    ctx = GoldContext(
        point=gold.point if isinstance(gold, Click) else None, candidate_boxes=(context,) if context else None
    )
    assert verdict("gui-odyssey", pred, gold, ctx) is correct


# ---- aitz: the gold label is CoAT's, from coat_action_desc ---------------------------------------------


def test_aitz_gold_type_and_direction_come_from_coat_action_desc():
    # _parse_answer_ takes the gold type from the description's first word and a scroll's direction from
    # its second: a DUAL_POINT just over the 0.04 tap split that AITZ describes as a click is a click.
    source = ContextSource(format="aitz")
    gold = Swipe(start=(100, 1000), end=(100, 1097))
    click = GoldContext(step_instruction="click on the button", source=source)
    assert verdict("aitz", Click(box=(90, 990, 110, 1010)), gold, click)
    scroll = GoldContext(step_instruction="scroll left", source=source)
    assert verdict("aitz", Swipe(start=(500, 500), end=(100, 500)), gold, scroll)
    press = GoldContext(step_instruction="press the home button", source=source)
    assert verdict("aitz", Home(), Home(), press)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(["POINT", "to", "duration", "PRESS", "TYPE", "STATUS", "x"]), inner
                )
            ),
            max_leaves=8,
        ).map(lambda obj: json.dumps(obj)),
    )
)
def test_agentcpm_reading_never_raises(text):
    kind, _ = read_answer(text)
    assert kind in (None, "click", "long_point", "scroll", "type", "press", "stop")
    context = GoldContext(point=(540, 1200), ui_boxes=((0, 0, 10, 10),))
    for gold in (Click(box=(540, 1200, 540, 1200)), Swipe(start=(0, 0), end=(0, 500)), Wait()):
        v = match_step(
            None, gold, SCREEN, "agentcpm", context=context, answer=Answer(text, "agentcpm-gui", (1000, 1000))
        )
        assert isinstance(v.correct, bool)


# ---- metrics: AgentCPM-GUI's episode figures (eval/utils/evaluator.py compute_episode_metrics) -----------


@pytest.mark.parametrize("protocol", ["agentcpm", "agentcpm-aitz"])
def test_agentcpm_episode_figures_are_the_matched_prefix_over_the_steps_it_scores(protocol):
    def step(episode, index, correct, counted=True):
        return StepOutcome(episode, index, "click", correct, correct, counted)

    outcomes = [
        # steps out of order on purpose: the source walks each episode in step order
        step("a", 2, True),
        step("a", 0, True),
        step("a", 1, False),  # the first miss ends the prefix: 1 of 3
        step("a", 3, False, counted=False),  # an open_app step process_ac.py drops
        step("b", 0, True),
        step("b", 1, True, counted=True),  # every step right: success, progress 1
        step("c", 0, False, counted=False),  # no step in the denominator: not an episode of the source's
    ]
    figures = get_protocol(protocol).metrics(outcomes)
    assert figures == {"success_rate": 0.5, "goal_progress": pytest.approx((1 / 3 + 1) / 2)}
