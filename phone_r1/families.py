"""Every family users extend, listed once: rewards, protocols, agent adapters, importers, model families.

`FAMILIES` is itself an `actions.registry.Registry`: family name -> the `module:attr` of that family's
registry, with a one-line summary of where it is used. `phone-r1 --help`, the family contract test
(`tests/test_registry.py`) and the docs check loop over it, so adding a family (model families,
grounding benchmarks, ...) is one `Registry` in its package plus one line here. Targets are strings:
listing the families imports nothing.
"""

from __future__ import annotations

from typing import Any

from actions.registry import Registry


def _is_registry(obj: Any) -> str | None:
    return None if isinstance(obj, Registry) else f"expected an actions.registry.Registry, found {obj!r}"


FAMILIES: Registry[Registry[Any]] = Registry(
    "family",
    {
        "reward": ("actions.reward_registry:REWARDS", "GRPO rewards, a recipe's reward_funcs (train grpo)"),
        "protocol": (
            "actions.protocols:PROTOCOLS",
            "match protocols, eval run|report|compare|rescore --protocol",
        ),
        "adapter": ("agent.adapters:ADAPTERS", "agent adapters, eval run --agent and ui --agent"),
        "importer": ("episodes.importers:IMPORTERS", "dataset importers, data import FORMAT"),
        "grounding-protocol": (
            "actions.grounding_protocols:GROUNDING_PROTOCOLS",
            "grounding benchmarks' point-in-target rules, eval run|report|rescore --protocol on grounding",
        ),
        "grounding-adapter": (
            "agent.adapters.grounding:GROUNDING_ADAPTERS",
            "models' grounding prompts and answer grammars, eval run --agent on grounding sets",
        ),
        "model": (
            "agent.families:MODEL_FAMILIES",
            "model families by config.model_type, train tiny --family, phone_r1.json's family",
        ),
    },
    example="my_pkg.registry:THINGS",
    check=_is_registry,
)
