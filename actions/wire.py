"""Reading wire JSON into typed actions: strict for ground truth, lenient for model output."""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import re
import warnings
from typing import Any

from actions.types import (
    ACTION_CLASSES,
    ACTION_TYPES,
    NO_PARAMETER_TYPES,
    Action,
    ActionParseError,
    Click,
    Inquiry,
    LongClick,
    OpenApp,
    Swipe,
    TaskCompleted,
    TaskImpossible,
    TypeText,
)
from actions.vocab import INQUIRY_KEYS

_STRICT_NUMBER = re.compile(r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$")
_ANY_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TYPE_ALIASES = {
    "longclick": "long_click",
    "long_press": "long_click",
    "openapp": "open_app",
    "input": "type",
    "pressback": "back",
    "navigateback": "back",
    "presshome": "home",
    "navigatehome": "home",
    "pressenter": "enter",
    "recentapps": "recent_apps",
    "pressrecent": "recent_apps",
    "recent": "recent_apps",
}
_LITERAL_ERRORS = (ValueError, SyntaxError, TypeError, MemoryError, RecursionError)


def literal_eval(text: str) -> Any:
    """`ast.literal_eval` (never `eval`) without the SyntaxWarnings it emits for odd escapes in model text."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.literal_eval(text)


def _to_number(token: str, what: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise ActionParseError(f"expected finite numbers for {what}, found {token!r}", "bad_parameter")
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def parse_numbers(value: Any, strict: bool, what: str) -> tuple[float, ...]:
    """Numbers of a coordinate parameter.

    Strict: a string of comma-separated numbers. Lenient: also lists/tuples (nested ones flattened),
    brackets, parentheses and any separators between numbers.
    """
    if isinstance(value, str):
        if strict:
            parts = value.split(",")
            if not all(_STRICT_NUMBER.match(p) for p in parts):
                raise ActionParseError(
                    f"expected {what} as comma-separated numbers, found {value!r}", "bad_parameter"
                )
            return tuple(_to_number(p.strip(), what) for p in parts)
        return tuple(_to_number(t, what) for t in _ANY_NUMBER.findall(value))
    if strict:
        raise ActionParseError(
            f"expected {what} as a string, found {type(value).__name__} {value!r}", "bad_parameter"
        )
    if isinstance(value, bool):
        return ()
    if isinstance(value, (int, float)):
        return (_to_number(repr(float(value)), what),)
    if isinstance(value, (list, tuple)):
        out: list[float] = []
        for item in value:
            out.extend(parse_numbers(item, strict=False, what=what))
        return tuple(out)
    return ()


def parse_candidates(value: Any, strict: bool) -> tuple[str, ...]:
    """CandidatesList: a Python-literal list string (the wire form) or, leniently, a list."""
    if isinstance(value, str):
        try:
            value = literal_eval(value.strip()) if value.strip() else []
        except _LITERAL_ERRORS as err:
            raise ActionParseError(
                "expected CandidatesList as a Python-literal list string like \"['a', 'b']\", found "
                f"{value!r} ({err})",
                "bad_candidates",
            ) from None
    elif strict:
        raise ActionParseError(f"expected CandidatesList as a list string, found {value!r}", "bad_candidates")
    if not isinstance(value, (list, tuple)):
        raise ActionParseError(f"expected CandidatesList to hold a list, found {value!r}", "bad_candidates")
    if strict and not all(isinstance(item, str) for item in value):
        raise ActionParseError(
            f"expected CandidatesList items to be strings, found {value!r}", "bad_candidates"
        )
    return tuple(str(item) for item in value)


def load_object(text: str, strict: bool) -> Any:
    """JSON; leniently also a Python literal (single quotes, True/None) via `ast.literal_eval`, never eval."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:
        if strict:
            raise ActionParseError(f"expected JSON, found {_clip(text)} ({err})", "answer_not_json") from None
    try:
        return literal_eval(text.strip())
    except _LITERAL_ERRORS:
        raise ActionParseError(
            f"expected JSON or a Python literal, found {_clip(text)}", "answer_not_json"
        ) from None


def _clip(text: str, limit: int = 120) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _normalise_type(value: Any) -> str:
    name = re.sub(r"[\s\-]+", "_", str(value).strip().lower())
    return _TYPE_ALIASES.get(name.replace("_", ""), _TYPE_ALIASES.get(name, name))


def _text(value: Any, strict: bool, what: str) -> str:
    if isinstance(value, str):
        return value
    if strict:
        raise ActionParseError(
            f"expected {what} as a string, found {type(value).__name__} {value!r}", "bad_parameter"
        )
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) and len(value) == 1 and isinstance(value[0], str):
        return value[0]
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)


def _parameter_value(obj: dict[str, Any], action_type: str, strict: bool) -> Any:
    if "action_parameter" not in obj:
        if strict or action_type not in NO_PARAMETER_TYPES:
            raise ActionParseError(
                "expected key 'action_parameter', found keys " + repr(sorted(map(str, obj))),
                "missing_parameter",
            )
        return ""
    param = obj["action_parameter"]
    if isinstance(param, dict):
        if action_type in param:
            return param[action_type]
        if strict:
            raise ActionParseError(
                f"expected action_parameter to hold key {action_type!r}, found keys "
                f"{sorted(map(str, param))!r}",
                "bad_parameter",
            )
        if action_type == "inquiry" and "Question" in param:
            return param
        if len(param) == 1:
            return next(iter(param.values()))
        if not param and action_type in NO_PARAMETER_TYPES:
            return ""
        raise ActionParseError(
            f"expected action_parameter {{{action_type!r}: ...}}, found {param!r}", "bad_parameter"
        )
    if strict:
        raise ActionParseError(
            f'expected action_parameter as an object {{{action_type!r}: "..."}}, found {param!r}',
            "bad_parameter",
        )
    return param


def _int_or_none(value: Any, strict: bool) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not strict:
        try:
            number = float(str(value).strip())
            if math.isfinite(number) and number.is_integer():
                return int(number)
        except ValueError:
            pass
    raise ActionParseError(f"expected AnswerIndex as an integer, found {value!r}", "bad_parameter")


def _inquiry(value: Any, strict: bool, notes: list[str] | None) -> Inquiry:
    payload = value
    if isinstance(value, str):
        payload = load_object(value, strict) if value.strip() else {}
    elif strict:
        raise ActionParseError(
            f"expected the inquiry parameter as a JSON string, found {value!r}", "bad_parameter"
        )
    if not isinstance(payload, dict):
        raise ActionParseError(
            f"expected the inquiry parameter to be a JSON object, found {payload!r}", "bad_parameter"
        )
    if strict:
        missing = [key for key in INQUIRY_KEYS if key not in payload]
        if missing:
            raise ActionParseError(
                f"expected inquiry keys {', '.join(INQUIRY_KEYS)}; missing {missing}",
                "bad_parameter",
            )
    try:
        candidates = parse_candidates(payload.get("CandidatesList", []), strict)
    except ActionParseError as err:
        if strict:
            raise
        if notes is not None:
            notes.append(err.problem)
        candidates = ()
    return Inquiry(
        question=_text(payload.get("Question", ""), strict, "Question"),
        candidates=candidates,
        pic_describe=_text(payload.get("PicDescribe", ""), strict, "PicDescribe"),
        answer_index=_int_or_none(payload.get("AnswerIndex"), strict),
    )


def _build(action_type: str, value: Any, strict: bool, notes: list[str] | None) -> Action:
    if action_type in ("click", "long_click"):
        numbers = parse_numbers(value, strict, f"{action_type} box x1,y1,x2,y2")
        if len(numbers) == 2:
            # A point ("x,y"): AndroidControl-style gold gives points and models sometimes answer one;
            # it is a zero-size box, and the original string is kept so it re-emits as a point.
            numbers = numbers * 2
        if len(numbers) != 4:
            raise ActionParseError(
                f"expected 4 numbers x1,y1,x2,y2 (or a point x,y) for {action_type}, "
                f"found {len(numbers)} in {value!r}",
                "bad_parameter",
            )
        return (Click if action_type == "click" else LongClick)(box=numbers)
    if action_type == "swipe":
        numbers = parse_numbers(value, strict, "swipe x1,y1,x2,y2")
        if len(numbers) != 4:
            raise ActionParseError(
                f"expected 4 numbers x1,y1,x2,y2 for swipe, found {len(numbers)} in {value!r}",
                "bad_parameter",
            )
        return Swipe(start=numbers[:2], end=numbers[2:])
    if action_type == "inquiry":
        return _inquiry(value, strict, notes)
    if action_type in NO_PARAMETER_TYPES:
        if strict and not isinstance(value, str):
            raise ActionParseError(
                f"expected {action_type} parameter as a string, found {value!r}", "bad_parameter"
            )
        return ACTION_CLASSES[action_type]()
    text = _text(value, strict, f"{action_type} parameter")
    if action_type == "open_app":
        return OpenApp(app=text)
    if action_type == "type":
        return TypeText(text=text)
    if action_type == "task_completed":
        return TaskCompleted(summary=text)
    return TaskImpossible(reason=text)


def parse_action(
    obj: dict[str, Any] | str, strict: bool = True, *, source: str = "", notes: list[str] | None = None
) -> Action:
    """Typed action from wire JSON (a dict or its JSON text).

    `strict=True` (ground truth) accepts only the seed's wire format and raises `ValueError`
    (`ActionParseError`) naming what was expected and what was found, prefixed with `source`
    (file and line) when given. `strict=False` (model output) also accepts Python-literal dicts,
    parameters as lists or bare values, type-name variants and clicks given as a point; lesser
    defects it tolerates are appended to `notes`.
    """
    try:
        return _parse_action(obj, strict, notes)
    except ActionParseError as err:
        if source:
            raise ActionParseError(f"{source}: {err}", err.problem) from None
        raise


def _parse_action(obj: Any, strict: bool, notes: list[str] | None) -> Action:
    if isinstance(obj, str):
        obj = load_object(obj, strict)
    if not isinstance(obj, dict):
        raise ActionParseError(
            f"expected a JSON object with action_type, found {type(obj).__name__} {obj!r:.120}",
            "not_an_object",
        )
    if "action_type" not in obj:
        raise ActionParseError(
            f"expected key 'action_type', found keys {sorted(map(str, obj))!r}", "missing_action_type"
        )
    raw_type = obj["action_type"]
    action_type = (
        raw_type
        if isinstance(raw_type, str) and raw_type in ACTION_CLASSES
        else ("" if strict else _normalise_type(raw_type))
    )
    if action_type not in ACTION_CLASSES:
        raise ActionParseError(
            f"expected action_type in {list(ACTION_TYPES)}, found {raw_type!r}", "unknown_action_type"
        )
    value = _parameter_value(obj, action_type, strict)
    description = obj.get("action_description", "")
    if strict and not isinstance(description, str):
        raise ActionParseError(
            f"expected action_description as a string, found {description!r}", "bad_description"
        )
    action = _build(action_type, value, strict, notes)
    description = _text(description, False, "action_description")
    if description:
        action = dataclasses.replace(action, description=description)
    if isinstance(value, str) and value != action.parameter() and _is_wire_form(action, value, strict):
        # Kept so that `to_json()` re-emits an oddly spaced but valid wire string byte for byte.
        object.__setattr__(action, "raw_parameter", value)
    return action


def _is_wire_form(action: Action, value: str, strict: bool) -> bool:
    """Whether `value` is a valid strict wire parameter for exactly this action (lenient forms are not)."""
    if strict:
        return True
    try:
        strict_action = _build(action.action_type, value, True, None)
    except ActionParseError:
        return False
    return dataclasses.replace(strict_action, description=action.description) == action
