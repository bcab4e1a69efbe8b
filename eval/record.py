"""One step's result, typed, and the scoring that makes it: shared by every way a step is asked.

Teacher-forced runs, own-history runs and the UI's live "Run this step" all judge an answer with
`score_step`: the protocol's verdict (`actions.match_step`, with the step's gold context), the action
and format breakdowns and the partial reward mix, over the agent's `AgentResult`. The result is a
`StepResult`; `to_json()` is the step line of a results file (`eval.results`), and `from_json()` reads
one back, including lines written before a field existed.

An own-history run adds what the agent saw and what comes next (`OwnHistory`); teacher-forced records
have none of those keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eval.partial_reward import RewardMix


@dataclass(frozen=True)
class OwnHistory:
    """An own-history step: the history it was asked with and what it adds to the next step's."""

    history: list[str]  # the history_path_all the agent saw
    history_own: list[bool]  # per entry: the agent's own answer (True) or the gold (False)
    position: int  # the step's place in its episode, from 0
    episode_length: int
    stopped: bool  # `own` mode: the episode ends here (first mismatch or failed request)
    next_history: str  # the entry this step adds to the next step's history
    next_history_own: bool  # whether that entry is the agent's answer

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> OwnHistory | None:
        """The own-history fields of a step record, or None for a teacher-forced one."""
        if "next_history" not in record:
            return None
        return cls(
            history=list(record.get("history") or []),
            history_own=[bool(x) for x in record.get("history_own") or []],
            position=int(record.get("position", record.get("index", 0))),
            episode_length=int(record.get("episode_length") or 0),
            stopped=bool(record.get("stopped")),
            next_history=str(record["next_history"]),
            next_history_own=bool(record.get("next_history_own")),
        )


@dataclass(frozen=True)
class StepResult:
    """A results file's step record: the step, the answer, its verdict and reward, and the request.

    `prediction` is wire JSON in original pixels (None when the call failed or nothing parsed);
    `verdict` is the protocol's `Verdict.as_dict()`; `reward` holds `total` (the reward mix),
    `format` and `action` breakdowns; `error` is `AgentError.to_json()` of a failed request.
    """

    step_id: str
    episode_id: str
    index: int
    app: str
    task: str
    screen: tuple[int, int]
    screenshots: list[str]
    gold: dict[str, Any]
    prediction: dict[str, Any] | None
    raw: str
    think: dict[str, Any] | None
    problems: list[str]
    verdict: dict[str, Any]
    reward: dict[str, Any]
    latency_s: float
    usage: dict[str, int] = field(default_factory=dict)
    error: dict[str, str] | None = None
    prompt_hash: str = ""
    own: OwnHistory | None = None

    @property
    def correct(self) -> bool:
        """Right under the run's protocol and not a failed request (`eval.results.step_correct`)."""
        return self.error is None and bool(self.verdict.get("correct"))

    def with_own(self, own: OwnHistory) -> StepResult:
        return dataclasses.replace(self, own=own)

    def to_json(self) -> dict[str, Any]:
        """The step line's fields (`ResultsWriter.write` adds `"kind": "step"`)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "own"}
        data["screen"] = [int(self.screen[0]), int(self.screen[1])]
        if self.own is not None:
            data.update(self.own.to_json())
        return data

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> StepResult:
        """A step line read back; fields missing from older files take their empty value."""
        screen = record.get("screen") or (0, 0)
        return cls(
            step_id=str(record["step_id"]),
            episode_id=str(record.get("episode_id", str(record["step_id"]).rsplit("/", 1)[0])),
            index=int(record.get("index", 0)),
            app=str(record.get("app") or ""),
            task=str(record.get("task") or ""),
            screen=(int(screen[0]), int(screen[1])),
            screenshots=[str(p) for p in record.get("screenshots") or []],
            gold=dict(record.get("gold") or {}),
            prediction=record.get("prediction"),
            raw=str(record.get("raw") or ""),
            think=record.get("think"),
            problems=[str(p) for p in record.get("problems") or []],
            verdict=dict(record.get("verdict") or {"correct": False, "type_match": False, "reason": ""}),
            reward=dict(record.get("reward") or {}),
            latency_s=float(record.get("latency_s") or 0.0),
            usage=dict(record.get("usage") or {}),
            error=record.get("error"),
            prompt_hash=str(record.get("prompt_hash") or ""),
            own=OwnHistory.from_json(record),
        )


def judge(
    step: Any,
    prediction: Any,
    protocol: str,
    *,
    error: Any = None,
    problems: Any = (),
    answer: Any = None,
) -> dict[str, Any]:
    """The verdict dict for one answer, always the protocol's: an unparsed answer and a failed request
    too, since the protocol's own rule says whether such a step is in its denominator.

    `answer` is the raw answer with the run's agent (`eval.raw_answer.answer_of`): a protocol written for
    that agent's grammar judges the raw text as its source's script reads it. Raises
    `actions.protocols.MissingContext` when the protocol needs context the step lacks.
    """
    from actions import match_step
    from agent.prompt import screen_size_of

    failed = error is not None
    verdict = match_step(
        None if failed else prediction,
        step.gold,
        screen_size_of(step),
        protocol,
        context=step.context,
        step_id=step.step_id,
        answer=None if failed else answer,
        problems=list(problems),
    ).as_dict()
    if failed:
        kind = error["kind"] if isinstance(error, Mapping) else error.kind
        verdict["reason"] = f"error: {kind}"
    return verdict


def score_step(
    step: Any,
    result: Any,
    protocol: str = "box",
    rewards: RewardMix | None = None,
    *,
    coord_space: str = "original",
    budget: Any = None,
    adapter_name: str | None = None,
) -> StepResult:
    """The `StepResult` of one answered (or failed) step; the prediction is in original pixels.

    `adapter_name` is the agent whose grammar the raw answer is in: a protocol written for it reads the
    raw text (`coord_space` and `budget` give that agent's screen size).

    `result` is the agent's `AgentResult`. `reward.total` is the recipe's reward mix (`rewards`,
    default: format and action weighed equally) over the raw answer in the agent's `coord_space` and
    pixel `budget`.
    """
    from actions import action_score, format_score
    from actions.coords import DEFAULT_BUDGET
    from agent.prompt import screen_size_of
    from eval.raw_answer import answer_of

    screen = screen_size_of(step)
    prediction = result.action
    error = result.error.to_json() if result.error is not None else None
    answer = answer_of(result.raw_text, adapter_name, screen, coord_space, budget)
    verdict = judge(step, prediction, protocol, error=error, problems=result.problems, answer=answer)
    raw = result.raw_text or ""
    fmt = format_score(raw).as_dict()
    act = action_score(prediction if prediction is not None else "", step.gold, screen).as_dict()
    mix = rewards or RewardMix.build()
    total = mix.total(raw, step.gold, screen, coord_space, budget or DEFAULT_BUDGET)
    return StepResult(
        step_id=step.step_id,
        episode_id=step.episode_id,
        index=step.index,
        app=step.app,
        task=step.task,
        screen=(int(screen[0]), int(screen[1])),
        screenshots=[str(p) for p in step.screenshots],
        gold=step.gold.to_json(),
        prediction=prediction.to_json() if prediction is not None else None,
        raw=result.raw_text,
        think=result.think,
        problems=list(result.problems),
        verdict=verdict,
        reward={"total": total, "format": fmt, "action": act},
        latency_s=round(float(result.latency_s), 4),
        usage=dict(result.usage),
        error=error,
        prompt_hash=result.prompt_hash,
    )
