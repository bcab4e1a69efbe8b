"""The raw answer of a step with the run's agent, for protocols that read answers as their source does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actions.protocols.base import Answer


def model_screen(coord_space: str, screen: tuple[int, int], budget: Any = None) -> tuple[int, int]:
    """The screen's size in an agent's coordinate space (the resized image for `resized`)."""
    from actions.coords import model_screen_size

    if coord_space == "norm999":
        return (999, 999)
    return model_screen_size(coord_space, screen, budget)


def answer_of(
    raw: str | None, agent: str | None, screen: tuple[int, int], coord_space: str, budget: Any = None
) -> Answer | None:
    """The step's `Answer`, or None when there is no raw text (a failed request) or no agent named."""
    if raw is None or not agent:
        return None
    return Answer(str(raw), str(agent), model_screen(coord_space, screen, budget))


def answer_from_record(record: Mapping[str, Any], header: Mapping[str, Any] | None) -> Answer | None:
    """The `Answer` of a results-file record, with the agent, coordinate space and budget (the family's
    tile included) of its header (a file written before the header named its agent was made with
    `phone-r1`, one written before it named a tile with Qwen2.5-VL's 28 pixels)."""
    from actions.coords import PixelBudget
    from eval.results import HEADER_DEFAULTS

    if record.get("error") or not record.get("screen"):
        return None
    header = header or {}
    budget = None
    if header.get("min_pixels") and header.get("max_pixels"):
        tile = header.get("tile", HEADER_DEFAULTS["tile"])
        budget = PixelBudget(int(header["min_pixels"]), int(header["max_pixels"]), tile)
    screen = (int(record["screen"][0]), int(record["screen"][1]))
    agent = header.get("agent") or "phone-r1"
    return answer_of(record.get("raw"), agent, screen, header.get("coord_space") or "original", budget)
