"""The match-protocol registry: the one place protocol names live.

Each entry reproduces one published step-accuracy evaluator (module docstrings name the source and what
differs); `eval run --protocol`, `eval rescore`, `eval report`, the replay UI, the docs and the tests all
read `PROTOCOLS`.
"""

from __future__ import annotations

from actions.protocols import (
    agentcpm,
    aitw,
    aitz,
    androidcontrol_osatlas,
    androidcontrol_qwen,
    androidcontrol_uis1,
    box,
    gui_odyssey,
    gui_r1,
    ui_r1,
)
from actions.protocols.base import Answer, Judgement, MissingContext, Protocol, StepOutcome

PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        box.PROTOCOL,
        aitw.PROTOCOL,
        androidcontrol_qwen.QWEN,
        androidcontrol_uis1.UIS1,
        androidcontrol_osatlas.PROTOCOL,
        agentcpm.AC,
        agentcpm.AITZ,
        gui_odyssey.PROTOCOL,
        aitz.PROTOCOL,
        gui_r1.PROTOCOL,
        ui_r1.PROTOCOL,
    )
}


def get_protocol(name: str) -> Protocol:
    """The registered protocol; an unknown name is a ValueError listing the known ones."""
    try:
        return PROTOCOLS[name]
    except (KeyError, TypeError):
        raise ValueError(f"expected protocol in {list(PROTOCOLS)}, found {name!r}") from None


__all__ = ["PROTOCOLS", "Answer", "Judgement", "MissingContext", "Protocol", "StepOutcome", "get_protocol"]
