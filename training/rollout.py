"""Lock-step rollouts of recorded episodes through environments, and their per-step statistics.

`run_rollouts` advances B environments together, one step index at a time, so a trainer can generate
the answers of every live rollout of a step in one batch: `ask` gets the B observations of the step
(None where a rollout is done) and returns, for each live one, its reward and its parsed action.
`go_on` decides, before each step index, whether another is asked: under several processes every
rank must ask as many times as the rank with the longest rollouts (each ask holds collectives), so
the trainer answers with whether any rank still has a live rollout; a rank with none left then asks
with every observation None (its rows are fillers). Nothing here needs torch: the trainer
(`training.semi_online`) and the tests drive the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from training.credit import Credit, credit
from training.environment import StepInfo

# ask(observations) -> per rollout (reward, action) for a live observation, None for a finished one.
Ask = Callable[[list[Any]], list[tuple[float, Any] | None]]


@dataclass
class Rollout:
    """One rollout: the observation asked, the reward earned and the environment's answer, per step."""

    observations: list[Any] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    infos: list[StepInfo] = field(default_factory=list)

    @property
    def patches(self) -> int:
        return sum(info.patched for info in self.infos)

    @property
    def divergence(self) -> int | None:
        """The step index of the first answer that did not match the gold (None: none diverged)."""
        return next((k for k, info in enumerate(self.infos) if not info.matched), None)

    @property
    def stopped(self) -> bool:
        return bool(self.infos) and self.infos[-1].stopped


def _local(live: bool) -> bool:
    return live


def run_rollouts(
    envs: Sequence[Any],
    episodes: Sequence[Sequence[Any]],
    ask: Ask,
    go_on: Callable[[bool], bool] = _local,
) -> list[Rollout]:
    """Roll `envs[i]` out on `episodes[i]`, all in lock step; each step index is one `ask`.

    `go_on(any rollout here is live)` says whether to ask again (default: while one here is live).
    """
    if len(envs) != len(episodes):
        raise ValueError(f"run_rollouts: {len(envs)} environments for {len(episodes)} episodes")
    observations: list[Any] = [env.reset(episode) for env, episode in zip(envs, episodes, strict=True)]
    rollouts = [Rollout() for _ in envs]
    while go_on(any(obs is not None for obs in observations)):
        answers = ask(list(observations))
        for i, obs in enumerate(observations):
            if obs is None:
                continue
            if answers[i] is None:
                raise ValueError(f"ask returned no answer for the live rollout {i}")
            reward, action = answers[i]
            following, done, info = envs[i].step(action)
            rollouts[i].observations.append(obs)
            rollouts[i].rewards.append(float(reward))
            rollouts[i].infos.append(info)
            observations[i] = None if done else following
    return rollouts


def group_credit(
    rollouts: Sequence[Rollout], group: int, *, gamma: float, step_weight: float
) -> list[Credit]:
    """The credit of each run of `group` consecutive rollouts (the G rollouts of one episode)."""
    if len(rollouts) % group:
        raise ValueError(f"{len(rollouts)} rollouts do not split into groups of {group}")
    return [
        credit([r.rewards for r in rollouts[i : i + group]], gamma=gamma, step_weight=step_weight)
        for i in range(0, len(rollouts), group)
    ]


def step_statistics(rollouts: Sequence[Rollout], credits: Sequence[Credit]) -> dict[str, float]:
    """Per step index k: mean reward, return and advantage over the rollouts that reached k, the share
    of rollouts that diverged first at k; per rollout: mean patches, share stopped, share never diverged.

    Keys: `semi_online/{reward,return,advantage,advantage_abs}/step_{k}`, `semi_online/diverged_at/step_{k}`,
    `semi_online/patches`, `semi_online/stopped`, `semi_online/no_divergence`, `semi_online/steps`.
    """
    flat_returns = [row for c in credits for row in c.returns]
    flat_adv = [row for c in credits for row in c.advantages]
    out: dict[str, float] = {}
    steps = max((len(r.rewards) for r in rollouts), default=0)
    for k in range(steps):
        reached = [i for i, r in enumerate(rollouts) if len(r.rewards) > k]
        n = len(reached)
        out[f"semi_online/reward/step_{k}"] = sum(rollouts[i].rewards[k] for i in reached) / n
        out[f"semi_online/return/step_{k}"] = sum(flat_returns[i][k] for i in reached) / n
        out[f"semi_online/advantage/step_{k}"] = sum(flat_adv[i][k] for i in reached) / n
        # Normalised advantages average to about 0 per step; their size shows how much a step is pushed.
        out[f"semi_online/advantage_abs/step_{k}"] = sum(abs(flat_adv[i][k]) for i in reached) / n
        out[f"semi_online/diverged_at/step_{k}"] = sum(r.divergence == k for r in rollouts) / len(rollouts)
    total = max(len(rollouts), 1)
    out["semi_online/patches"] = sum(r.patches for r in rollouts) / total
    out["semi_online/stopped"] = sum(r.stopped for r in rollouts) / total
    out["semi_online/no_divergence"] = sum(r.divergence is None for r in rollouts) / total
    out["semi_online/steps"] = sum(len(r.rewards) for r in rollouts) / total
    return out
