"""The stub server's grounding replies: each item answered in an agent's grammar, told apart by screenshot
and instruction, and read back by the same adapter to a point inside the target."""

from __future__ import annotations

import pytest

from actions.coords import PixelBudget
from actions.grounding_protocols import get_grounding_protocol
from agent.adapters.grounding import GROUNDING_ADAPTERS, make_grounding_adapter
from agent.backends.images import image_data_url
from episodes.grounding import read_grounding_items
from eval.testing.grounding_replies import grounding_replies
from tests.helpers.grounding import item_line, write_set


def wire(messages):
    """Generic messages as an OpenAI client sends them (images as data URLs of the files)."""
    out = []
    for m in messages:
        if isinstance(m["content"], str):
            out.append(m)
            continue
        parts = [
            {"type": "image_url", "image_url": {"url": image_data_url(p["image"])}}
            if p["type"] == "image"
            else p
            for p in m["content"]
        ]
        out.append({"role": m["role"], "content": parts})
    return out


@pytest.mark.parametrize("name", GROUNDING_ADAPTERS.names())
def test_every_item_is_answered_in_the_grammar_and_lands_in_its_target(tmp_path, name):
    # Items 0 and 2 share a screenshot; item 6's instruction contains item 0's ("press button 0").
    polygon = item_line(1)["target"]
    twice = item_line(6, image="images/s0.png", instruction="press button 0 twice", target=polygon)
    lines = [item_line(i) for i in range(4)] + [twice]
    items = read_grounding_items(write_set(tmp_path / "set", lines))
    adapter = make_grounding_adapter(name, budget=PixelBudget())
    reply = grounding_replies(items, adapter, unknown="no idea")
    region = get_grounding_protocol("region")
    for item in items:
        text = reply(None, wire(adapter.messages(item)))
        verdict = region.verdict(item, adapter.parse(text, item.screen))
        if item.refusal and adapter.refusal is None:
            assert text == "no idea"
        else:
            assert verdict.correct, (name, item.id, text, verdict.reason)


def test_the_instruction_language_decides_which_text_identifies_the_item(tmp_path):
    items = read_grounding_items(
        write_set(tmp_path / "set", [item_line(0), item_line(2, image="images/s0.png")])
    )
    adapter = make_grounding_adapter("ui-venus-1.5")
    reply = grounding_replies(items, adapter, language="cn")
    second = items[1]
    assert reply(None, wire(adapter.messages(second, instruction=second.instruction_in("cn")))) == "[-1,-1]"
    assert reply(None, wire(adapter.messages(second))) == ""  # the English text is not what was registered


def test_an_unknown_screenshot_gets_the_unknown_answer(tmp_path):
    items = read_grounding_items(write_set(tmp_path / "set", [item_line(0)]))
    reply = grounding_replies(items[:0], make_grounding_adapter("os-atlas"), unknown="?")
    assert reply(None, wire(make_grounding_adapter("os-atlas").messages(items[0]))) == "?"
    assert reply(None, [{"role": "user", "content": "no image"}]) == "?"


def test_a_miss_rate_answers_outside_the_target_on_a_seeded_share_of_items(tmp_path):
    from eval.testing.grounding_replies import missing_answers

    polygon = item_line(1)["target"]
    lines = [item_line(i, target=polygon if i % 2 else item_line(0)["target"]) for i in range(40)]
    items = read_grounding_items(write_set(tmp_path / "set", lines))
    adapter = make_grounding_adapter("ui-venus-1.5")
    region = get_grounding_protocol("region")
    answer = missing_answers(adapter, 0.3, seed=5)
    right = [region.verdict(i, adapter.parse(answer(i), i.screen)).correct for i in items]
    assert 6 <= right.count(False) <= 18  # about 30% of 40
    assert (
        right
        == [region.verdict(i, adapter.parse(answer(i), i.screen)).correct for i in reversed(items)][::-1]
    )
    assert all(
        region.verdict(i, adapter.parse(missing_answers(adapter, 0.0)(i), i.screen)).correct for i in items
    )
