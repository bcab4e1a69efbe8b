"""veRL reward functions for parquet written by `phone-r1 data export-verl`.

veRL loads this file by path (`custom_reward_function.path=.../reward.py`,
`custom_reward_function.name=compute_score`) and calls
`compute_score(data_source, solution_str, ground_truth, extra_info)` once per response. The score
comes from the same matcher as TRL training and offline evaluation (`actions.action_score`), so the
three can never disagree; phone-r1 must be installed on the Ray workers.

`ground_truth` is the gold action's wire JSON in original pixels; `extra_info` carries the screen
size, the coordinate space the prompt asked for and the pixel budget, so predictions are mapped back
to original pixels before matching. The returned dict's `score` is the reward; the other keys are
logged by veRL as extra reward information (all numbers).

Rows exported with `--agent NAME` carry `extra_info.agent`: the answer is read by that agent's adapter
into the typed action (original pixels), which the same matcher scores; `format` is then the adapter's
own well-formedness score (the mean of its parts, each returned as `format_<part>`).
"""

from __future__ import annotations

from typing import Any


def _score_parts(solution_str: Any, ground_truth: Any, extra_info: dict[str, Any] | None) -> dict[str, float]:
    from actions import PixelBudget, action_score, format_score

    extra = extra_info or {}
    try:
        screen = (int(extra["screen_width"]), int(extra["screen_height"]))
    except (KeyError, TypeError, ValueError):
        raise ValueError(
            "expected extra_info with screen_width and screen_height (as written by phone-r1 data "
            "export-verl), "
            f"found {sorted(extra)}"
        ) from None
    defaults = PixelBudget()
    tile = extra.get("tile")  # absent from exports written before model families: Qwen2.5-VL's
    budget = PixelBudget(
        int(extra.get("min_pixels") or defaults.min_pixels),
        int(extra.get("max_pixels") or defaults.max_pixels),
        defaults.tile if tile is None else (int(tile) or None),
    )
    agent = extra.get("agent") or ""
    if agent and agent != "phone-r1":
        return _agent_parts(agent, solution_str, ground_truth, screen, budget)
    action = action_score(
        solution_str, ground_truth, screen, coord_space=extra.get("coord_space") or "original", budget=budget
    )
    fmt = format_score(solution_str)
    return {
        "action": float(action.total),
        "format": float(fmt.total),
        "type_hit": float(action.type_hit),
        "param_score": float(action.param_score),
    }


def _agent_parts(
    agent: str, solution_str: Any, ground_truth: Any, screen: tuple[int, int], budget: Any
) -> dict[str, float]:
    from actions import action_score
    from agent.adapters.training import make_training_adapter

    adapter = make_training_adapter(agent, budget)
    reading = adapter.parse(solution_str, screen)
    action = action_score(reading.action, ground_truth, screen) if reading.action is not None else None
    parts = adapter.well_formed(solution_str, screen)
    return {
        "action": float(action.total) if action is not None else 0.0,
        "format": sum(parts.values()) / len(parts),
        "type_hit": float(action.type_hit) if action is not None else 0.0,
        "param_score": float(action.param_score) if action is not None else 0.0,
        **{f"format_{name}": value for name, value in parts.items()},
    }


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """Partial-credit action reward in [0, 1] (`score`), with its parts and the format reward."""
    parts = _score_parts(solution_str, ground_truth, extra_info)
    return {"score": parts["action"], **parts}


def compute_score_with_format(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """Mean of the format reward and the action reward, in [0, 1] (the seed's GRPO used both)."""
    parts = _score_parts(solution_str, ground_truth, extra_info)
    return {"score": (parts["action"] + parts["format"]) / 2, **parts}
