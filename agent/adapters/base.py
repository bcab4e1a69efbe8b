"""What every agent adapter shares: the reading it returns, coordinate mapping, direction words, problems.

An adapter speaks one public agent's language: it turns a `Step` into that agent's chat messages and
reads the agent's raw answer back into one of the typed `actions` in ORIGINAL pixels, with named
problems. `parse` never raises. `render` writes a typed action in the agent's own grammar (the scripted
server answers with it in tests, so every parser is checked against its own renderer).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any, ClassVar

from actions.directions import DIRECTIONS, directions, finger_word
from actions.types import Action, Swipe
from actions.vocab import COORD_SPACES

logger = logging.getLogger(__name__)

# Coordinate spaces an adapter may answer in: every space actions.coords maps (rewards and matching
# accept the same ones). `norm999` is Qwen3-VL's 0-999 grid (x / 999 * W).
ADAPTER_SPACES: tuple[str, ...] = COORD_SPACES
# Problem prefixes: an answer whose action has no counterpart among the typed actions, and an answer that
# is not in the adapter's grammar at all.
NO_COUNTERPART = "no_counterpart:"
EXPECTED_GRAMMAR = "expected_grammar:"
# Informational: a `type` whose text ended in a newline (submit) had it split off.
TYPE_SUBMIT_SPLIT = "type_submit_split"
# Fraction of the screen a swipe given only as a direction travels (from the anchor or the centre).
SWIPE_FRACTION = 0.3
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Reading:
    """One answer read by an adapter: the action in original pixels (or None), problems, the thought."""

    action: Action | None
    problems: list[str] = field(default_factory=list)
    think: dict[str, Any] | None = None


class Adapter:
    """Base class: subclasses set the class attributes and implement `messages`, `_parse` and `render`.

    `budget` is the serving processor's `actions.coords.PixelBudget`; adapters answering in `resized`
    pixels cannot map answers back without it. `prompt_file` replaces the adapter's instruction text
    with a user's file (for example a model's official prompt), `${width}`/`${height}` filled in. Points
    keep the exact original-pixel values an answer maps to (protocols round as their sources do);
    `round_coords` rounds them to integers.
    """

    name: ClassVar[str] = ""
    coord_space: ClassVar[str] = "original"
    grammar: ClassVar[str] = ""  # the answer shape, as problem messages and docs show it
    scroll_means: ClassVar[str] = "finger"  # what a direction word names: `finger` path or `content`
    max_images: ClassVar[int] = 1
    reproduced_from: ClassVar[str] = "code"  # `code` or `readme`: where the prompt and grammar were read
    # The system key presses beyond back (`actions.types.KEY_ACTION_TYPES`) this agent's grammar can say;
    # a gold step of another key has no counterpart in its answers.
    keys: ClassVar[tuple[str, ...]] = ()
    # Whether this agent's answers carry a thought before the action (a part of `well_formed`).
    has_thought: ClassVar[bool] = True
    # The thought `render` writes; `render_target` puts a step's own words here for training targets.
    render_thought: str = "scripted"

    def __init__(
        self, budget: Any = None, *, round_coords: bool = False, prompt_file: str | Path | None = None
    ) -> None:
        self.budget = budget
        self.round_coords = round_coords
        self.prompt_file = Path(prompt_file) if prompt_file else None
        self._prompt_override = (
            self.prompt_file.read_text(encoding="utf-8") if self.prompt_file is not None else None
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, budget={self.budget!r})"

    @property
    def needs_budget(self) -> bool:
        return self.coord_space == "resized"

    # -- prompts ---------------------------------------------------------------------------------
    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        """Generic chat messages for one step (image parts as `{"type": "image", "image": path}`)."""
        raise NotImplementedError

    def instruction(self, default: str, screen: tuple[int, int], **fields: str) -> str:
        """The adapter's instruction text (or the user's prompt file) with `${width}`, `${height}` (the
        model-space screen size) and any `fields` (`${task}`, `${history}`) filled in."""
        width, height = self.model_screen(screen)
        text = self._prompt_override if self._prompt_override is not None else default
        return Template(text).safe_substitute(width=width, height=height, **fields)

    def template_hash(self) -> str:
        """Short hash naming this adapter's prompt (its name, class and any prompt file's text)."""
        digest = hashlib.sha256()
        for part in (self.name, type(self).__qualname__, self._prompt_override or ""):
            digest.update(part.encode("utf-8") + b"\0")
        return digest.hexdigest()[:16]

    # -- answers ---------------------------------------------------------------------------------
    def parse(self, text: Any, screen: tuple[int, int]) -> Reading:
        """The typed action (original pixels) and problems of one raw answer; never raises."""
        if not isinstance(text, str):
            return Reading(None, ["not_text", self.expected_grammar()])
        try:
            reading = self._parse(text, screen)
        except Exception:  # A parser bug must cost one step, never a run.
            logger.exception("%s adapter failed on %.200r", self.name, text)
            return Reading(None, ["internal_error"])
        if reading.action is None and not any(
            p.startswith((NO_COUNTERPART, EXPECTED_GRAMMAR)) for p in reading.problems
        ):
            reading.problems.append(self.expected_grammar())
        return reading

    def _parse(self, text: str, screen: tuple[int, int]) -> Reading:
        raise NotImplementedError

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        """`action` (original pixels) as this agent would answer it; None where its grammar lacks it."""
        raise NotImplementedError

    def render_target(self, action: Action, screen: tuple[int, int], thought: str = "") -> str | None:
        """`render` with `thought` (made one plain line) as the agent's thought: an SFT target.

        None where the grammar cannot say `action` (`expresses` names which types)."""
        other = copy.copy(self)
        other.render_thought = plain_thought(thought) or "Do the next step"
        return other.render(action, screen)

    def well_formed(self, text: Any, screen: tuple[int, int]) -> dict[str, float]:
        """This agent's own format score of one answer, as named parts of 0 or 1 (never raises).

        `grammar`: the answer is in the agent's grammar at all; `action`: a typed action was read;
        `clean`: reading it met no problem (a newline split off a `type` text does not count);
        `thought`: the thought the grammar asks for is there, in an answer in the grammar (only where
        `has_thought`)."""
        reading = self.parse(text, screen)
        problems = [p for p in reading.problems if p != TYPE_SUBMIT_SPLIT]
        unreadable = ("not_text", "internal_error")
        parts = {
            "grammar": float(
                not any(p.startswith(EXPECTED_GRAMMAR) or p in unreadable for p in reading.problems)
            ),
            "action": float(reading.action is not None),
            "clean": float(not problems),
        }
        if self.has_thought:
            # Free text before the action reads as a thought in some grammars: count it in one only.
            parts["thought"] = float(
                bool(parts["grammar"] and reading.think)
                and any(_has_words(v) for v in reading.think.values())
            )
        return parts

    def format_parts(self) -> tuple[str, ...]:
        """The names `well_formed` returns, in order."""
        return (
            ("grammar", "action", "clean", "thought") if self.has_thought else ("grammar", "action", "clean")
        )

    def expected_grammar(self) -> str:
        return f"{EXPECTED_GRAMMAR}{self.name}"

    def expresses(self, action_type: str) -> bool:
        """Whether this agent's grammar can say an action of `action_type` (key presses per `keys`)."""
        from actions.types import KEY_ACTION_TYPES

        return action_type not in KEY_ACTION_TYPES or action_type in self.keys

    # -- coordinates -----------------------------------------------------------------------------
    def model_screen(self, screen: tuple[int, int]) -> tuple[int, int]:
        """`(width, height)` of the screen in the adapter's coordinate space (the size a prompt states)."""
        from actions.coords import model_screen_size

        if self.coord_space == "resized" and self.budget is None:
            raise ValueError(
                f"adapter {self.name!r} answers in resized pixels and needs the serving pixel budget "
                "(pass --max-pixels and --min-pixels as the server's processor uses them)"
            )
        return tuple(model_screen_size(self.coord_space, screen, self.budget))

    def to_original(self, point: Any, screen: tuple[int, int]) -> tuple[float, float]:
        """A model-space point back to original pixels, clamped to the screen."""
        width, height = int(screen[0]), int(screen[1])
        mw, mh = self.model_screen(screen)
        x = min(max(float(point[0]) * width / mw, 0.0), float(width))
        y = min(max(float(point[1]) * height / mh, 0.0), float(height))
        if self.round_coords:
            return (int(round(x)), int(round(y)))
        return (x, y)

    def to_model(self, point: Any, screen: tuple[int, int]) -> tuple[int, int]:
        """An original-pixel point in the adapter's space, as integers (what the agent would write)."""
        width, height = int(screen[0]), int(screen[1])
        mw, mh = self.model_screen(screen)
        return (int(round(float(point[0]) * mw / width)), int(round(float(point[1]) * mh / height)))

    def point_action(self, cls: type, point: Any, screen: tuple[int, int]) -> Action:
        """A click or long click at a model-space point (a zero-size box in original pixels)."""
        x, y = self.to_original(point, screen)
        return cls(box=(x, y, x, y))

    def swipe_from_direction(
        self,
        word: str,
        screen: tuple[int, int],
        anchor: Any = None,
        *,
        means: str | None = None,
        problems: list[str] | None = None,
    ) -> Swipe | None:
        """The finger path for a direction word; `means` `content` names where content appears (reversed).

        A word that is no direction gives None, noted as `bad_direction` in `problems` when given."""
        word = word.strip().lower()
        if word not in DIRECTIONS:
            if problems is not None:
                problems.append("bad_direction")
            return None
        word = finger_word(word, means or self.scroll_means)
        width, height = int(screen[0]), int(screen[1])
        start = self.to_original(anchor, screen) if anchor is not None else (width // 2, height // 2)
        dx = {"left": -1, "right": 1}.get(word, 0) * SWIPE_FRACTION * width
        dy = {"up": -1, "down": 1}.get(word, 0) * SWIPE_FRACTION * height
        end = (min(max(start[0] + dx, 0), width), min(max(start[1] + dy, 0), height))
        if self.round_coords:
            end = (int(round(end[0])), int(round(end[1])))
        return Swipe(start=start, end=end)

    def direction_word(self, swipe: Swipe, *, means: str | None = None) -> str:
        """The word this agent uses for a finger swipe (the content's direction when `means` is `content`)."""
        word = sorted(directions(swipe.start, swipe.end, unit="pixel") - {"none"} or {"up"})[0]
        return finger_word(word, means or self.scroll_means)


def plain_thought(text: str) -> str:
    """`text` as one plain line a grammar's thought slot can hold: no line breaks, tags, quotes, brackets
    or backslashes (any of them could end the slot early and change how the answer reads)."""
    text = re.sub(r"[<>\"'`{}\[\]()\\]", " ", str(text or ""))
    text = re.sub(r"(?i)\b(action|actions|thought|thoughts)\s*:", r"\1", text)
    return " ".join(text.split())


def _has_words(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) or isinstance(value, dict) and bool(value)


def numbers(text: str) -> list[float]:
    """Every number in `text`, in order (coordinates written as `(x,y)`, `[x, y]`, `<point>x y</point>`)."""
    return [float(n) for n in _NUMBER.findall(text)]


def point_of(values: list[float]) -> tuple[float, float] | None:
    """A point from 2 numbers, or the centre of a box from 4; None otherwise."""
    if len(values) == 2:
        return (values[0], values[1])
    if len(values) == 4:
        return ((values[0] + values[2]) / 2, (values[1] + values[3]) / 2)
    return None


def split_submit(text: str, problems: list[str]) -> str:
    """`type` text with a trailing newline (the agent's way to press enter) split off, noted in problems."""
    if text.endswith(("\n", "\\n")):
        problems.append(TYPE_SUBMIT_SPLIT)
        return text.removesuffix("\n").removesuffix("\\n")
    return text


def image_part(path: Any) -> dict[str, Any]:
    return {"type": "image", "image": os.path.abspath(path)}
