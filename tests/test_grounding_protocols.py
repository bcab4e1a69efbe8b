"""Grounding protocols: a table of cases per benchmark rule, built from the lines each module's docstring
cites, and one property test over every registered protocol (never raises on a target its benchmark
has, the verdict is well formed)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.grounding_protocols import (
    GROUNDING_PROTOCOLS,
    GroundingAnswer,
    NotApplicable,
    get_grounding_protocol,
)
from actions.grounding_protocols.base import OUTCOMES
from actions.regions import Box, Polygon, Refusal, Region, point_in_polygon
from actions.registry import UnknownName

SCREEN = (1000, 500)


@dataclass(frozen=True)
class Case:
    target: Region
    screen: tuple[int, int] = SCREEN
    declared_screen: tuple[int, int] | None = None


BOX = Box((100, 100, 200, 200))  # 0.1-0.2 across, 0.2-0.4 down on the 1000x500 screen
SWAPPED = Box((200, 200, 100, 100))  # the same rectangle written with inverted corners
UNIT_BOX = Box((0.1, 0.2, 0.2, 0.4), "unit")
SQUARE = Polygon(((100, 100), (200, 100), (200, 200), (100, 200)))
# An L: the square 100..300 with its upper-right quarter (200..300, 100..200) cut away.
ELL = Polygon(((100, 100), (200, 100), (200, 200), (300, 200), (300, 300), (100, 300)))


def at(x: float, y: float) -> GroundingAnswer:
    return GroundingAnswer(point=(x, y))


def frac(fx: float, fy: float) -> GroundingAnswer:
    """An answer whose adapter computed the fraction from the model's own units."""
    return GroundingAnswer(point=(fx * SCREEN[0], fy * SCREEN[1]), fraction=(fx, fy))


REFUSED = GroundingAnswer(refused=True)
UNREAD = GroundingAnswer(problems=("expected_grammar:test",))

# (target, declared size, answer, expected outcome) per protocol.
CASES: dict[str, list[tuple[Region, tuple[int, int] | None, GroundingAnswer, str]]] = {
    "region": [
        (BOX, None, at(150, 150), "correct"),
        (BOX, None, at(200, 200), "correct"),  # the corner: edges count
        (BOX, None, at(200.5, 150), "wrong"),
        (SWAPPED, None, at(150, 150), "correct"),  # corners ordered first
        (UNIT_BOX, None, at(150, 150), "correct"),  # unit boxes scaled by the screen
        (SQUARE, None, at(150, 150), "correct"),
        (ELL, None, at(250, 150), "wrong"),  # the cut-away corner of a concave polygon
        (ELL, None, at(250, 250), "correct"),
        (Refusal(), None, REFUSED, "correct"),
        (Refusal(), None, at(150, 150), "wrong"),
        (BOX, None, REFUSED, "refused"),
        (BOX, None, UNREAD, "wrong_format"),
    ],
    "screenspot": [
        (BOX, None, frac(0.15, 0.3), "correct"),
        (BOX, None, frac(0.2, 0.4), "correct"),  # line 87: `<=` on both sides
        (BOX, None, frac(0.2001, 0.3), "wrong"),
        (SWAPPED, None, frac(0.15, 0.3), "wrong"),  # corners as written: nothing is between 200 and 100
        (UNIT_BOX, None, frac(0.15, 0.3), "correct"),  # the normalised mirror's boxes
        # lines 66, 70: the image file's size divides, not an annotation's (which would put the box
        # at 0.05-0.1 across and miss the point).
        (BOX, (2000, 1000), frac(0.15, 0.3), "correct"),
        # line 84 style: the fraction the adapter computed from the model's grid is compared, not the
        # pixel point (150 px would be inside; 0.21 of the screen is not).
        (BOX, None, GroundingAnswer(point=(150, 150), fraction=(0.21, 0.3)), "wrong"),
        (BOX, None, REFUSED, "refused"),
        (BOX, None, UNREAD, "wrong_format"),  # lines 102-108: counted, wrong
    ],
    "screenspot-pro": [
        (BOX, None, frac(0.2, 0.4), "correct"),  # line 149: edges count
        (BOX, None, frac(0.2001, 0.4), "wrong"),
        # line 142: the annotation's img_size divides: on 2000x1000 the box is 0.05-0.1 x 0.1-0.2.
        (BOX, (2000, 1000), frac(0.15, 0.3), "wrong"),
        (BOX, (2000, 1000), frac(0.075, 0.15), "correct"),
        (SWAPPED, None, frac(0.15, 0.3), "wrong"),  # corners as written
        (BOX, None, UNREAD, "wrong_format"),  # lines 146-147
    ],
    "ui-vision": [
        (BOX, None, frac(0.15, 0.3), "correct"),
        (SWAPPED, None, frac(0.15, 0.3), "correct"),  # lines 157-160: inverted corners swapped
        (Box((200, 100, 100, 200)), None, frac(0.15, 0.3), "correct"),  # only x inverted
        (SWAPPED, None, frac(0.2, 0.4), "correct"),  # line 171: edges count after the swap
        (SWAPPED, None, frac(0.25, 0.3), "wrong"),
        (BOX, (2000, 1000), frac(0.15, 0.3), "wrong"),  # line 161: the annotation's image_size
        (BOX, None, UNREAD, "wrong_format"),  # lines 168-169
    ],
    "mmbench-gui": [
        (UNIT_BOX, None, at(150, 150), "correct"),  # lines 221-228: 150 > 1, divided by 1000x500
        (BOX, None, at(150, 150), "correct"),  # lines 203-208: a pixel box divided by the image size
        (UNIT_BOX, None, at(0.15, 0.3), "correct"),  # both <= 1: read as a fraction already
        # y > 1 divides both axes together: x 0.5 becomes 0.0005, inside a box from the left edge
        # (were only the axis above 1 divided, x would stay 0.5 and miss).
        (Box((0, 0.2, 0.2, 0.4), "unit"), None, at(0.5, 150), "correct"),
        (UNIT_BOX, None, at(0.15, 150), "wrong"),  # and x 0.15 becomes 0.00015, left of this box
        (UNIT_BOX, None, at(200, 200), "correct"),  # line 230: edges count
        (UNIT_BOX, None, at(201, 150), "wrong"),
        # lines 181-186: a -1 in a pixel box reads as 0, so a point just left of the screen misses
        # (with -1 kept, -1/1000 <= -0.5/1000 would count it inside).
        (Box((-1, 100, 200, 200)), None, at(-0.5, 150), "wrong"),
        # a pixel box whose values all lie in [0, 1] is read as a fraction of the screen: the whole
        # screen here, so any point on it is inside.
        (Box((0, 0, 1, 1)), None, at(500, 250), "correct"),
        (UNIT_BOX, None, REFUSED, "refused"),
        (UNIT_BOX, None, UNREAD, "wrong_format"),  # lines 244-247
    ],
    "osworld-g": [
        (BOX, None, at(200, 200), "correct"),  # left + w, top + h inclusive
        (BOX, None, at(200.5, 150), "wrong"),
        (SQUARE, None, at(150, 150), "correct"),
        (SQUARE, None, at(100, 150), "correct"),  # left edge: the ray crosses the right edge once
        (SQUARE, None, at(200, 150), "wrong"),  # right edge: no crossing strictly to the right
        (SQUARE, None, at(150, 100), "correct"),  # upper edge (smaller y) counts
        (SQUARE, None, at(150, 200), "wrong"),  # lower edge does not
        (ELL, None, at(250, 150), "wrong"),
        (ELL, None, at(250, 250), "correct"),
        (Refusal(), None, REFUSED, "correct"),
        (Refusal(), None, at(150, 150), "wrong"),
        (Refusal(), None, UNREAD, "wrong_format"),
        (BOX, None, REFUSED, "refused"),
    ],
    "osworld-g-no-refusal": [
        (Refusal(), None, REFUSED, "correct"),  # judged, but not counted (below)
        (SQUARE, None, at(150, 150), "correct"),
    ],
}


def test_every_registered_protocol_has_a_table():
    assert set(CASES) == set(GROUNDING_PROTOCOLS.names())


@pytest.mark.parametrize(
    "name,target,declared,answer,outcome",
    [(name, *row) for name, rows in CASES.items() for row in rows],
    ids=[f"{name}-{i}" for name, rows in CASES.items() for i in range(len(rows))],
)
def test_table(name, target, declared, answer, outcome):
    verdict = get_grounding_protocol(name).verdict(Case(target, SCREEN, declared), answer)
    assert verdict.outcome == outcome, verdict.reason
    assert verdict.correct == (outcome == "correct")


def test_refusal_items_count_only_where_the_source_counts_them():
    refusal, box = Case(Refusal()), Case(BOX)
    official = get_grounding_protocol("osworld-g")
    without = get_grounding_protocol("osworld-g-no-refusal")
    assert official.verdict(refusal, REFUSED).counted and official.verdict(refusal, at(1, 1)).counted
    assert not without.verdict(refusal, REFUSED).counted and not without.verdict(refusal, at(1, 1)).counted
    assert without.verdict(box, at(150, 150)).counted
    assert get_grounding_protocol("region").verdict(refusal, REFUSED).counted


@pytest.mark.parametrize("name", ["screenspot", "screenspot-pro", "ui-vision", "mmbench-gui"])
def test_box_benchmarks_refuse_other_targets_loudly(name):
    for target in (SQUARE, Refusal()):
        with pytest.raises(NotApplicable, match=name):
            get_grounding_protocol(name).verdict(Case(target), at(150, 150))


def test_mmbench_box_outside_the_screen_aborts_as_its_evaluator_does():
    with pytest.raises(ValueError, match="bbox out of range"):
        get_grounding_protocol("mmbench-gui").verdict(Case(Box((900, 100, 1200, 200))), at(950, 150))


def test_unknown_protocol_has_a_did_you_mean():
    with pytest.raises(UnknownName, match="did you mean 'screenspot-pro'"):
        get_grounding_protocol("screenspot-por")


def test_ray_casting_matches_a_brute_force_triangle_check():
    # Points strictly inside or outside a triangle (off its edges) agree with barycentric signs.
    tri = ((0.0, 0.0), (10.0, 0.0), (0.0, 10.0))
    for x in range(-2, 13):
        for y in range(-2, 13):
            px, py = x + 0.25, y + 0.25
            inside = px > 0 and py > 0 and px + py < 10
            assert point_in_polygon((px, py), tri) == inside, (px, py)


coordinate = st.floats(-200, 1200, allow_nan=False)
answers = st.one_of(
    st.builds(lambda x, y: GroundingAnswer(point=(x, y)), coordinate, coordinate),
    st.builds(
        lambda x, y: GroundingAnswer(point=(x * 1000, y * 500), fraction=(x, y)),
        st.floats(-1, 2),
        st.floats(-1, 2),
    ),
    st.just(REFUSED),
    st.just(UNREAD),
)
boxes = st.builds(
    lambda x, y, w, h: Box((x, y, x + w, y + h)),
    st.floats(0, 900),
    st.floats(0, 400),
    st.floats(0, 100),
    st.floats(0, 100),
)
polygons = st.lists(st.tuples(st.floats(0, 1000), st.floats(0, 500)), min_size=3, max_size=8).map(
    lambda pts: Polygon(tuple(pts))
)


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(GROUNDING_PROTOCOLS.names()),
    target=st.one_of(boxes, polygons, st.just(Refusal())),
    answer=answers,
)
def test_every_protocol_gives_a_well_formed_verdict(name, target, answer):
    protocol = get_grounding_protocol(name)
    try:
        verdict = protocol.verdict(Case(target), answer)
    except NotApplicable:
        assert not isinstance(target, Box)
        return
    assert verdict.outcome in OUTCOMES
    assert verdict.correct == (verdict.outcome == "correct")
    assert isinstance(verdict.reason, str) and verdict.reason
    if not answer.parsed:
        assert verdict.outcome == "wrong_format"


def test_docs_have_a_card_per_grounding_protocol():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "eval.md").read_text(encoding="utf-8")
    grounding = text[text.index("## Grounding") :]
    cards = set(re.findall(r"^### `([a-z0-9-]+)`", grounding, flags=re.M))
    assert set(GROUNDING_PROTOCOLS.names()) <= cards, set(GROUNDING_PROTOCOLS.names()) - cards


def test_docs_cards_are_the_registry_cards():
    """docs/eval.md holds `python -m actions.grounding_protocols.cards`'s output."""
    from pathlib import Path

    from actions.grounding_protocols.cards import cards_markdown

    text = (Path(__file__).resolve().parent.parent / "docs" / "eval.md").read_text(encoding="utf-8")
    assert cards_markdown() in text, "regenerate: python -m actions.grounding_protocols.cards"
