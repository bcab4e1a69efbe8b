"""The GRPO reward functions of a recipe, built from the registry in `actions.reward_registry`.

Recipes pick rewards by name or dotted path (`reward_funcs: [format, action]`) and weight them with
GRPOConfig's `reward_weights`; the names and weights are written into `phone_r1.json`.

Where the chat template opens `<think>` in the generation prompt (Qwen3.5), TRL hands rewards only
what the model generated after it; every reward here sees the whole answer, with the opened part put
back in front (`agent.thinking`), so a perfect answer scores as one.

Training another agent in its own grammar (`agent` in the recipe), the rewards stay the same ones:
`agent_rewards` reads each completion with the agent's adapter into the typed action (original pixels;
never raising, its problems named) and hands that to the action, grounding and judge rewards, which score
it through the one matcher as they score the seed format. `format` becomes the adapter's own
well-formedness score (`Adapter.well_formed`): the mean of its named parts, each logged as
`rewards/format/<part>` so the train report shows which part fails. The seed format's five-part score is
untouched.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from actions.columns import TILE_COLUMN, budget_of, column, log_means
from actions.parse import ParsedCompletion, completion_text
from actions.reward_registry import RewardFunc, build_reward
from actions.rewards import FORMAT_METRIC_PREFIX
from agent.thinking import join_reasoning, reattach

# Rewards that read the answer's action through `actions.match.read_prediction` (or, the judge, its text):
# with another agent's grammar they are given the typed action the adapter read.
TYPED_REWARDS = ("action", "gaussian_point", "gaussian_coverage", "iou")
JUDGE_REWARD = "llm_judge"


def with_answer_prefix(func: RewardFunc, prefix: str) -> RewardFunc:
    """`func` scoring each completion with `prefix` (the template's opened think block) in front."""
    if not prefix:
        return func

    def _whole(completion: Any) -> Any:
        if isinstance(completion, str):
            return reattach(completion, prefix)
        if isinstance(completion, list) and completion and isinstance(completion[0], dict):
            first = dict(completion[0])
            reasoning = first.pop("reasoning_content", None)
            if isinstance(reasoning, str):
                # TRL parses completions itself where the tokenizer ships a response template.
                first["content"] = join_reasoning(reasoning, first.get("content"), prefix)
            elif isinstance(first.get("content"), str):
                first["content"] = reattach(first["content"], prefix)
            return [first, *completion[1:]]
        return completion

    @functools.wraps(func)
    def reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
        return func([_whole(c) for c in completions], **kwargs)

    return reward


class AgentReader:
    """Reads completions with one agent's adapter, at each row's pixel budget (one adapter per budget)."""

    def __init__(self, agent: str, agent_prompt: str | None = None) -> None:
        self.agent = agent
        self.agent_prompt = agent_prompt
        self._adapters: dict[Any, Any] = {}

    def adapter(self, budget: Any) -> Any:
        if budget not in self._adapters:
            from agent.adapters.training import make_training_adapter

            self._adapters[budget] = make_training_adapter(self.agent, budget, self.agent_prompt)
        return self._adapters[budget]

    def rows(self, n: int, kwargs: dict[str, Any]) -> list[tuple[Any, tuple[int, int]]]:
        """`(adapter, screen)` of each completion's row, from the reward columns."""
        missing = [name for name in ("screen_width", "screen_height") if kwargs.get(name) is None]
        if missing:
            raise ValueError(
                f"agent {self.agent} rewards need dataset columns {missing}; found {sorted(kwargs)}"
            )
        widths = column(kwargs, "screen_width", n)
        heights = column(kwargs, "screen_height", n)
        mins = column(kwargs, "min_pixels", n)
        maxs = column(kwargs, "max_pixels", n)
        tiles = column(kwargs, TILE_COLUMN, n)
        return [
            (self.adapter(budget_of(mins[i], maxs[i], tiles[i])), (int(widths[i]), int(heights[i])))
            for i in range(n)
        ]

    def read(self, completions: Sequence[Any], kwargs: dict[str, Any]) -> list[ParsedCompletion]:
        """Each completion as the typed action (original pixels) with the adapter's problems."""
        out = []
        for completion, (adapter, screen) in zip(
            completions, self.rows(len(completions), kwargs), strict=True
        ):
            reading = adapter.parse(completion_text(completion), screen)
            out.append(ParsedCompletion(reading.think, reading.action, list(reading.problems)))
        return out


def agent_format_reward(reader: AgentReader) -> RewardFunc:
    """The agent's own format score: the mean of `Adapter.well_formed`'s parts, each part's batch mean
    logged as `rewards/format/<part>`."""

    def format(completions: Sequence[Any], **kwargs: Any) -> list[float]:  # noqa: A001 - the reward's name
        rows = reader.rows(len(completions), kwargs)
        scores = [
            adapter.well_formed(completion_text(c), screen)
            for c, (adapter, screen) in zip(completions, rows, strict=True)
        ]
        names = rows[0][0].format_parts() if rows else ()
        log_means(kwargs.get("log_metric"), FORMAT_METRIC_PREFIX, {n: [s[n] for s in scores] for n in names})
        return [sum(s.values()) / len(s) for s in scores]

    return format


def typed_reward(func: RewardFunc, reader: AgentReader, *, as_text: bool = False) -> RewardFunc:
    """`func` given the typed actions `reader` reads (in original pixels) instead of the raw completions;
    `as_text` hands the action's wire JSON (for the judge, which reads text)."""

    @functools.wraps(func)
    def reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
        readings = reader.read(completions, kwargs)
        log_extra = kwargs.get("log_extra")
        if callable(log_extra):
            log_extra("agent_problems", [",".join(r.problems) for r in readings])
        given: list[Any] = readings
        if as_text:
            given = [r.action.to_json_str() if r.action is not None else "" for r in readings]
        kwargs["coord_space"] = ["original"] * len(completions)  # the adapter mapped the answer back
        return func(given, **kwargs)

    return reward


def build_reward_funcs(
    names: Sequence[str],
    script_args: Any = None,
    answer_prefix: str = "",
    *,
    agent: str | None = None,
    agent_prompt: str | None = None,
) -> list[RewardFunc]:
    """Reward functions for the names a recipe lists (validated earlier by `PhoneR1Arguments`).

    `answer_prefix` is what the chat template's generation prompt opens (`agent.thinking`). With `agent`
    (another agent's adapter), `format` is its well-formedness score and the action, grounding and judge
    rewards score the typed action it reads; a reward given by dotted path gets the raw completions."""
    reader = AgentReader(agent, agent_prompt) if agent else None
    funcs = []
    for name in names:
        func = build_reward(name, script_args)
        if reader is not None:
            if name == "format":
                func = agent_format_reward(reader)
            elif name in TYPED_REWARDS:
                func = typed_reward(func, reader)
            elif name == JUDGE_REWARD:
                func = typed_reward(func, reader, as_text=True)
        funcs.append(with_answer_prefix(func, answer_prefix))
    return funcs
