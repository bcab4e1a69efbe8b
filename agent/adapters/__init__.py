"""Agent adapters: ask any public GUI agent in its own prompt and read its answers into typed actions.

`ADAPTERS` is the one registry (an `actions.registry.Registry`): `eval run --agent` and `ui --agent`
(names, help, exit 2 with a did-you-mean), the UI's live step, the docs table and the tests all read
it. Entries are resolved on first use (`module:Class`), so listing them imports nothing. A user's own
adapter is given as a dotted path, `my_pkg.mod:MyAdapter` (a subclass of
`agent.adapters.base.Adapter`).
"""

from __future__ import annotations

from typing import Any

from actions.registry import Registry

DEFAULT_ADAPTER = "phone-r1"


def _is_adapter_class(obj: Any) -> str | None:
    from agent.adapters.base import Adapter

    if isinstance(obj, type) and issubclass(obj, Adapter):
        return None
    return f"{obj!r} is not a subclass of agent.adapters.base.Adapter"


ADAPTERS: Registry[type] = Registry(
    "agent adapter",
    {
        "phone-r1": (
            "agent.adapters.phone_r1:PhoneR1Adapter",
            "this project's think/answer JSON (the seed format)",
        ),
        "qwen2.5-vl": (
            "agent.adapters.qwen_vl:Qwen25VLAdapter",
            "Qwen2.5-VL mobile_use tool call, resized pixels",
        ),
        "qwen3-vl": ("agent.adapters.qwen_vl:Qwen3VLAdapter", "Qwen3-VL mobile_use tool call, 0-999"),
        "ui-tars-1.5": (
            "agent.adapters.ui_tars:UITars15Adapter",
            "UI-TARS-1.5 Thought/Action calls, resized pixels",
        ),
        "ui-tars-1.0": ("agent.adapters.ui_tars:UITars10Adapter", "UI-TARS 1.0 Thought/Action calls, 0-1000"),
        "os-atlas": ("agent.adapters.os_atlas:OSAtlasAdapter", "OS-Atlas-Pro `actions:` commands, 0-1000"),
        "agentcpm-gui": (
            "agent.adapters.agentcpm_gui:AgentCPMGUIAdapter",
            "AgentCPM-GUI compact JSON, 0-1000",
        ),
        "gui-r1": ("agent.adapters.gui_r1:GUIR1Adapter", "GUI-R1 <answer> Python list, resized pixels"),
        "ui-r1": ("agent.adapters.ui_r1:UIR1Adapter", "UI-R1 <answer> Python list, resized pixels"),
        "infigui-r1": (
            "agent.adapters.infigui_r1:InfiGUIR1Adapter",
            "InfiGUI-R1 <think>/<step> + mobile_use call, resized pixels",
        ),
        "ui-venus": (
            "agent.adapters.ui_venus:UIVenusAdapter",
            "UI-Venus-Navi 1.0 <action>Click(box=...)</action>, resized pixels",
        ),
        "ui-venus-2": (
            "agent.adapters.ui_venus:UIVenus2Adapter",
            "UI-Venus-2 <action>Click(point=...)</action>, 0-999 grid (x / 1000 * W)",
        ),
        "gui-owl": (
            "agent.adapters.gui_owl:GUIOwlAdapter",
            "GUI-Owl of Mobile-Agent-v3: <thinking> + mobile_use call + <conclusion>, resized pixels",
        ),
        "gui-owl-1.5": (
            "agent.adapters.gui_owl:GUIOwl15Adapter",
            "GUI-Owl-1.5 of Mobile-Agent-v3.5: Action sentence + mobile_use call, 0-1000",
        ),
        "mai-ui": ("agent.adapters.mai_ui:MAIUIAdapter", "MAI-UI <thinking> + mobile_use call, 0-999"),
        "ui-s1": (
            "agent.adapters.ui_s1:UIS1Adapter",
            "UI-S1 <think> + <action>{mobile_use arguments}</action>, resized pixels",
        ),
    },
    example="my_pkg.mod:MyAdapter",
    check=_is_adapter_class,
    docs="docs/eval.md",
)


def adapter_class(name: str) -> type:
    """The adapter class for a registry name or a `module:Class` path; ValueError listing the known names."""
    return ADAPTERS.load(name)


def make_adapter(name: str = DEFAULT_ADAPTER, **kwargs: Any) -> Any:
    """An adapter instance by registry name or dotted path; `kwargs` go to its constructor."""
    return adapter_class(name)(**kwargs)
