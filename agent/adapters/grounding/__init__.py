"""Grounding adapters: ask a public model to point at an element, in its own prompt and answer grammar.

`GROUNDING_ADAPTERS` is the one registry of them: `eval run --agent` on a grounding set, the docs
table and the tests read it. Names match the navigation adapters' (`agent.adapters.ADAPTERS`) where the
same model has both; grounding-only models (GUI-G², UI-Venus-Ground, UI-Venus-1.5, Qwen3.5) have
names of their own. A user's own adapter is a dotted path, `my_pkg.mod:MyGrounding` (a subclass of
`agent.adapters.grounding.base.GroundingAdapter`).
"""

from __future__ import annotations

from typing import Any

from actions.registry import Registry

DEFAULT_GROUNDING_ADAPTER = "phone-r1"


def is_grounding_adapter(obj: Any) -> str | None:
    from agent.adapters.grounding.base import GroundingAdapter

    if isinstance(obj, type) and issubclass(obj, GroundingAdapter):
        return None
    return f"expected a subclass of agent.adapters.grounding.base.GroundingAdapter, found {obj!r}"


_TOOL = "agent.adapters.grounding.tool_call"
_TEXT = "agent.adapters.grounding.point_grammars"

GROUNDING_ADAPTERS: Registry[type] = Registry(
    "grounding adapter",
    {
        "phone-r1": (
            "agent.adapters.grounding.phone_r1:PhoneR1Grounding",
            "this project's think/answer JSON click",
        ),
        "qwen2.5-vl": (f"{_TOOL}:Qwen25VLGrounding", "computer_use left_click, resized pixels"),
        "qwen3-vl": (f"{_TOOL}:Qwen3VLGrounding", "computer_use left_click, 0-1000; terminate refuses"),
        "qwen3.5": (f"{_TOOL}:Qwen35Grounding", "computer_use call in the XML parameter form, 0-1000"),
        "ui-tars-1.5": (f"{_TEXT}:UITars15Grounding", "Action: click(start_box='(x,y)'), resized pixels"),
        "os-atlas": (
            f"{_TEXT}:OSAtlasGrounding",
            "OS-Atlas-Base <|box_start|>(x1,y1),(x2,y2)<|box_end|>, 0-1000",
        ),
        "gui-owl": (f"{_TOOL}:GUIOwlGrounding", "GUI-Owl-1.5 computer_use call, 0-1000; terminate refuses"),
        "ui-venus": (f"{_TEXT}:UIVenusGrounding", "UI-Venus-Ground 1.0 [x1,y1,x2,y2], resized pixels"),
        "ui-venus-1.5": (f"{_TEXT}:UIVenus15Grounding", "UI-Venus-1.5 [x,y], 0-1000; [-1,-1] refuses"),
        "infigui-r1": (f"{_TOOL}:InfiGUIR1Grounding", "<think> then a mobile_use click, resized pixels"),
        "gui-g2": (f"{_TEXT}:GUIG2Grounding", "GUI-G² [x1,y1,x2,y2], resized pixels"),
        "gui-r1": (
            f"{_TEXT}:GUIR1Grounding",
            "<answer>[{'action': 'click', 'point': [x, y]}]</answer>, resized",
        ),
    },
    example="my_pkg.mod:MyGrounding",
    check=is_grounding_adapter,
    docs="docs/eval.md",
)


def make_grounding_adapter(name: str = DEFAULT_GROUNDING_ADAPTER, **kwargs: Any) -> Any:
    """A grounding adapter by registry name or dotted path; `kwargs` go to its constructor."""
    return GROUNDING_ADAPTERS.load(name)(**kwargs)


__all__ = ["DEFAULT_GROUNDING_ADAPTER", "GROUNDING_ADAPTERS", "make_grounding_adapter"]
