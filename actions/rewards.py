"""GRPO reward functions on TRL's contract: `fn(completions, **kwargs) -> list[float]`.

Dataset columns arrive as kwargs, one value per completion (a scalar is broadcast): `gold` (wire JSON,
original pixels), `screen_width`, `screen_height`, and optionally `coord_space`, `min_pixels`,
`max_pixels` and `tile` (the processor's patch × merge, for `resized`; 0 where the family has
none). Completions are strings or conversational message lists. Unknown kwargs are ignored.
Every result is in [0, 1]; malformed completions score 0 and never raise.

When TRL passes `log_metric`, the mean of each breakdown part over the batch is logged as
`rewards/format/<part>` and `rewards/action/<part>`; TRL's trainer logs those names unchanged in
training (and with an `eval_` prefix in evaluation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from actions.columns import TILE_COLUMN
from actions.columns import budget_of as _budget
from actions.columns import column as _column
from actions.columns import log_means as _log_means
from actions.format import FORMAT_PARTS, format_score
from actions.match import action_score

logger = logging.getLogger(__name__)

FORMAT_METRIC_PREFIX = "rewards/format/"
ACTION_METRIC_PREFIX = "rewards/action/"
ACTION_PARTS: tuple[str, ...] = ("type_hit", "param_score", "parsed")


def format_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """The seed's partial-credit format reward divided by 2.5: five parts worth 0.2 each."""
    scores = [format_score(completion) for completion in completions]
    _log_means(
        kwargs.get("log_metric"),
        FORMAT_METRIC_PREFIX,
        {part: [getattr(s, part) for s in scores] for part in FORMAT_PARTS},
    )
    return [s.total for s in scores]


def action_reward(
    completions: Sequence[Any],
    gold: Sequence[Any] | None = None,
    screen_width: Sequence[int] | int | None = None,
    screen_height: Sequence[int] | int | None = None,
    **kwargs: Any,
) -> list[float]:
    """Partial-credit action reward (SPEC §4) of each completion against its gold action.

    Raises ValueError only when a required column (`gold`, `screen_width`, `screen_height`) is missing
    or has the wrong length: a mis-wired dataset must not silently train on zero rewards. A bad gold
    row scores 0 and is logged.
    """
    n = len(completions)
    missing = [
        name
        for name, v in (("gold", gold), ("screen_width", screen_width), ("screen_height", screen_height))
        if v is None
    ]
    if missing:
        raise ValueError(f"action_reward needs dataset columns {missing}; found columns {sorted(kwargs)}")
    golds = _column({"gold": gold}, "gold", n)
    widths = _column({"screen_width": screen_width}, "screen_width", n)
    heights = _column({"screen_height": screen_height}, "screen_height", n)
    spaces = _column(kwargs, "coord_space", n, "original")
    mins = _column(kwargs, "min_pixels", n)
    maxs = _column(kwargs, "max_pixels", n)
    tiles = _column(kwargs, TILE_COLUMN, n)

    rewards: list[float] = []
    parts: dict[str, list[float]] = {name: [] for name in ACTION_PARTS}
    reasons: list[str] = []
    for i, completion in enumerate(completions):
        try:
            budget = _budget(mins[i], maxs[i], tiles[i])
            breakdown = action_score(
                completion,
                golds[i],
                (widths[i], heights[i]),
                coord_space=spaces[i] or "original",
                budget=budget,
            )
        except (ValueError, TypeError) as err:
            # Ground truth or columns of this row are bad; the completion is not to blame.
            logger.error("action_reward: row %d has bad ground truth or columns: %s", i, err)
            rewards.append(0.0)
            parts["type_hit"].append(0.0)
            parts["param_score"].append(0.0)
            parts["parsed"].append(0.0)
            reasons.append(f"bad ground truth: {err}")
            continue
        rewards.append(breakdown.total)
        parts["type_hit"].append(breakdown.type_hit)
        parts["param_score"].append(breakdown.param_score)
        parts["parsed"].append(0.0 if breakdown.predicted_type is None else 1.0)
        reasons.append(breakdown.reason)
    _log_means(kwargs.get("log_metric"), ACTION_METRIC_PREFIX, parts)
    log_extra: Callable[[str, list[Any]], None] | None = kwargs.get("log_extra")
    if callable(log_extra):
        log_extra("action_reason", reasons)
    return rewards
