"""The match-protocol registry: the one place protocol names live.

Each entry reproduces one published step-accuracy evaluator (module docstrings name the source and what
differs); `eval run --protocol`, `eval rescore`, `eval report`, the replay UI, the docs and the tests all
read `PROTOCOLS`, an `actions.registry.Registry` of `Protocol` objects, each loaded on first use. A
user's own protocol is named by dotted path, `my_pkg.protocols:MY_PROTOCOL` (a `Protocol`).
"""

from __future__ import annotations

from typing import Any

from actions.protocols.base import Answer, Judgement, MissingContext, Protocol, StepOutcome
from actions.registry import Registry


def _is_protocol(obj: Any) -> str | None:
    if isinstance(obj, Protocol):
        return None
    return f"expected an actions.protocols.base.Protocol, found {type(obj).__name__}"


PROTOCOLS: Registry[Protocol] = Registry(
    "match protocol",
    {
        "box": ("actions.protocols.box:PROTOCOL", "phone-r1's own: tap inside the gold box, same swipe way"),
        "aitw": ("actions.protocols.aitw:PROTOCOL", "Android-in-the-Wild's action matching"),
        "androidcontrol-qwen": (
            "actions.protocols.androidcontrol_qwen:QWEN",
            "the Qwen2.5-VL AndroidControl evaluator as InfiGUI-R1 ships it",
        ),
        "androidcontrol-uis1": (
            "actions.protocols.androidcontrol_uis1:UIS1",
            "the same evaluator as UI-S1 runs it (candidate boxes discarded)",
        ),
        "androidcontrol-osatlas": (
            "actions.protocols.androidcontrol_osatlas:PROTOCOL",
            "OS-Atlas's AndroidControl step accuracy (followed by UI-TARS)",
        ),
        "agentcpm": ("actions.protocols.agentcpm:AC", "AgentCPM-GUI's AndroidControl evaluator"),
        "agentcpm-aitz": (
            "actions.protocols.agentcpm:AITZ",
            "AgentCPM-GUI's evaluator on AITZ, CAGUI and GUI-Odyssey",
        ),
        "gui-odyssey": ("actions.protocols.gui_odyssey:PROTOCOL", "GUI-Odyssey's action matching score"),
        "aitz": ("actions.protocols.aitz:PROTOCOL", "Android-in-the-Zoo's CoAT evaluator (intended rule)"),
        "gui-r1": ("actions.protocols.gui_r1:PROTOCOL", "GUI-R1's 'ALL Step' accuracy"),
        "ui-r1": ("actions.protocols.ui_r1:PROTOCOL", "UI-R1's AndroidControl evaluator"),
    },
    example="my_pkg.protocols:MY_PROTOCOL",
    check=_is_protocol,
    docs="docs/eval.md",
)


def get_protocol(name: str) -> Protocol:
    """The protocol a registered name or dotted path names; an unknown name is a ValueError listing the
    known ones (`actions.registry.UnknownName`)."""
    return PROTOCOLS.load(name)


__all__ = ["PROTOCOLS", "Answer", "Judgement", "MissingContext", "Protocol", "StepOutcome", "get_protocol"]
