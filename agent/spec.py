"""Which agent, asked how: one `AgentSpec`, decided once from the command line and the checkpoint.

Every command that asks a model, or prepares what a model will be asked, needs the same facts: the
engine and where it runs (an endpoint URL, a checkpoint folder, a predictions file), the served model
name, the prompt template, the coordinate space the model answers in, the pixel budget its processor
resizes with, the agent adapter (prompt and answer grammar) and any prompt file replacing that
adapter's instructions. `eval run`, `eval parity`, the UI's live step, `serve` and `data export-verl`
decide them here, by one rule:

- the checkpoint's `phone_r1.json` gives template, coordinate space, pixel budget and the agent whose
  grammar it was trained in (with its prompt file);
- a flag that agrees with it changes nothing; one that differs is refused, naming both values and the
  file, unless `--override-checkpoint-meta`: then it is used and returned among the overrides, which
  results headers record;
- without `phone_r1.json` (or without a checkpoint) the flags apply over the defaults; the pixel
  budget is the processor's saved one where a checkpoint folder has processor files, and a warning
  names what was assumed.

`add_agent_flags(parser, ...)` declares the flags these commands share (`--checkpoint-meta`,
`--override-checkpoint-meta`, `--api-key-env`, `--template`, `--coord-space`, the pixel budget,
`--agent`, `--agent-prompt`, `--port`), so each is spelled, typed and explained once.

Only the standard library, `actions.vocab` and `agent.checkpoint` are imported at module level: every
CLI's `--help` builds these flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actions.vocab import COORD_SPACES, DEFAULT_COORD_SPACE
from agent.checkpoint import OVERRIDE_FLAG

logger = logging.getLogger(__name__)

# Where an agent's answers come from (`AgentSpec.engine`). The first three ask a model for eval; the
# last two are what `phone-r1 serve` starts.
ENGINES: dict[str, str] = {
    "endpoint": "an OpenAI-compatible server at a URL (--base-url)",
    "local": "a checkpoint folder run in-process by transformers (--local)",
    "predictions": 'answers produced elsewhere, JSONL of {"step_id", "raw"} (--predictions)',
    "vllm": "vLLM's OpenAI-compatible server (phone-r1 serve --engine vllm)",
    "transformers": "transformers serve (phone-r1 serve --engine transformers)",
}
PORT_RANGE = (1, 65535)


def default_adapter() -> str:
    """The registry's default agent adapter name (the seed format)."""
    from agent.adapters import DEFAULT_ADAPTER

    return DEFAULT_ADAPTER


@dataclass(frozen=True)
class AgentSpec:
    """One agent and how it is asked, settled before anything runs (see the module docstring).

    `meta` is the checkpoint's `CheckpointMeta` with the command line applied: template, coordinate
    space and budget, plus what training recorded (rewards, prompt and completion lengths).
    `checkpoint` is the folder whose settings were read (None: defaults only) and `recorded` whether it
    has a `phone_r1.json`; `overrides` is `{setting: {"checkpoint": old, "given": new}}`.
    """

    meta: Any
    engine: str | None = None
    location: str | None = None  # the URL, checkpoint folder or predictions file the engine uses
    model: str | None = None  # the served model name (what clients send)
    api_key_env: str | None = None
    adapter: str = ""  # registry name or dotted path; "" = the registry's default
    agent_prompt: Path | None = None
    checkpoint: Path | None = None
    recorded: bool = False
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.engine is not None and self.engine not in ENGINES:
            raise ValueError(f"engine: expected one of {list(ENGINES)}, found {self.engine!r}")
        if not self.adapter:
            object.__setattr__(self, "adapter", default_adapter())

    # --- the settings ----------------------------------------------------------------------------
    @property
    def template(self) -> str:
        return str(self.meta.prompt_template)

    @property
    def coord_space(self) -> str:
        return str(self.meta.coord_space)

    @property
    def budget(self) -> Any:
        """The `actions.coords.PixelBudget` with the family's tile (checks 0 < min_pixels <= max_pixels)."""
        return self.meta.budget

    @property
    def thinking(self) -> dict[str, Any]:
        """The chat template's switches and the think block its generation prompt opens, as the
        checkpoint recorded them (`agent.thinking`); none without a checkpoint."""
        return {
            "chat_template_kwargs": self.meta.chat_template_kwargs,
            "answer_prefix": self.meta.answer_prefix,
        }

    @property
    def seed_format(self) -> bool:
        """True when the agent answers in this project's own format (the default adapter)."""
        return self.adapter == default_adapter()

    def assumed_warning(self) -> str | None:
        """The warning for a checkpoint folder without `phone_r1.json` (None otherwise)."""
        from agent.checkpoint import assumed_defaults_warning

        return assumed_defaults_warning(self.checkpoint) if self.checkpoint is not None else None

    def override_notes(self) -> list[str]:
        """One line per setting taken from the command line against the checkpoint's."""
        return [
            f"{OVERRIDE_FLAG}: {name} {change['checkpoint']} -> {change['given']}"
            for name, change in self.overrides.items()
        ]

    def at(self, engine: str, location: str | Path | None, *, model: str | None = None) -> AgentSpec:
        """The same settings on another engine (parity asks two)."""
        return dataclasses.replace(
            self, engine=engine, location=str(location) if location is not None else None, model=model
        )

    # --- what results headers record ---------------------------------------------------------------
    def endpoint_label(self) -> str:
        """Where the answers came from: the URL, `local:/abs/folder` or `predictions:/abs/file`."""
        if self.engine in ("local", "predictions") and self.location is not None:
            return f"{self.engine}:{Path(self.location).resolve()}"
        return str(self.location or "")

    def model_label(self) -> str:
        """The model name results record: the served name, else the folder, else `predictions`."""
        if self.model:
            return self.model
        if self.engine == "local" and self.location is not None:
            return str(self.location)
        return self.engine or ""

    def header_fields(self) -> dict[str, Any]:
        """The checkpoint and any overrides, for a results header."""
        fields: dict[str, Any] = {}
        if self.checkpoint is not None:
            fields["checkpoint"] = str(Path(self.checkpoint).resolve())
        if self.overrides:
            fields["overrides"] = self.overrides
        if self.checkpoint is not None and self.meta.chat_template_kwargs:
            fields["chat_template_kwargs"] = self.meta.chat_template_kwargs
        return fields

    # --- building --------------------------------------------------------------------------------
    def make_adapter(self) -> Any:
        """The adapter instance: the seed format in this spec's template and space, or another agent's
        grammar (with `agent_prompt` replacing its instructions)."""
        from agent.adapters import make_adapter

        if self.seed_format:
            return make_adapter(
                self.adapter, budget=self.budget, template=self.template, coord_space=self.coord_space
            )
        return make_adapter(self.adapter, budget=self.budget, prompt_file=self.agent_prompt)

    def build_agent(
        self,
        *,
        concurrency: int = 8,
        timeout: float = 120.0,
        max_retries: int = 2,
        max_tokens: int = 1024,
        temperature: float = 0.0,
        device: str = "cpu",
    ) -> Any:
        """A `PhoneAgent` on this spec's engine (`endpoint`, `local` or `predictions`)."""
        from agent.agent import PhoneAgent

        adapter = self.make_adapter()
        settings = {"template": self.template, "coord_space": self.coord_space, "budget": self.budget}
        if self.engine == "endpoint":
            if not self.model:
                raise ValueError("--model is required with --base-url (the served model name)")
            return PhoneAgent.from_endpoint(
                str(self.location),
                self.model,
                api_key_env=self.api_key_env or "OPENAI_API_KEY",
                concurrency=concurrency,
                timeout=timeout,
                max_retries=max_retries,
                max_tokens=max_tokens,
                temperature=temperature,
                adapter=adapter,
                **settings,
                **self.thinking,
            )
        if self.engine == "local":
            from agent.backends.transformers_backend import TransformersBackend

            # The processor resizes at the resolved budget, the one the prompt states.
            backend = TransformersBackend(
                Path(str(self.location)),
                device=device,
                budget=self.budget,
                max_new_tokens=max_tokens,
                **self.thinking,
            )
            return PhoneAgent(backend, adapter=adapter, **settings)
        if self.engine == "predictions":
            from agent.backends.predictions import PredictionsBackend

            return PhoneAgent(PredictionsBackend(str(self.location)), adapter=adapter, **settings)
        raise ValueError(f"engine {self.engine!r} is not one an agent asks through")


def resolve_spec(
    checkpoint: str | Path | None,
    *,
    template: str | None = None,
    coord_space: str | None = None,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    allow_override: bool = False,
    adapter: str | None = None,
    agent_prompt: str | Path | None = None,
    engine: str | None = None,
    location: str | Path | None = None,
    model: str | None = None,
    api_key_env: str | None = None,
) -> AgentSpec:
    """The `AgentSpec` for a checkpoint folder (or None) and the command line's values (None: not
    given), by the module's one rule. Raises `agent.checkpoint.CheckpointMismatchError` for a setting
    that differs from `phone_r1.json` without `allow_override`, and ValueError for an adapter the
    settings cannot serve (a prompt file for the seed format, another agent answering in resized
    pixels without a known pixel budget)."""
    from agent.checkpoint import META_FILENAME, resolve_settings

    folder = Path(checkpoint) if checkpoint is not None else None
    meta, overrides = resolve_settings(
        folder,
        allow_override=allow_override,
        prompt_template=template,
        coord_space=coord_space,
        min_pixels=min_pixels,
        max_pixels=max_pixels,
        agent=adapter or None,
    )
    if not adapter and meta.agent:
        adapter = meta.agent  # the grammar the checkpoint was trained in
        if agent_prompt is None and meta.agent_prompt:
            agent_prompt = meta.agent_prompt
    spec = AgentSpec(
        meta=meta,
        engine=engine,
        location=str(location) if location is not None else None,
        model=model,
        api_key_env=api_key_env,
        adapter=adapter or "",
        agent_prompt=Path(agent_prompt) if agent_prompt else None,
        checkpoint=folder,
        recorded=folder is not None and (folder / META_FILENAME).is_file(),
        overrides=overrides,
    )
    if spec.seed_format and spec.agent_prompt is not None:
        raise ValueError(
            "--agent-prompt replaces another agent's prompt; the phone-r1 format uses --template"
        )
    if not spec.seed_format:
        adapter_obj = spec.make_adapter()  # an unknown name or a bad prompt file fails here, before work
        if adapter_obj.needs_budget and max_pixels is None and folder is None:
            raise ValueError(
                f"--agent {spec.adapter} answers in resized pixels (smart_resize of the screenshot), so its "
                "answers can only be mapped back with the server's pixel budget: pass --max-pixels (and "
                "--min-pixels) as the serving processor uses them"
            )
    return spec


def engine_from_args(args: argparse.Namespace) -> tuple[str, Any]:
    """`(engine, location)` of a command's mutually exclusive `--base-url` / `--local` / `--predictions`."""
    if getattr(args, "base_url", None):
        return "endpoint", args.base_url
    if getattr(args, "local", None):
        return "local", args.local
    return "predictions", getattr(args, "predictions", None)


def spec_from_args(
    args: argparse.Namespace,
    *,
    checkpoint: str | Path | None = None,
    engine: str | None = None,
    location: str | Path | None = None,
    model: str | None = None,
) -> AgentSpec:
    """`resolve_spec` over the flags `add_agent_flags` declared on `args` (absent flags count as not
    given); `checkpoint` defaults to `--checkpoint-meta`."""

    def flag(name: str) -> Any:
        return getattr(args, name, None)

    if checkpoint is None:
        checkpoint = flag("checkpoint_meta")
    spec = resolve_spec(
        checkpoint,
        template=flag("template"),
        coord_space=flag("coord_space"),
        min_pixels=flag("min_pixels"),
        max_pixels=flag("max_pixels"),
        allow_override=bool(flag("override_checkpoint_meta")),
        adapter=flag("agent"),
        agent_prompt=flag("agent_prompt"),
        engine=engine,
        location=location,
        model=model if model is not None else flag("model"),
        api_key_env=flag("api_key_env"),
    )
    warning = spec.assumed_warning()
    if warning:
        logger.warning("%s", warning)
    return spec


# --- the shared flags ------------------------------------------------------------------------------


def port_number(value: str) -> int:
    """argparse `type=` for a TCP port: 1-65535, else exit 2 naming the flag and the value."""
    low, high = PORT_RANGE
    try:
        port = int(value)
    except ValueError:
        port = None
    if port is None or not low <= port <= high:
        raise argparse.ArgumentTypeError(f"expected a port number from {low} to {high}, found {value!r}")
    return port


def port_or_zero(value: str) -> int:
    """argparse `type=` for a port where 0 asks the system for a free one."""
    return 0 if value.strip() == "0" else port_number(value)


# flag -> (argparse keyword arguments, default help); `help=` and `defaults=` of `add_agent_flags`
# replace the help text or default where a command means something more specific.
_FLAGS: dict[str, tuple[dict[str, Any], str]] = {
    "checkpoint-meta": (
        {"type": Path, "metavar": "DIR"},
        "take template, coordinate space and pixel budget from DIR/phone_r1.json",
    ),
    "override-checkpoint-meta": (
        {"action": "store_true"},
        "use a --template, --coord-space or pixel budget that differs from the checkpoint's phone_r1.json "
        "(recorded as an override)",
    ),
    "api-key-env": ({"metavar": "VAR"}, "environment variable holding the endpoint's API key"),
    "template": ({}, "prompt template (default: the checkpoint's, else zh)"),
    "coord-space": (
        {"choices": COORD_SPACES},
        f"coordinate space the model answers in (default: the checkpoint's, else {DEFAULT_COORD_SPACE})",
    ),
    "min-pixels": ({"type": int}, "pixel budget: smallest image area (default: the checkpoint's)"),
    "max-pixels": ({"type": int}, "pixel budget: largest image area (default: the checkpoint's)"),
    "agent": ({}, "agent adapter (prompt and answer grammar) to ask in"),
    "agent-prompt": (
        {"type": Path, "metavar": "FILE"},
        "replace the adapter's instruction text with FILE (e.g. a model's official prompt; ${width}, "
        "${height}, ${task}, ${history} are filled in)",
    ),
    "port": ({"type": port_number}, "port (1-65535)"),
}
# Groups a command names instead of listing their flags one by one.
_GROUPS = {
    "settings": ("template", "coord-space", "min-pixels", "max-pixels"),
    "pixels": ("min-pixels", "max-pixels"),
    "checkpoint": ("checkpoint-meta", "override-checkpoint-meta"),
    "adapter": ("agent", "agent-prompt"),
}


def add_agent_flags(
    parser: argparse.ArgumentParser | Any,
    *names: str,
    help: dict[str, str] | None = None,  # noqa: A002 - argparse's own word
    defaults: dict[str, Any] | None = None,
    grounding: bool = False,
) -> None:
    """Declare the shared flags `names` (or groups: `settings`, `pixels`, `checkpoint`, `adapter`) on
    `parser`, with one spelling, type and help each; `help` / `defaults` adjust them per command.
    `grounding`: `--agent` also takes grounding adapters (the command checks the name against the
    family its input needs)."""
    help = help or {}
    defaults = defaults or {}
    wanted: list[str] = []
    for name in names:
        for flag in _GROUPS.get(name, (name,)):
            if flag not in _FLAGS:
                raise ValueError(f"add_agent_flags: unknown flag {flag!r}; expected some of {list(_FLAGS)}")
            if flag not in wanted:
                wanted.append(flag)
    for flag in wanted:
        kwargs, text = _FLAGS[flag]
        kwargs = {**kwargs, "help": help.get(flag, text)}
        if flag in defaults:
            kwargs["default"] = defaults[flag]
        if flag == "agent":
            # The adapter registry's own flag: every name and summary in the help, exit 2 with a
            # did-you-mean for an unknown one.
            from agent.adapters import ADAPTERS

            if grounding:
                from actions.registry import argument_across
                from agent.adapters.grounding import GROUNDING_ADAPTERS

                kwargs = argument_across(
                    [ADAPTERS, GROUNDING_ADAPTERS], kwargs["help"], default=kwargs.get("default")
                )
            else:
                kwargs = ADAPTERS.argument(kwargs["help"], default=kwargs.get("default"))
        parser.add_argument(f"--{flag}", **kwargs)
