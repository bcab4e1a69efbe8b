"""Scripted replies for the stub server: find the step in a prompt and answer for it.

A reply function gets the step input JSON found in the prompt (or None) and the messages, and
returns the completion text: the gold action (`gold_replies`), a mapping (`scripted_replies`) or
anything a test needs.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

# What a reply function gets: the step's input JSON found in the prompt (or None) and the messages.
ReplyFn = Callable[[dict[str, Any] | None, list[dict[str, Any]]], str]


def step_key(task: str, history: Iterable[str], app: str = "") -> str:
    """The key a prompt's step is known by: its task, app and history (all the prompt shows as text)."""
    return json.dumps([app, task, list(history)], ensure_ascii=False)


def find_step_input(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The step input JSON (the object holding `task_content`) in the last user message, if any."""
    decoder = json.JSONDecoder()
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        parts = (
            [content]
            if isinstance(content, str)
            else [p.get("text", "") for p in content or [] if isinstance(p, dict) and p.get("type") == "text"]
        )
        for text in reversed(parts):
            start = text.rfind('{"task_content"')
            while start != -1:
                try:
                    obj, _ = decoder.raw_decode(text, start)
                    return obj
                except json.JSONDecodeError:
                    start = text.rfind('{"task_content"', 0, start)
        return None
    return None


def key_of_input(step_input: Mapping[str, Any]) -> str:
    return step_key(
        step_input.get("task_content", ""),
        step_input.get("history_path_all", []),
        step_input.get("app_name", ""),
    )


def render_reply(action_wire: Mapping[str, Any], think: Mapping[str, Any] | None = None) -> str:
    """A well-formed completion: the seed's four-field think JSON and the action as answer JSON."""
    think = think or {
        "task_interpretation": "scripted",
        "current_page_audit": "scripted",
        "path_alignment_check": "scripted",
        "action_validation": "scripted",
    }
    return (
        f"<think>{json.dumps(think, ensure_ascii=False)}</think>"
        f"<answer>{json.dumps(dict(action_wire), ensure_ascii=False)}</answer>"
    )


def scripted_replies(replies: Mapping[str, str], default: str = "") -> ReplyFn:
    """A reply function answering `replies[step_key]` for the step found in the prompt."""

    def reply(step_input: dict[str, Any] | None, messages: list[dict[str, Any]]) -> str:
        if step_input is None:
            return default
        return replies.get(key_of_input(step_input), default)

    return reply


def _last_image_base64(messages: list[dict[str, Any]]) -> str | None:
    """The base64 text of the last `data:` image URL in the messages (the current screenshot)."""
    for message in reversed(messages):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in reversed(content):
            url = (part.get("image_url") or {}).get("url", "") if isinstance(part, dict) else ""
            if url.startswith("data:") and "," in url:
                return url[url.index(",") + 1 :]
    return None


def gold_replies(
    steps: Iterable[Any],
    *,
    coord_space: str = "original",
    min_pixels: int | None = None,
    max_pixels: int | None = None,
) -> ReplyFn:
    """A reply function answering each step's gold action, in the model's coordinate space.

    Steps are found by their text (task, app, history); when several steps share it, the current
    screenshot's bytes tell them apart (when the client sends the files unresized).
    """
    from actions.coords import PixelBudget, to_model_space

    budget = PixelBudget(min_pixels, max_pixels) if min_pixels and max_pixels else None
    candidates: dict[str, list[tuple[Path, str]]] = {}
    for step in steps:
        action = step.gold
        if coord_space != "original":
            action = to_model_space(action, coord_space, step.screen_size, budget)
        key = step_key(step.task, step.history, step.app)
        candidates.setdefault(key, []).append((Path(step.current_screenshot), render_reply(action.to_json())))
    unknown = render_reply(
        {"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": "unknown"}
    )
    digests: dict[Path, str] = {}
    lengths: dict[Path, int] = {}

    def _encoded_length(path: Path) -> int:
        if path not in lengths:
            lengths[path] = 4 * -(-path.stat().st_size // 3)  # base64 length of the file's bytes
        return lengths[path]

    def reply(step_input: dict[str, Any] | None, messages: list[dict[str, Any]]) -> str:
        found = candidates.get(key_of_input(step_input)) if step_input else None
        if not found:
            return unknown
        if len(found) > 1 and (sent := _last_image_base64(messages)) is not None:
            # Compared as sent, not decoded (standard base64 of the same bytes is the same text); the
            # length rules out most candidates before any hashing. This keeps the server's CPU per
            # request small: in benchmarks it shares the machine with the client it answers.
            same_length = [(path, text) for path, text in found if _encoded_length(path) == len(sent)]
            if len(same_length) == 1:
                return same_length[0][1]
            sent_digest = hashlib.sha256(sent.encode("ascii", "replace")).hexdigest()
            for path, text in same_length:
                if path not in digests:
                    digests[path] = hashlib.sha256(base64.b64encode(path.read_bytes())).hexdigest()
                if digests[path] == sent_digest:
                    return text
        return found[0][1]

    return reply


def adapter_gold_replies(steps: Iterable[Any], adapter: Any, *, unknown: str = "") -> ReplyFn:
    """A reply function answering each step's gold action in `adapter`'s own grammar.

    Other agents' prompts hold no step JSON, so steps are found by the current screenshot as sent (the
    last image; the client must send the files unresized). Golds the grammar cannot express (an
    inquiry, an open_app for agents that open apps by tapping) are answered with `unknown`.
    """
    from agent.prompt import screen_size_of

    by_image: dict[str, str] = {}
    for step in steps:
        text = adapter.render(step.gold, screen_size_of(step))
        digest = hashlib.sha256(base64.b64encode(Path(step.current_screenshot).read_bytes())).hexdigest()
        by_image[digest] = text if text is not None else unknown

    def reply(step_input: dict[str, Any] | None, messages: list[dict[str, Any]]) -> str:
        sent = _last_image_base64(messages)
        if sent is None:
            return unknown
        return by_image.get(hashlib.sha256(sent.encode("ascii", "replace")).hexdigest(), unknown)

    return reply
