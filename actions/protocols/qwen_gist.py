"""The Qwen2.5-VL AndroidControl step rule (the issue #904 gist) as InfiGUI-R1 and UI-S1 ship it.

Written from Reallm-Labs/InfiGUI-R1 `eval/android_control/evaluate_android_control.py` and
X-PLUG/MobileAgent `UI-S1/evaluation/qwenvl_utils.py` (`evaluate_android_control_action`). Both compare
two dicts shaped like the `mobile_use` call's arguments: the prediction (`action`, `coordinate`,
`coordinate2`, `text`, `button`) and the gold "check" dict (`action`, `coordinate`, `candidate_bbox`,
`direction`, `text`, `button`). Raw answers and typed actions are both turned into such dicts, so one
rule serves both. Where the sources' code raises (a missing key, a value it cannot divide or lower-case,
a gold action it has no branch for), `SourceRaised` is raised: the callers score the step as the
sources' scripts do (wrong; InfiGUI-R1 also leaves it out of its click count, UI-S1 zeroes the episode).

Units, as the sources have them: the prediction is divided by the resized image's width and height,
the gold by the original screen's, so both are 0-1; swipe directions are taken in those units.
"""

from __future__ import annotations

import json
import math
from typing import Any

from actions.context import GoldContext
from actions.protocols.base import Screen, content_direction, gold_point
from actions.types import Action, BoxAction, OpenApp, Swipe, TypeText

ENLARGE = 1.2
POINT_DISTANCE = 0.04
# Gold action types that are system buttons in the Qwen action space, and the button's name.
BUTTONS = {"back": "Back", "home": "Home", "enter": "Enter"}
# Errors the sources' plain Python raises on odd answer values (a string coordinate, a missing key).
_ODD_VALUE = (TypeError, KeyError, IndexError, AttributeError, OverflowError, ValueError)


class SourceRaised(Exception):
    """The source's evaluator raises on this step; the message says where."""


def _scaled(action: Any, width: float, height: float) -> dict[str, Any]:
    # The sources divide any `candidate_bbox` and both coordinates by the image size first; a value
    # that cannot be divided (or indexed) raises there, whatever the gold action is.
    if not isinstance(action, dict):
        raise SourceRaised(f"the action is a {type(action).__name__}, not an object")
    out = dict(action)
    key = "candidate_bbox"
    try:
        if key in out:
            out[key] = [[b[0] / width, b[1] / height, b[2] / width, b[3] / height] for b in out[key]]
        for key in ("coordinate", "coordinate2"):
            if key in out:
                value = out[key]
                out[key] = [value[0] / width, value[1] / height]
    except _ODD_VALUE as exc:
        raise SourceRaised(f"cannot scale {key!r}: {type(exc).__name__}") from None
    return out


def _get(action: dict[str, Any], key: str) -> Any:
    if key not in action:
        raise SourceRaised(f"the action has no {key!r}")
    return action[key]


def _lowered(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise SourceRaised(f"{what} is a {type(value).__name__}, not text")
    return value.lower().strip()


def contains(pred: Any, gold: Any) -> bool:
    """Lower-cased and stripped, one text contains the other (an empty text is in every text)."""
    p, g = _lowered(pred, "the predicted text"), _lowered(gold, "the gold text")
    return p in g or g in p


def _enlarged(box: list[float]) -> tuple[float, float, float, float]:
    # About the centre, not clipped and not reordered: a box given with swapped corners stays inverted.
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    w, h = (box[2] - box[0]) * ENLARGE, (box[3] - box[1]) * ENLARGE
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def click_hit(
    click: list[float], boxes: list[list[float]], point: list[float], resized: Screen, *, plain: bool
) -> bool:
    """Inside a candidate box enlarged 1.2x, else within 0.04: of the longer resized side in resized pixels
    (InfiGUI-R1), or in 0-1 units (`plain`, UI-S1)."""
    for x1, y1, x2, y2 in map(_enlarged, boxes):
        if x1 <= click[0] <= x2 and y1 <= click[1] <= y2:
            return True
    if plain:
        dx, dy = point[0] - click[0], point[1] - click[1]
        return math.sqrt(dx * dx + dy * dy) <= POINT_DISTANCE
    dx, dy = (point[0] - click[0]) * resized[0], (point[1] - click[1]) * resized[1]
    return math.sqrt(dx * dx + dy * dy) <= POINT_DISTANCE * max(resized)


def direction(start: list[float], end: list[float]) -> str:
    """The finger direction by the larger axis in 0-1 units; a tie (a zero-length swipe too) is vertical,
    and a vertical move that is not downwards is 'up'."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    if abs(dx) > abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"


def verdict(
    pred: Any, gold: dict[str, Any], screen: Screen, resized: Screen, *, uis1: bool
) -> tuple[bool, bool, str]:
    """`(type_match, exact_match, why)` of the gist rule; raises `SourceRaised` where the source raises."""
    p = _scaled(pred, *resized)
    g = _scaled(gold, *screen)
    kind, said = g["action"], _get(p, "action")
    if kind == "wait":
        same = said == "wait"
        return same, same, "wait by type"
    if kind == "system_button":
        if said != "system_button":
            return False, False, f"predicted {said!r}, gold system_button"
        same = _lowered(g["button"], "the gold button") == _lowered(_get(p, "button"), "the button")
        return True, same, "same button" if same else "another button"
    if kind in ("type", "open"):
        if said == kind:
            hit = contains(_get(p, "text"), g["text"])
            return True, hit, "one text contains the other" if hit else "neither text contains the other"
        if kind == "open" and said == "click":
            boxes = g.get("candidate_bbox", [])
            if not boxes:
                return False, False, "click on an open step without candidate boxes"
            centre = [(boxes[0][0] + boxes[0][2]) / 2, (boxes[0][1] + boxes[0][3]) / 2]
            hit = click_hit(_get(p, "coordinate"), boxes, centre, resized, plain=uis1)
            return True, hit, "click for open " + ("inside a candidate box" if hit else "misses")
        return False, False, f"predicted {said!r}, gold {kind}"
    if kind == "swipe":
        if said != "swipe":
            return False, False, f"predicted {said!r}, gold swipe"
        if uis1:
            return True, True, "any swipe (the direction check is commented out in the source)"
        way = direction(_get(p, "coordinate"), _get(p, "coordinate2"))
        hit = way == g["direction"]
        return True, hit, f"predicted direction {way} vs stated {g['direction']}"
    if kind in ("click", "long_press"):
        if said != kind:
            return False, False, f"predicted {said!r}, gold {kind}"
        hit = click_hit(
            _get(p, "coordinate"), _get(g, "candidate_bbox"), g["coordinate"], resized, plain=uis1
        )
        return True, hit, "tap " + ("hits" if hit else "misses") + " (candidate boxes 1.2x, else 0.04)"
    raise SourceRaised(f"gold action {kind!r} has no branch in the source's evaluator")


# ---- gold and predicted dicts ------------------------------------------------------------------------


def gold_dict(gold: Action, context: GoldContext, *, uis1: bool) -> dict[str, Any]:
    """The gold check dict the source reads: InfiGUI-R1's `check_pams`, or UI-S1's `check_options` after
    its `fix_line` (the step's own action with `candidate_bbox` set to [])."""
    kind = gold.action_type
    if isinstance(gold, BoxAction) and kind in ("click", "long_click"):
        out: dict[str, Any] = {
            "action": "click" if kind == "click" else "long_press",
            "coordinate": list(gold_point(gold, context)),
        }
        if uis1:
            out["candidate_bbox"] = []
        elif context.candidate_boxes is not None:
            out["candidate_bbox"] = [list(b) for b in context.candidate_boxes]
        return out
    if isinstance(gold, Swipe):
        if uis1:
            return {"action": "swipe", "coordinate": list(gold.start), "coordinate2": list(gold.end)}
        return {"action": "swipe", "direction": content_direction(gold, context)}
    if isinstance(gold, (TypeText, OpenApp)):
        out = {"action": "type" if isinstance(gold, TypeText) else "open", "text": gold.parameter()}
        if uis1:
            out["candidate_bbox"] = []
        elif isinstance(gold, OpenApp) and context.candidate_boxes is not None:
            out["candidate_bbox"] = [list(b) for b in context.candidate_boxes]
        return out
    if kind in BUTTONS:
        return {"action": "system_button", "button": BUTTONS[kind]}
    if kind == "wait":
        return {"action": "wait"}
    # task_completed, task_impossible, inquiry and keys without a button: the sources have no branch.
    return {"action": kind}


def pred_dict(pred: Action, screen: Screen, resized: Screen) -> dict[str, Any]:
    """A typed prediction (original pixels) as `mobile_use` arguments in resized pixels, exact values."""
    sx, sy = resized[0] / screen[0], resized[1] / screen[1]

    def point(p: tuple[float, float]) -> list[float]:
        return [p[0] * sx, p[1] * sy]

    kind = pred.action_type
    if isinstance(pred, BoxAction) and kind in ("click", "long_click"):
        return {"action": "click" if kind == "click" else "long_press", "coordinate": point(pred.point)}
    if isinstance(pred, Swipe):
        return {"action": "swipe", "coordinate": point(pred.start), "coordinate2": point(pred.end)}
    if isinstance(pred, TypeText):
        return {"action": "type", "text": pred.text}
    if isinstance(pred, OpenApp):
        return {"action": "open", "text": pred.app}
    if kind in BUTTONS:
        return {"action": "system_button", "button": BUTTONS[kind]}
    if kind == "wait":
        return {"action": "wait"}
    if kind in ("task_completed", "task_impossible"):
        return {"action": "terminate", "status": "success" if kind == "task_completed" else "failure"}
    return {"action": kind}  # inquiry and keys without a button: no action of the Qwen space


# ---- raw answers -------------------------------------------------------------------------------------

CALL_HEAD = '{"name": "mobile_use", "arguments":'


def infigui_arguments(text: str, *, thinking: bool) -> Any:
    """The prediction InfiGUI-R1's `compute_scores` reads from a raw answer (its `arguments`).

    In thinking mode the text after the last `</think>`; then the text between the first and second
    `<tool_call>`, or, without one, from the first literal `{"name": "mobile_use", "arguments":`; cut at the
    first `</tool_call>`, or, without one, before `<conclusion>` and after the last `}}`; parsed as JSON.
    """
    if thinking and "</think>" in text:
        text = text.split("</think>")[-1]
    if "<tool_call>" in text:
        text = text.split("<tool_call>")[1]
    else:
        _, found, rest = text.partition(CALL_HEAD)
        if not found:
            raise SourceRaised("no <tool_call> and no mobile_use call")
        text = CALL_HEAD + rest
    if "</tool_call>" in text:
        text = text.split("</tool_call>")[0]
    else:
        text = text.split("<conclusion>")[0].rsplit("}}", 1)[0] + "}}"
    try:
        call = json.loads(text.strip())
        return call["arguments"]
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        raise SourceRaised(f"the call does not parse: {type(exc).__name__}") from None


def uis1_action(text: str) -> Any:
    """The prediction UI-S1's `JsonFormat.parse_response` reads: the first `<action>...</action>`, stripped,
    as JSON; no such tag makes it raise."""
    start = text.find("<action>")
    end = text.find("</action>", start + len("<action>")) if start >= 0 else -1
    if start < 0 or end < 0:
        raise SourceRaised("no <action>...</action>")
    try:
        return json.loads(text[start + len("<action>") : end].strip())
    except (ValueError, RecursionError) as exc:
        raise SourceRaised(f"the action does not parse: {type(exc).__name__}") from None
