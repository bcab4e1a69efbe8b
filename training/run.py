"""`phone-r1 train grpo|sft`: parse a recipe, check it, build data, model and TRL trainer, train, save.

Order matters: every check that can fail on the recipe or the data (batch rule, reward names, recipe
keys, dataset folder, screenshots on disk) runs before the model is loaded, so a mistake costs
seconds, not a model load.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.config import PhoneR1Arguments, RecipeError, parse_recipe, print_recipe_error

logger = logging.getLogger(__name__)


@dataclass
class Plan:
    """A parsed, checked recipe: what `build_trainer` needs.

    `family` is the model's record (`agent.families`, from its `config.json` model_type), `budget` the
    processor geometry of the run (the family's tile, the recipe's pixel budget over the family's
    defaults) and `chat_template_kwargs` what the chat template is rendered with everywhere.
    """

    kind: str
    script: PhoneR1Arguments
    config: Any
    model: Any
    family: Any = None
    budget: Any = None
    chat_template_kwargs: dict[str, Any] | None = None


def model_family(model_args: Any, script: PhoneR1Arguments) -> Any:
    """The family record of the recipe's model; a RecipeError names an unsupported or unreadable one."""
    from agent.families import DEFAULT_FAMILY, family_for, family_of

    path = Path(model_args.model_name_or_path)
    if not path.exists() and script.build_tiny_model_if_missing:
        return family_of(DEFAULT_FAMILY)  # what `build_tiny_model_if_missing` builds
    try:
        return family_for(model_args.model_name_or_path)
    except (OSError, ValueError) as err:
        raise RecipeError(f"model_name_or_path {model_args.model_name_or_path}: {err}") from None


def _check_expert_lora(model_args: Any, family: Any) -> None:
    """LoRA on fused MoE experts goes through peft's `target_parameters`, which refuses dropout; say so
    before the model loads rather than letting peft fail inside the trainer."""
    targets_experts = model_args.lora_target_parameters is None and bool(family.fused_experts)
    targets_experts = targets_experts or bool(model_args.lora_target_parameters)
    if model_args.use_peft and targets_experts and model_args.lora_dropout:
        raise RecipeError(
            f"lora_dropout: {model_args.lora_dropout} with LoRA on the fused MoE experts of {family.title} "
            "(peft target_parameters, which supports no dropout); set lora_dropout: 0, or "
            "lora_target_parameters: [] to adapt only attention and dense layers"
        )


def _chat_template_kwargs(config: Any, family: Any) -> dict[str, Any]:
    """The family's template switches with the recipe's own (GRPO's `chat_template_kwargs`) on top;
    a recipe turning off what the family needs (Qwen3.5's thinking) is refused, naming why."""
    given = getattr(config, "chat_template_kwargs", None) or {}
    if isinstance(given, str):
        import json

        try:
            given = json.loads(given)
        except ValueError:
            raise RecipeError(f"chat_template_kwargs: expected a JSON object, found {given!r}") from None
    clash = {
        k: v
        for k, v in given.items()
        if k in family.chat_template_kwargs and family.chat_template_kwargs[k] != v
    }
    if clash:
        raise RecipeError(
            f"chat_template_kwargs: {clash} contradicts what {family.title} needs "
            f"({family.chat_template_kwargs}): phone-r1's answer is one think block and one answer, "
            "and the template must open that think block itself (see agent/thinking.py)"
        )
    return {**family.chat_template_kwargs, **given}


def plan(kind: str, argv: list[str]) -> Plan:
    """Parse and check `argv` (`--config RECIPE.yaml [--field value ...]`); loads nothing heavy."""
    script, config, model_args = parse_recipe(kind, argv)
    if not model_args.model_name_or_path:
        raise RecipeError("model_name_or_path: expected a checkpoint folder or hub id, found none")
    from agent.checkpoint import saved_processor_budget

    family = model_family(model_args, script)
    _check_expert_lora(model_args, family)
    model_path = Path(model_args.model_name_or_path)
    budget = script.budget_for(family, saved_processor_budget(model_path) if model_path.is_dir() else None)
    chat_kwargs = _chat_template_kwargs(config, family)
    data = Path(script.dataset_path)
    if not data.exists():
        raise RecipeError(
            f"dataset_path: {data} not found (relative to {os.getcwd()}); point it at an episode folder, a "
            f"seed JSONL or a grounding set, or generate episodes with `phone-r1 data synth -o {data}`"
        )
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not config.use_cpu and not _has_accelerator():
        raise RecipeError(
            "use_cpu: several processes were launched on a machine without a GPU, and without use_cpu: true "
            "each would train alone; set use_cpu: true (torch.distributed then uses gloo)"
        )
    if kind == "grpo" and getattr(config, "use_vllm", False) and config.vllm_mode == "server":
        logger.info(
            "GRPO generation through the vLLM server at %s:%s",
            config.vllm_server_host,
            config.vllm_server_port,
        )
    _check_semi_online(kind, script, config)
    return Plan(kind, script, config, model_args, family, budget, chat_kwargs)


def _check_semi_online(kind: str, script: PhoneR1Arguments, config: Any) -> None:
    """Refuse, naming the setting, what semi-online GRPO cannot run correctly yet."""
    if not script.semi_online:
        return
    if kind != "grpo":
        raise RecipeError("semi_online: rollouts are a GRPO mode; remove it from an SFT recipe")
    if getattr(config, "use_vllm", False):
        raise RecipeError(
            "semi_online with use_vllm: semi-online rollouts generate with the trainer's model only "
            "(vLLM generation per step batch is not wired yet); set use_vllm: false"
        )
    rows = config.per_device_train_batch_size * config.steps_per_generation
    if rows % config.num_generations:
        raise RecipeError(
            "semi_online: each rank rolls out whole groups, so per_device_train_batch_size x "
            f"steps_per_generation ({config.per_device_train_batch_size} x {config.steps_per_generation}) "
            f"must be a multiple of num_generations ({config.num_generations})"
        )


def _has_accelerator() -> bool:
    import torch

    return torch.cuda.is_available() or (hasattr(torch, "xpu") and torch.xpu.is_available())


def _ensure_model(plan_: Plan) -> None:
    """Build the tiny model at `model_name_or_path` when the recipe asks for it and it is missing.

    Under several processes the main process of each node builds it while the others wait (a node
    without a shared file system needs its own copy), and the build runs outside DeepSpeed ZeRO-3's
    partitioned init: inside it, each rank would create only its shard of every weight.
    """
    path = Path(plan_.model.model_name_or_path)
    if path.exists() or not plan_.script.build_tiny_model_if_missing:
        return
    with plan_.config.main_process_first(local=True, desc="building the tiny model"):
        if path.exists():  # built by the main process while this one waited
            return
        from training.tiny_model import build_tiny_model

        # Build beside the target and rename: the main processes of nodes sharing a file system may
        # get here at once.
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
        with _outside_zero3_init():
            build_tiny_model(staging, seed=0)
        try:
            os.rename(staging, path)
            logger.info("built the tiny model at %s", path)
        except OSError:
            import shutil

            shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def _outside_zero3_init() -> Iterator[None]:
    """Create models with full weights even while a ZeRO-3 run is configured in this process.

    transformers wraps model construction in `deepspeed.zero.Init` whenever its module-level DeepSpeed
    config (set by TrainingArguments or accelerate's DeepSpeed plugin) says stage 3; it offers
    `unset_hf_deepspeed_config` but no getter, so the reference is saved and put back here.
    """
    from transformers.integrations import deepspeed as hf_deepspeed

    saved = hf_deepspeed._hf_deepspeed_config_weak_ref
    hf_deepspeed.unset_hf_deepspeed_config()
    try:
        yield
    finally:
        hf_deepspeed._hf_deepspeed_config_weak_ref = saved


def dataset_spec(plan_: Plan):
    """How the recipe's steps become rows (template, space, budget, targets, template switches)."""
    from training.dataset import DatasetSpec

    s = plan_.script
    return DatasetSpec(
        template=s.prompt_template,
        coord_space=s.coord_space,
        min_pixels=plan_.budget.min_pixels,
        max_pixels=plan_.budget.max_pixels,
        tile=plan_.budget.tile,
        with_target=plan_.kind == "sft",
        target_format=s.sft_target,
        chat_template_kwargs=plan_.chat_template_kwargs or {},
        agent="" if s.seed_format else s.agent,
        agent_prompt=s.agent_prompt,
        skip_inexpressible=s.skip_inexpressible,
    )


def build_dataset_for(plan_: Plan, arrow_dir: str | Path | None = None):
    """The lazy dataset of the recipe (prompts in the recipe's template, space and budget)."""
    from training.dataset import load_steps_dataset

    s = plan_.script
    spec = dataset_spec(plan_)
    arrow_path = None
    if arrow_dir is not None:
        rank = os.environ.get("RANK", "0")
        arrow_path = Path(arrow_dir) / f"{plan_.kind}-rank{rank}.arrow"
    try:
        return load_steps_dataset(s.dataset_path, spec, arrow_path=arrow_path, limit=s.max_train_samples)
    except (FileNotFoundError, ValueError) as err:
        # An inexpressible step names itself, the action and `skip_inexpressible`.
        raise RecipeError(f"dataset_path {s.dataset_path}: {err}") from None


def checkpoint_meta(
    plan_: Plan,
    lengths: tuple[int | None, int | None] = (None, None),
    *,
    processor_class: str | None = None,
    answer_prefix: str = "",
):
    """`phone_r1.json` of the run; `lengths` = (longest prompt, completion limit) in tokens;
    `processor_class` is the checkpoint's own, `answer_prefix` what its generation prompt opens."""
    from agent.checkpoint import CheckpointMeta

    s = plan_.script
    return CheckpointMeta(
        coord_space=s.answer_space,
        min_pixels=plan_.budget.min_pixels,
        max_pixels=plan_.budget.max_pixels,
        prompt_template=s.prompt_template,
        base_model=str(plan_.model.model_name_or_path),
        rewards=list(s.reward_funcs) if plan_.kind == "grpo" else None,
        reward_weights=_reward_weights(plan_),
        max_prompt_length=lengths[0],
        max_completion_length=lengths[1],
        family=plan_.family.name,
        tile=plan_.budget.tile,
        processor_class=processor_class or plan_.family.processor_class,
        chat_template_kwargs=dict(plan_.chat_template_kwargs or {}) or None,
        answer_prefix=answer_prefix,
        agent="phone-r1" if s.seed_format else s.agent,
        agent_prompt=str(Path(s.agent_prompt).resolve()) if s.agent_prompt else None,
    )


def _reward_weights(plan_: Plan) -> list[float] | None:
    weights = getattr(plan_.config, "reward_weights", None) if plan_.kind == "grpo" else None
    return [float(w) for w in weights] if weights is not None else None


def context_lengths(plan_: Plan, dataset: Any, processor: Any) -> tuple[int, int | None]:
    """(longest prompt, completion limit): the recipe's prompt length, else measured on the dataset;
    GRPO's `max_completion_length`, SFT's longest target."""
    from training.context_length import measure_lengths, stored_rows

    prompt, target = (plan_.script.max_prompt_length, None)
    if prompt is None or plan_.kind == "sft":
        measured, target = measure_lengths(stored_rows(dataset), processor, plan_.chat_template_kwargs)
        prompt = prompt if prompt is not None else measured
        logger.info("longest prompt %d tokens (images included), longest target %s", prompt, target)
    completion = plan_.config.max_completion_length if plan_.kind == "grpo" else target
    return int(prompt), completion


def build_trainer(plan_: Plan, dataset: Any = None, callbacks: list[Any] | None = None):
    """TRL's GRPOTrainer or SFTTrainer for a checked plan (builds the dataset when not given)."""
    from agent.processor import load_processor
    from agent.thinking import answer_prefix
    from training.callbacks import CheckpointMetaCallback
    from training.model import load_model, peft_config_for

    s, config, model_args = plan_.script, plan_.config, plan_.model
    if dataset is None:
        dataset = build_dataset_for(plan_)
    _ensure_model(plan_)
    budget = plan_.budget
    processor = load_processor(model_args.model_name_or_path, budget.min_pixels, budget.max_pixels)
    model = load_model(
        model_args,
        freeze_vision_tower=s.freeze_vision_tower and not model_args.use_peft,
        gradient_checkpointing=config.gradient_checkpointing,
    )
    peft_config = peft_config_for(model, model_args, s.lora_include_vision, plan_.family)
    prefix = answer_prefix(processor, plan_.chat_template_kwargs)
    meta = checkpoint_meta(
        plan_,
        context_lengths(plan_, dataset, processor),
        processor_class=type(processor).__name__,
        answer_prefix=prefix,
    )
    all_callbacks = [CheckpointMetaCallback(meta), *(callbacks or [])]
    if plan_.kind == "grpo":
        from training.image_accounting import AccountedGRPOTrainer
        from training.rewards import build_reward_funcs

        # TRL renders GRPO prompts with these; SFT rows carry them (`training.dataset`).
        config.chat_template_kwargs = dict(plan_.chat_template_kwargs or {})
        trainer_class, extra = AccountedGRPOTrainer, {}
        if s.semi_online:
            trainer_class, dataset, extra = _semi_online_parts(plan_, dataset, prefix)
        trainer = trainer_class(
            model=model,
            reward_funcs=build_reward_funcs(
                s.reward_funcs,
                s,
                answer_prefix=prefix,
                agent=None if s.seed_format else s.agent,
                agent_prompt=s.agent_prompt,
            ),
            args=config,
            train_dataset=dataset,
            processing_class=processor,
            peft_config=peft_config,
            callbacks=all_callbacks,
            **extra,
        )
    else:
        from trl import SFTTrainer

        trainer = SFTTrainer(
            model=model,
            args=config,
            train_dataset=dataset,
            processing_class=processor,
            peft_config=peft_config,
            callbacks=all_callbacks,
        )
    return trainer


def _semi_online_parts(plan_: Plan, dataset: Any, prefix: str) -> tuple[type, Any, dict[str, Any]]:
    """The semi-online trainer class, its episode dataset and its keyword arguments."""
    from training.semi_online import SemiOnlineGRPOTrainer, SemiOnlineSettings, episode_dataset, read_episodes

    s = plan_.script
    episodes_data, step_ids = episode_dataset(dataset)
    settings = SemiOnlineSettings(
        patch=s.semi_online_patch,
        max_patches=None if s.semi_online_max_patches < 0 else s.semi_online_max_patches,
        gamma=s.semi_online_gamma,
        step_weight=s.semi_online_step_weight,
        protocol=s.semi_online_protocol,
    )
    extra = {
        "episodes": read_episodes(s.dataset_path, step_ids),
        "spec": dataset_spec(plan_),
        "settings": settings,
        "answer_prefix": prefix,
    }
    return SemiOnlineGRPOTrainer, episodes_data, extra


def trainer_meta(trainer: Any):
    """The `phone_r1.json` contents a trainer from `build_trainer` writes into its checkpoints."""
    from training.callbacks import CheckpointMetaCallback

    return next(c.meta for c in trainer.callback_handler.callbacks if isinstance(c, CheckpointMetaCallback))


def _resume_arg(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "latest"):
        return True
    return value or None


def train(plan_: Plan) -> Any:
    """Build, train (resuming when asked), save weights, processor and `phone_r1.json`; return the trainer."""
    with tempfile.TemporaryDirectory(prefix="phone-r1-data-") as arrow_dir:
        dataset = build_dataset_for(plan_, arrow_dir)
        trainer = build_trainer(plan_, dataset)
        trainer.train(resume_from_checkpoint=_resume_arg(plan_.config.resume_from_checkpoint))
        trainer.save_model(plan_.config.output_dir)
        # The log history in the run folder itself, whatever the save strategy: `train report` reads it.
        trainer.save_state()
        if trainer.is_world_process_zero():
            trainer_meta(trainer).save(plan_.config.output_dir)
        trainer.accelerator.wait_for_everyone()
    return trainer


def main(kind: str, argv: list[str]) -> int:
    """CLI entry: returns 0 on success, 2 on a recipe or data error (printed without a traceback)."""
    try:
        plan_ = plan(kind, argv)
        trainer = train(plan_)
    except RecipeError as err:
        print_recipe_error(err)
        return 2
    if trainer.is_world_process_zero():
        print(
            f"phone-r1 train {kind}: finished at step {trainer.state.global_step}; saved to "
            f"{plan_.config.output_dir}"
        )
    from training.distributed import end_rank

    end_rank(0, accelerator=trainer.accelerator)  # a gloo rank leaves here (training.distributed)
    return 0
