"""Step-accuracy metrics of a results file, the ones GUI-agent papers report.

SR (step success rate), TM (type match), GR (grounding accuracy on click / long_click steps), format
validity, episode success (every step of the episode right), per action type, per app, a gold x
predicted type confusion matrix, mean partial reward and a 95% bootstrap interval for SR.

A step whose request failed (an `error` record) counts as wrong everywhere: dropping it would make a
flaky endpoint look more accurate.
"""

from __future__ import annotations

import functools
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import orjson

from actions.types import KEY_ACTION_TYPES
from agent.adapters.base import NO_COUNTERPART
from eval.results import Results, iter_records

# Predicted-type labels for steps without a predicted action.
NO_ACTION = "unparsed"
ERROR = "error"
GROUNDING_TYPES = ("click", "long_click")


def rematch(
    record: dict[str, Any],
    protocol: str,
    contexts: Mapping[str, Any] | None,
    header: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The record's verdict under another protocol, from its stored raw answer (with the run's agent from
    `header`), prediction, gold, screen and the step's gold context (`contexts` by step id): the same
    `match_step` call `eval run` made."""
    from actions import match_step
    from eval.raw_answer import answer_from_record

    screen = record.get("screen")
    if not screen:
        raise ValueError(
            f"step {record.get('step_id')}: rescoring under protocol {protocol!r} needs the record's "
            "'screen' [width, height], which this results file lacks"
        )
    prediction = record.get("prediction")
    error = record.get("error")
    verdict = match_step(
        _parsed(orjson.dumps(prediction), strict=False) if prediction is not None and not error else None,
        _parsed(orjson.dumps(record["gold"]), strict=True),
        (int(screen[0]), int(screen[1])),
        protocol=protocol,
        context=(contexts or {}).get(record["step_id"]),
        step_id=record["step_id"],
        answer=answer_from_record(record, header),
        problems=[p for p in record.get("problems") or () if isinstance(p, str)],
    ).as_dict()
    if error:
        verdict["reason"] = f"error: {error.get('kind', 'unknown')}"
    return verdict


@functools.lru_cache(maxsize=65536)
def _parsed(wire: bytes, strict: bool) -> Any:
    # Rescoring one run under many protocols reads each stored action once; actions are frozen.
    from actions import parse_action

    return parse_action(wire.decode("utf-8"), strict=strict)


def protocol_rule(protocol: str | None) -> Any:
    """The protocol a run's verdicts were made under (None for a results file that names none)."""
    from actions.protocols import get_protocol

    return get_protocol(protocol) if protocol is not None else None


def step_outcome(record: Mapping[str, Any], verdict: Mapping[str, Any]) -> Any:
    """A record and its verdict as a protocol's run-level rules see them; a failed request is wrong."""
    from actions.protocols import StepOutcome

    failed = bool(record.get("error"))
    length = record.get("episode_length")
    return StepOutcome(
        episode_id=str(record.get("episode_id", record["step_id"].rsplit("/", 1)[0])),
        index=int(record.get("index", 0)),
        gold_type=record["gold"]["action_type"],
        correct=bool(verdict.get("correct")) and not failed,
        type_match=bool(verdict.get("type_match")) and not failed,
        counted=bool(verdict.get("counted", True)),
        raised=bool(verdict.get("raised")),
        facts=dict(verdict.get("facts") or {}),
        episode_length=int(length) if length is not None else None,
    )


def predicted_type(record: Mapping[str, Any]) -> str:
    """The predicted action type, or `error` / `unparsed` for steps without a predicted action."""
    if record.get("error"):
        return ERROR
    prediction = record.get("prediction")
    return prediction["action_type"] if prediction else NO_ACTION


def reason_category(record: Mapping[str, Any], verdict: Mapping[str, Any]) -> str:
    """A short label for why a step is wrong: the error kind, or the matcher's reason up to its first ':'."""
    if record.get("error"):
        return f"error:{record['error'].get('kind', 'unknown')}"
    reason = str(verdict.get("reason") or "wrong").split(":", 1)[0]
    # "text similarity 0.42 (< 0.8)" and "text similarity 0.10 (< 0.8)" are one reason.
    reason = re.sub(r"\([^)]*\)|\d+(\.\d+)?", " ", reason)
    return " ".join(reason.split()) or "wrong"


def bootstrap_ci(successes: int, n: int, *, n_resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval for a success rate over `n` independent steps.

    Resampling n 0/1 outcomes with replacement and averaging is distributed exactly as
    Binomial(n, successes/n) / n, so the binomial draw replaces an n x n_resamples index matrix
    (which would not fit in memory for a 167k-step test set).
    """
    if n == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = rng.binomial(n, successes / n, size=n_resamples) / n
    low, high = np.percentile(means, [2.5, 97.5])
    return (float(low), float(high))


def _rate(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _agent_keys(records: Any) -> tuple[str, ...] | None:
    """The key presses the run's agent can say (`Adapter.keys`), from the header; None when unknown."""
    header = records.header if isinstance(records, Results) else None
    if not header:
        return None
    from agent.adapters import DEFAULT_ADAPTER, adapter_class

    try:
        return tuple(adapter_class(str(header.get("agent") or DEFAULT_ADAPTER)).keys)
    except ValueError:  # a user's adapter that is not importable here: the count is left out
        return None


def compute_metrics(
    records: Results | Mapping[str, dict[str, Any]] | Iterable[dict[str, Any]],
    protocol: str | None = None,
    *,
    contexts: Mapping[str, Any] | None = None,
    n_resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """The metrics dict that `eval report`, `eval compare` and the replay UI show.

    `protocol` None uses the verdicts stored in the records (the run's protocol); a registered name
    (`actions.protocols.PROTOCOLS`) rescores every predicted step with `actions.match_step` under it,
    with the gold context of each step from `contexts` (by step id). Steps outside a protocol's
    denominator are left out of every metric and counted in `n_not_counted`.
    """
    if protocol is not None:
        from actions.protocols import get_protocol

        get_protocol(protocol)
    rows = iter_records(records)
    if isinstance(records, Results) and protocol is None and records.header:
        protocol = records.header.get("protocol")
        verdicts = [r["verdict"] for r in rows]
    elif protocol is None:
        verdicts = [r["verdict"] for r in rows]
    else:
        header = records.header if isinstance(records, Results) else None
        verdicts = [rematch(r, protocol, contexts, header) for r in rows]
    n_total = len(rows)
    rule = protocol_rule(protocol)
    outcomes = [step_outcome(r, v) for r, v in zip(rows, verdicts, strict=True)]
    # The protocol's one denominator rule (some depend on the whole run, e.g. GUI-R1's action types with
    # no hit); eval run, report and rescore all come here.
    in_denominator = rule.denominator_rule(outcomes) if rule is not None else [o.counted for o in outcomes]
    own_metrics = rule.metrics(outcomes) if rule is not None and rule.metrics is not None else {}
    kept = [(r, v) for r, v, keep in zip(rows, verdicts, in_denominator, strict=True) if keep]
    rows, verdicts = [r for r, _ in kept], [v for _, v in kept]

    correct = [bool(v.get("correct")) and not r.get("error") for r, v in zip(rows, verdicts, strict=True)]
    type_match = [
        bool(v.get("type_match")) and not r.get("error") for r, v in zip(rows, verdicts, strict=True)
    ]
    n = len(rows)

    per_type: dict[str, dict[str, list[bool]]] = defaultdict(lambda: {"sr": [], "tm": []})
    per_app: dict[str, list[bool]] = defaultdict(list)
    by_index: dict[int, list[bool]] = defaultdict(list)
    episodes: dict[str, list[bool]] = defaultdict(list)
    confusion: Counter[tuple[str, str]] = Counter()
    reasons: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    # Answers naming an action no typed action expresses (key, menu, call_user): scored wrong, counted.
    no_counterpart: Counter[str] = Counter()
    # Gold key presses the run's agent cannot say (a seed-format agent and home): scored wrong, counted.
    agent_keys = _agent_keys(records)
    gold_no_counterpart: Counter[str] = Counter()
    grounding: list[bool] = []
    parsed: list[bool] = []
    format_totals: list[float] = []
    rewards: list[float] = []
    action_rewards: list[float] = []
    latencies: list[float] = []
    prompt_tokens: list[int] = []
    completion_tokens: list[int] = []

    for record, verdict, ok, tm in zip(rows, verdicts, correct, type_match, strict=True):
        gold_type = record["gold"]["action_type"]
        per_type[gold_type]["sr"].append(ok)
        per_type[gold_type]["tm"].append(tm)
        per_app[record.get("app") or "?"].append(ok)
        by_index[int(record.get("index", 0))].append(ok)
        episodes[str(record.get("episode_id", record["step_id"].rsplit("/", 1)[0]))].append(ok)
        confusion[(gold_type, predicted_type(record))] += 1
        if gold_type in GROUNDING_TYPES:
            grounding.append(ok)
        if record.get("error"):
            errors[record["error"].get("kind", "unknown")] += 1
        if not ok:
            reasons[reason_category(record, verdict)] += 1
        if agent_keys is not None and gold_type in KEY_ACTION_TYPES and gold_type not in agent_keys:
            gold_no_counterpart[gold_type] += 1
        for problem in record.get("problems") or ():
            if isinstance(problem, str) and problem.startswith(NO_COUNTERPART):
                no_counterpart[problem.removeprefix(NO_COUNTERPART)] += 1
        parsed.append(record.get("prediction") is not None and not record.get("error"))
        reward = record.get("reward") or {}
        rewards.append(float(reward.get("total", 0.0)))
        action_rewards.append(float((reward.get("action") or {}).get("total", 0.0)))
        format_totals.append(float((reward.get("format") or {}).get("total", 0.0)))
        if record.get("latency_s") is not None and not record.get("error"):
            latencies.append(float(record["latency_s"]))
        usage = record.get("usage") or {}
        if usage.get("prompt_tokens") is not None:
            prompt_tokens.append(int(usage["prompt_tokens"]))
        if usage.get("completion_tokens") is not None:
            completion_tokens.append(int(usage["completion_tokens"]))

    gold_labels = sorted({g for g, _ in confusion}, key=_type_order)
    pred_labels = sorted({p for _, p in confusion}, key=_type_order)
    low, high = bootstrap_ci(sum(correct), n, n_resamples=n_resamples, seed=seed)
    return {
        "protocol": protocol,
        "protocol_metrics": own_metrics,
        "n_steps": n,
        "n_not_counted": n_total - n,
        "n_episodes": len(episodes),
        "sr": _rate(correct),
        "sr_ci95": [low, high],
        "tm": _rate(type_match),
        "gr": _rate(grounding),
        "n_grounding": len(grounding),
        "format_validity": _rate(parsed),
        "format_score": _mean(format_totals),
        "episode_success": _rate([all(v) for v in episodes.values()]),
        "mean_reward": _mean(rewards),
        "mean_action_reward": _mean(action_rewards),
        "errors": {"total": sum(errors.values()), "by_kind": dict(sorted(errors.items()))},
        "no_counterpart": {
            "total": sum(no_counterpart.values()),
            "by_kind": dict(sorted(no_counterpart.items())),
        },
        "gold_no_counterpart": {
            "total": sum(gold_no_counterpart.values()),
            "by_kind": dict(sorted(gold_no_counterpart.items())),
        },
        "failure_reasons": dict(reasons.most_common()),
        "per_type": {
            t: {"n": len(v["sr"]), "sr": _rate(v["sr"]), "tm": _rate(v["tm"])}
            for t, v in sorted(per_type.items(), key=lambda kv: _type_order(kv[0]))
        },
        "per_app": {app: {"n": len(v), "sr": _rate(v)} for app, v in sorted(per_app.items())},
        "sr_by_step_index": {str(i): {"n": len(v), "sr": _rate(v)} for i, v in sorted(by_index.items())},
        "confusion": {
            "gold": gold_labels,
            "predicted": pred_labels,
            "counts": [[confusion[(g, p)] for p in pred_labels] for g in gold_labels],
        },
        "latency_s": _latency_summary(latencies),
        "tokens": {
            "prompt_mean": _mean([float(t) for t in prompt_tokens]),
            "completion_mean": _mean([float(t) for t in completion_tokens]),
        },
        "notes": "steps whose request failed count as wrong in every metric",
    }


def _type_order(name: str) -> tuple[int, str]:
    from actions import ACTION_TYPES

    order = {t: i for i, t in enumerate(ACTION_TYPES)}
    return (order.get(name, len(order)), name)


def _latency_summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "p50": None, "p95": None}
    arr = np.asarray(values)
    return {
        "mean": float(arr.mean()),
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
    }


# The scalar metrics `eval compare` diffs and reports print first, with their display names.
HEADLINE: tuple[tuple[str, str], ...] = (
    ("sr", "SR"),
    ("tm", "TM"),
    ("gr", "GR"),
    ("format_validity", "format validity"),
    ("episode_success", "episode success"),
    ("mean_reward", "mean partial reward"),
)
