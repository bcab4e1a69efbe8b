"""Agent adapters: ask any public GUI agent in its own prompt and read its answers into typed actions.

`ADAPTERS` is the one registry: `eval run --agent` choices and help, the UI's live step, the docs table
and the tests all read it. Entries are resolved on first use (`module:Class`), so listing them imports
nothing. A user's own adapter is given as a dotted path, `my_pkg.mod:MyAdapter` (a subclass of
`agent.adapters.base.Adapter`).
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

DEFAULT_ADAPTER = "phone-r1"


class AdapterEntry(NamedTuple):
    target: str  # "module:Class"
    summary: str  # one line for --help and the docs


ADAPTERS: dict[str, AdapterEntry] = {
    "phone-r1": AdapterEntry(
        "agent.adapters.phone_r1:PhoneR1Adapter", "this project's think/answer JSON (the seed format)"
    ),
    "qwen2.5-vl": AdapterEntry(
        "agent.adapters.qwen_vl:Qwen25VLAdapter", "Qwen2.5-VL mobile_use tool call, resized pixels"
    ),
    "qwen3-vl": AdapterEntry("agent.adapters.qwen_vl:Qwen3VLAdapter", "Qwen3-VL mobile_use tool call, 0-999"),
    "ui-tars-1.5": AdapterEntry(
        "agent.adapters.ui_tars:UITars15Adapter", "UI-TARS-1.5 Thought/Action calls, resized pixels"
    ),
    "ui-tars-1.0": AdapterEntry(
        "agent.adapters.ui_tars:UITars10Adapter", "UI-TARS 1.0 Thought/Action calls, 0-1000"
    ),
    "os-atlas": AdapterEntry(
        "agent.adapters.os_atlas:OSAtlasAdapter", "OS-Atlas-Pro `actions:` commands, 0-1000"
    ),
    "agentcpm-gui": AdapterEntry(
        "agent.adapters.agentcpm_gui:AgentCPMGUIAdapter", "AgentCPM-GUI compact JSON, 0-1000"
    ),
    "gui-r1": AdapterEntry(
        "agent.adapters.gui_r1:GUIR1Adapter", "GUI-R1 <answer> Python list, resized pixels"
    ),
    "ui-r1": AdapterEntry("agent.adapters.ui_r1:UIR1Adapter", "UI-R1 <answer> Python list, resized pixels"),
    "infigui-r1": AdapterEntry(
        "agent.adapters.infigui_r1:InfiGUIR1Adapter",
        "InfiGUI-R1 <think>/<step> + mobile_use call, resized pixels",
    ),
    "ui-venus": AdapterEntry(
        "agent.adapters.ui_venus:UIVenusAdapter",
        "UI-Venus-Navi 1.0 <action>Click(box=...)</action>, resized pixels",
    ),
    "gui-owl": AdapterEntry(
        "agent.adapters.gui_owl:GUIOwlAdapter",
        "GUI-Owl <thinking> + mobile_use call + <conclusion>, resized pixels",
    ),
    "ui-s1": AdapterEntry(
        "agent.adapters.ui_s1:UIS1Adapter",
        "UI-S1 <think> + <action>{mobile_use arguments}</action>, resized pixels",
    ),
}


def adapter_class(name: str) -> type:
    """The adapter class for a registry name or a `module:Class` path; ValueError listing the known names."""
    target = ADAPTERS[name].target if name in ADAPTERS else name
    if ":" not in target:
        raise ValueError(
            f"unknown agent adapter {name!r}: expected one of {sorted(ADAPTERS)} or a dotted path "
            "module:Class"
        )
    module_name, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"agent adapter {name!r}: cannot load {target}: {exc}") from None
    from agent.adapters.base import Adapter

    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise ValueError(f"agent adapter {name!r}: {target} is not a subclass of agent.adapters.base.Adapter")
    return cls


def make_adapter(name: str = DEFAULT_ADAPTER, **kwargs: Any) -> Any:
    """An adapter instance by registry name or dotted path; `kwargs` go to its constructor."""
    return adapter_class(name)(**kwargs)


def adapters_help() -> str:
    """One line per registered adapter, for --help."""
    return "; ".join(f"{name}: {entry.summary}" for name, entry in ADAPTERS.items())
