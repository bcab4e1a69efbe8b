"""The grounding-protocol registry: the one place grounding rule names live.

Each entry reproduces one benchmark's published point-in-target rule (module docstrings name the
source lines and what differs); `eval run --protocol` on a grounding set, `eval rescore`, reports,
the docs table and the tests all read `GROUNDING_PROTOCOLS`. A user's own rule is named by dotted path
(`my_pkg.mod:PROTOCOL`, a `GroundingProtocol`).
"""

from __future__ import annotations

from typing import Any

from actions.grounding_protocols.base import (
    GroundingAnswer,
    GroundingCase,
    GroundingProtocol,
    GroundingVerdict,
    NotApplicable,
)
from actions.registry import Registry

DEFAULT_GROUNDING_PROTOCOL = "region"


def is_grounding_protocol(obj: Any) -> str | None:
    if isinstance(obj, GroundingProtocol):
        return None
    return f"expected an actions.grounding_protocols.GroundingProtocol, found {type(obj).__name__}"


GROUNDING_PROTOCOLS: Registry[GroundingProtocol] = Registry(
    "grounding protocol",
    {
        "region": (
            "actions.grounding_protocols.region:PROTOCOL",
            "phone-r1's own: point in the box or polygon in pixels, refusals counted",
        ),
        "screenspot": (
            "actions.grounding_protocols.screenspot:PROTOCOL",
            "ScreenSpot / ScreenSpot-v2 (SeeClick's script): fractions of the image file's size",
        ),
        "screenspot-pro": (
            "actions.grounding_protocols.screenspot_pro:PROTOCOL",
            "ScreenSpot-Pro's evaluator: fractions of the annotation's img_size",
        ),
        "osworld-g": (
            "actions.grounding_protocols.osworld_g:PROTOCOL",
            "OSWorld-G: boxes, polygons (ray casting), refusal items counted (all 564)",
        ),
        "osworld-g-no-refusal": (
            "actions.grounding_protocols.osworld_g:NO_REFUSAL",
            "OSWorld-G with the refusal items left out of the denominator (ClawGUI's default)",
        ),
        "ui-vision": (
            "actions.grounding_protocols.ui_vision:PROTOCOL",
            "UI-Vision's evaluator: inverted boxes swapped, fractions of image_size",
        ),
        "mmbench-gui": (
            "actions.grounding_protocols.mmbench_gui:PROTOCOL",
            "MMBench-GUI L2: answers above 1 divided by the image size",
        ),
    },
    example="my_pkg.mod:PROTOCOL",
    check=is_grounding_protocol,
    docs="docs/eval.md",
)


def get_grounding_protocol(name: str) -> GroundingProtocol:
    """The protocol for a registered name or dotted path; UnknownName (a ValueError) otherwise."""
    return GROUNDING_PROTOCOLS.load(name)


__all__ = [
    "DEFAULT_GROUNDING_PROTOCOL",
    "GROUNDING_PROTOCOLS",
    "GroundingAnswer",
    "GroundingCase",
    "GroundingProtocol",
    "GroundingVerdict",
    "NotApplicable",
    "get_grounding_protocol",
]
