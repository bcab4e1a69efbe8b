"""Typed recipe arguments and the parser that reads `--config RECIPE.yaml` plus CLI overrides.

A recipe is one YAML mapping whose keys are fields of three dataclasses: `PhoneR1Arguments` (data,
prompt, coordinate space, rewards, freezing), TRL's `GRPOConfig`/`SFTConfig` (through the subclasses
below, which add the batch-rule check with an actionable message) and TRL's `ModelConfig`. Every
check here runs before a model or dataset is loaded.
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass, field, fields
from typing import Any

from trl import GRPOConfig, ModelConfig, SFTConfig, TrlParser

from actions import llm_judge as judge
from actions.coords import PixelBudget
from actions.reward_registry import DEFAULT_REWARDS, REWARDS
from actions.vocab import (
    COORD_SPACES,
    DEFAULT_TEMPLATE,
    TEMPLATE_NAMES,
)


def _budget_help() -> str:
    """Each family's tile and default budget, from the family records (so the help never goes stale)."""
    from agent.families import MODEL_FAMILIES, family_of

    parts = []
    for name in MODEL_FAMILIES:
        family = family_of(name)
        if family.has_pixel_budget:
            parts.append(f"{name} tile {family.tile}, {family.min_pixels}..{family.max_pixels}")
        else:
            parts.append(f"{name} none ({family.image_note})")
    return "; ".join(parts)


class RecipeError(ValueError):
    """A recipe or command line that cannot run; the message says what to change."""


@dataclass
class PhoneR1Arguments:
    """phone-r1's own recipe fields (everything TRL's configs do not cover)."""

    dataset_path: str = field(
        default="data/demo/train",
        metadata={"help": "Raw episode folder (ROOT/<episode>/step_<n>.json) or the seed's converted JSONL."},
    )
    max_train_samples: int | None = field(
        default=None, metadata={"help": "Use only the first N steps of the dataset (quick runs)."}
    )
    prompt_template: str = field(
        default=DEFAULT_TEMPLATE,
        metadata={"help": f"Prompt template in agent/prompts ({', '.join(TEMPLATE_NAMES)})."},
    )
    coord_space: str = field(
        default="original",
        metadata={"help": f"Coordinate space the model answers in: one of {', '.join(COORD_SPACES)}."},
    )
    min_pixels: int | None = field(
        default=None,
        metadata={
            "help": "Pixel budget: smallest image area; default the checkpoint processor's saved budget, "
            "else the model family's. The processor rounds "
            "each side to the family's tile (one image token per tile x tile pixels), so budgets read "
            f"best in tile-squared units. Per family: {_budget_help()}."
        },
    )
    max_pixels: int | None = field(
        default=None,
        metadata={"help": "Pixel budget: largest image area; default the model family's (see min_pixels)."},
    )
    max_prompt_length: int | None = field(
        default=None,
        metadata={
            "help": "Longest prompt in tokens, images included, recorded in phone_r1.json for serving; "
            "measured on the dataset when unset."
        },
    )
    sft_target: str = field(
        default="think",
        metadata={
            "help": "SFT target layout: think (<think>{fields}</think><answer>{action}</answer>) or json "
            "(the bare action JSON, the seed's SFT format)."
        },
    )
    agent: str = field(
        default="",
        metadata={
            "help": "Train a released agent in its own prompt and answer grammar: an adapter name of "
            "agent.adapters (`phone-r1 eval run --help` lists them) or module:Class; empty: the seed format. "
            "The agent's coordinate grid replaces coord_space; prompt_template and sft_target do not apply."
        },
    )
    agent_prompt: str | None = field(
        default=None,
        metadata={"help": "A file replacing the agent's instruction text (e.g. its official prompt)."},
    )
    skip_inexpressible: bool = field(
        default=False,
        metadata={
            "help": "Skip (and count) steps whose gold action the agent's grammar cannot say, instead of "
            "refusing the dataset."
        },
    )
    reward_funcs: list[str] = field(
        default_factory=lambda: list(DEFAULT_REWARDS),
        metadata={
            "help": f"GRPO rewards by name ({', '.join(REWARDS)}) or dotted path ({REWARDS.example}); "
            "weights go in reward_weights."
        },
    )
    freeze_vision_tower: bool = field(
        default=True, metadata={"help": "Keep the vision encoder (and merger) frozen in full fine-tuning."}
    )
    lora_include_vision: bool = field(
        default=False, metadata={"help": "With LoRA, also put adapters on the vision tower's linear layers."}
    )
    build_tiny_model_if_missing: bool = field(
        default=False,
        metadata={
            "help": "Build the tiny random Qwen2.5-VL at model_name_or_path when the folder is missing."
        },
    )
    semi_online: bool = field(
        default=False,
        metadata={
            "help": "GRPO only: semi-online rollouts (each sampled episode rolled out num_generations times "
            "step by step on the model's own history, patched where it diverges; docs/training.md)."
        },
    )
    semi_online_patch: str = field(
        default="patch",
        metadata={
            "help": "What follows an answer that does not match the gold: patch (the gold's description "
            "replaces it in the history and the rollout goes on) or stop (the rollout ends)."
        },
    )
    semi_online_max_patches: int = field(
        default=1,
        metadata={"help": "Patches per rollout before a mismatch stops it; -1: no cap."},
    )
    semi_online_gamma: float = field(
        default=0.5, metadata={"help": "Discount of later step rewards in a step's return (0..1)."}
    )
    semi_online_step_weight: float = field(
        default=1.0,
        metadata={"help": "Weight of the step-level advantage added to the episode-level one (>= 0)."},
    )
    semi_online_protocol: str = field(
        default="box",
        metadata={"help": "Match protocol deciding whether an answer diverged from the gold (eval's)."},
    )
    llm_judge_model: str = field(
        default=judge.DEFAULT_MODEL,
        metadata={"help": "Model name sent to the OpenAI-compatible judge endpoint."},
    )
    llm_judge_base_url: str | None = field(
        default=None, metadata={"help": "Judge endpoint; defaults to $OPENAI_API_BASE."}
    )
    llm_judge_timeout: float = field(
        default=judge.DEFAULT_TIMEOUT_S, metadata={"help": "Seconds per judge request."}
    )
    llm_judge_concurrency: int = field(
        default=judge.DEFAULT_CONCURRENCY, metadata={"help": "Judge requests in flight at once."}
    )
    llm_judge_cache_size: int = field(
        default=judge.DEFAULT_CACHE_SIZE, metadata={"help": "Judged (completion, gold) pairs kept."}
    )

    def __post_init__(self) -> None:
        if self.coord_space not in COORD_SPACES:
            raise RecipeError(
                f"coord_space: expected one of {list(COORD_SPACES)}, found {self.coord_space!r}"
            )
        if self.min_pixels is not None and self.max_pixels is not None:
            try:
                PixelBudget(int(self.min_pixels), int(self.max_pixels))
            except ValueError as err:
                raise RecipeError(f"min_pixels/max_pixels: {err}") from None
        if self.sft_target not in ("think", "json"):
            raise RecipeError(f"sft_target: expected 'think' or 'json', found {self.sft_target!r}")
        try:
            # Once: names against the registry, dotted paths imported now, before any model loads.
            REWARDS.check_names(self.reward_funcs)
        except ValueError as err:
            raise RecipeError(f"reward_funcs: {err}") from None
        if self.semi_online_patch not in ("patch", "stop"):
            raise RecipeError(
                f"semi_online_patch: expected 'patch' or 'stop', found {self.semi_online_patch!r}"
            )
        if self.semi_online_max_patches < -1:
            raise RecipeError(
                "semi_online_max_patches: expected -1 (no cap) or a count >= 0, "
                f"found {self.semi_online_max_patches}"
            )
        if not 0.0 <= self.semi_online_gamma <= 1.0:
            raise RecipeError(
                f"semi_online_gamma: expected a value in [0, 1], found {self.semi_online_gamma}"
            )
        if self.semi_online_step_weight < 0:
            raise RecipeError(
                f"semi_online_step_weight: expected a value >= 0, found {self.semi_online_step_weight}"
            )
        if self.semi_online:
            from actions.protocols import PROTOCOLS

            try:
                PROTOCOLS.check_names([self.semi_online_protocol])
            except ValueError as err:
                raise RecipeError(f"semi_online_protocol: {err}") from None
        if not self.reward_funcs:
            raise RecipeError(f"reward_funcs: expected at least one of {REWARDS.names()}, found none")
        if self.agent:
            from agent.adapters import ADAPTERS

            try:
                ADAPTERS.check_names([self.agent])
            except ValueError as err:
                raise RecipeError(f"agent: {err}") from None
            space = self.answer_space
            if self.coord_space not in ("original", space):
                raise RecipeError(
                    f"coord_space: {self.coord_space!r} with agent {self.agent}, which answers in {space!r}; "
                    "remove coord_space (the agent's own grid is used)"
                )
        if self.agent_prompt is not None:
            if not self.agent or self.agent == "phone-r1":
                raise RecipeError(
                    "agent_prompt: replaces another agent's instruction text; name the agent with `agent`"
                )
            if not os.path.isfile(self.agent_prompt):
                raise RecipeError(f"agent_prompt: file {self.agent_prompt!r} not found")

    @property
    def seed_format(self) -> bool:
        """True when the run trains this project's own format (no other agent named)."""
        return not self.agent or self.agent == "phone-r1"

    @property
    def answer_space(self) -> str:
        """The coordinate space answers are written in: the agent's own grid, else `coord_space`."""
        if self.seed_format:
            return self.coord_space
        from agent.adapters import adapter_class

        return str(adapter_class(self.agent).coord_space)

    def budget_for(self, family: Any, saved: tuple[int, int] | None = None) -> PixelBudget:
        """The run's processor geometry: the model family's tile, the recipe's budget over the budget the
        checkpoint's processor files hold (`saved`), over the family's defaults.

        A RecipeError names what does not fit the family: a bad budget, a budget smaller than one tile,
        a pixel budget for a family without one, or a coordinate space the family cannot answer in.
        """
        try:
            family.check_space(self.answer_space)
        except ValueError as err:
            where = "coord_space" if self.seed_format else f"agent {self.agent}"
            raise RecipeError(f"{where}: {err}") from None
        given = (self.min_pixels, self.max_pixels)
        if not family.has_pixel_budget and given != (None, None):
            raise RecipeError(
                f"min_pixels/max_pixels: {family.title} ({family.name}) has no pixel budget "
                f"({family.image_note}); remove them from the recipe"
            )
        low, high = self.min_pixels, self.max_pixels
        if saved is not None and family.has_pixel_budget:
            low = saved[0] if low is None else low
            high = saved[1] if high is None else high
        try:
            budget = family.budget(low, high)
        except ValueError as err:
            raise RecipeError(f"min_pixels/max_pixels for {family.name}: {err}") from None
        if budget.tile is not None and budget.max_pixels < budget.tile * budget.tile:
            raise RecipeError(
                f"max_pixels: {budget.max_pixels} is smaller than one {budget.tile}x{budget.tile} tile of "
                f"{family.title}; expected at least {budget.tile * budget.tile}"
            )
        return budget


def _world_size() -> int:
    """Processes in the job, from the launcher's environment (torchrun, accelerate, SLURM via either)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def check_batch_rule(
    per_device: int, processes: int, steps_per_generation: int, num_generations: int
) -> None:
    """GRPO groups completions per prompt: per-device batch × processes × steps_per_generation must be a
    multiple of num_generations. Raises RecipeError saying which values would work."""
    total = per_device * processes * steps_per_generation
    if num_generations < 2:
        raise RecipeError(
            f"num_generations: GRPO needs at least 2 completions per prompt, found {num_generations}"
        )
    if total % num_generations == 0:
        return
    other = processes * steps_per_generation
    batch_options = [b for b in range(1, 4 * num_generations + 1) if (b * other) % num_generations == 0][:3]
    divisors = [g for g in range(2, total + 1) if total % g == 0]
    raise RecipeError(
        "batch rule: per_device_train_batch_size × processes × steps_per_generation must be divisible by "
        f"num_generations, found {per_device} × {processes} × {steps_per_generation} = {total}, "
        f"num_generations = {num_generations}. Change per_device_train_batch_size to one of {batch_options}, "
        f"or num_generations to one of {divisors or '[no value ≥ 2 divides it]'}, or steps_per_generation "
        "(defaults to gradient_accumulation_steps)."
    )


def _check_columns_kept(config: Any) -> None:
    if config.remove_unused_columns:
        raise RecipeError(
            "remove_unused_columns: phone-r1 datasets build prompts and open images from their stored "
            "columns "
            "when rows are read, so those columns must stay; set remove_unused_columns: false"
        )


@dataclass
class PhoneGRPOConfig(GRPOConfig):
    """TRL's GRPOConfig with the batch rule checked first, with a message that says what to change."""

    def __post_init__(self) -> None:
        _check_columns_kept(self)
        if self.num_generations is not None and self.generation_batch_size is None:
            steps = self.steps_per_generation or self.gradient_accumulation_steps
            check_batch_rule(self.per_device_train_batch_size, _world_size(), steps, self.num_generations)
        super().__post_init__()


@dataclass
class PhoneSFTConfig(SFTConfig):
    """TRL's SFTConfig with defaults that fit multi-image prompt/completion rows."""

    remove_unused_columns: bool = field(
        default=False,
        metadata={"help": "Must stay false: rows are built from their stored columns when read."},
    )
    max_length: int | None = field(
        default=None,
        metadata={
            "help": "Truncate sequences to this many tokens; none by default, since cutting a multi-image "
            "prompt would drop image tokens or the target."
        },
    )

    def __post_init__(self) -> None:
        _check_columns_kept(self)
        super().__post_init__()


def _config_class(kind: str) -> type:
    if kind == "grpo":
        return PhoneGRPOConfig
    if kind == "sft":
        return PhoneSFTConfig
    raise RecipeError(f"expected training kind 'grpo' or 'sft', found {kind!r}")


def _known_fields(kind: str) -> list[str]:
    names: list[str] = []
    for cls in (PhoneR1Arguments, _config_class(kind), ModelConfig):
        names += [f.name for f in fields(cls)]
    return names


def make_parser(kind: str) -> TrlParser:
    return TrlParser((PhoneR1Arguments, _config_class(kind), ModelConfig), prog=f"phone-r1 train {kind}")


def parse_recipe(kind: str, argv: list[str]) -> tuple[PhoneR1Arguments, Any, ModelConfig]:
    """Parse `--config RECIPE.yaml [--field value ...]` into (phone-r1 args, TRL config, ModelConfig).

    Unknown recipe keys (typos) and failed checks raise RecipeError naming the key and the fix; an
    unknown command-line option raises RecipeError too.
    """
    import yaml

    argv = list(argv)
    if "--config" in argv:
        i = argv.index("--config")
        if i + 1 >= len(argv):
            raise RecipeError("--config: expected a recipe path after it")
        path = argv[i + 1]
        if not os.path.isfile(path):
            raise RecipeError(
                f"--config: recipe file {path!r} not found (relative paths start at {os.getcwd()})"
            )
        with open(path, encoding="utf-8") as handle:
            try:
                recipe = yaml.safe_load(handle)
            except yaml.YAMLError as err:
                raise RecipeError(f"{path}: not valid YAML: {err}") from None
        if not isinstance(recipe, dict):
            raise RecipeError(
                f"{path}: expected a YAML mapping of field: value, found {type(recipe).__name__}"
            )
        known = set(_known_fields(kind)) | {"env"}
        typos = sorted(k for k in recipe if k not in known)
        if typos:
            hints = []
            for key in typos:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise RecipeError(f"{path}: unknown recipe keys {', '.join(hints)}; fix or remove them")
    known_flags = set(_known_fields(kind)) | {"config", "help"}
    for token in argv:
        if not token.startswith("--"):
            continue
        name = token[2:].split("=", 1)[0].replace("-", "_")
        if name in known_flags or (name.startswith("no_") and name[3:] in known_flags):
            continue
        close = difflib.get_close_matches(name, sorted(known_flags), n=1)
        raise RecipeError(
            f"unknown option --{name}"
            + (f" (did you mean --{close[0]}?)" if close else "")
            + f"; `phone-r1 train {kind} --help` lists every field"
        )
    parser = make_parser(kind)
    try:
        script_args, config, model_args = parser.parse_args_and_config(argv)
    except RecipeError:
        raise
    except ValueError as err:
        raise RecipeError(str(err)) from None
    return script_args, config, model_args


def print_recipe_error(err: RecipeError) -> None:
    """CLI output for a recipe error (one line, no traceback)."""
    print(f"phone-r1 train: {err}", file=sys.stderr)
