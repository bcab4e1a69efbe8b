"""Semi-online GRPO: rollouts on the policy's own history over recorded episodes, patched where they diverge.

Plain GRPO asks every step with its recorded (gold) history, so the model never learns to go on from
its own earlier answers. Here each sampled episode is rolled out G times, step by step (UI-S1, arXiv
2509.11543): step k's prompt holds the recorded step k's screenshots and the history built from that
rollout's own earlier answers (`episodes.history`, the builder `eval run --history own` uses); each
answer is scored by the recipe's reward mix and handed to the rollout's environment
(`training.environment.ReplayEnvironment`), whose patch policy decides what follows a mismatch. Each
step's advantage is its discounted return normalised per step and per episode (`training.credit`).

The seam on TRL is the same one image accounting uses, `_generate_and_score_completions`: for a batch
of episode rows it calls TRL's own generation and scoring (image accounting included) once per step
index with that step's prompts, then joins the step batches into one, with the semi-online advantages
in place of TRL's group advantages. `_calculate_rewards` is wrapped only to keep the rewards TRL
computed for each step batch (the rollout needs them before the next step). The loss, the optimiser,
checkpoints and logging stay TRL's.

Every live rollout of a step is generated in one batch; a rollout that has finished still fills its
row with its last prompt (TRL generates whole groups of `num_generations` rows), and that row is
masked out of the loss. Under several processes every rank makes as many step batches as the longest
rank, agreeing before each one, since each batch gathers rewards across ranks (and parameters, under
ZeRO-3, to generate).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from trl.trainer.utils import pad

from training.environment import ReplayEnvironment
from training.image_accounting import AccountedGRPOTrainer
from training.rollout import group_credit, run_rollouts, step_statistics

logger = logging.getLogger(__name__)

EPISODE_COLUMN = "episode_id"
# How each field of TRL's step output is joined across step batches.
_LEFT_PADDED = ("prompt_ids", "prompt_mask")
_RIGHT_PADDED = (
    "completion_ids",
    "completion_mask",
    "old_per_token_logps",
    "ref_per_token_logps",
    "sampling_per_token_logps",
    "tool_mask",
)
_STACKED = ("pixel_values", "image_grid_thw", "advantages")
_LISTS = ("num_images", "num_tiles")
# Prompt part (left-padded like prompt_ids) followed by the completion part (zeros), per row.
_SPANNING = ("mm_token_type_ids", "token_type_ids")


@dataclass(frozen=True)
class SemiOnlineSettings:
    """The recipe's semi-online knobs (docs/training.md, "Semi-online RL")."""

    patch: str = "patch"
    max_patches: int | None = 1
    gamma: float = 0.5
    step_weight: float = 1.0
    protocol: str = "box"

    def environment(self) -> ReplayEnvironment:
        return ReplayEnvironment(protocol=self.protocol, patch=self.patch, max_patches=self.max_patches)


def episode_dataset(step_dataset: Any) -> tuple[Any, list[str]]:
    """One row per episode (its first step's stored row plus `episode_id`), and the step ids kept.

    The first step's row gives TRL a valid prompt to inspect; the trainer builds every step's prompt
    itself during the rollout.
    """
    import datasets

    from training.context_length import stored_rows
    from training.dataset import materialize

    firsts: dict[str, dict[str, Any]] = {}
    step_ids = []
    for row in stored_rows(step_dataset):
        step_ids.append(row["step_id"])
        episode = row["step_id"].rsplit("/", 1)[0]
        firsts.setdefault(episode, {**row, EPISODE_COLUMN: episode})
    dataset = datasets.Dataset.from_list(list(firsts.values()))
    dataset.set_transform(materialize)
    return dataset, step_ids


def read_episodes(path: str, step_ids: Sequence[str]) -> dict[str, list[Any]]:
    """The `Step`s of `step_ids` under `path`, grouped by episode in index order."""
    from episodes.history import group_episodes
    from training.dataset import source_steps

    wanted = set(step_ids)
    return {
        episode[0].episode_id: episode
        for episode in group_episodes(s for s in source_steps(path) if s.step_id in wanted)
    }


def _text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[0], dict):
        content = completion[0].get("content")
        if isinstance(content, list):
            return "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return content if isinstance(content, str) else ""
    return ""


def join_step_outputs(outputs: Sequence[dict[str, Any]], pad_id: int) -> dict[str, Any]:
    """TRL's per-step outputs as one batch: ids and masks padded to a common length, images stacked."""
    joined: dict[str, Any] = {}
    for key in outputs[0]:
        values = [out[key] for out in outputs]
        if key == "num_items_in_batch":
            continue  # recounted by the caller once rows are masked
        if all(v is None for v in values):
            joined[key] = None
        elif key in _LEFT_PADDED or key in _RIGHT_PADDED:
            side = "left" if key in _LEFT_PADDED else "right"
            value = pad_id if key in ("prompt_ids", "completion_ids") else 0
            rows = [row for v in values for row in v]
            joined[key] = pad(rows, padding_value=value, padding_side=side)
        elif key in _SPANNING:
            prompts, completions = [], []
            for out, value in zip(outputs, values, strict=True):
                width = out["prompt_ids"].size(1)
                prompts += list(value[:, :width])
                completions += list(value[:, width:])
            joined[key] = torch.cat(
                [pad(prompts, padding_value=0, padding_side="left"), pad(completions, padding_value=0)], dim=1
            )
        elif key in _STACKED:
            joined[key] = torch.cat(values, dim=0)
        elif key in _LISTS:
            joined[key] = [n for v in values for n in v]
        else:
            # A field this join does not know (a newer TRL, another model's processor output) must not
            # be dropped or misaligned silently.
            raise ValueError(
                f"semi-online GRPO: cannot join TRL's step output field {key!r} across steps; "
                "this TRL version or model is not supported by semi_online"
            )
    return joined


def answer_adapter(spec: Any) -> Any:
    """The adapter reading the rollout's answers: the one the rows are built for.

    Prompts come from `training.dataset.step_row(step, spec)`; a spec naming another agent's grammar
    (`spec.seed_format` false, with `spec.adapter()`) is read with that agent's adapter, otherwise with
    the seed format's in the recipe's template and coordinate space.
    """
    if not getattr(spec, "seed_format", True):
        return spec.adapter()
    from agent.adapters.phone_r1 import PhoneR1Adapter

    return PhoneR1Adapter(spec.budget, template=spec.template, coord_space=spec.coord_space)


class SemiOnlineGRPOTrainer(AccountedGRPOTrainer):
    """`AccountedGRPOTrainer` whose training batches are semi-online rollouts of whole episodes."""

    def __init__(
        self,
        *args: Any,
        episodes: dict[str, list[Any]],
        spec: Any,
        settings: SemiOnlineSettings,
        answer_prefix: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._episodes = episodes
        self._spec = spec
        self.semi_online = settings
        self._answer_prefix = answer_prefix
        self._adapter = answer_adapter(spec)
        self._captured: tuple[Any, list[Any]] | None = None

    # -- the seam ------------------------------------------------------------------------------
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self._captured = (rewards, list(completions))
        return rewards

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        if not self.model.training or EPISODE_COLUMN not in inputs[0]:
            return super()._generate_and_score_completions(inputs)
        group = self.num_generations
        if len(inputs) % group:
            raise ValueError(
                f"semi-online GRPO: a rank holds {len(inputs)} rows, not whole groups of {group} "
                "(per_device_train_batch_size x steps_per_generation must be a multiple of num_generations)"
            )
        names = [row[EPISODE_COLUMN] for row in inputs]
        for start in range(0, len(names), group):
            if len(set(names[start : start + group])) != 1:
                raise ValueError(f"semi-online GRPO: a group mixes episodes {names[start : start + group]}")
        episodes = [self._episodes[name] for name in names]
        envs = [self.semi_online.environment() for _ in inputs]
        outputs: list[dict[str, Any]] = []
        live: list[list[bool]] = []
        last: list[Any] = [None] * len(inputs)

        def ask(observations: list[Any]) -> list[tuple[float, Any] | None]:
            rewards, texts = self._step_batch(observations, last, outputs, live)
            answers: list[tuple[float, Any] | None] = []
            for i, obs in enumerate(observations):
                if obs is None:
                    answers.append(None)
                    continue
                screen = obs.screen_size or (0, 0)
                answers.append((rewards[i], self._adapter.parse(texts[i], screen).action))
            return answers

        def any_rank_live(here: bool) -> bool:
            # Every step batch gathers rewards (and, under ZeRO-3, parameters for generation): all ranks
            # make the same number of them, agreeing before each one.
            flag = torch.tensor([int(here)], device=self.accelerator.device)
            return bool(self.accelerator.gather(flag).max().item())

        rollouts = run_rollouts(envs, episodes, ask, go_on=any_rank_live)
        credits = group_credit(
            rollouts, group, gamma=self.semi_online.gamma, step_weight=self.semi_online.step_weight
        )
        logged = []
        for k, out in enumerate(outputs):
            advantages = [
                credits[i // group].advantages[i % group][k] if live[k][i] else 0.0
                for i in range(len(inputs))
            ]
            out["advantages"] = torch.tensor(advantages, dtype=torch.float32, device=self.accelerator.device)
            keep = torch.tensor(live[k], device=out["completion_mask"].device).unsqueeze(1)
            out["completion_mask"] = out["completion_mask"] * keep.to(out["completion_mask"].dtype)
            logged.append(out["advantages"])
        self._replace_logged_advantages(logged)
        output = join_step_outputs(outputs, self._tokenizer.pad_token_id)
        mask = (
            output["completion_mask"]
            if output.get("tool_mask") is None
            else output["completion_mask"] * output["tool_mask"]
        )
        output["num_items_in_batch"] = self.accelerator.gather(mask.sum()).sum()
        self._log_rollouts(rollouts, credits)
        return output

    # -- helpers -------------------------------------------------------------------------------
    def _row(self, step: Any) -> dict[str, Any]:
        """A step's training row, built and materialised as the dataset builds them."""
        from training.dataset import materialize, step_row

        stored = step_row(step, self._spec)
        batch = materialize({key: [value] for key, value in stored.items()})
        return {key: value[0] for key, value in batch.items()}

    def _step_batch(
        self, observations: list[Any], last: list[Any], outputs: list[dict[str, Any]], live: list[list[bool]]
    ) -> tuple[list[float], list[str]]:
        """Generate and score one step batch; finished rollouts repeat their last prompt (masked later)."""
        from agent.thinking import reattach

        rows = []
        for i, obs in enumerate(observations):
            if obs is not None:
                last[i] = obs
            rows.append(self._row(last[i]))
        self._captured = None
        outputs.append(super()._generate_and_score_completions(rows))
        live.append([obs is not None for obs in observations])
        if self._captured is None:
            raise RuntimeError("semi-online GRPO: TRL scored no rewards for a step batch")
        per_func, completions = self._captured
        start = self.accelerator.process_index * len(rows)
        local = per_func[start : start + len(rows)]
        weights = self.reward_weights.to(local.device).unsqueeze(0)
        rewards = torch.nan_to_num((local * weights).nansum(dim=1), nan=0.0).tolist()
        texts = [
            reattach(_text(c), self._answer_prefix) if self._answer_prefix else _text(c) for c in completions
        ]
        return rewards, texts

    def _replace_logged_advantages(self, per_step: Sequence[torch.Tensor]) -> None:
        """TRL logged its own group advantages for the completions table; put the semi-online ones there.

        `per_step` holds this rank's advantages of each step batch, in the order TRL logged them.
        """
        gathered = [value for step in per_step for value in self.accelerator.gather(step).tolist()]
        logged = self._logs["advantages"]
        for _ in range(min(len(gathered), len(logged))):
            logged.pop()
        logged.extend(gathered)

    def _log_rollouts(self, rollouts: Sequence[Any], credits: Sequence[Any]) -> None:
        from accelerate.utils import gather_object

        # Ranks may have reached different step indexes: each key is averaged over the ranks that have it.
        totals: dict[str, list[float]] = {}
        for stats in gather_object([step_statistics(rollouts, credits)]):
            for key, value in stats.items():
                totals.setdefault(key, []).append(value)
        for key, values in sorted(totals.items()):
            self._metrics["train"][key].append(sum(values) / len(values))
