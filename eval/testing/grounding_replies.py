"""Scripted replies for grounding items: the stub server points at each item's target in an agent's grammar.

Grounding prompts carry no step JSON: an item is found by its screenshot as sent (the last image,
compared as base64 text, so the client must send the files unresized) and, since many items share a
screenshot, by which of those items' instructions the last user message holds (the longest that
appears). Each reply is `adapter.render(target)`: the target's centre, or the grammar's refusal for
a refusal item (or `unknown` where the grammar cannot refuse).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from eval.testing.stub_replies import ReplyFn, _last_image_base64


def _user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        return "\n".join(
            p.get("text", "") for p in content or [] if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def grounding_replies(
    items: Iterable[Any],
    adapter: Any,
    *,
    unknown: str = "",
    language: str | None = None,
    answer: Callable[[Any], str | None] | None = None,
) -> ReplyFn:
    """A reply function answering each item as `answer(item)` (default: the adapter's rendering of its
    target); items are found by screenshot and instruction (`language` picks the instruction sent)."""
    by_image: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        text = answer(item) if answer is not None else adapter.render(item.target, item.screen)
        digest = hashlib.sha256(base64.b64encode(Path(item.image).read_bytes())).hexdigest()
        by_image.setdefault(digest, []).append(
            (item.instruction_in(language), text if text is not None else unknown)
        )
    for found in by_image.values():
        found.sort(key=lambda pair: -len(pair[0]))  # the longest instruction first: "OK" is inside "OK, go"

    def reply(step_input: dict[str, Any] | None, messages: list[dict[str, Any]]) -> str:
        sent = _last_image_base64(messages)
        if sent is None:
            return unknown
        found = by_image.get(hashlib.sha256(sent.encode("ascii", "replace")).hexdigest())
        if not found:
            return unknown
        user = _user_text(messages)
        for instruction, text in found:
            if instruction in user:
                return text
        return unknown

    return reply


def off_target_point(item: Any) -> tuple[float, float]:
    """A point of the screen outside the item's target (a screen corner; the centre for a refusal)."""
    from actions.regions import Box, Polygon, point_in_box, point_in_polygon

    width, height = item.screen
    target = item.target
    if not isinstance(target, (Box, Polygon)):
        return width / 2, height / 2
    for corner in ((1.0, 1.0), (width - 2.0, 1.0), (1.0, height - 2.0), (width - 2.0, height - 2.0)):
        if isinstance(target, Box):
            inside = point_in_box(corner, Box(target.pixels(item.screen)).ordered())
        else:
            inside = point_in_polygon(corner, target.pixels(item.screen))
        if not inside:
            return corner
    return -1.0, -1.0  # a target covering the whole screen: a point off it


def missing_answers(adapter: Any, miss_rate: float, seed: int = 0) -> Callable[[Any], str | None]:
    """`answer` for `grounding_replies`: the target's centre, except on a seeded `miss_rate` share of
    the items (drawn per item id, so any order and concurrency sees the same misses): a point outside it."""

    def answer(item: Any) -> str | None:
        digest = hashlib.sha256(f"{seed}|{item.id}".encode()).digest()
        if int.from_bytes(digest[:8], "big") / 2**64 < miss_rate:
            return adapter.render_point(adapter.to_model(off_target_point(item), item.screen))
        return adapter.render(item.target, item.screen)

    return answer
