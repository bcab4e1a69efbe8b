"""The environment a semi-online rollout talks to, and the replay of recorded episodes.

A rollout asks its environment for an observation (`reset(episode)`), answers it, and hands the answer
back (`step(action)`), which gives the next observation, whether the rollout is done, and what the
step's gold was. An observation is a `Step`: the task, the screenshots to show, the history as this
rollout built it and, where the environment knows it, the gold action that rewards score against.

`ReplayEnvironment` replays a recorded episode: the screens are the recorded ones, so they stay valid
only while the answers match the gold. Where an answer does not match (under the run's protocol), the
patch policy decides what comes next:

- `stop`: the rollout ends at its first mismatch (UI-S1's semi-online rollout without patching);
- `patch`: the gold action's description replaces the answer in the history and the rollout goes on
  to the next recorded step, at most `max_patches` times per rollout (then it stops).

An emulator environment plugs in at the same two calls (docs/training.md, "Semi-online RL"): its
`reset` starts the task on a device and returns the first screen, its `step` performs the action and
returns the new screen; the rollout code does not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from episodes.history import describe_action, gold_description, with_history

PATCH_POLICIES = ("patch", "stop")


@dataclass(frozen=True)
class StepInfo:
    """What `step` tells the rollout about the step just answered."""

    step_id: str
    gold: Any  # the typed gold action of that step (None where the environment has none)
    matched: bool
    patched: bool = False  # the gold replaced the answer in the history
    stopped: bool = False  # the rollout ends here without reaching the episode's end
    history_entry: str | None = None  # what the step added to the history
    extra: dict[str, Any] = field(default_factory=dict)


class Environment(Protocol):
    """`reset(episode) -> observation`; `step(action) -> (observation or None, done, info)`."""

    def reset(self, episode: Sequence[Any]) -> Any: ...

    def step(self, action: Any) -> tuple[Any, bool, StepInfo]: ...


class ReplayEnvironment:
    """A recorded episode replayed with the patch policy (`patch` or `stop`) under `protocol`.

    `max_patches` caps the patches of one rollout (None: no cap); a mismatch past the cap stops it.
    """

    def __init__(self, *, protocol: str = "box", patch: str = "patch", max_patches: int | None = 1) -> None:
        if patch not in PATCH_POLICIES:
            raise ValueError(f"patch policy: expected one of {list(PATCH_POLICIES)}, found {patch!r}")
        if max_patches is not None and max_patches < 0:
            raise ValueError(f"max_patches must be >= 0 or None, found {max_patches}")
        self.protocol = protocol
        self.patch = patch
        self.max_patches = max_patches
        self._steps: list[Any] = []
        self._history: list[str] = []
        self._position = 0
        self.patches = 0

    def reset(self, episode: Sequence[Any]) -> Any:
        """Start `episode` (its steps in order); the first observation keeps the recorded history."""
        if not episode:
            raise ValueError("reset: expected an episode with at least one step, found none")
        self._steps = list(episode)
        self._history = list(self._steps[0].history)
        self._position = 0
        self.patches = 0
        return self._observation()

    def _observation(self) -> Any:
        return with_history(self._steps[self._position], self._history)

    def matches(self, step: Any, action: Any) -> bool:
        """Whether `action` (original pixels, or None for an unreadable answer) matches the gold."""
        if action is None:
            return False
        from actions import match_step
        from agent.prompt import screen_size_of

        verdict = match_step(
            action, step.gold, screen_size_of(step), self.protocol, context=step.context, step_id=step.step_id
        )
        return bool(verdict.correct)

    def step(self, action: Any) -> tuple[Any, bool, StepInfo]:
        """Answer the current step with `action`; the next observation follows the patch policy."""
        if self._position >= len(self._steps):
            raise RuntimeError("step: the episode is over; call reset first")
        step = self._steps[self._position]
        matched = self.matches(step, action)
        if matched:
            entry = describe_action(action, step.labels)
            info = StepInfo(step.step_id, step.gold, True, history_entry=entry)
        elif self.patch == "stop" or (self.max_patches is not None and self.patches >= self.max_patches):
            self._position = len(self._steps)
            return None, True, StepInfo(step.step_id, step.gold, False, stopped=True)
        else:
            self.patches += 1
            entry = gold_description(step)
            info = StepInfo(step.step_id, step.gold, False, patched=True, history_entry=entry)
        self._history.append(entry)
        self._position += 1
        done = self._position >= len(self._steps)
        return (None if done else self._observation()), done, info
