"""Agent adapters: real-shaped answers per adapter, round trips per coordinate space, never raising."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions import (
    ACTION_CLASSES,
    KEY_ACTION_TYPES,
    Back,
    Click,
    LongClick,
    OpenApp,
    Swipe,
    TaskCompleted,
    TaskImpossible,
    TypeText,
    Wait,
)
from actions.coords import PixelBudget
from actions.directions import directions
from actions.match import match_step
from agent.adapters import ADAPTERS, adapter_class, make_adapter
from agent.adapters.base import ADAPTER_SPACES, EXPECTED_GRAMMAR, NO_COUNTERPART, TYPE_SUBMIT_SPLIT, Adapter

SCREEN = (1080, 2400)
BUDGET = PixelBudget(3136, 1003520)  # resizes 1080x2400 to 672x1484
SR = (672, 1484)


def adapter(name):
    return make_adapter(name, budget=BUDGET)


def sr(x, y):
    """Original pixels of a resized-pixel point on SCREEN."""
    return (round(x * SCREEN[0] / SR[0]), round(y * SCREEN[1] / SR[1]))


def rel(x, y, n=1000):
    return (round(x * SCREEN[0] / n), round(y * SCREEN[1] / n))


# (adapter, raw answer, expected): expected is ("click", (x, y)) / ("long_click", (x, y)) in original pixels,
# ("swipe", finger direction), ("type", text), ("open_app", name), (type name,) or (None, problem).
CASES = [
    # Qwen2.5-VL: the cookbook's shape, resized pixels; system buttons; key; terminate.
    (
        "qwen2.5-vl",
        '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [336, 742]}}'
        "\n</tool_call>",
        ("click", sr(336, 742)),
    ),
    (
        "qwen2.5-vl",
        '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "swipe", "coordinate": [336, 1000], '
        '"coordinate2": [336, 300]}}\n</tool_call>',
        ("swipe", "up"),
    ),
    (
        "qwen2.5-vl",
        '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "long_press", "coordinate": [10, 20], '
        '"time": 2}}\n</tool_call>',
        ("long_click", sr(10, 20)),
    ),
    (
        "qwen2.5-vl",
        '<tool_call>{"name":"mobile_use","arguments":{"action":"system_button","button":"Back"}}</tool_call>',
        ("back",),
    ),
    (
        "qwen2.5-vl",
        '<tool_call>{"name":"mobile_use","arguments":{"action":"system_button","button":"Home"}}</tool_call>',
        ("home",),
    ),
    (
        "qwen2.5-vl",
        '<tool_call>{"name":"mobile_use","arguments":{"action":"system_button","button":"Enter"}}</tool_call>',
        ("enter",),
    ),
    (
        "qwen2.5-vl",
        '<tool_call>{"name":"mobile_use","arguments":{"action":"system_button","button":"Menu"}}</tool_call>',
        (None, f"{NO_COUNTERPART}menu"),
    ),
    (
        "qwen2.5-vl",
        '<tool_call>{"name":"mobile_use","arguments":{"action":"key","text":"KEYCODE_ENTER"}}</tool_call>',
        (None, f"{NO_COUNTERPART}key"),
    ),
    (
        "qwen2.5-vl",
        '<tool_call>{"name":"mobile_use","arguments":{"action":"open","text":"Maps"}}</tool_call>',
        ("open_app", "Maps"),
    ),
    (
        "qwen2.5-vl",
        '<tool_call>{"name":"mobile_use","arguments":{"action":"terminate","status":"failure"}}</tool_call>',
        ("task_impossible",),
    ),
    (
        "qwen2.5-vl",
        '<tool_call>{"name":"mobile_use","arguments":{"action":"type","text":"shoes\\n"}}</tool_call>',
        ("type", "shoes"),
    ),
    # The cookbook splits on '<tool_call>\n' and breaks without it; no closing tag is read with a problem.
    (
        "qwen2.5-vl",
        '<tool_call>{"name": "mobile_use", "arguments": {"action": "wait", "time": 2}}',
        ("wait",),
    ),
    # Qwen3-VL: Thought / Action sentence / call on a 999 grid; answer has no counterpart.
    (
        "qwen3-vl",
        'Thought: To search, tap the bar.\nAction: "I tapped on the search bar."\n<tool_call>\n'
        '{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [447, 81]}}\n</tool_call>',
        ("click", rel(447, 81, 999)),
    ),
    (
        "qwen3-vl",
        '<tool_call>{"name":"mobile_use","arguments":{"action":"answer","text":"42"}}</tool_call>',
        (None, f"{NO_COUNTERPART}answer"),
    ),
    # UI-TARS-1.5: resized pixels; box tokens stripped or not; scroll names the content's side.
    ("ui-tars-1.5", "Thought: tap it\nAction: click(start_box='(177,549)')", ("click", sr(177, 549))),
    (
        "ui-tars-1.5",
        "Thought: tap it\nAction: click(start_box='<|box_start|>(177,549)<|box_end|>')",
        ("click", sr(177, 549)),
    ),
    (
        "ui-tars-1.5",
        "Thought: more below\nAction: scroll(start_box='(300,700)', direction='down')",
        ("swipe", "up"),
    ),
    ("ui-tars-1.5", "Action: scroll(direction='up')", ("swipe", "down")),
    (
        "ui-tars-1.5",
        "Thought: drag\nAction: drag(start_box='(255,690)', end_box='(235,142)')",
        ("swipe", "up"),
    ),
    ("ui-tars-1.5", "Thought: search\nAction: type(content='running shoes\\n')", ("type", "running shoes")),
    ("ui-tars-1.5", "Thought: x\nAction: type(content='it\\'s')", ("type", "it's")),
    ("ui-tars-1.5", "Thought: x\nAction: press_home()", ("home",)),
    ("ui-tars-1.5", "Thought: x\nAction: call_user()", (None, f"{NO_COUNTERPART}call_user")),
    ("ui-tars-1.5", "Thought: x\nAction: press_back()", ("back",)),
    ("ui-tars-1.5", "Thought: x\nAction: open_app(app_name='Chrome')", ("open_app", "Chrome")),
    ("ui-tars-1.5", "Thought: x\nAction: finished(content='done')", ("task_completed",)),
    ("ui-tars-1.5", "Thought: x\nAction: click(point='<point>177 549</point>')", ("click", sr(177, 549))),
    ("ui-tars-1.5", "Thought: x\nAction: click(start_box='[100,200,300,400]')", ("click", sr(200, 300))),
    # Older models emit start_box='=' (issue #78): no point, named.
    ("ui-tars-1.0", "Thought: x\nAction: click(start_box='=')", (None, "bad_start_box")),
    ("ui-tars-1.0", "Thought: x\nAction: click(start_box='(259,314)')", ("click", rel(259, 314))),
    ("ui-tars-1.0", "Action: scroll(direction='down')", ("swipe", "up")),
    ("ui-tars-1.0", "Thought: x\nAction: wait()", ("wait",)),
    # OS-Atlas: lowercase headers, 0-1000 points, bracketed arguments.
    ("os-atlas", "actions:\nCLICK <point>[[683,321]]</point>", ("click", rel(683, 321))),
    ("os-atlas", "actions:\nLONG_PRESS <point>[[108,272]]</point>", ("long_click", rel(108, 272))),
    (
        "os-atlas",
        "thoughts:\nopen the PocketBook app.\nactions:\nOPEN_APP [PocketBook]",
        ("open_app", "PocketBook"),
    ),
    ("os-atlas", "actions:\nTYPE [running shoes]", ("type", "running shoes")),
    ("os-atlas", "actions:\nSCROLL [DOWN]", ("swipe", "up")),
    ("os-atlas", "actions:\nPRESS_HOME", ("home",)),
    ("os-atlas", "actions:\nPRESS_RECENT", ("recent_apps",)),
    ("os-atlas", "actions:\nENTER", ("enter",)),
    ("os-atlas", "actions:\nIMPOSSIBLE", ("task_impossible",)),
    # A description instead of a command (issue #44).
    ("os-atlas", "I should tap the search bar at the top.", (None, f"{EXPECTED_GRAMMAR}os-atlas")),
    # AgentCPM-GUI: compact JSON, 0-1000, `to` is the finger's direction, duration makes a long press.
    ("agentcpm-gui", '{"thought":"tap","POINT":[729,69]}', ("click", rel(729, 69))),
    ("agentcpm-gui", '{"POINT":[723,536],"to":"up"}', ("swipe", "up")),
    ("agentcpm-gui", '{"POINT":[723,536],"duration":1000}', ("long_click", rel(723, 536))),
    ("agentcpm-gui", '{"PRESS":"HOME"}', ("home",)),
    ("agentcpm-gui", '{"PRESS":"ENTER"}', ("enter",)),
    ("agentcpm-gui", '{"PRESS":"APPSELECT"}', (None, f"{NO_COUNTERPART}appselect")),
    ("agentcpm-gui", '{"PRESS":"BACK"}', ("back",)),
    ("agentcpm-gui", '{"TYPE":"hi"}', ("type", "hi")),
    ("agentcpm-gui", '{"duration":3000}', ("wait",)),
    ("agentcpm-gui", '{"STATUS":"finish"}', ("task_completed",)),
    ("agentcpm-gui", '{"STATUS":"need_feedback"}', (None, f"{NO_COUNTERPART}need_feedback")),
    # GUI-R1: a Python literal list, resized pixels; close/delete (training only) is not an action here.
    (
        "gui-r1",
        "<think>tap</think> <answer>[{'action': 'click', 'point': [123, 300], "
        "'input_text': 'no input text'}]</answer>",
        ("click", sr(123, 300)),
    ),
    (
        "gui-r1",
        "<think>x</think> <answer>[{'action': 'scroll', 'point': [-100, -100], 'input_text': 'up'}]</answer>",
        ("swipe", "down"),
    ),
    (
        "gui-r1",
        "<answer>[{'action': 'open_app', 'point': [-100, -100], 'input_text': 'Gmail'}]</answer>",
        ("open_app", "Gmail"),
    ),
    (
        "gui-r1",
        "<answer>[{'action': 'close/delete', 'point': [1, 2], 'input_text': ''}]</answer>",
        (None, "unknown_action"),
    ),
    (
        "gui-r1",
        "<answer>[{'action': 'press_home', 'point': [-100, -100]}]</answer>",
        ("home",),
    ),
    (
        "gui-r1",
        "<answer>[{'action': 'press_recent', 'point': [-100, -100]}]</answer>",
        ("recent_apps",),
    ),
    # UI-R1: coordinate key, navigate_back.
    (
        "ui-r1",
        "<think>x</think> <answer>[{'action': 'click', 'coordinate': [200, 400]}]</answer>",
        ("click", sr(200, 400)),
    ),
    ("ui-r1", "<answer>[{'action': 'navigate_back', 'coordinate': [0, 0]}]</answer>", ("back",)),
    # InfiGUI-R1: reasoning and sub-goal first; its parser falls back when <tool_call> is missing.
    (
        "infigui-r1",
        '<think>look<step>open search</step></think><tool_call>{"name": "mobile_use", "arguments": '
        '{"action": "click", "coordinate": [336, 742]}}</tool_call>',
        ("click", sr(336, 742)),
    ),
    (
        "infigui-r1",
        '<think>x</think>{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [336, 742]}}',
        ("click", sr(336, 742)),
    ),
    # UI-Venus: <action> calls, finger path for Scroll; missing tags are read with a problem, not raised.
    (
        "ui-venus",
        "<think>tap</think><action>Click(box=(540,1200))</action><conclusion>tapped</conclusion>",
        ("click", sr(540, 1200)),
    ),
    ("ui-venus", "<action>Scroll(start=(300,1000), end=(300,400))</action>", ("swipe", "up")),
    ("ui-venus", "<action>Type(content='hello')</action>", ("type", "hello")),
    ("ui-venus", "<action>Launch(app='Maps')</action>", ("open_app", "Maps")),
    ("ui-venus", "<action>PressHome()</action>", ("home",)),
    ("ui-venus", "<action>PressEnter()</action>", ("enter",)),
    ("ui-venus", "<action>PressRecent()</action>", ("recent_apps",)),
    ("ui-venus", "<action>DoubleClick(point=(5,5))</action>", (None, f"{NO_COUNTERPART}doubleclick")),
    # UI-Venus-2 (models/mobile/examples/example_output.json): point=, LaunchApp, a 0-999 grid / 1000.
    ("ui-venus", "<think>x</think>\n<action>Click(point=(540,1200))</action>", ("click", sr(540, 1200))),
    ("ui-venus-2", "<think>x</think>\n<action>Click(point=(897, 937))</action>", ("click", rel(897, 937))),
    ("ui-venus-2", "<action>LaunchApp(app='酷我音乐')</action>", ("open_app", "酷我音乐")),
    ("ui-venus-2", "<action>Swipe(start=(500,800), end=(500,200))</action>", ("swipe", "up")),
    ("ui-venus-2", "<action>LongPress(point=(10, 20))</action>", ("long_click", rel(10, 20))),
    ("ui-venus-2", "<action>Answer(content='42')</action>", (None, f"{NO_COUNTERPART}answer")),
    ("ui-venus", "<action>CallUser(content='which one?')</action>", (None, f"{NO_COUNTERPART}calluser")),
    ("ui-venus", "Click(box=(540,1200))", ("click", sr(540, 1200))),
    # UI-S1: the mobile_use arguments as JSON inside <action>.
    (
        "ui-s1",
        '<think>\nx\n</think>\n<action>\n{"action": "click", "coordinate": [336, 742]}\n</action>',
        ("click", sr(336, 742)),
    ),
    ("ui-s1", '<action>{"action": "open", "text": "Maps"}</action>', ("open_app", "Maps")),
    ("ui-s1", '<action>{"action": "system_button", "button": "Back"}</action>', ("back",)),
    ("ui-s1", "<action>{'action': 'wait'}</action>", (None, "action_not_json")),
    ("ui-s1", "<action>[1, 2]</action>", (None, "action_not_object")),
    # GUI-Owl: <thinking> tags, `tap` normalised to click.
    (
        "gui-owl",
        '<thinking>x</thinking><tool_call>\n{"name":"mobile_use","arguments":{"action":"tap","coordinate":[336,742]}}}\n'
        "</tool_call><conclusion>tapped</conclusion>",
        ("click", sr(336, 742)),
    ),
    # phone-r1: the seed format, unchanged.
    (
        "phone-r1",
        '<think>{"task_interpretation": "", "current_page_audit": "", "path_alignment_check": "", '
        '"action_validation": ""}</think><answer>{"action_type": "back", "action_parameter": {"back": ""}, '
        '"action_description": ""}</answer>',
        ("back",),
    ),
]


# A scroll whose direction word is none of up/down/left/right: no action, and the problem is named.
CASES += [
    ("os-atlas", "actions:\nSCROLL [SIDEWAYS]", (None, "bad_direction")),
    ("ui-tars-1.5", "Action: scroll(start_box='(300,700)', direction='sideways')", (None, "bad_direction")),
    (
        "gui-r1",
        "<answer>[{'action': 'scroll', 'point': [10, 10], 'input_text': 'sideways'}]</answer>",
        (None, "bad_direction"),
    ),
    ("agentcpm-gui", '{"POINT":[723,536],"to":"sideways"}', (None, "bad_direction")),
]


@pytest.mark.parametrize(("name", "raw", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_real_shaped_answers(name, raw, expected):
    reading = adapter(name).parse(raw, SCREEN)
    kind = expected[0]
    if kind is None:
        assert reading.action is None
        assert expected[1] in reading.problems, reading.problems
        return
    action = reading.action
    assert action is not None, reading.problems
    assert action.action_type == kind, (action, reading.problems)
    if kind in ("click", "long_click"):
        assert action.point == pytest.approx(expected[1], abs=1)
    elif kind == "swipe":
        assert directions(action.start, action.end, unit="pixel") == {expected[1]}
    elif kind == "type":
        assert action.text == expected[1]
    elif kind == "open_app":
        assert action.app == expected[1]


@pytest.mark.parametrize(
    ("name", "raw", "point"),
    [
        (
            "qwen2.5-vl",
            '<tool_call>{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [337, 743]}}'
            "</tool_call>",
            (337 * SCREEN[0] / SR[0], 743 * SCREEN[1] / SR[1]),
        ),
        (
            "os-atlas",
            "actions:\nCLICK <point>[[501,333]]</point>",
            (501 * SCREEN[0] / 1000, 333 * SCREEN[1] / 1000),
        ),
        (
            "ui-s1",
            '<action>{"action": "click", "coordinate": [337, 743]}</action>',
            (337 * 1080 / 672, 743 * 2400 / 1484),
        ),
    ],
)
def test_points_keep_the_exact_value_the_answer_maps_to(name, raw, point):
    """Rounding to whole pixels would move a tap across a protocol's threshold; the protocols round (or
    truncate) as their sources do, so the adapters hand over the exact value."""
    action = adapter(name).parse(raw, SCREEN).action
    assert action.point == point


def test_type_with_trailing_newline_is_split_and_noted():
    reading = adapter("ui-tars-1.5").parse("Thought: x\nAction: type(content='abc\\n')", SCREEN)
    assert reading.action == TypeText(text="abc")
    assert TYPE_SUBMIT_SPLIT in reading.problems


def test_registry_entries_load_and_describe_themselves():
    for name in ADAPTERS:
        cls = adapter_class(name)
        assert cls.name == name
        assert cls.grammar
        assert cls.coord_space in ADAPTER_SPACES
        assert cls.reproduced_from in ("code", "readme")
        module_doc = sys.modules[cls.__module__].__doc__ or ""
        assert cls.__doc__ and ("[code]" in module_doc or "[readme]" in module_doc or name == "phone-r1"), (
            name
        )
        assert "differ" in module_doc or name == "phone-r1", f"{name}: the module docstring says what differs"


def test_unknown_adapter_lists_the_known_ones():
    with pytest.raises(ValueError) as err:
        make_adapter("qwen9")
    for name in ADAPTERS:
        assert name in str(err.value)


def test_dotted_path_adapters():
    assert isinstance(make_adapter("agent.adapters.os_atlas:OSAtlasAdapter"), Adapter)
    with pytest.raises(ValueError, match="not a subclass"):
        make_adapter("actions.types:Click")
    with pytest.raises(ValueError, match="cannot load"):
        make_adapter("no_such_pkg.mod:Adapter")


def test_resized_adapter_without_budget_refuses_with_the_flag():
    with pytest.raises(ValueError, match="--max-pixels"):
        make_adapter("qwen2.5-vl").model_screen(SCREEN)


# One adapter per grammar family: an answer in one family's grammar reads as nothing in another's.
FAMILIES = ["phone-r1", "qwen2.5-vl", "ui-tars-1.5", "os-atlas", "agentcpm-gui", "gui-r1", "ui-venus"]


@pytest.mark.parametrize("writer", FAMILIES)
@pytest.mark.parametrize("reader", FAMILIES)
def test_other_grammars_parse_to_nothing_naming_the_expected_one(writer, reader):
    if writer == reader:
        return
    raw = adapter(writer).render(Click(box=(500, 1000, 600, 1100)), SCREEN)
    reading = adapter(reader).parse(raw, SCREEN)
    assert reading.action is None, (raw, reading)
    assert f"{EXPECTED_GRAMMAR}{reader}" in reading.problems


GOLDS = [
    Click(box=(100, 200, 300, 400)),
    LongClick(box=(0, 1380, 1080, 1570)),
    Swipe(start=(575, 1429), end=(575, 402)),
    Swipe(start=(900, 1200), end=(100, 1200)),
    TypeText(text="月亮湾 Z 座"),
    OpenApp(app="京东"),
    Wait(),
    Back(),
    TaskCompleted(summary="done"),
    TaskImpossible(reason="no"),
]


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_render_then_parse_round_trips(name):
    a = adapter(name)
    for gold in GOLDS:
        raw = a.render(gold, SCREEN)
        if raw is None:
            continue  # the grammar cannot say it (checked per adapter by the end-to-end test's counts)
        reading = a.parse(raw, SCREEN)
        assert reading.action is not None, (gold, raw, reading.problems)
        assert match_step(reading.action, gold, SCREEN).correct, (gold, raw, reading.action)


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_each_adapter_says_exactly_the_key_presses_its_grammar_has(name):
    """`keys` is what `render` can write and `parse` reads back; the seed format lists its ten types only."""
    a = adapter(name)
    for key in KEY_ACTION_TYPES:
        gold = ACTION_CLASSES[key]()
        raw = a.render(gold, SCREEN)
        assert a.expresses(key) == (key in a.keys)
        if name == "phone-r1":
            continue  # the wire format can carry every type, though the seed's prompt lists ten
        assert (raw is not None) == (key in a.keys), (key, raw)
        if raw is not None:
            assert a.parse(raw, SCREEN).action == gold
    assert adapter("phone-r1").keys == ()
    assert {key for key in KEY_ACTION_TYPES if adapter("os-atlas").expresses(key)} == set(KEY_ACTION_TYPES)


@pytest.mark.parametrize("name", [n for n in ADAPTERS if n != "phone-r1"])
@settings(max_examples=60, deadline=None)
@given(x=st.integers(0, 1080), y=st.integers(0, 2400))
def test_coordinate_round_trip_per_space(name, x, y):
    """A tap rendered in the adapter's space comes back within one model unit of where it was."""
    a = adapter(name)
    raw = a.render(Click(box=(x, y, x, y)), SCREEN)
    action = a.parse(raw, SCREEN).action
    mw, mh = a.model_screen(SCREEN)
    assert abs(action.point[0] - x) <= SCREEN[0] / mw / 2 + 1
    assert abs(action.point[1] - y) <= SCREEN[1] / mh / 2 + 1


FRAGMENTS = st.sampled_from(
    [
        "<tool_call>",
        "</tool_call>",
        '{"name": "mobile_use", "arguments": ',
        '{"action": "click", "coordinate": [',
        "Action:",
        "Thought:",
        "click(start_box='(",
        "scroll(direction='",
        "actions:\n",
        "CLICK <point>[[",
        '{"POINT":[',
        "<answer>[{'action': '",
        "<action>Click(box=(",
        "<think>",
        "</think>",
        "]",
        "}",
        ")",
        "'",
        "1e999",
        "-5",
        "12,34",
        "\n",
        "\\",
        "None",
        "[]",
    ]
)


@st.composite
def near_answers(draw):
    """An adapter and a text near its grammar: a rendered gold answer cut, spliced, numbers swapped."""
    name = draw(st.sampled_from(list(ADAPTERS)))
    a = adapter(name)
    texts = [t for t in (a.render(g, SCREEN) for g in GOLDS) if t is not None]
    text = draw(st.sampled_from(texts))
    for _ in range(draw(st.integers(0, 3))):
        cut = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "truncate"]))
        piece = draw(st.one_of(FRAGMENTS, st.text(max_size=6)))
        if edit == "insert":
            text = text[:cut] + piece + text[cut:]
        elif edit == "delete":
            text = text[:cut] + text[cut + draw(st.integers(1, 8)) :]
        else:
            text = text[:cut]
    if draw(st.booleans()):
        text = re.sub(
            r"\d+",
            lambda m: draw(st.sampled_from(["None", "-1", "1e999", "[]", "''", m.group(0)])),
            text,
            count=2,
        )
    return name, text


@settings(max_examples=600, deadline=None)
@given(case=near_answers())
def test_no_answer_raises(case):
    name, text = case
    reading = adapter(name).parse(text, SCREEN)
    assert reading.action is None or reading.action.action_type
    assert all(isinstance(p, str) for p in reading.problems)
    assert "internal_error" not in reading.problems  # a caught parser bug is still a bug


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(list(ADAPTERS)),
    parts=st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=12),
)
def test_no_fragment_soup_raises(name, parts):
    reading = adapter(name).parse("".join(parts), SCREEN)
    assert "internal_error" not in reading.problems


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_non_text_answers_are_named(name):
    reading = adapter(name).parse(None, SCREEN)
    assert reading.action is None
    assert "not_text" in reading.problems


def test_docs_table_names_every_adapter():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "eval.md").read_text(encoding="utf-8")
    for name in ADAPTERS:
        assert f"| `{name}` |" in text, name


def _images(messages):
    return [
        p
        for m in messages
        if isinstance(m["content"], list)
        for p in m["content"]
        if p.get("type") == "image"
    ]


def _text(messages):
    parts = []
    for m in messages:
        content = m["content"]
        parts += [content] if isinstance(content, str) else [p.get("text", "") for p in content]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def demo_step(tmp_path_factory):
    from episodes.readers import read_steps
    from tests.helpers.eval import demo_or_generated

    steps = read_steps(demo_or_generated(tmp_path_factory.mktemp("adapters")))
    return next(s for s in steps if s.history and s.previous_screenshot is not None)


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_messages_hold_goal_history_and_the_agents_number_of_images(name, demo_step):
    import dataclasses

    a = adapter(name)
    messages = a.messages(demo_step, demo_step.screen_size)
    images = _images(messages)
    assert 1 <= len(images) <= a.max_images
    assert images[-1]["image"] == str(demo_step.current_screenshot)
    text = _text(messages)
    if name not in ("ui-r1", "agentcpm-gui"):  # these two send the instruction only, no history
        assert demo_step.task in text
        assert demo_step.history[-1] in text
    low = dataclasses.replace(demo_step, instruction="tap the search bar")
    assert "tap the search bar" in _text(a.messages(low, low.screen_size))


def test_ui_tars_replays_history_as_assistant_turns_with_the_previous_screen(demo_step):
    messages = adapter("ui-tars-1.5").messages(demo_step, demo_step.screen_size)
    assert [m["role"] for m in messages[:2]] == ["system", "user"]
    assert sum(m["role"] == "assistant" for m in messages) == len(demo_step.history)
    assert messages[-1]["role"] == "user" and len(_images(messages)) == 2


def test_resized_prompts_state_the_served_size(demo_step):
    text = _text(adapter("qwen2.5-vl").messages(demo_step, SCREEN))
    assert f"{SR[0]}x{SR[1]}" in text
    assert "999x999" in _text(adapter("qwen3-vl").messages(demo_step, SCREEN))


def test_prompt_file_replaces_the_instruction_text(demo_step, tmp_path):
    official = tmp_path / "official.txt"
    official.write_text("OFFICIAL screen ${width}x${height} for '${task}'", encoding="utf-8")
    custom = make_adapter("gui-r1", budget=BUDGET, prompt_file=official)
    text = _text(custom.messages(demo_step, SCREEN))
    assert f"OFFICIAL screen {SR[0]}x{SR[1]} for '{demo_step.task}'" in text
    assert custom.template_hash() != adapter("gui-r1").template_hash()
