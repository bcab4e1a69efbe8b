"""The lazy training and evaluation dataset: rows hold paths and gold actions, images open per batch.

A row is compact: the step's input JSON text, the screenshot paths, the gold action (wire JSON,
original pixels), the reward columns and, for SFT, the target completion. The system prompt (several
KB, identical across rows of a screen size) is not stored per row; it is rebuilt when a row is read,
together with opening the images, by a `datasets` transform. So the table stays small and, written
to an Arrow file, is memory-mapped: memory does not grow with the number of steps or screenshots.

Read rows look like TRL's multimodal conversational format:

    prompt:  [{"role": "system", "content": [{"type": "text", "text": ...}]},
              {"role": "user", "content": [{"type": "text", "text": step JSON},
                                           {"type": "image"}, {"type": "image"}]}]   # previous first
    images:  [PIL.Image, PIL.Image]
    completion (SFT only): [{"role": "assistant", "content": [{"type": "text", "text": target}]}]

With `DatasetSpec.agent` naming another agent's adapter (`--agent`, the recipe's `agent`), a row stores
that agent's prompt as built by `agent.adapters.training.agent_training_prompt` (the messages
`eval run --agent` sends, with image placeholders) in `prompt_json`, its name in `agent`, and the SFT
target is the gold action in its grammar; `coord_space` is the adapter's own grid. A step whose gold
the grammar cannot say is refused, naming it, or skipped and counted with `skip_inexpressible`.

plus the reward columns of docs/architecture.md (`gold`, `screen_width`, `screen_height`,
`coord_space`, `min_pixels`, `max_pixels`, `tile`) and `step_id`; and, where the model family renders
its chat template with switches (Qwen3.5's `enable_thinking`), `chat_template_kwargs`, which TRL's SFT
collator passes to the template.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from actions.coords import PixelBudget, check_space, model_screen_size, to_model_space
from actions.vocab import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, DEFAULT_TEMPLATE, DEFAULT_TILE
from agent.adapters.training import (
    InexpressibleStep,
    agent_target,
    agent_training_prompt,
    is_seed_agent,
    make_training_adapter,
)
from agent.prompt import build_messages, screen_size_of, system_text, template_language_warning
from episodes.step import Step

logger = logging.getLogger(__name__)

# Columns a row stores (before the transform adds `prompt` and turns `images` into pictures).
TARGET_FORMATS = ("think", "json")
REWARD_COLUMNS = ("gold", "screen_width", "screen_height", "coord_space", "min_pixels", "max_pixels", "tile")
# The stored form of the chat template's switches (a JSON object; the transform hands TRL a dict).
TEMPLATE_KWARGS_COLUMN = "template_kwargs"


@dataclass(frozen=True)
class DatasetSpec:
    """How steps become rows: prompt template, coordinate space and pixel budget, SFT targets or not."""

    template: str = DEFAULT_TEMPLATE
    coord_space: str = "original"
    min_pixels: int = DEFAULT_MIN_PIXELS
    max_pixels: int = DEFAULT_MAX_PIXELS
    with_target: bool = False
    # SFT target layout: "think" = <think>{four fields}</think><answer>{action}</answer> (what GRPO's
    # format reward asks for); "json" = the bare wire JSON action (the seed's SFT format).
    target_format: str = "think"
    # The processor's tile (the model family's patch × merge); None: the family has no `resized` space.
    tile: int | None = DEFAULT_TILE
    # The chat template's switches for the model family (Qwen3.5: {"enable_thinking": True}).
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict, hash=False)
    # Another agent's adapter (registry name or `module:Class`; "" or "phone-r1": the seed format), the
    # file replacing its instruction text, and whether steps its grammar cannot say are skipped.
    agent: str = ""
    agent_prompt: str | None = None
    skip_inexpressible: bool = False

    def __post_init__(self) -> None:
        check_space(self.coord_space)
        if self.target_format not in TARGET_FORMATS:
            raise ValueError(
                f"target_format: expected one of {list(TARGET_FORMATS)}, found {self.target_format!r}"
            )
        if self.coord_space == "resized" and self.budget.tile is None:  # the budget validates itself
            raise ValueError("coord_space 'resized' needs the processor's tile; this model family has none")

    @property
    def budget(self) -> PixelBudget:
        return PixelBudget(self.min_pixels, self.max_pixels, self.tile)

    @property
    def seed_format(self) -> bool:
        """True when rows are in this project's own format (no other agent named)."""
        return is_seed_agent(self.agent)

    def adapter(self) -> Any:
        """The agent's adapter at this spec's budget (one instance per spec)."""
        return _adapter(self.agent, self.min_pixels, self.max_pixels, self.tile, self.agent_prompt)


@lru_cache(maxsize=16)
def _adapter(agent: str, min_pixels: int, max_pixels: int, tile: int | None, prompt: str | None) -> Any:
    return make_training_adapter(agent, PixelBudget(min_pixels, max_pixels, tile), prompt)


def _think_payload(step: Step, template: str) -> dict[str, str]:
    """Four think fields written from the step itself (task, page, path, action) for SFT targets."""
    done = len(step.history)
    planned = step.task_path.get(str(done + 1), "")
    last = step.history[-1] if step.history else ""
    description = getattr(step.gold, "description", "") or ""
    if template == "en":
        return {
            "task_interpretation": f"Task: {step.task}",
            "current_page_audit": f"In {step.app}, step {done + 1}; last action: {last or 'none'}",
            "path_alignment_check": f"Planned step {done + 1}: {planned or 'not listed'}",
            "action_validation": f"Do: {description or step.gold.action_type}",
        }
    return {
        "task_interpretation": f"任务:{step.task}",
        "current_page_audit": f"当前在{step.app},第{done + 1}步,上一步:{last or '无'}",
        "path_alignment_check": f"参考步骤第{done + 1}步:{planned or '无'}",
        "action_validation": f"执行:{description or step.gold.action_type}",
    }


def target_completion(step: Step, spec: DatasetSpec) -> str:
    """The SFT target: `<think>{four fields}</think><answer>{gold in model space}</answer>`, or the bare
    gold JSON with `target_format="json"`."""
    if step.gold is None:
        raise ValueError(
            f"{step.source or step.step_id}: expected a gold action for an SFT target, found none"
        )
    gold = to_model_space(step.gold, spec.coord_space, screen_size_of(step), spec.budget)
    if spec.target_format == "json":
        return gold.to_json_str()
    think = json.dumps(_think_payload(step, spec.template), ensure_ascii=False)
    return f"<think>{think}</think><answer>{gold.to_json_str()}</answer>"


def step_row(step: Step, spec: DatasetSpec) -> dict[str, Any]:
    """The compact stored row of one step (paths, text and gold; nothing decoded)."""
    if step.gold is None:
        raise ValueError(f"{step.source or step.step_id}: expected a gold action, found none")
    missing = [str(p) for p in step.screenshots if not Path(p).is_file()]
    if missing or not step.screenshots:
        raise FileNotFoundError(
            f"{step.source or step.step_id}: expected screenshots on disk, missing {missing or 'all'}"
        )
    if not spec.seed_format:
        return _agent_row(step, spec)
    messages = build_messages(step, template=spec.template, coord_space=spec.coord_space, budget=spec.budget)
    user_parts = messages[-1]["content"]
    user_text = "".join(part["text"] for part in user_parts if part["type"] == "text")
    width, height = screen_size_of(step)
    row: dict[str, Any] = {
        "step_id": step.step_id,
        "user_text": user_text,
        "images": [part["image"] for part in user_parts if part["type"] == "image"],
        "template": spec.template,
        "gold": step.gold.to_json_str(),
        "screen_width": int(width),
        "screen_height": int(height),
        "coord_space": spec.coord_space,
        "min_pixels": spec.min_pixels,
        "max_pixels": spec.max_pixels,
        "tile": int(spec.tile or 0),
        "step_instruction": step.instruction is not None,
    }
    if spec.chat_template_kwargs:
        row[TEMPLATE_KWARGS_COLUMN] = json.dumps(spec.chat_template_kwargs, sort_keys=True)
    if spec.with_target:
        row["target"] = target_completion(step, spec)
    return row


def _agent_row(step: Step, spec: DatasetSpec) -> dict[str, Any]:
    """The stored row of one step in another agent's grammar (see the module docstring)."""
    adapter = spec.adapter()
    # Checked first for GRPO too: a completion can never match a gold the agent cannot say.
    target = agent_target(adapter, step)
    prompt = agent_training_prompt(adapter, step)
    width, height = screen_size_of(step)
    row: dict[str, Any] = {
        "step_id": step.step_id,
        "agent": spec.agent,
        "prompt_json": prompt.to_json(),
        "images": prompt.images,
        "gold": step.gold.to_json_str(),
        "screen_width": int(width),
        "screen_height": int(height),
        "coord_space": adapter.coord_space,
        "min_pixels": spec.min_pixels,
        "max_pixels": spec.max_pixels,
        "tile": int(spec.tile or 0),
    }
    if spec.chat_template_kwargs:
        row[TEMPLATE_KWARGS_COLUMN] = json.dumps(spec.chat_template_kwargs, sort_keys=True)
    if spec.with_target:
        row["target"] = target
    return row


@lru_cache(maxsize=256)
def _system(
    template: str,
    coord_space: str,
    width: int,
    height: int,
    min_pixels: int,
    max_pixels: int,
    step_instruction: bool = False,
    tile: int | None = DEFAULT_TILE,
) -> str:
    budget = PixelBudget(min_pixels, max_pixels, tile)
    model_screen = model_screen_size(coord_space, (width, height), budget)
    return system_text(template, coord_space, model_screen, step_instruction)


def row_tile(row: dict[str, Any]) -> int | None:
    """A stored row's tile (rows written before families were recorded are Qwen2.5-VL's, 28)."""
    tile = row.get("tile", DEFAULT_TILE)
    return DEFAULT_TILE if tile is None else (int(tile) or None)


def prompt_messages(row: dict[str, Any]) -> list[dict[str, Any]]:
    """TRL-style prompt of a stored row: system text, then the step JSON and one placeholder per image
    (another agent's rows hold their whole prompt)."""
    if row.get("prompt_json"):
        return json.loads(row["prompt_json"])
    system = _system(
        row["template"],
        row["coord_space"],
        row["screen_width"],
        row["screen_height"],
        row["min_pixels"],
        row["max_pixels"],
        bool(row.get("step_instruction")),
        row_tile(row),
    )
    user = [{"type": "text", "text": row["user_text"]}] + [{"type": "image"} for _ in row["images"]]
    return [
        {"role": "system", "content": [{"type": "text", "text": system}]},
        {"role": "user", "content": user},
    ]


def _open_rgb(path: str) -> Any:
    from PIL import Image

    with Image.open(path) as image:
        return image.convert("RGB")  # decodes now and closes the file: no open handles per row


def materialize(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """`datasets` transform: build prompts and open images for the rows being read."""
    n = len(batch["step_id"])
    rows = [{key: values[i] for key, values in batch.items()} for i in range(n)]
    out = dict(batch)
    out["prompt"] = [prompt_messages(row) for row in rows]
    out["images"] = [[_open_rgb(p) for p in row["images"]] for row in rows]
    if TEMPLATE_KWARGS_COLUMN in batch:
        out["chat_template_kwargs"] = [json.loads(text) for text in batch[TEMPLATE_KWARGS_COLUMN]]
    if "target" in batch:
        out["completion"] = [
            [{"role": "assistant", "content": [{"type": "text", "text": t}]}] for t in batch["target"]
        ]
    return out


# Tasks read to check that the template's language is the episodes' (see `iter_rows`).
LANGUAGE_SAMPLE = 200


@dataclass
class Skipped:
    """Steps left out because the agent's grammar cannot say their gold action, by action type."""

    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_type.values())


def iter_rows(
    steps: Iterable[Step], spec: DatasetSpec, skipped: Skipped | None = None
) -> Iterator[dict[str, Any]]:
    """Stored rows for `steps`, one at a time; inexpressible steps are counted in `skipped` when the
    spec skips them, and raise `InexpressibleStep` otherwise. Warns once the first tasks show that the
    template's language is not the episodes' (a Chinese prompt on an English benchmark, or the
    reverse)."""
    tasks: list[str] = []
    for step in steps:
        if len(tasks) < LANGUAGE_SAMPLE:
            tasks.append(step.task)
            if len(tasks) == LANGUAGE_SAMPLE:
                _warn_language(spec.template, tasks)
        try:
            yield step_row(step, spec)
        except InexpressibleStep:
            if not spec.skip_inexpressible:
                raise
            if skipped is not None:
                kind = step.gold.action_type
                skipped.by_type[kind] = skipped.by_type.get(kind, 0) + 1
    if len(tasks) < LANGUAGE_SAMPLE:
        _warn_language(spec.template, tasks)


def _warn_language(template: str, tasks: list[str]) -> None:
    warning = template_language_warning(template, tasks)
    if warning:
        logger.warning("dataset: %s", warning)


def build_dataset(
    steps: Iterable[Step],
    spec: DatasetSpec,
    *,
    arrow_path: str | Path | None = None,
    counts: Skipped | None = None,
):
    """A `datasets.Dataset` of `steps` whose rows are read lazily (see the module docstring).

    With `arrow_path`, rows stream into that Arrow file and the dataset memory-maps it (use this for
    large sets: memory stays flat). Without it the compact rows are held in memory.
    Raises ValueError / FileNotFoundError naming the step when a gold action or screenshot is missing
    (`InexpressibleStep`, a ValueError, for a gold the agent cannot say unless the spec skips those;
    `counts` then receives what was skipped).
    """
    import datasets

    skipped = Skipped()
    if arrow_path is None:
        rows = list(iter_rows(steps, spec, skipped))
        if not rows:
            raise ValueError("expected at least one step to build a dataset from, found none")
        dataset = datasets.Dataset.from_list(rows)
    else:
        from datasets.arrow_writer import ArrowWriter

        path = Path(arrow_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with ArrowWriter(path=str(path)) as writer:
            for row in iter_rows(steps, spec, skipped):
                writer.write(row)
                count += 1
            if count == 0:
                raise ValueError("expected at least one step to build a dataset from, found none")
            writer.finalize()
        dataset = datasets.Dataset.from_file(str(path))
    dataset.set_transform(materialize)
    if spec.seed_format:
        logger.info("dataset: %d rows (%s, template %s)", len(dataset), spec.coord_space, spec.template)
    else:
        logger.info("dataset: %d rows in agent %s's grammar", len(dataset), spec.agent)
    if skipped.total:
        logger.warning(
            "skipped %d steps agent %s cannot express: %s", skipped.total, spec.agent, skipped.by_type
        )
    if counts is not None:
        counts.by_type.update(skipped.by_type)
    return dataset


def source_steps(root: str | Path) -> Iterator[Step]:
    """The steps under `root`: an episode folder or seed JSONL, or a grounding set's one-step episodes."""
    from episodes.grounding import is_grounding_set
    from episodes.grounding_steps import grounding_steps
    from episodes.readers import iter_steps

    return grounding_steps(root) if is_grounding_set(root) else iter_steps(root)


def load_steps_dataset(
    root: str | Path,
    spec: DatasetSpec,
    *,
    arrow_path: str | Path | None = None,
    limit: int | None = None,
    counts: Skipped | None = None,
):
    """`build_dataset` over `episodes.readers.iter_steps(root)` (raw folder or seed JSONL), or over a
    grounding set's items as one-step episodes (`episodes.grounding_steps`)."""
    import itertools

    steps = source_steps(root)
    if limit is not None:
        steps = itertools.islice(steps, limit)
    return build_dataset(steps, spec, arrow_path=arrow_path, counts=counts)
