"""Reading model output: `<think>` payload, `<answer>` action and named problems; never raises.

Accepted forms (SPEC §2): `<think>…</think><answer>…</answer>`; a bare JSON action (the seed's SFT
format); code fences; single-quoted or Python-literal dicts (`ast.literal_eval`, never `eval`);
parameters as strings or lists; a click given as a point; the last `<answer>` when there are several.

Problems are short stable names, reported in order of discovery. An action may be present together
with problems (a bare JSON action reports `no_answer_tag`): problems describe the form, the action is
what could be read.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from actions.types import Action, ActionParseError
from actions.vocab import THINK_FIELDS
from actions.wire import literal_eval, parse_action

logger = logging.getLogger(__name__)


# Every name `parse_completion` can report, so that reports and tests can rely on them.
PROBLEMS: tuple[str, ...] = (
    "not_text",
    "no_think_tag",
    "think_not_json",
    "think_not_object",
    "think_missing_fields",
    "no_answer_tag",
    "answer_unclosed",
    "multiple_answers",
    "answer_empty",
    "answer_code_fence",
    "answer_python_literal",
    "answer_extra_text",
    "answer_not_json",
    "not_an_object",
    "missing_action_type",
    "unknown_action_type",
    "missing_parameter",
    "bad_parameter",
    "bad_description",
    "bad_candidates",
    "internal_error",
)

_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)
_LITERAL_ERRORS = (ValueError, SyntaxError, TypeError, MemoryError, RecursionError)


@dataclass(frozen=True)
class ParsedCompletion:
    """What could be read from one completion."""

    think: dict[str, Any] | None
    action: Action | None
    problems: list[str] = field(default_factory=list)
    answer_text: str | None = None

    @property
    def ok(self) -> bool:
        """True when an action was read and nothing about the form was wrong."""
        return self.action is not None and not self.problems


def completion_text(completion: Any) -> str | None:
    """Text of a completion given as a string or as TRL's conversational list of messages."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if isinstance(completion, (list, tuple)):
        parts: list[str] = []
        for message in completion:
            if not isinstance(message, dict):
                return None
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                # Multimodal message content: keep the text parts.
                parts.extend(
                    p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
                )
        return "".join(parts)
    return None


def _loads(text: str) -> tuple[Any, str | None]:
    """JSON, else a Python literal (with a problem name), else raise ValueError."""
    try:
        return json.loads(text), None
    except (ValueError, RecursionError):
        pass
    try:
        return literal_eval(text), "answer_python_literal"
    except _LITERAL_ERRORS:
        raise ValueError(text) from None


def _outer_braces(text: str) -> str | None:
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else None


def _read_think(text: str, problems: list[str]) -> dict[str, Any] | None:
    match = _THINK.search(text)
    if match is None:
        problems.append("no_think_tag")
        return None
    body = match.group(1).strip()
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        problems.append("think_not_json")
        try:
            payload = literal_eval(body)
        except _LITERAL_ERRORS:
            return None
        if not isinstance(payload, dict):
            return None
    if not isinstance(payload, dict):
        problems.append("think_not_object")
        return None
    if not all(name in payload for name in THINK_FIELDS):
        problems.append("think_missing_fields")
    return payload


def _answer_region(text: str, problems: list[str]) -> str:
    answers = _ANSWER.findall(text)
    if len(answers) > 1:
        problems.append("multiple_answers")
    if answers:
        return answers[-1]
    opened = text.rfind("<answer>")
    if opened >= 0:
        problems.append("answer_unclosed")
        return text[opened + len("<answer>") :]
    problems.append("no_answer_tag")
    # The seed's SFT format: a bare JSON action, possibly after a think block.
    return text[text.rfind("</think>") + len("</think>") :] if "</think>" in text else text


def _read_answer(region: str, problems: list[str]) -> tuple[Any, str] | None:
    body = region.strip()
    if not body:
        problems.append("answer_empty")
        return None
    fences = _FENCE.findall(body)
    if fences:
        if "no_answer_tag" not in problems:
            problems.append("answer_code_fence")
        body = fences[-1].strip()
    try:
        obj, note = _loads(body)
    except ValueError:
        inner = _outer_braces(body)
        if inner is None or inner == body:
            problems.append("answer_not_json")
            return None
        try:
            obj, note = _loads(inner)
        except ValueError:
            problems.append("answer_not_json")
            return None
        if "no_answer_tag" not in problems:
            problems.append("answer_extra_text")
        body = inner
    if note:
        problems.append(note)
    return obj, body


def parse_completion(text: Any) -> ParsedCompletion:
    """Think payload, typed action and named problems of one completion; never raises.

    `text` may also be a conversational completion (a list of messages); anything else is reported
    as `not_text`.
    """
    content = completion_text(text)
    if content is None:
        return ParsedCompletion(think=None, action=None, problems=["not_text"])
    problems: list[str] = []
    try:
        think = _read_think(content, problems)
        region = _answer_region(content, problems)
        read = _read_answer(region, problems)
        if read is None:
            return ParsedCompletion(think, None, problems, region.strip())
        obj, answer_text = read
        try:
            action = parse_action(obj, strict=False, notes=problems)
        except ActionParseError as err:
            problems.append(err.problem)
            action = None
        return ParsedCompletion(think, action, problems, answer_text)
    except Exception:  # A parser bug must cost one sample its reward, never a training run.
        logger.exception("parse_completion failed on %.200r", content)
        return ParsedCompletion(think=None, action=None, problems=[*problems, "internal_error"])
