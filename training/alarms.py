"""Alarms over a GRPO run's log history: the signs that a run is not learning, each with a likely cause.

The history is `trainer_state.json`'s `log_history` as TRL 1.x writes it: one dict per logged step with
`step`, `reward`, `reward_std`, `frac_reward_zero_std`, `rewards/<function>/mean`, `entropy`,
`completions/clipped_ratio` and, with `beta > 0`, `kl`. Every rule only reads keys that are present,
so a run that logs less simply raises fewer alarms.

- `format_only`: the format reward rises while every other reward stays flat — the policy is learning
  the output layout and nothing about the task.
- `zero_std`: for K or more consecutive steps, at least `zero_std_threshold` of the prompt groups have
  the same reward for every completion; GRPO's advantage is 0 there, so those groups teach nothing.
- `entropy_collapse`: token entropy falls under `entropy_ratio` × its starting value for K or more steps.
- `clipped`: for K or more consecutive steps, at least `clipped_threshold` of completions stop at
  `max_completion_length`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

FORMAT_KEY = "rewards/format_reward/mean"


@dataclass(frozen=True)
class AlarmSettings:
    """Thresholds of the alarm rules (the `phone-r1 train report` options)."""

    format_gain: float = 0.15  # rise of the format reward, first window to last
    flat_gain: float = 0.05  # largest rise of any other reward that still counts as flat
    zero_std_threshold: float = 0.5
    clipped_threshold: float = 0.5
    entropy_ratio: float = 0.25
    consecutive: int = 5  # K: steps in a row a condition must hold


@dataclass(frozen=True)
class Alarm:
    """One alarm: which rule, over which steps, what was seen and the likely cause."""

    name: str
    first_step: int
    last_step: int
    message: str
    cause: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        steps = f"steps {self.first_step}-{self.last_step}"
        return f"[{self.name}] {steps}: {self.message}. Likely cause: {self.cause}"


def train_entries(history: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-step training entries of a log history (no eval entries, no end-of-training summary)."""
    return [
        e
        for e in history
        if "step" in e and "train_runtime" not in e and not any(str(k).startswith("eval_") for k in e)
    ]


def series(entries: Sequence[dict[str, Any]], key: str) -> list[tuple[int, float]]:
    """(step, value) for every entry that logged `key` as a number."""
    return [
        (int(e["step"]), float(e[key]))
        for e in entries
        if isinstance(e.get(key), (int, float)) and e[key] == e[key]
    ]


def _window_means(points: list[tuple[int, float]]) -> tuple[float, float]:
    w = max(1, len(points) // 4)
    return statistics.mean(v for _, v in points[:w]), statistics.mean(v for _, v in points[-w:])


@dataclass(frozen=True)
class Trend:
    """A logged value at the start and end of a run: the means over its first and last quarter of steps
    (one step each for runs under 8 steps), so one noisy step does not decide a rise."""

    key: str
    n_steps: int
    window: int
    first: float
    last: float
    first_steps: tuple[int, int]
    last_steps: tuple[int, int]

    @property
    def rise(self) -> float:
        return self.last - self.first

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rise": self.rise}

    def __str__(self) -> str:
        def steps(pair: tuple[int, int]) -> str:
            return f"step {pair[0]}" if pair[0] == pair[1] else f"steps {pair[0]}-{pair[1]}"

        return (
            f"{self.key}: {self.first:.3f} over {steps(self.first_steps)}, {self.last:.3f} over "
            f"{steps(self.last_steps)} ({self.rise:+.3f})"
        )


def trend(entries: Sequence[dict[str, Any]], key: str = "reward") -> Trend | None:
    """The first- and last-quarter means of `key` over a run's training entries; None under 2 steps."""
    points = series(train_entries(entries), key)
    if len(points) < 2:
        return None
    w = max(1, len(points) // 4)
    first, last = _window_means(points)
    return Trend(
        key,
        len(points),
        w,
        first,
        last,
        (points[0][0], points[w - 1][0]),
        (points[-w][0], points[-1][0]),
    )


def _runs(points: list[tuple[int, float]], holds, k: int) -> list[tuple[int, int, list[float]]]:
    """Maximal runs of at least `k` consecutive logged steps where `holds(value)`."""
    out, current = [], []
    for step, value in [*points, (None, None)]:
        if step is not None and holds(value):
            current.append((step, value))
            continue
        if len(current) >= k:
            out.append((current[0][0], current[-1][0], [v for _, v in current]))
        current = []
    return out


def _format_only(entries: list[dict[str, Any]], s: AlarmSettings) -> list[Alarm]:
    fmt = series(entries, FORMAT_KEY)
    others = {
        k: series(entries, k)
        for k in sorted({k for e in entries for k in e})
        if k.startswith("rewards/") and k.endswith("/mean") and k != FORMAT_KEY
    }
    others = {k: v for k, v in others.items() if len(v) >= 2}
    if len(fmt) < 2 or not others:
        return []
    f0, f1 = _window_means(fmt)
    gains = {k: _window_means(v)[1] - _window_means(v)[0] for k, v in others.items()}
    if f1 - f0 < s.format_gain or max(gains.values()) >= s.flat_gain:
        return []
    names = ", ".join(f"{k.split('/')[1]} {g:+.3f}" for k, g in gains.items())
    return [
        Alarm(
            "format_only",
            fmt[0][0],
            fmt[-1][0],
            f"format reward rose {f0:.3f} -> {f1:.3f} while the other rewards stayed flat ({names})",
            "the policy learns the <think>/<answer> layout but not the action: the action reward gives no "
            "signal (every group scores the same on it), its weight is too small next to format, or the "
            "answers are in another coordinate space than the recipe's coord_space",
        )
    ]


def _zero_std(entries: list[dict[str, Any]], s: AlarmSettings) -> list[Alarm]:
    runs = _runs(series(entries, "frac_reward_zero_std"), lambda v: v >= s.zero_std_threshold, s.consecutive)
    return [
        Alarm(
            "zero_std",
            a,
            b,
            f"{statistics.mean(vals):.0%} of prompt groups on average had zero reward variance over "
            f"{len(vals)} steps (threshold {s.zero_std_threshold:.0%}), so their advantages were 0",
            "every completion of a prompt scores the same: tasks too hard (all 0) or already solved (all 1), "
            "a reward too coarse to tell answers apart (try the dense gaussian_point / gaussian_coverage "
            "rewards), too few num_generations, or a temperature too low to vary the answers",
        )
        for a, b, vals in runs
    ]


def _entropy_collapse(entries: list[dict[str, Any]], s: AlarmSettings) -> list[Alarm]:
    points = series(entries, "entropy")
    if len(points) < 2:
        return []
    start = statistics.mean(v for _, v in points[: max(1, min(3, len(points) // 4))])
    if start <= 0:
        return []
    floor = s.entropy_ratio * start
    runs = _runs(points, lambda v: v < floor, s.consecutive)
    return [
        Alarm(
            "entropy_collapse",
            a,
            b,
            f"token entropy fell to {min(vals):.3f}, under {s.entropy_ratio:.0%} of its start {start:.3f}, "
            f"for {len(vals)} steps",
            "the policy became nearly deterministic, so groups stop differing: learning rate too high, no KL "
            "anchor (beta 0), or a temperature too low; lower learning_rate or raise beta / temperature",
        )
        for a, b, vals in runs
    ]


def _clipped(entries: list[dict[str, Any]], s: AlarmSettings) -> list[Alarm]:
    runs = _runs(
        series(entries, "completions/clipped_ratio"), lambda v: v >= s.clipped_threshold, s.consecutive
    )
    return [
        Alarm(
            "clipped",
            a,
            b,
            f"{statistics.mean(vals):.0%} of completions on average stopped at max_completion_length over "
            f"{len(vals)} steps (threshold {s.clipped_threshold:.0%})",
            "answers are cut before </answer>, so they usually score 0 on format and action: raise "
            "max_completion_length, or shorten the think block (SFT warm start on the recipe's target)",
        )
        for a, b, vals in runs
    ]


RULES = (_format_only, _zero_std, _entropy_collapse, _clipped)


def find_alarms(history: Sequence[dict[str, Any]], settings: AlarmSettings | None = None) -> list[Alarm]:
    """Every alarm the log history trips, in rule order, then by step."""
    s = settings or AlarmSettings()
    entries = train_entries(history)
    return [alarm for rule in RULES for alarm in rule(entries, s)]
