"""What `phone-r1 serve` prints once the server answers: the base URL and code to call it."""

from __future__ import annotations

import shlex
from pathlib import Path


def banner(
    *,
    engine: str,
    base_url: str,
    model: str,
    checkpoint: Path,
    coord_space: str,
    template: str,
    min_pixels: int,
    max_pixels: int,
    api_key_env: str | None,
    tile: int | None = 28,
    chat_template_kwargs: dict | None = None,
    answer_prefix: str = "",
    agent: str | None = None,
) -> str:
    """The ready message with a Python snippet and an eval command, both ready to paste.

    `tile`, `chat_template_kwargs` and `answer_prefix` are the checkpoint family's (`phone_r1.json`):
    the snippet asks the model in its resized size and template, and reads back its whole answer.
    `agent` is the adapter the checkpoint was trained in (None: the seed format): the snippet asks in it."""
    key_arg = f", api_key_env={api_key_env!r}" if api_key_env else ""
    thinking = ""
    if chat_template_kwargs or answer_prefix:
        thinking = f"\n    chat_template_kwargs={chat_template_kwargs!r}, answer_prefix={answer_prefix!r},"
    key_flag = f" --api-key-env {api_key_env}" if api_key_env else ""
    budget = f"PixelBudget({min_pixels}, {max_pixels}, tile={tile!r})"
    adapter_import, adapter_arg = "", ""
    if agent:
        adapter_import = "from agent.adapters import make_adapter\n"
        adapter_arg = f"\n    adapter=make_adapter({agent!r}, budget={budget}),"
    python = f"""\
from actions.coords import PixelBudget
from agent import PhoneAgent
{adapter_import}from episodes.readers import read_steps

agent = PhoneAgent.from_endpoint(
    {base_url!r}, {model!r}{key_arg},
    template={template!r}, coord_space={coord_space!r},
    budget={budget},{thinking}{adapter_arg}
)
result = agent.step(read_steps("EPISODES")[0])
print(result.action.to_json() if result.action else result.problems, result.usage)"""
    shell = (
        f"phone-r1 eval run --episodes EPISODES --base-url {base_url} --model {shlex.quote(model)}"
        f" --checkpoint-meta {shlex.quote(str(checkpoint))}{key_flag} -o results.jsonl"
    )
    return "\n".join(
        [
            f"phone-r1 serve: ready ({engine})",
            f"  base URL: {base_url}",
            f"  model:    {model}",
            f"  prompt:   template={template} coord_space={coord_space} pixels={min_pixels}..{max_pixels}"
            + (f" agent={agent}" if agent else ""),
            "",
            "Python:",
            *(f"    {line}" if line else "" for line in python.splitlines()),
            "",
            "Evaluate:",
            f"    {shell}",
            "",
            "Ctrl-C stops the server.",
        ]
    )
