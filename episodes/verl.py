"""Export episodes as veRL RLHF parquet (seed 004's schema) plus the reward file veRL loads.

One row per step:

- `data_source`: a name for the set (`phone_r1` by default);
- `prompt`: chat messages — the system message holds our template's static text, the user message the
  step's input JSON in which each screenshot is an `<image>` slot (veRL turns every `<image>` of a
  prompt into an image, in order: previous screen, then current);
- `images`: one struct per slot, with the JPEG bytes (`bytes`, `path`) or, with `embed_images=False`,
  the absolute file path (`image`), plus the pixel budget (`min_pixels`, `max_pixels`) that veRL's
  image loader applies;
- `ability`: `phone_agent`;
- `reward_model`: `{"style": "rule", "ground_truth": <gold wire JSON, original pixels>}`;
- `extra_info`: step id, episode, index, split, screen size, coordinate space and pixel budget — what
  `verl_reward.compute_score` needs to map predictions back to original pixels.

With `adapter` (`--agent NAME`), the prompt is that agent's own, built by
`agent.adapters.training.agent_training_prompt` (the messages `eval run --agent` sends), each image part
written as an `<image>` slot where it stands; `extra_info.agent` names the agent, so the reward file reads
answers with its adapter, and `coord_space` is the agent's own grid. A step whose gold the agent's
grammar cannot say is refused, naming it, or skipped and counted with `skip_inexpressible`.

Because veRL reserves `<image>`, the template's prose mentions of it are written as `[image]` in the
system message. Rows are written in row groups as the steps stream, so memory stays flat.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from episodes.readers import iter_steps

log = logging.getLogger(__name__)

IMAGE_SLOT = "<image>"
ABILITY = "phone_agent"
_ROW_GROUP = 256


@dataclass
class ExportResult:
    """What an export wrote."""

    rows: int
    parquet: Path
    reward_file: Path
    # Steps left out because the agent's grammar cannot say their gold action, by action type.
    skipped: dict[str, int] = field(default_factory=dict)


def _schema(embed_images: bool):
    import pyarrow as pa

    budget = [pa.field("min_pixels", pa.int64()), pa.field("max_pixels", pa.int64())]
    image = (
        pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string()), *budget])
        if embed_images
        else pa.struct([pa.field("image", pa.string()), *budget])
    )
    return pa.schema(
        [
            pa.field("data_source", pa.string()),
            pa.field(
                "prompt",
                pa.list_(pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())])),
            ),
            pa.field("images", pa.list_(image)),
            pa.field("ability", pa.string()),
            pa.field(
                "reward_model",
                pa.struct([pa.field("style", pa.string()), pa.field("ground_truth", pa.string())]),
            ),
            pa.field(
                "extra_info",
                pa.struct(
                    [
                        pa.field("split", pa.string()),
                        pa.field("index", pa.int64()),
                        pa.field("step_id", pa.string()),
                        pa.field("episode_id", pa.string()),
                        pa.field("step_index", pa.int64()),
                        pa.field("screen_width", pa.int64()),
                        pa.field("screen_height", pa.int64()),
                        pa.field("coord_space", pa.string()),
                        pa.field("min_pixels", pa.int64()),
                        pa.field("max_pixels", pa.int64()),
                        pa.field("tile", pa.int64()),
                        pa.field("source", pa.string()),
                        pa.field("agent", pa.string()),
                    ]
                ),
            ),
        ]
    )


def verl_row(
    step: Any,
    *,
    index: int,
    split: str,
    data_source: str,
    template: str,
    coord_space: str,
    budget: Any,
    embed_images: bool,
    root: Path | None = None,
    adapter: Any = None,
) -> dict[str, Any]:
    """One parquet row for a step (see the module docstring); `adapter`: another agent's prompt."""
    from actions import model_screen_size
    from agent.prompt import step_text, system_text

    if step.gold is None or step.screen_size is None:
        raise ValueError(f"{step.source}: expected a labelled step with a readable screenshot for export")
    if adapter is not None:
        prompt, screenshots = _agent_prompt(step, adapter)
        coord_space = adapter.coord_space
    else:
        system = system_text(
            template,
            coord_space,
            model_screen_size(coord_space, step.screen_size, budget),
            step.instruction is not None,
        )
        user = step_text(step)
        if user.count(IMAGE_SLOT) != len(step.screenshots):
            raise ValueError(
                f"{step.source}: expected one {IMAGE_SLOT} per screenshot ({len(step.screenshots)}) in the "
                "step JSON, "
                f"found {user.count(IMAGE_SLOT)} (does the task text contain {IMAGE_SLOT}?)"
            )
        prompt = [
            {"role": "system", "content": system.replace(IMAGE_SLOT, "[image]")},
            {"role": "user", "content": user},
        ]
        screenshots = [str(p) for p in step.screenshots]
    extra_budget = {"min_pixels": budget.min_pixels, "max_pixels": budget.max_pixels}
    images = []
    for path in screenshots:
        if embed_images:
            rel = os.path.relpath(path, root) if root is not None else str(path)
            images.append({"bytes": Path(path).read_bytes(), "path": rel, **extra_budget})
        else:
            images.append({"image": str(path), **extra_budget})
    width, height = step.screen_size
    return {
        "data_source": data_source,
        "prompt": prompt,
        "images": images,
        "ability": ABILITY,
        "reward_model": {"style": "rule", "ground_truth": step.gold.to_json_str()},
        "extra_info": {
            "split": split,
            "index": index,
            "step_id": step.step_id,
            "episode_id": step.episode_id,
            "step_index": step.index,
            "screen_width": int(width),
            "screen_height": int(height),
            "coord_space": coord_space,
            **extra_budget,
            # The processor's tile (its family's patch x merge; 0: none), for mapping `resized` back.
            "tile": int(budget.tile or 0),
            "source": step.source,
            "agent": adapter.name if adapter is not None else "",
        },
    }


def _agent_prompt(step: Any, adapter: Any) -> tuple[list[dict[str, str]], list[str]]:
    """Another agent's prompt for `step` as veRL messages (an `<image>` slot where each image part is),
    and the screenshots in slot order. The agent's gold must be expressible (`agent_target` raises)."""
    from agent.adapters.training import agent_target, agent_training_prompt

    agent_target(adapter, step)  # a gold the agent cannot say: refused, or skipped by the caller
    built = agent_training_prompt(adapter, step)
    messages = []
    for message in built.messages:
        texts = []
        for part in message["content"]:
            if part["type"] == "image":
                texts.append(IMAGE_SLOT)
            elif IMAGE_SLOT in part["text"]:
                raise ValueError(
                    f"{step.source or step.step_id}: agent {adapter.name}'s prompt text contains "
                    f"{IMAGE_SLOT}, which veRL reads as an image slot"
                )
            else:
                texts.append(part["text"])
        messages.append({"role": message["role"], "content": "".join(texts)})
    return messages, built.images


def export_verl(
    root: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    split: str = "train",
    data_source: str = "phone_r1",
    template: str = "zh",
    coord_space: str = "original",
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    tile: int | None = None,
    embed_images: bool = True,
    image_root: str | os.PathLike[str] | None = None,
    progress: bool = False,
    agent: str | None = None,
    agent_prompt: str | os.PathLike[str] | None = None,
    skip_inexpressible: bool = False,
) -> ExportResult:
    """Write `<output>/<split>.parquet` and `<output>/reward.py` for a raw folder or converted JSONL.

    Steps are read strictly: a bad record stops the export with its file and line (run
    `phone-r1 data validate` first, or convert with `--skip-invalid`). `tile` is the processor's
    tile of the checkpoint's family (default Qwen2.5-VL's 28; 0 for a family without one). `agent`
    names another agent's adapter to write prompts in (`agent_prompt`: a file replacing its instruction
    text); `skip_inexpressible` skips and counts the steps its grammar cannot say.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from actions import PixelBudget
    from actions.coords import check_space

    check_space(coord_space)
    defaults = PixelBudget()
    budget = PixelBudget(
        min_pixels or defaults.min_pixels,
        max_pixels or defaults.max_pixels,
        defaults.tile if tile is None else (tile or None),
    )
    adapter = None
    if agent and agent != "phone-r1":
        from agent.adapters.training import make_training_adapter

        adapter = make_training_adapter(agent, budget, agent_prompt)
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    parquet = out / f"{split}.parquet"
    tmp = out / f".{split}.parquet.part"
    schema = _schema(embed_images)
    base = Path(image_root) if image_root else (Path(root).parent if Path(root).is_file() else Path(root))
    steps: Any = iter_steps(root, strict=True, image_root=image_root)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc="export-verl", unit=" steps", disable=None)
    from agent.adapters.training import InexpressibleStep

    rows = 0
    skipped: dict[str, int] = {}
    batch: list[dict[str, Any]] = []
    try:
        with pq.ParquetWriter(tmp, schema) as writer:
            for step in steps:
                try:
                    row = verl_row(
                        step,
                        index=rows,
                        split=split,
                        data_source=data_source,
                        template=template,
                        coord_space=coord_space,
                        budget=budget,
                        embed_images=embed_images,
                        root=base,
                        adapter=adapter,
                    )
                except InexpressibleStep:
                    if not skip_inexpressible:
                        raise
                    skipped[step.gold.action_type] = skipped.get(step.gold.action_type, 0) + 1
                    continue
                batch.append(row)
                rows += 1
                if len(batch) >= _ROW_GROUP:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    batch.clear()
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
        os.replace(tmp, parquet)
    finally:
        if tmp.exists():
            tmp.unlink()
    reward_file = out / "reward.py"
    shutil.copyfile(Path(__file__).with_name("verl_reward.py"), reward_file)
    log.info("wrote %d rows to %s", rows, parquet)
    if skipped:
        log.warning("skipped %d steps agent %s cannot express: %s", sum(skipped.values()), agent, skipped)
    return ExportResult(rows, parquet, reward_file, skipped)
