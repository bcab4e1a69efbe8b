"""The typed phone actions and their exact round-trip with the seed's wire JSON.

The seed's ten types, plus the system key presses the public benchmarks record (home, enter, recent
apps), which public agents' grammars can express; the seed's prompt keeps listing its ten.

Wire format (parameter always a string keyed by the action type):

    {"action_type": "click", "action_parameter": {"click": "49,721,1368,1008"},
     "action_description": "点击剑来"}

Inside the classes coordinates are numbers. A parsed action remembers its original parameter string
(`raw_parameter`, not part of equality) so that oddly formatted wire strings (`"49, 721, ..."`, an
inquiry JSON string with its own indentation) are re-emitted byte for byte; `dataclasses.replace`
drops it, so a changed action always emits the canonical form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

Number = float  # ints are accepted wherever a float is (PEP 484 numeric tower)
Point = tuple[Number, Number]
Box = tuple[Number, Number, Number, Number]

# The seed's action_type_list order: the ten types its prompt lists.
SEED_ACTION_TYPES: tuple[str, ...] = (
    "open_app",
    "click",
    "long_click",
    "type",
    "swipe",
    "task_completed",
    "task_impossible",
    "inquiry",
    "wait",
    "back",
)
# System key presses beyond back: in AITW/AITZ, GUI-Odyssey, AndroidControl and AMEX, and in most public
# agents' grammars; an agent whose grammar lacks one scores its steps as having no counterpart.
KEY_ACTION_TYPES: tuple[str, ...] = ("home", "enter", "recent_apps")
# Every wire type: the seed's ten, then the key presses.
ACTION_TYPES: tuple[str, ...] = SEED_ACTION_TYPES + KEY_ACTION_TYPES
# Types whose wire parameter is always "" (nothing to say beyond the type).
NO_PARAMETER_TYPES: tuple[str, ...] = ("wait", "back", *KEY_ACTION_TYPES)


class ActionParseError(ValueError):
    """A wire action that cannot be read; `problem` is a short stable name for reports."""

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.problem = problem


def format_number(value: float) -> str:
    """Wire form of a coordinate: integral values without a decimal point, others at full precision."""
    if isinstance(value, bool):
        raise TypeError(f"expected a number, found bool {value!r}")
    if isinstance(value, int):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _join(values: tuple[float, ...]) -> str:
    return ",".join(format_number(v) for v in values)


@dataclass(frozen=True)
class Action:
    """Base class of the actions; `action_type` is the wire name of the concrete class."""

    action_type: ClassVar[str] = ""
    description: str = field(default="", kw_only=True)
    raw_parameter: str | None = field(default=None, init=False, compare=False, repr=False)

    def parameter(self) -> str:
        """The canonical wire string of this action's parameter."""
        raise NotImplementedError

    def wire_parameter(self) -> str:
        """The parameter string `to_json` writes: the parsed original when kept, else the canonical one."""
        return self.raw_parameter if self.raw_parameter is not None else self.parameter()

    def to_json(self) -> dict[str, Any]:
        """The seed's wire dict, key order included."""
        return {
            "action_type": self.action_type,
            "action_parameter": {self.action_type: self.wire_parameter()},
            "action_description": self.description,
        }

    def to_json_str(self) -> str:
        """`to_json()` serialised as the seed writes it (non-ASCII kept)."""
        return json.dumps(self.to_json(), ensure_ascii=False)


@dataclass(frozen=True)
class OpenApp(Action):
    """Open an app by name."""

    action_type: ClassVar[str] = "open_app"
    app: str = ""

    def parameter(self) -> str:
        return self.app


@dataclass(frozen=True)
class BoxAction(Action):
    """An action aimed at a box `(x1, y1, x2, y2)`; the tap point is its centre."""

    box: Box = (0, 0, 0, 0)

    @property
    def point(self) -> Point:
        x1, y1, x2, y2 = self.box
        return ((x1 + x2) / 2, (y1 + y2) / 2)

    def parameter(self) -> str:
        return _join(self.box)


@dataclass(frozen=True)
class Click(BoxAction):
    """Tap inside a box."""

    action_type: ClassVar[str] = "click"


@dataclass(frozen=True)
class LongClick(BoxAction):
    """Long-press inside a box."""

    action_type: ClassVar[str] = "long_click"


@dataclass(frozen=True)
class Swipe(Action):
    """Finger swipe from `start` to `end`."""

    action_type: ClassVar[str] = "swipe"
    start: Point = (0, 0)
    end: Point = (0, 0)

    def parameter(self) -> str:
        return _join((*self.start, *self.end))


@dataclass(frozen=True)
class TypeText(Action):
    """Type text into the focused field."""

    action_type: ClassVar[str] = "type"
    text: str = ""

    def parameter(self) -> str:
        return self.text


@dataclass(frozen=True)
class Inquiry(Action):
    """Ask the user to choose among candidates; `answer_index` is the expected choice (None if absent)."""

    action_type: ClassVar[str] = "inquiry"
    question: str = ""
    candidates: tuple[str, ...] = ()
    pic_describe: str = ""
    answer_index: int | None = None

    def parameter(self) -> str:
        # CandidatesList is a Python-literal list string on the wire; repr() writes exactly that form.
        payload = {
            "Question": self.question,
            "CandidatesList": repr(list(self.candidates)),
            "PicDescribe": self.pic_describe,
            "AnswerIndex": self.answer_index,
        }
        return json.dumps(payload, ensure_ascii=False, indent=4)


@dataclass(frozen=True)
class Wait(Action):
    """Wait for the screen to change."""

    action_type: ClassVar[str] = "wait"

    def parameter(self) -> str:
        return ""


@dataclass(frozen=True)
class KeyPress(Action):
    """A system key press (back, home, enter, recent apps); `key` names the key."""

    key: ClassVar[str] = ""

    def parameter(self) -> str:
        return ""


@dataclass(frozen=True)
class Back(KeyPress):
    """System back."""

    action_type: ClassVar[str] = "back"
    key: ClassVar[str] = "back"


@dataclass(frozen=True)
class Home(KeyPress):
    """System home: leave the app for the launcher."""

    action_type: ClassVar[str] = "home"
    key: ClassVar[str] = "home"


@dataclass(frozen=True)
class Enter(KeyPress):
    """The enter key (submit the focused field)."""

    action_type: ClassVar[str] = "enter"
    key: ClassVar[str] = "enter"


@dataclass(frozen=True)
class RecentApps(KeyPress):
    """The recent-apps (app switcher) key."""

    action_type: ClassVar[str] = "recent_apps"
    key: ClassVar[str] = "recent_apps"


@dataclass(frozen=True)
class TaskCompleted(Action):
    """Finish the task with a summary."""

    action_type: ClassVar[str] = "task_completed"
    summary: str = ""

    def parameter(self) -> str:
        return self.summary


@dataclass(frozen=True)
class TaskImpossible(Action):
    """Give up with a reason."""

    action_type: ClassVar[str] = "task_impossible"
    reason: str = ""

    def parameter(self) -> str:
        return self.reason


ACTION_CLASSES: dict[str, type[Action]] = {
    cls.action_type: cls
    for cls in (
        OpenApp,
        Click,
        LongClick,
        TypeText,
        Swipe,
        TaskCompleted,
        TaskImpossible,
        Inquiry,
        Wait,
        Back,
        Home,
        Enter,
        RecentApps,
    )
}
