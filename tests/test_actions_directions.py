"""Swipe directions, axes and opposites, in one module with the unit a parameter (`actions.directions`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actions.directions import DIRECTIONS, OPPOSITE, delta, directions, finger_word, main_axis, main_direction

SCREEN = (1080, 2400)


@pytest.mark.parametrize(
    ("start", "end", "unit", "tie", "expected"),
    [
        ((500, 500), (500, 100), "pixel", "vertical", "up"),
        ((500, 500), (900, 520), "pixel", "vertical", "right"),
        # 100 x 150 pixels: vertical in pixels, horizontal in norm units on a tall screen.
        ((0, 0), (100, 150), "pixel", "vertical", "down"),
        ((0, 0), (100, 150), "norm", "vertical", "right"),
        # An exact diagonal goes to the tie's axis.
        ((0, 0), (-10, -10), "pixel", "vertical", "up"),
        ((0, 0), (-10, -10), "pixel", "horizontal", "left"),
        ((0, 0), (0, 0), "pixel", "vertical", None),
    ],
)
def test_main_direction_table(start, end, unit, tie, expected):
    assert main_direction(start, end, unit=unit, screen=SCREEN, tie=tie) == expected


def test_axes_zero_moves_and_the_diagonal():
    assert main_axis((0, 0), (100, 150), unit="pixel") == "y"
    assert main_axis((0, 0), (100, 150), unit="norm", screen=SCREEN) == "x"
    assert main_axis((5, 5), (5, 5), unit="norm", screen=SCREEN) == "y"  # a zero move ties: vertical
    assert main_direction((5, 5), (5, 5), unit="pixel", zero="up") == "up"
    assert directions((0, 0), (10, 10), unit="pixel") == {"right", "down"}
    assert directions((0, 0), (0, 0), unit="pixel") == {"none"}
    assert directions((0, 0), (100, 150), unit="norm", screen=SCREEN) == {"right"}


def test_opposites_and_what_a_word_names():
    assert finger_word("up", "content") == "down" and finger_word("left", "finger") == "left"
    assert all(OPPOSITE[OPPOSITE[w]] == w for w in DIRECTIONS) and set(OPPOSITE) == set(DIRECTIONS)
    with pytest.raises(ValueError, match="finger"):
        finger_word("up", "hand")


def test_units_are_checked():
    with pytest.raises(ValueError, match="screen"):
        delta((0, 0), (1, 1), unit="norm")
    with pytest.raises(ValueError, match="unit"):
        delta((0, 0), (1, 1), unit="inch")


coord = st.integers(-3000, 3000)


@given(coord, coord, coord, coord)
def test_the_larger_axis_rule_each_caller_used_is_kept(x1, y1, x2, y2):
    # As importers (finger direction of a source swipe) and own-history (history entries) wrote it.
    dx, dy = x2 - x1, y2 - y1
    written = ("right" if dx > 0 else "left") if abs(dx) > abs(dy) else ("down" if dy > 0 else "up")
    assert main_direction((x1, y1), (x2, y2), unit="pixel", zero="up") == written
    # As the protocols wrote it: None for a zero move, ties vertical, and inside the box rule's set.
    said = main_direction((x1, y1), (x2, y2), unit="pixel")
    assert said is None if (dx, dy) == (0, 0) else said in directions((x1, y1), (x2, y2), unit="pixel")
    # AITW's axis, in norm units with ties vertical.
    nx, ny = dx / SCREEN[0], dy / SCREEN[1]
    assert main_axis((x1, y1), (x2, y2), unit="norm", screen=SCREEN) == ("x" if abs(nx) > abs(ny) else "y")
