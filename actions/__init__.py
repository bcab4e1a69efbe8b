"""The typed phone action space: parsing, coordinate spaces, matching and partial-credit rewards."""

from actions.coords import (
    COORD_SPACES,
    PixelBudget,
    model_screen_size,
    to_model_space,
    to_original_space,
)
from actions.format import FORMAT_PARTS, FormatBreakdown, format_score
from actions.match import ActionBreakdown, Verdict, action_score, match_step
from actions.parse import PROBLEMS, ParsedCompletion, parse_completion
from actions.types import (
    ACTION_CLASSES,
    ACTION_TYPES,
    Action,
    ActionParseError,
    Back,
    BoxAction,
    Click,
    Inquiry,
    LongClick,
    OpenApp,
    Swipe,
    TaskCompleted,
    TaskImpossible,
    TypeText,
    Wait,
)
from actions.vocab import THINK_FIELDS
from actions.wire import parse_action

__all__ = [
    "FORMAT_PARTS",
    "PROBLEMS",
    "THINK_FIELDS",
    "ActionBreakdown",
    "FormatBreakdown",
    "ParsedCompletion",
    "Verdict",
    "action_score",
    "format_score",
    "match_step",
    "parse_completion",
    "ACTION_CLASSES",
    "ACTION_TYPES",
    "COORD_SPACES",
    "Action",
    "ActionParseError",
    "Back",
    "BoxAction",
    "Click",
    "Inquiry",
    "LongClick",
    "OpenApp",
    "PixelBudget",
    "Swipe",
    "TaskCompleted",
    "TaskImpossible",
    "TypeText",
    "Wait",
    "model_screen_size",
    "parse_action",
    "to_model_space",
    "to_original_space",
]
