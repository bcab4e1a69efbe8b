"""Grounding adapters: answers in each model's published form read into points, the family contract
(render -> parse lands in the target, parse never raises), prompt files and the recorded settings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.coords import PixelBudget, model_screen_size
from actions.regions import Box, Polygon, Refusal, point_in_box, point_in_polygon
from agent.adapters.grounding import GROUNDING_ADAPTERS, make_grounding_adapter
from agent.adapters.grounding.base import PromptFileError

SCREEN = (1080, 2400)
BUDGET = PixelBudget()
RESIZED = model_screen_size("resized", SCREEN, BUDGET)


def call(action: str, *, name: str = "computer_use", newline: str = "", **arguments) -> str:
    """A JSON tool call as the Qwen-style models write it."""
    body = json.dumps({"name": name, "arguments": {"action": action, **arguments}})
    return f"<tool_call>{newline}{body}{newline}</tool_call>"


def seed_answer(action_type: str, parameter: str) -> str:
    action = {
        "action_type": action_type,
        "action_parameter": {action_type: parameter},
        "action_description": "",
    }
    return f"<answer>{json.dumps(action)}</answer>"


def adapter(name: str, **kwargs):
    return make_grounding_adapter(name, budget=BUDGET, **kwargs)


def frac(name: str, text: str, **kwargs):
    answer = adapter(name, **kwargs).parse(text, SCREEN)
    assert answer.point is not None, answer.problems
    return answer.fraction


# (adapter, answer text as the model's own examples write it, expected fraction of the screen)
POINTS = [
    # ScreenSpot-Pro models/qwen2_5vl.py: pixels of the resized image, divided by its size.
    (
        "qwen2.5-vl",
        call("left_click", coordinate=[639, 1095], newline="\n"),
        (639 / RESIZED[0], 1095 / RESIZED[1]),
    ),
    (  # four numbers: the box's centre (lines 201-204)
        "qwen2.5-vl",
        call("left_click", coordinate=[10, 20, 30, 40]),
        (20 / RESIZED[0], 30 / RESIZED[1]),
    ),
    (
        "qwen3-vl",
        call("left_click", coordinate=[447, 81], newline="\n"),
        (0.447, 0.081),
    ),
    (
        "qwen3.5",
        "<tool_call>\n<function=computer_use>\n<parameter=action>\nleft_click\n</parameter>\n"
        "<parameter=coordinate>\n[250, 750]\n</parameter>\n</function>\n</tool_call>",
        (0.25, 0.75),
    ),
    ("ui-tars-1.5", "Action: click(start_box='(197,525)')", (197 / RESIZED[0], 525 / RESIZED[1])),
    (
        "ui-tars-1.5",
        "Thought: the gear.\nAction: click(start_box='<|box_start|>(197,525)<|box_end|>')",
        (197 / RESIZED[0], 525 / RESIZED[1]),
    ),
    ("ui-tars-1.5", "Action: click(point='<point>197 525</point>')", (197 / RESIZED[0], 525 / RESIZED[1])),
    # OS-Atlas README: the example answer for "switch language of current page".
    (
        "os-atlas",
        "<|object_ref_start|>language switch<|object_ref_end|>"
        "<|box_start|>(576,12),(592,42)<|box_end|><|im_end|>",
        (0.584, 0.027),
    ),
    ("gui-g2", "[100,200,300,400]", (200 / RESIZED[0], 300 / RESIZED[1])),
    ("ui-venus", "[100,200,300,400]", (200 / RESIZED[0], 300 / RESIZED[1])),
    ("ui-venus-1.5", "[500,250]", (0.5, 0.25)),
    ("ui-venus-1.5", "[100,200,300,400]", (0.2, 0.3)),
    # GUI-R1 inference_vllm_screenspot.py: its own example answer.
    (
        "gui-r1",
        "<think>the button</think> "
        "<answer>[{'action': 'click', 'point': [123, 300], 'input_text': 'no input text'}]</answer>",
        (123 / RESIZED[0], 300 / RESIZED[1]),
    ),
    (
        "infigui-r1",
        "<think>tap it</think>" + call("click", name="mobile_use", coordinate=[50, 60]),
        (50 / RESIZED[0], 60 / RESIZED[1]),
    ),
    (
        "gui-owl",
        call("left_click", coordinate=[100, 900]),
        (0.1, 0.9),
    ),
    (
        "phone-r1",
        '<think>{}</think><answer>{"action_type": "click", "action_parameter": {"click": "100,200,300,400"}, '
        '"action_description": "x"}</answer>',
        (200 / SCREEN[0], 300 / SCREEN[1]),
    ),
]


@pytest.mark.parametrize("name,text,expected", POINTS, ids=[f"{p[0]}-{i}" for i, p in enumerate(POINTS)])
def test_published_answer_forms(name, text, expected):
    assert frac(name, text) == pytest.approx(expected, abs=1e-12)


def test_points_are_exact_not_rounded_nor_clamped():
    answer = adapter("qwen3-vl").parse(
        '<tool_call>{"arguments": {"action": "left_click", "coordinate": [1200, 333]}}</tool_call>', SCREEN
    )
    assert answer.point == pytest.approx((1.2 * SCREEN[0], 0.333 * SCREEN[1]))  # off the screen: left off it
    assert answer.fraction == (1.2, 0.333)
    pixels = adapter("phone-r1").parse(
        seed_answer("click", "10,10,11,12"),
        SCREEN,
    )
    assert pixels.point == (10.5, 11.0)


@pytest.mark.parametrize(
    "name,text",
    [
        (
            "qwen3-vl",
            call("terminate", status="failure"),
        ),
        (
            "gui-owl",
            call("terminate", status="failure"),
        ),
        ("ui-venus-1.5", "[-1,-1]"),
        (
            "phone-r1",
            '<answer>{"action_type": "task_impossible", "action_parameter": {"task_impossible": "none"}, '
            '"action_description": ""}</answer>',
        ),
    ],
)
def test_refusals_where_the_grammar_has_one(name, text):
    answer = adapter(name).parse(text, SCREEN)
    assert answer.refused and answer.point is None


def test_terminate_is_no_refusal_for_a_model_that_does_not_refuse_that_way():
    text = call("terminate", status="failure")
    answer = adapter("qwen2.5-vl").parse(text, SCREEN)
    assert not answer.refused and answer.point is None and "no_coordinate" in answer.problems


@pytest.mark.parametrize(
    "name,text,problem",
    [
        ("qwen2.5-vl", "I would click the gear icon.", "bad_tool_call"),
        ("ui-tars-1.5", "Thought: hmm", "no_point"),
        ("os-atlas", "the top bar", "no_box"),
        ("gui-r1", "<answer>[{'action': 'type'}]</answer>", "no_point"),
        ("ui-venus-1.5", "[1, 2, 3]", "expected 2 or 4 numbers, found 3"),
        (
            "phone-r1",
            seed_answer("back", ""),
            "not_a_click:back",
        ),
    ],
)
def test_unreadable_answers_name_the_problem_and_the_grammar(name, text, problem):
    answer = adapter(name).parse(text, SCREEN)
    assert not answer.parsed
    assert problem in answer.problems and f"expected_grammar:{name}" in answer.problems


TARGETS = [
    Box((100, 200, 400, 380)),
    Box((0.6, 0.5, 0.9, 0.55), "unit"),
    Polygon(((500, 900), (900, 900), (900, 1300), (500, 1300))),
]


@pytest.mark.parametrize("name", GROUNDING_ADAPTERS.names())
def test_render_then_parse_lands_in_the_target(name):
    a = adapter(name)
    for target in TARGETS:
        answer = a.parse(a.render(target, SCREEN), SCREEN)
        assert answer.point is not None, (name, answer.problems)
        if isinstance(target, Box):
            assert point_in_box(answer.point, Box(target.pixels(SCREEN)).ordered()), (name, target, answer)
        else:
            assert point_in_polygon(answer.point, target.points), (name, answer)
    text = a.render(Refusal(), SCREEN)
    assert (text is not None) == (a.refusal is not None), name
    if text is not None:
        assert a.parse(text, SCREEN).refused


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(GROUNDING_ADAPTERS.names()), text=st.text(max_size=200))
def test_parse_never_raises(name, text):
    answer = adapter(name).parse(text, SCREEN)
    assert answer.parsed or any(p.startswith("expected_grammar:") for p in answer.problems)
    if answer.point is not None:
        assert answer.fraction is not None


def test_parse_of_something_that_is_not_text():
    assert adapter("qwen3-vl").parse(None, SCREEN).problems == ("not_text", "expected_grammar:qwen3-vl")


def test_messages_follow_each_models_order_and_system_message(tmp_path):
    class Item:
        image = tmp_path / "s.png"
        screen = SCREEN
        instruction = "open settings"

    qwen = adapter("qwen2.5-vl").messages(Item())
    assert qwen[0]["role"] == "system" and f"{RESIZED[0]}x{RESIZED[1]}" in qwen[0]["content"]
    assert [part["type"] for part in qwen[1]["content"]] == ["image", "text"]
    assert qwen[1]["content"][1]["text"] == "open settings"
    tars = adapter("ui-tars-1.5").messages(Item(), instruction="打开设置")
    assert [m["role"] for m in tars] == ["user"] and "打开设置" in tars[0]["content"][1]["text"]


def test_resized_pixels_need_the_serving_budget():
    with pytest.raises(ValueError, match="needs the serving pixel budget"):
        make_grounding_adapter("ui-tars-1.5").model_screen(SCREEN)


def test_coordinate_grid_overrides_are_checked():
    assert adapter("gui-owl", coord_space="resized").space == "resized"
    with pytest.raises(ValueError, match="answers on \\['norm1000'\\], not 'resized'"):
        adapter("os-atlas", coord_space="resized")
    with pytest.raises(ValueError, match="coordinate space in"):
        adapter("qwen3-vl", coord_space="norm100")


def test_prompt_file_replaces_the_user_turn_and_is_recorded(tmp_path):
    plain = tmp_path / "official.txt"
    plain.write_text('In this UI screenshot, where is "${instruction}" (with bbox)?', encoding="utf-8")
    a = adapter("os-atlas", prompt_file=plain)
    system, user = a.texts("the gear", SCREEN)
    assert system is None and user == 'In this UI screenshot, where is "the gear" (with bbox)?'
    recorded = a.settings()
    assert recorded["prompt_file"] == str(plain) and recorded["user_prompt"] == plain.read_text(
        encoding="utf-8"
    )
    assert recorded["prompt_hash"] != adapter("os-atlas").settings()["prompt_hash"]
    assert recorded["image_text_order"] == "image-first" and recorded["coord_space"] == "norm1000"


def test_prompt_file_with_sections(tmp_path):
    f = tmp_path / "qwen.txt"
    f.write_text(
        "=== system ===\nYou are a helpful assistant. Screen ${width}x${height}.\n"
        "=== user ===\n${instruction}\n",
        encoding="utf-8",
    )
    system, user = adapter("qwen2.5-vl", prompt_file=f).texts("open", SCREEN)
    assert system == f"You are a helpful assistant. Screen {RESIZED[0]}x{RESIZED[1]}." and user == "open"


@pytest.mark.parametrize(
    "text,message",
    [
        ("Click the thing.", "must contain ${instruction}"),
        ("=== system ===\nhi\n", "needs a '=== user ===' one"),
        ("preface\n=== user ===\n${instruction}", "text before the first"),
        ("=== user ===\n${instruction}\n=== user ===\n${instruction}", "two '=== user ===' sections"),
    ],
)
def test_bad_prompt_files_are_refused_by_name(tmp_path, text, message):
    f = tmp_path / "p.txt"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(PromptFileError, match=re.escape(message)) as err:
        adapter("gui-g2", prompt_file=f)
    assert str(f) in str(err.value)
    with pytest.raises(PromptFileError, match="cannot read it"):
        adapter("gui-g2", prompt_file=Path(tmp_path / "missing.txt"))


def test_registry_refuses_what_is_not_a_grounding_adapter():
    with pytest.raises(
        ValueError, match="expected a subclass of agent.adapters.grounding.base.GroundingAdapter"
    ):
        GROUNDING_ADAPTERS.load("agent.adapters.phone_r1:PhoneR1Adapter")


def test_docs_table_and_sources_name_every_grounding_adapter():
    import sys

    text = (Path(__file__).resolve().parent.parent / "docs" / "eval.md").read_text(encoding="utf-8")
    grounding = text[text.index("### Grounding adapters") :]
    for name in GROUNDING_ADAPTERS.names():
        cls = GROUNDING_ADAPTERS.load(name)
        assert f"| `{name}` |" in grounding, name
        assert cls.name == name and cls.source and cls.grammar and cls.__doc__, name
        assert sys.modules[cls.__module__].__doc__, name
