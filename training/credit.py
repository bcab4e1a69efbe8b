"""Credit for semi-online rollouts: discounted step returns, normalised per step and per episode.

G rollouts of one recorded episode each leave a list of step rewards (a rollout stopped at its first
mismatch is shorter than the episode). Following UI-S1 (arXiv 2509.11543, "semi-online RL"):

- the return of step k of rollout g is its own reward plus the discounted rewards of the same rollout
  after it, R[g][k] = sum_{j >= k} gamma^(j - k) * r[g][j];
- the step-level advantage normalises R[g][k] across the rollouts that reached step k:
  A_S[g][k] = (R[g][k] - mean_g' R[g'][k]) / (std_g' R[g'][k] + eps);
- the episode-level advantage normalises each rollout's total reward sum_k r[g][k] across the G rollouts:
  A_E[g] = (T[g] - mean T) / (std T + eps);
- the advantage of step k is A[g][k] = A_E[g] + step_weight * A_S[g][k].

Where this differs from what UI-S1 describes, and why:
- std is the sample standard deviation (Bessel's correction) and eps = 1e-4, as TRL's GRPO normalises
  its groups, so a semi-online run and a plain GRPO run scale advantages alike;
- a step that only one rollout reached has no group to compare with: its step-level advantage is 0
  (its episode-level advantage still applies), rather than dividing by an undefined spread;
- the episode total is the undiscounted sum of the rollout's step rewards, so a rollout that stops
  early (the `stop` patch policy) is ranked below one that went on with the same per-step rewards.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# TRL's GRPOTrainer adds the same constant to the group std before dividing.
EPS = 1e-4


@dataclass(frozen=True)
class Credit:
    """Per rollout g and step k: `returns[g][k]`, `step_advantages`, `advantages`; per rollout
    `episode_totals[g]` and `episode_advantages[g]`."""

    returns: list[list[float]]
    step_advantages: list[list[float]]
    episode_totals: list[float]
    episode_advantages: list[float]
    advantages: list[list[float]]


def discounted_returns(rewards: Sequence[float], gamma: float) -> list[float]:
    """R[k] = r[k] + gamma * R[k + 1] over one rollout's step rewards."""
    out = [0.0] * len(rewards)
    running = 0.0
    for k in range(len(rewards) - 1, -1, -1):
        running = float(rewards[k]) + gamma * running
        out[k] = running
    return out


def _sample_std(values: Sequence[float]) -> float:
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _normalised(values: Sequence[float]) -> list[float]:
    if len(values) < 2:
        return [0.0] * len(values)
    mean = sum(values) / len(values)
    std = _sample_std(values)
    return [(v - mean) / (std + EPS) for v in values]


def credit(rewards: Sequence[Sequence[float]], *, gamma: float, step_weight: float) -> Credit:
    """The credit of G rollouts of one episode, `rewards[g]` the step rewards rollout g earned.

    Raises ValueError for no rollouts, a gamma outside [0, 1] or a negative step weight.
    """
    if not rewards:
        raise ValueError("credit: expected the rewards of at least one rollout, found none")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"credit: gamma must be in [0, 1], found {gamma}")
    if step_weight < 0:
        raise ValueError(f"credit: step_weight must be >= 0, found {step_weight}")
    returns = [discounted_returns(r, gamma) for r in rewards]
    steps = max(len(r) for r in rewards)
    step_adv = [[0.0] * len(r) for r in rewards]
    for k in range(steps):
        reached = [g for g, r in enumerate(returns) if len(r) > k]
        for g, a in zip(reached, _normalised([returns[g][k] for g in reached]), strict=True):
            step_adv[g][k] = a
    totals = [float(sum(r)) for r in rewards]
    episode_adv = _normalised(totals)
    advantages = [[episode_adv[g] + step_weight * a for a in step_adv[g]] for g in range(len(rewards))]
    return Credit(returns, step_adv, totals, episode_adv, advantages)
