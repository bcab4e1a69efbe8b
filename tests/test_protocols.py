"""Match protocols: table cases from each card (docs/eval.md), a property test over all of them, and an
independent reference of Android-in-the-Wild's matcher (card 1) checked on 10,000+ generated pairs."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions import (
    Back,
    Click,
    Enter,
    Home,
    LongClick,
    OpenApp,
    RecentApps,
    Swipe,
    TaskCompleted,
    TypeText,
    Wait,
    match_step,
)
from actions.context import GoldContext
from actions.protocols import PROTOCOLS, MissingContext, get_protocol
from tests.helpers.actions import actions_strategy

SCREEN = (1000, 2000)
GOLD = Click(box=(400, 1000, 600, 1200))  # 0.2 x 0.1 norm, centre (500, 1100)
UI = GoldContext(ui_boxes=((400, 1000, 600, 1200),), candidate_boxes=((400, 1000, 600, 1200),))
DOWN = Swipe(start=(500, 1000), end=(500, 1600))  # finger moves down
UP = Swipe(start=(500, 1600), end=(500, 1000))
# Five small boxes around the gold point, and a sixth far away that holds the far tap.
_RING = tuple(
    (500 + dx, 1100 + dy, 510 + dx, 1110 + dy)
    for dx, dy in ((0, 300), (300, 0), (0, -300), (-300, 0), (200, 200))
)
FAR = GoldContext(ui_boxes=(*_RING, (900, 100, 1000, 200)))
NEAR = GoldContext(
    ui_boxes=((900, 1100, 1000, 1200), *_RING[:4], (0, 0, 10, 10))
)  # the 5 nearest hold (950, 1150)
DIAGONAL = Swipe(start=(100, 200), end=(700, 1400))  # 0.6 x 0.6 norm: a tie


def tap(x: float, y: float) -> Click:
    return Click(box=(x, y, x, y))


def verdict(name, pred, gold, context=UI):
    v = match_step(pred, gold, SCREEN, name, context=context)
    return v.correct, v.type_match


CASES = {
    "box": [
        (tap(500, 1100), GOLD, UI, True),  # inside
        (tap(600, 1200), GOLD, UI, True),  # on the edge
        (tap(601, 1100), GOLD, UI, False),  # just outside
        (tap(640, 1100), tap(500, 1100), None, True),  # point gold: exactly 0.14 norm
        (UP, DOWN, None, False),  # opposite sign
        (DIAGONAL, Swipe(start=(0, 0), end=(10, 100)), None, True),  # a diagonal counts as both axes
        (TypeText(text=""), TypeText(text="hello"), None, False),  # empty text
    ],
    "aitw": [
        (tap(670, 1100), GOLD, None, True),  # gold box grown 2.4x: x up to 0.74 norm -> 740 px... inside
        (tap(500, 1100), GOLD, GoldContext(ui_boxes=()), True),  # no box: 0 apart
        (tap(640, 1100), GOLD, GoldContext(ui_boxes=()), True),  # exactly 0.14 norm
        (tap(641, 1100), GOLD, GoldContext(ui_boxes=()), False),  # just beyond, no box
        (tap(741, 1100), GOLD, None, False),  # outside the grown box and > 0.14
        (UP, DOWN, None, True),  # opposite sign, same axis
        (Swipe(start=(500, 1000), end=(900, 1000)), DOWN, None, False),  # other axis
        (DIAGONAL, DOWN, None, True),  # a tie is vertical
        (Swipe(start=(500, 1100), end=(520, 1100)), GOLD, None, True),  # 0.02: a tap
        (Swipe(start=(500, 1100), end=(540, 1100)), GOLD, None, True),  # exactly 0.04: still a tap
        (Swipe(start=(500, 1100), end=(541, 1100)), GOLD, None, False),  # a swipe vs a tap
        (LongClick(box=GOLD.box), GOLD, None, True),  # one DUAL_POINT type
        (TypeText(text=""), TypeText(text="hello"), None, True),  # text not checked
        (Back(), Wait(), None, False),
        (Home(), Home(), None, True),  # PRESS_HOME (6)
        (Enter(), Home(), None, False),  # PRESS_ENTER (7) vs PRESS_HOME
    ],
    "androidcontrol-qwen": [
        (tap(650, 1100), GOLD, UI, False),  # candidate 1.2x reaches x=620; 150 px > 0.04*max(resized)
        (tap(620, 1100), GOLD, UI, True),  # edge of the enlarged candidate
        (UP, DOWN, GoldContext(scroll_direction="up", scroll_direction_means="content"), True),
        (DOWN, DOWN, GoldContext(scroll_direction="up", scroll_direction_means="content"), False),
        # Units of the resized image; a swipe mostly across is 'right'
        # (ties: tests/test_protocol_sources_androidcontrol.py).
        (
            Swipe(start=(500, 1000), end=(900, 1300)),
            DOWN,
            GoldContext(scroll_direction="right", scroll_direction_means="content"),
            True,
        ),
        (TypeText(text=""), TypeText(text="hello"), UI, True),  # empty text contained
        (tap(500, 1100), OpenApp(app="设置"), UI, True),  # a click answers an open
        (TaskCompleted(), TaskCompleted(), UI, False),  # outside the source's space
        (Home(), Home(), UI, True),  # system_button Home
        (Back(), Home(), UI, False),  # system_button: the same button is needed
    ],
    "androidcontrol-uis1": [
        (tap(620, 1100), GOLD, UI, False),  # candidates discarded: 0.12 norm > 0.04
        (tap(539, 1100), GOLD, UI, True),  # 0.039 norm (exactly 0.04 is a float tie)
        (UP, DOWN, None, True),  # any swipe
        (TypeText(text=""), TypeText(text="hello"), None, True),
        (tap(500, 1100), OpenApp(app="x"), UI, False),
    ],
    "androidcontrol-osatlas": [
        (tap(640, 1100), GOLD, None, True),  # 140 in 0-1000
        (tap(641, 1100), GOLD, None, False),
        (UP, DOWN, None, False),  # opposite sign: other SCROLL word
        (DIAGONAL, DOWN, None, True),
        (TypeText(text="hello there"), TypeText(text="hello world"), None, True),  # first word only
        (TypeText(text="world hello"), TypeText(text="hello world"), None, False),
        (TypeText(text=""), TypeText(text="hello"), None, False),  # empty: no first word
    ],
    "agentcpm": [
        (tap(620, 1100), GOLD, UI, True),  # inside the nearest box enlarged 1.2x
        (tap(621, 1100), GOLD, UI, False),  # outside and 0.121 > 0.04
        (tap(539, 1100), GOLD, GoldContext(ui_boxes=()), True),  # 0.039 <= 0.04
        (tap(541, 1100), GOLD, GoldContext(ui_boxes=()), False),
        (UP, DOWN, None, False),
        (DIAGONAL, Swipe(start=(0, 0), end=(0, 10)), None, True),  # a norm tie snaps to down (listed first)
        (TypeText(text=""), TypeText(text="hello"), None, True),
        (Wait(), TaskCompleted(), None, True),  # any stop matches any stop
        (tap(500, 1100), LongClick(box=GOLD.box), UI, True),  # gold long_press is a plain tap
        # Only the 5 boxes whose centres are nearest the gold point are candidates, holding it or not.
        (tap(950, 150), GOLD, FAR, False),
        (tap(950, 1150), GOLD, NEAR, True),
        (Home(), Home(), None, True),  # PRESS HOME; navigate_home is press home in process_ac.py
        (Back(), Home(), None, False),  # both "press": type matches, the button differs
    ],
    "agentcpm-aitz": [
        (tap(640, 1100), GOLD, GoldContext(), True),  # no boxes: 0.14 only
        (tap(641, 1100), GOLD, GoldContext(), False),
        (tap(500, 1100), LongClick(box=GOLD.box), UI, False),  # long_point is its own type
        (TaskCompleted(), Wait(), None, True),
        (Enter(), Enter(), None, True),  # PRESS_ENTER (7) is press enter
    ],
    "gui-odyssey": [
        (tap(640, 1100), GOLD, None, True),
        (tap(641, 1100), GOLD, None, False),
        (UP, DOWN, None, False),
        (DIAGONAL, DOWN, None, True),
        (TypeText(text="helo"), TypeText(text="hello"), None, True),
        (TypeText(text=""), TypeText(text="hello"), None, True),  # containment
        (OpenApp(app="a"), OpenApp(app="b"), None, True),  # type only
        # A stated content direction is turned round into the finger's.
        (DOWN, DOWN, GoldContext(scroll_direction="up", scroll_direction_means="content"), True),
        (UP, DOWN, GoldContext(scroll_direction="up", scroll_direction_means="finger"), True),
        (UP, DOWN, GoldContext(scroll_direction="up", scroll_direction_means="content"), False),
        (RecentApps(), RecentApps(), None, True),  # KEY_APPSELECT is PRESS_RECENT
        (Home(), RecentApps(), None, False),  # PRESS_HOME vs PRESS_RECENT
    ],
    "aitz": [
        (Click(box=(480, 1080, 520, 1120)), GOLD, None, True),  # gold point inside the predicted box
        (Click(box=(0, 0, 100, 100)), GOLD, None, False),
        # Gold point outside the enlarged predicted box, but that box overlaps a UI box holding it.
        (Click(box=(430, 1030, 600, 1200)), GOLD, GoldContext(point=(402, 1002), ui_boxes=(GOLD.box,)), True),
        (Click(box=(430, 1030, 600, 1200)), GOLD, GoldContext(point=(402, 1002)), False),
        (UP, DOWN, None, False),
        (
            Swipe(start=(0, 0), end=(100, 181)),
            Swipe(start=(0, 0), end=(0, 100)),
            None,
            True,
        ),  # 0.1 x 0.0905 norm on the 1000x2000 screen: |dy| >= 0.9 |dx| in norm units, vertical
        (TypeText(text=""), TypeText(text="hello"), None, True),
        (LongClick(box=(480, 1080, 520, 1120)), GOLD, None, True),  # long_click is click
        (Home(), Home(), None, True),  # press: the same button
        (Back(), Enter(), None, False),
    ],
    "gui-r1": [
        (tap(639, 1100), GOLD, None, True),
        (tap(640, 1100), GOLD, None, False),  # < 0.14 strictly
        (LongClick(box=(500, 1100, 500, 1100)), GOLD, None, True),  # type not checked
        (UP, DOWN, None, False),
        (DIAGONAL, DOWN, None, True),
        (TypeText(text=""), TypeText(text="hello"), None, False),
    ],
    "ui-r1": [
        (tap(651, 1100), GOLD, None, True),  # 151 px
        (tap(652, 1100), GOLD, None, False),
        (UP, DOWN, None, True),  # direction never checked
        (TypeText(text=""), TypeText(text="hello"), None, True),
    ],
}


def test_every_protocol_has_table_cases():
    assert set(CASES) == set(PROTOCOLS)


@pytest.mark.parametrize(
    ("name", "pred", "gold", "context", "correct"),
    [(name, *case) for name, cases in CASES.items() for case in cases],
)
def test_protocol_table(name, pred, gold, context, correct):
    v = match_step(pred, gold, SCREEN, name, context=context)
    assert v.correct is correct, v.reason


@pytest.mark.parametrize(
    ("name", "gold", "counted"),
    [
        ("gui-r1", Back(), False),
        ("gui-r1", Wait(), False),
        ("gui-r1", GOLD, True),
        ("ui-r1", Wait(), False),
        ("agentcpm", OpenApp(app="x"), False),
        ("aitz", Wait(), False),
        ("box", Back(), True),
    ],
)
def test_denominators(name, gold, counted):
    assert match_step(Back(), gold, SCREEN, name, context=UI).counted is counted
    assert match_step("garbage", gold, SCREEN, name, context=UI).counted is counted


def test_missing_context_is_refused_with_the_step_and_key():
    with pytest.raises(
        MissingContext, match=r"step 7/2: protocol 'androidcontrol-qwen' needs context.candidate_boxes"
    ):
        match_step(tap(1, 1), GOLD, SCREEN, "androidcontrol-qwen", step_id="7/2")
    with pytest.raises(MissingContext, match="context.ui_boxes"):
        match_step(tap(1, 1), GOLD, SCREEN, "agentcpm", context=GoldContext())


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="aitw") as err:
        get_protocol("iou")
    assert all(name in str(err.value) for name in PROTOCOLS)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(list(PROTOCOLS)),
    st.one_of(actions_strategy, st.text(max_size=40)),
    actions_strategy,
    st.tuples(st.integers(320, 1440), st.integers(640, 3200)),
)
def test_every_protocol_returns_a_verdict_and_never_raises(name, pred, gold, screen):
    context = GoldContext(candidate_boxes=(), ui_boxes=((0, 0, 100, 100),))
    v = match_step(pred, gold, screen, name, context=context)
    assert isinstance(v.correct, bool) and isinstance(v.type_match, bool) and v.reason


def test_docs_have_a_card_per_protocol():
    text = (Path(__file__).resolve().parent.parent / "docs" / "eval.md").read_text(encoding="utf-8")
    cards = set(re.findall(r"^### `([a-z0-9-]+)`", text, flags=re.M))
    assert set(PROTOCOLS) <= cards, set(PROTOCOLS) - cards


# ---- card 1, written again from the card alone (y, x order, norm units) ----


def reference_aitw(pred, gold, screen, ui_boxes):
    """True when AITW's rule (card 1) matches the two actions; actions are tuples from `gen_case`."""
    w, h = screen

    def yx(p):
        return (p[1] / h, p[0] / w)

    kind_p, kind_g = pred[0], gold[0]
    if kind_p == "other" or kind_g == "other":
        return kind_p == kind_g and pred[1] == gold[1]
    pt, pl = yx(pred[1]), yx(pred[2])
    gt, gl = yx(gold[1]), yx(gold[2])

    def dist(a, b):
        return ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5

    p_tap, g_tap = dist(pt, pl) <= 0.04, dist(gt, gl) <= 0.04
    if p_tap != g_tap:
        return False
    if p_tap:
        for x1, y1, x2, y2 in ui_boxes:
            top, left, bh, bw = y1 / h, x1 / w, (y2 - y1) / h, (x2 - x1) / w
            top, left = max(0, top - 1.4 * bh / 2), max(0, left - 1.4 * bw / 2)
            bh, bw = min(1, bh * 2.4), min(1, bw * 2.4)

            def holds(p, top=top, left=left, bh=bh, bw=bw):
                return top <= p[0] <= top + bh and left <= p[1] <= left + bw

            if holds(pt) and holds(gt):
                return True
        return dist(pt, gt) <= 0.14
    dp = (abs(pl[0] - pt[0]), abs(pl[1] - pt[1]))
    dg = (abs(gl[0] - gt[0]), abs(gl[1] - gt[1]))
    return (0 if dp[0] >= dp[1] else 1) == (0 if dg[0] >= dg[1] else 1)


def gen_case(rng, screen):
    w, h = screen
    r = rng.random()
    if r < 0.1:
        name = rng.choice(["back", "wait", "type"])
        action = {"back": Back(), "wait": Wait(), "type": TypeText(text="x")}[name]
        return ("other", name), action
    # Integer pixels near each other so that both thresholds are crossed often.
    x, y = rng.randrange(w), rng.randrange(h)
    if r < 0.55:
        return ("dual", (x, y), (x, y)), tap(x, y)
    span = rng.choice([0.02, 0.05, 0.3])
    x2 = min(w - 1, max(0, x + int(rng.uniform(-span, span) * w)))
    y2 = min(h - 1, max(0, y + int(rng.uniform(-span, span) * h)))
    return ("dual", (x, y), (x2, y2)), Swipe(start=(x, y), end=(x2, y2))


def test_aitw_agrees_with_the_reference_on_10000_cases():
    rng = random.Random(14)
    disagreements, n = [], 12000
    for _ in range(n):
        screen = rng.choice([(1080, 2400), (720, 1280), (1440, 3200)])
        ref_p, pred = gen_case(rng, screen)
        ref_g, gold = gen_case(rng, screen)
        if rng.random() < 0.5:
            # Near misses: the prediction lands around the gold tap.
            if ref_g[0] == "dual" and ref_p[0] == "dual":
                gx, gy = ref_g[1]
                px = min(screen[0] - 1, max(0, gx + int(rng.uniform(-0.2, 0.2) * screen[0])))
                py = min(screen[1] - 1, max(0, gy + int(rng.uniform(-0.2, 0.2) * screen[1])))
                ref_p, pred = ("dual", (px, py), (px, py)), tap(px, py)
        boxes = []
        for _ in range(rng.randrange(0, 4)):
            x1, y1 = rng.randrange(screen[0]), rng.randrange(screen[1])
            boxes.append(
                (
                    x1,
                    y1,
                    min(screen[0], x1 + rng.randrange(1, 400)),
                    min(screen[1], y1 + rng.randrange(1, 600)),
                )
            )
        want = reference_aitw(ref_p, ref_g, screen, boxes)
        got = match_step(pred, gold, screen, "aitw", context=GoldContext(ui_boxes=tuple(boxes))).correct
        if want != got:
            disagreements.append((pred, gold, screen, boxes, want))
    assert not disagreements, (len(disagreements), disagreements[:3])


def test_docs_cards_are_the_registry_cards():
    """docs/eval.md holds `python -m actions.protocols.cards`'s output: a card changes with its protocol."""
    from actions.protocols.cards import cards_markdown

    text = (Path(__file__).resolve().parent.parent / "docs" / "eval.md").read_text(encoding="utf-8")
    assert cards_markdown() in text, "regenerate: python -m actions.protocols.cards"
