"""Training a released agent in its own grammar: its prompts and its gold answers, from the adapter.

`agent_training_prompt(adapter, step)` is the one builder of a training prompt in another agent's
language (SFT, GRPO, the veRL export and semi-online training all call it): it asks the adapter for the
very messages `eval run --agent` sends (`PhoneAgent.messages` is `adapter.messages(step, screen)`), and
only changes their shape to TRL's conversational form (text parts as `{"type": "text"}`, each image as a
`{"type": "image"}` placeholder with its path listed in `images`, in order). Rendered through the chat
template, the two are the same text.

`agent_target(adapter, step)` is the SFT target: the gold action in the agent's grammar, with the step's
own description as the thought. A gold action the grammar cannot say raises `InexpressibleStep`, naming
the step and the action; training refuses it, or skips and counts it with `skip_inexpressible`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.prompt import screen_size_of
from episodes.step import Step

SEED_AGENT = "phone-r1"


class InexpressibleStep(ValueError):
    """A step whose gold action the agent's grammar cannot say (an inquiry, a key press it lacks...)."""


@dataclass(frozen=True)
class AgentPrompt:
    """One step's prompt in an agent's grammar, in TRL's form: `messages` (image parts are placeholders)
    and `images` (the screenshot paths, one per placeholder, in order)."""

    messages: list[dict[str, Any]]
    images: list[str]

    def to_json(self) -> str:
        """The messages as compact JSON (how dataset rows store them)."""
        return json.dumps(self.messages, ensure_ascii=False, separators=(",", ":"))


def is_seed_agent(name: str | None) -> bool:
    """True for no agent or this project's own format (which keeps its own dataset path)."""
    return not name or name == SEED_AGENT


def make_training_adapter(name: str, budget: Any, prompt_file: str | Path | None = None) -> Any:
    """The adapter `name` (registry name or `module:Class`) with the run's pixel budget (the model family's
    tile): the coordinate grid it answers in is its own, the resized size it states is the family's.
    ValueError names an unknown adapter; a resized-pixel agent on a family without a tile is refused."""
    from agent.adapters import make_adapter

    adapter = make_adapter(name, budget=budget, prompt_file=prompt_file)
    if adapter.needs_budget and getattr(budget, "tile", None) is None:
        raise ValueError(
            f"agent {name}: answers in resized pixels, and this model family's processor has no tile to "
            "resize to; pick an agent answering on a fixed grid"
        )
    return adapter


def agent_training_prompt(adapter: Any, step: Step) -> AgentPrompt:
    """The training prompt of `step` in `adapter`'s language: the messages `eval run --agent` sends for
    it (same system text, screenshots and history layout, the adapter's coordinate grid), in TRL's
    conversational form. Raises OSError / ValueError naming the step for an unreadable screenshot."""
    screen = screen_size_of(step)
    messages = []
    images: list[str] = []
    for message in adapter.messages(step, screen):
        content = message["content"]
        if isinstance(content, str):
            parts = [{"type": "text", "text": content}]
        else:
            parts = []
            for part in content:
                if part.get("type") == "image":
                    images.append(str(part["image"]))
                    parts.append({"type": "image"})
                elif part.get("type") == "text":
                    parts.append({"type": "text", "text": part["text"]})
                else:
                    raise ValueError(
                        f"{step.source or step.step_id}: adapter {adapter.name} gave a message part of type "
                        f"{part.get('type')!r}; training prompts hold text and images only"
                    )
        messages.append({"role": message["role"], "content": parts})
    return AgentPrompt(messages, images)


def step_thought(step: Step) -> str:
    """The thought an SFT target states: the gold's description, else the step instruction, else the
    action type."""
    description = getattr(step.gold, "description", "") or ""
    return description or step.instruction or str(getattr(step.gold, "action_type", ""))


def agent_target(adapter: Any, step: Step) -> str:
    """The SFT target of `step`: its gold action in `adapter`'s grammar (coordinates on its grid).

    Raises `InexpressibleStep` naming the step and the action where the grammar cannot say it."""
    if step.gold is None:
        raise ValueError(
            f"{step.source or step.step_id}: expected a gold action for an SFT target, found none"
        )
    text = None
    if adapter.expresses(step.gold.action_type):
        text = adapter.render_target(step.gold, screen_size_of(step), step_thought(step))
    if text is None:
        raise InexpressibleStep(
            f"{step.source or step.step_id}: agent {adapter.name} cannot express the gold action "
            f"{step.gold.action_type!r} in its grammar; skip such steps with the recipe field "
            "skip_inexpressible (--skip-inexpressible for data export-verl), or pick another agent"
        )
    return text


def expressible(adapter: Any, step: Step) -> bool:
    """Whether `step`'s gold action can be said in `adapter`'s grammar (what GRPO rows need too: a
    completion could never match a gold the agent cannot say)."""
    try:
        agent_target(adapter, step)
    except InexpressibleStep:
        return False
    return True
