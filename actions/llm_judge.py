"""The `llm_judge` reward: an OpenAI-compatible chat model scores a completion against the gold action.

Reproduces the seed's `--reward_method llm` (an LLM asked for a 0..1 score); the prompt is our own
wording. Differs from the seed in that requests run concurrently with a timeout, answers are cached and
a failed judgement falls back to the rule reward instead of scoring 0.

The LLM judge (the seed's `--reward_method llm`) asks an OpenAI-compatible endpoint
(`OPENAI_API_BASE` / `OPENAI_API_KEY`) to score a completion against the gold action. Requests run
concurrently with a timeout; answers are cached per (completion, gold); when the judge fails or
answers something that is not a score, that completion falls back to the rule `action_reward`, the
fall-back is logged and counted in `rewards/llm_judge/fallback`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from actions.parse import completion_text
from actions.rewards import action_reward

logger = logging.getLogger(__name__)

# Defaults of the recipe's `llm_judge_*` fields (training.config reads them from here).
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_CONCURRENCY = 8
DEFAULT_CACHE_SIZE = 65536

JUDGE_PROMPT = (
    "You grade a phone agent's action against the correct action for the same screen.\n"
    "Screen size: {width}x{height} pixels; the agent's coordinates are in the '{space}' space.\n"
    "Correct action (original pixels): {gold}\n"
    "Agent output:\n{completion}\n\n"
    "Give 1 for the same action with an equivalent target, partial credit for the right type with a "
    "nearby target or similar text, 0 otherwise. Reply with only a number between 0 and 1."
)
_NUMBER = re.compile(r"(?<![\d.])(0(?:\.\d+)?|1(?:\.0+)?)(?![\d.])")


class LLMJudgeReward:
    """Score completions with an OpenAI-compatible chat model; rule reward where the judge fails.

    Picklable parts only hold settings; the client and thread pool are created on first use, so the
    reward can be built before any network is touched.
    """

    __name__ = "llm_judge_reward"  # TRL names the logged reward column after the function
    offline = False  # needs an endpoint: `eval run` leaves it out of the partial reward

    @classmethod
    def from_args(cls, args: Any = None) -> LLMJudgeReward:
        """The judge a recipe's `llm_judge_*` fields describe (defaults without a recipe)."""
        if args is None:
            return cls(DEFAULT_MODEL)
        return cls(
            args.llm_judge_model,
            base_url=args.llm_judge_base_url,
            timeout=args.llm_judge_timeout,
            concurrency=args.llm_judge_concurrency,
            cache_size=args.llm_judge_cache_size,
        )

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        concurrency: int = DEFAULT_CONCURRENCY,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_API_BASE") or os.environ.get("OPENAI_BASE_URL")
        self._api_key = api_key
        self.timeout = float(timeout)
        self.concurrency = max(1, int(concurrency))
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._client: Any = None

    def __getstate__(self) -> dict[str, Any]:
        # Locks and HTTP clients do not pickle; a copy starts with a fresh client and an empty cache.
        state = dict(self.__dict__)
        state.update(_client=None, _lock=None, _cache=OrderedDict())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never shows the key
        return f"LLMJudgeReward(model={self.model!r}, base_url={self.base_url!r})"

    def _get_client(self) -> Any:
        if self._client is None:
            from openai import OpenAI

            if not self.base_url:
                raise RuntimeError("llm_judge: no endpoint; set OPENAI_API_BASE or llm_judge_base_url")
            key = self._api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
            # Retries are ours to decide: a slow judge must not stall a training step, so fail fast
            # and fall back to the rule reward.
            self._client = OpenAI(base_url=self.base_url, api_key=key, timeout=self.timeout, max_retries=0)
        return self._client

    @staticmethod
    def _key(completion: str, gold: str, space: str, width: Any, height: Any) -> str:
        raw = "\0".join((completion, gold, space, str(width), str(height)))
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def _ask(self, prompt: str) -> float:
        client = self._get_client()
        response = client.chat.completions.create(
            model=self.model, messages=[{"role": "user", "content": prompt}], temperature=0.0, max_tokens=8
        )
        text = (response.choices[0].message.content or "").strip()
        match = _NUMBER.search(text)
        if match is None:
            raise ValueError(f"expected a number between 0 and 1 from the judge, found {text[:80]!r}")
        return float(match.group(1))

    def __call__(
        self,
        completions: Sequence[Any],
        gold: Sequence[str] | None = None,
        screen_width: Sequence[int] | None = None,
        screen_height: Sequence[int] | None = None,
        **kwargs: Any,
    ) -> list[float]:
        n = len(completions)
        if gold is None or screen_width is None or screen_height is None:
            raise ValueError(
                f"llm_judge needs dataset columns gold, screen_width, screen_height; found {sorted(kwargs)}"
            )
        spaces = kwargs.get("coord_space") or ["original"] * n
        texts = [completion_text(c) or "" for c in completions]
        keys = [self._key(texts[i], gold[i], spaces[i], screen_width[i], screen_height[i]) for i in range(n)]
        scores: list[float | None] = [None] * n
        with self._lock:
            for i, key in enumerate(keys):
                if key in self._cache:
                    self._cache.move_to_end(key)
                    scores[i] = self._cache[key]
        todo = [i for i in range(n) if scores[i] is None]
        errors: dict[int, str] = {}
        from openai import OpenAIError

        # Network, HTTP and timeout errors (OpenAIError), a missing endpoint (RuntimeError) and
        # malformed answers (the rest) all fall back to the rule reward.
        judge_errors = (
            OpenAIError,
            RuntimeError,
            ValueError,
            KeyError,
            IndexError,
            AttributeError,
            TypeError,
        )

        def judge(i: int) -> None:
            prompt = JUDGE_PROMPT.format(
                width=screen_width[i],
                height=screen_height[i],
                space=spaces[i],
                gold=gold[i],
                completion=texts[i],
            )
            try:
                scores[i] = self._ask(prompt)
            except judge_errors as err:
                errors[i] = f"{type(err).__name__}: {err}"

        if todo:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(todo))) as pool:
                list(pool.map(judge, todo))
        with self._lock:
            for i in todo:
                if i not in errors:
                    self._cache[keys[i]] = scores[i]
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        if errors:
            logger.warning(
                "llm_judge failed on %d of %d completions, rule reward used instead; first: %s",
                len(errors),
                n,
                next(iter(errors.values())),
            )
            idx = sorted(errors)
            columns = {
                k: [v[i] for i in idx]
                for k, v in kwargs.items()
                if isinstance(v, (list, tuple)) and len(v) == n
            }
            fallback = action_reward(
                [completions[i] for i in idx],
                gold=[gold[i] for i in idx],
                screen_width=[screen_width[i] for i in idx],
                screen_height=[screen_height[i] for i in idx],
                **columns,
            )
            for i, value in zip(idx, fallback, strict=True):
                scores[i] = value
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            log_metric("rewards/llm_judge/fallback", len(errors) / max(n, 1))
            log_metric("rewards/llm_judge/cached", (n - len(todo)) / max(n, 1))
        return [float(min(max(s, 0.0), 1.0)) for s in scores]  # type: ignore[arg-type]
