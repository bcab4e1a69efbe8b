"""`agentcpm` and `agentcpm-aitz`: AgentCPM-GUI's evaluator (its header says it follows the Qwen2.5-VL one).

Reproduces OpenBMB/AgentCPM-GUI (commit acbaf509) `eval/utils/evaluator.py` (`ActionEvaluator`) on the
gold that `eval/eval_data/process_ac.py` (`agentcpm`, `--eval_android_control`, used for AC-High and
AC-Low) or `process_aitz.py` (`agentcpm-aitz`) makes, and, for AgentCPM-GUI's own answers (the
`agentcpm-gui` agent), the way `eval/run_predict_minicpm.py` (`extract_and_validate_json`),
`eval/utils/convert_output.py` (`parse_action`) and the evaluator's `action_map` read them: the whole answer
must be one JSON object valid under `eval/utils/schema/schema_for_extraction.json` (no text around it, no
extra keys, integer coordinates within 0-1000), else it is no action; any STATUS among finish, satisfied,
impossible, interrupt and need_feedback is a stop; a POINT is a click only with the default duration
(200), a long press with a longer one and a stop with a shorter one; a swipe's `to` word is its direction
as written. Other agents' actions are judged as the typed actions they read to (a long click is a
POINT with a long duration, a swipe keeps its finger path).

What differs: the synthetic finish step `process_ac.py` appends to every episode is in the data only when
it was imported with `--add-finish`; open_app steps, which `process_ac.py` drops, are left out of the
denominator instead.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from actions.context import Box, GoldContext
from actions.protocols.base import (
    Answer,
    Judgement,
    MissingContext,
    Protocol,
    Screen,
    StepOutcome,
    finger_direction,
    gold_point,
)
from actions.types import Action, BoxAction, KeyPress, LongClick, Swipe, TypeText

ENLARGE = 1.2  # ANNOTATION_{WIDTH,HEIGHT}_AUGMENT_FRACTION; the source grows by (1.2 - 1) of the size
AC_DISTANCE, AITZ_DISTANCE = 0.04, 0.14
NEAREST = 5
DEFAULT_DURATION = 200  # the extraction schema's default duration
STOP_STATUSES = ("finish", "satisfied", "impossible", "interrupt", "need_feedback")
AGENT = "agentcpm-gui"

# The extraction schema, as rules: allowed keys, the action keys of which at most one may be given.
_KEYS = ("thought", "POINT", "to", "duration", "PRESS", "TYPE", "DEEP_LINK", "CLEAR", "STATUS")
_ACTION_KEYS = ("POINT", "PRESS", "TYPE", "DEEP_LINK", "CLEAR")
_PRESSES = ("HOME", "BACK", "ENTER", "APPSELECT")
_STATUSES = ("continue", "start", *STOP_STATUSES)
_WORDS = ("up", "down", "left", "right")


def _integer(value: Any) -> bool:
    # JSON Schema's integer: a number with no fractional part (500.0 is one), never a boolean.
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def _location(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(_integer(v) and 0 <= v <= 1000 for v in value)


def schema_valid(obj: Any) -> bool:
    """Whether `obj` passes AgentCPM's extraction schema (`schema_for_extraction.json`)."""
    if not isinstance(obj, dict) or any(key not in _KEYS for key in obj):
        return False
    checks = {
        "thought": lambda v: isinstance(v, str),
        "POINT": _location,
        "to": lambda v: v in _WORDS if isinstance(v, str) else _location(v),
        "duration": lambda v: _integer(v) and v >= 0,
        "PRESS": lambda v: isinstance(v, str) and v in _PRESSES,
        "TYPE": lambda v: isinstance(v, str),
        "DEEP_LINK": lambda v: v is None,
        "CLEAR": lambda v: v is None,
        "STATUS": lambda v: isinstance(v, str) and v in _STATUSES,
    }
    if not all(checks[key](value) for key, value in obj.items()):
        return False
    if "to" in obj and "POINT" not in obj:
        return False
    if obj.get("STATUS", "continue") in ("continue", "start") and not any(
        key in obj for key in (*_ACTION_KEYS, "duration")
    ):
        return False
    return sum(key in obj for key in _ACTION_KEYS) <= 1


def read_answer(text: str) -> tuple[str | None, Any]:
    """AgentCPM's (type, argument) of a raw answer, as its prediction and evaluation scripts read it:
    type one of click, long_point, scroll, type, press, stop, or None for an answer they cannot read."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None, "not one JSON object"
    if not schema_valid(obj):
        return None, "not valid under the action schema"
    action = {key: obj[key] for key in ("POINT", "to", "PRESS", "TYPE") if key in obj}
    duration = obj.get("duration", DEFAULT_DURATION)
    status = obj.get("STATUS", "continue")
    if status in STOP_STATUSES:
        return "stop", status
    if "TYPE" in action:
        return "type", action["TYPE"]
    if "POINT" in action and "to" not in obj and duration == DEFAULT_DURATION:
        return "click", action["POINT"]
    if "POINT" in action and "to" in obj and duration == DEFAULT_DURATION:
        return "scroll", (action["POINT"], obj["to"])
    if "POINT" in action and duration > DEFAULT_DURATION:
        return "long_point", action["POINT"]
    if "PRESS" in action:
        return "press", action["PRESS"].lower()
    # Every other valid answer (a duration alone, a short POINT, DEEP_LINK, CLEAR) is a pause: a stop.
    return "stop", f"duration {duration}"


def direction(start: tuple[float, float], end: tuple[float, float]) -> str | None:
    """Up/down/left/right by the largest cosine with the path (first of up, down, left, right on a tie);
    None for a path of no length."""
    vx, vy = end[0] - start[0], end[1] - start[1]
    length = math.sqrt(vx**2 + vy**2)
    if length == 0:
        return None
    ux, uy = vx / length, vy / length
    best, best_cos = None, -math.inf
    for name, (dx, dy) in (("up", (0, -1)), ("down", (0, 1)), ("left", (-1, 0)), ("right", (1, 0))):
        cos = (ux * dx + uy * dy) / math.sqrt(dx**2 + dy**2)
        if cos > best_cos:
            best, best_cos = name, cos
    return best


def _norm(point: tuple[float, float], screen: Screen) -> tuple[float, float]:
    return point[0] / screen[0], point[1] / screen[1]


def _typed(pred: Action, screen: Screen) -> tuple[str | None, Any]:
    """The (type, argument) AgentCPM would read from a typed action (an agent other than AgentCPM-GUI)."""
    if isinstance(pred, LongClick):
        return "long_point", _norm(pred.point, screen)
    if isinstance(pred, BoxAction):
        return "click", _norm(pred.point, screen)
    if isinstance(pred, Swipe):
        return "scroll", direction(_norm(pred.start, screen), _norm(pred.end, screen))
    if isinstance(pred, TypeText):
        return "type", pred.text
    if isinstance(pred, KeyPress):
        return "press", pred.key
    if pred.action_type in ("task_completed", "task_impossible", "wait"):
        return "stop", pred.action_type
    return None, pred.action_type


def _raw(answer: Answer) -> tuple[str | None, Any]:
    """(type, argument) of a raw AgentCPM-GUI answer, points in norm units and a swipe as its direction."""
    kind, arg = read_answer(answer.text)
    if kind in ("click", "long_point"):
        return kind, (arg[0] / 1000, arg[1] / 1000)
    if kind == "scroll":
        start, to = arg
        return kind, to if isinstance(to, str) else direction(start, to)
    return kind, arg


def _gold(gold: Action, screen: Screen, context: GoldContext, ac: bool) -> tuple[str | None, Any]:
    """The gold step as the source's converted data has it."""
    t = gold.action_type
    if t in ("task_completed", "task_impossible", "wait"):
        return "stop", None
    if isinstance(gold, BoxAction):
        # process_ac.py sends long_press down the click branch; AITZ has no long press.
        kind = "click" if (ac or not isinstance(gold, LongClick)) else "long_point"
        return kind, _norm(gold_point(gold, context), screen)
    if isinstance(gold, Swipe):
        if ac and context.scroll_direction is not None:
            return "scroll", finger_direction(gold, context)  # process_ac.py inverts the stated word
        return "scroll", direction(_norm(gold.start, screen), _norm(gold.end, screen))
    if isinstance(gold, TypeText):
        return "type", gold.text
    if isinstance(gold, KeyPress):
        # process_odyssey.py maps PRESS_RECENT to HOME; AndroidControl and AITZ have no recent-apps step.
        return "press", "home" if gold.key == "recent_apps" else gold.key
    return None, t


def candidate_boxes(boxes: tuple[Box, ...], point: tuple[float, float], screen: Screen, ac: bool) -> list:
    """The enlarged boxes a tap may land in: (top, left, height, width) in norm units grown by (1.2 - 1)
    of their size about their centre, top and left clipped at 0 and height and width at 1; on
    AndroidControl the 5 whose centres are nearest the gold point, holding it or not (the sort is
    stable), elsewhere every one holding it."""
    w, h = screen
    grown = []
    for left, top, right, bottom in boxes:
        y, x, bh, bw = top / h, left / w, (bottom - top) / h, (right - left) / w
        h_delta, w_delta = (ENLARGE - 1) * bh, (ENLARGE - 1) * bw
        grown.append(
            (max(0, y - h_delta / 2), max(0, x - w_delta / 2), min(1, bh + h_delta), min(1, bw + w_delta))
        )
    gx, gy = point
    if ac:
        return sorted(
            grown, key=lambda b: ((b[0] + b[2] / 2 - gy) ** 2 + (b[1] + b[3] / 2 - gx) ** 2) ** 0.5
        )[:NEAREST]
    return [b for b in grown if b[1] <= gx <= b[1] + b[3] and b[0] <= gy <= b[0] + b[2]]


def _compare(
    p: str | None,
    said: Any,
    g: str | None,
    want: Any,
    gold: Action,
    screen: Screen,
    context: GoldContext,
    ac: bool,
) -> Judgement:
    if p is None or p != g:
        return Judgement(False, False, f"type mismatch: predicted {p or said}, gold {g}")
    if g in ("click", "long_point"):
        boxes = context.ui_boxes
        if boxes is None and ac:
            raise MissingContext(
                "ui_boxes", "AgentCPM's AC candidates are the 5 a11y boxes nearest the gold point"
            )
        gx, gy = want
        px, py = said
        for top, left, height, width in candidate_boxes(boxes or (), want, screen, ac):
            if top <= py <= top + height and left <= px <= left + width:
                return Judgement(True, True, "tap inside a candidate box enlarged 1.2x")
        limit = AC_DISTANCE if ac else AITZ_DISTANCE
        d = math.sqrt((gx - px) ** 2 + (gy - py) ** 2)
        hit = d <= limit
        return Judgement(hit, True, f"tap {d:.3f} from gold point ({'<=' if hit else '>'} {limit})")
    if g == "scroll":
        hit = said is not None and said == want
        return Judgement(hit, True, f"direction {said or 'none'} vs {want}")
    if g == "type":
        a, b = str(said).lower().strip(), str(want).lower().strip()
        hit = a in b or b in a
        return Judgement(
            hit, True, "one text contains the other" if hit else "neither text contains the other"
        )
    if g == "press":
        return Judgement(said == want, True, f"PRESS {str(said).upper()} vs {str(want).upper()}")
    return Judgement(True, True, "any stop matches any stop")


def _judge(pred: Action, gold: Action, screen: Screen, context: GoldContext, *, ac: bool) -> Judgement:
    p, said = _typed(pred, screen)
    g, want = _gold(gold, screen, context, ac)
    return _compare(p, said, g, want, gold, screen, context, ac)


def _judge_raw(answer: Answer, gold: Action, screen: Screen, context: GoldContext, *, ac: bool) -> Judgement:
    p, said = _raw(answer)
    g, want = _gold(gold, screen, context, ac)
    if g is None:
        return Judgement(False, False, f"gold {want} is not in the source's data", counted=False)
    return _compare(p, said, g, want, gold, screen, context, ac)


def judge_ac(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    return _judge(pred, gold, screen, context, ac=True)


def judge_aitz(pred: Action, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    return _judge(pred, gold, screen, context, ac=False)


def judge_raw_ac(answer: Answer, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    return _judge_raw(answer, gold, screen, context, ac=True)


def judge_raw_aitz(answer: Answer, gold: Action, screen: Screen, context: GoldContext) -> Judgement:
    return _judge_raw(answer, gold, screen, context, ac=False)


def _counts(gold: Action) -> bool:
    return gold.action_type not in ("open_app", "inquiry")


def episode_metrics(outcomes: Sequence[StepOutcome]) -> dict[str, Any]:
    """`ActionEvaluator.compute_episode_metrics`: over the episodes of the steps in the source's denominator
    (each in step order), success when every step is an exact match, progress the matched prefix over the
    episode's steps; the source rounds both to 4 decimals, which is left to the reader here."""
    episodes: dict[str, list[StepOutcome]] = defaultdict(list)
    for o in outcomes:
        if o.counted:  # steps process_ac.py drops are not in the source's episodes
            episodes[o.episode_id].append(o)
    success, progress = [], []
    for steps in episodes.values():
        steps = sorted(steps, key=lambda o: o.index)
        done = 0
        for o in steps:
            if not o.correct:
                break
            done += 1
        success.append(done == len(steps))
        progress.append(done / len(steps))
    return {
        "success_rate": sum(success) / len(success) if success else None,
        "goal_progress": sum(progress) / len(progress) if progress else None,
    }


_METRIC_NAMES = (
    ("success_rate", "episodes whose every step in the denominator is an exact match ÷ episodes"),
    (
        "goal_progress",
        "mean over episodes of the exactly matched prefix ÷ the episode's steps in the denominator",
    ),
)


_RAW = (
    "AgentCPM-GUI's answers are read as its scripts read them: one JSON object valid under the action "
    "schema (else no action), any stop STATUS (finish, satisfied, impossible, interrupt, need_feedback) a "
    "stop, a POINT a click with the default duration 200, a long press with more and a stop with less"
)
_SWIPE = (
    "both directions snapped to up/down/left/right by largest cosine (finger, start to end; a tie goes to "
    "the first of up, down, left, right) and equal; AgentCPM-GUI's `to` word is taken as written"
)
_TEXT = "type: lower-cased and stripped, one contains the other (an empty prediction always matches)"
_OTHER = (
    "back, home and enter are PRESS with that key (same key needed); task_completed, task_impossible and "
    "wait are all 'stop'; any stop matches any"
)

AC = Protocol(
    name="agentcpm",
    definition="AgentCPM-GUI's AndroidControl evaluator: a tap inside one of the 5 enlarged element boxes "
    "whose centres are nearest the gold point, or within 0.04 norm; long_press judged as a tap; open_app "
    "steps dropped.",
    source="OpenBMB/AgentCPM-GUI eval/utils/evaluator.py with eval/eval_data/process_ac.py",
    click="gold long_click becomes click (process_ac.py); the 5 ui_boxes whose centres are nearest the gold "
    "point, each grown by (1.2 - 1) of its size (AITW-style clipping), need not hold it; inside any "
    "matches, else <= 0.04 norm. " + _RAW,
    swipe=_SWIPE + "; AndroidControl's stated (content) direction is inverted, as process_ac.py does",
    text=_TEXT,
    other=_OTHER,
    denominator="every step except open_app (dropped by process_ac.py) and inquiry; import with "
    "--add-finish for the synthetic finish step process_ac.py appends to every episode",
    differs_from_box="uses the 5 accessibility boxes nearest the gold point enlarged 1.2x plus a 0.04 rule, "
    "drops open_app steps, judges a gold long press as a click, and lets wait and finish stand for each "
    "other.",
    judge=judge_ac,
    checked="3,000 generated cases (AndroidControl shards with forests, AgentCPM-GUI's raw answers; 2,794 "
    "in the source's denominator): 1.0000 step agreement, no disagreement; python -m scripts.protocol_diff "
    "agentcpm --official CHECKOUT --python PY --cases 3000 --seed 1",
    counts=_counts,
    context=("ui_boxes (required for click steps: every a11y bounds_in_screen box)", "point"),
    quirks=(
        "the 5 nearest boxes need not contain the gold point",
        "any stop matches any stop, wait included; interrupt and need_feedback are stops",
        "long_press becomes a plain tap",
        "an empty typed text always matches",
        "a POINT with a duration under 200 is a stop; DEEP_LINK and CLEAR are stops",
    ),
    deviations=(
        "open_app steps, which process_ac.py drops, stay in the data and are left out of the denominator",
        "the synthetic finish step process_ac.py appends to every episode is there only when the data was "
        "imported with --add-finish",
        "an AndroidControl scroll given with x and y (the released data has none) starts process_ac.py's "
        "0.3-long path there, clipped at the screen's edge, which can leave it no direction; phone-r1 uses "
        "the stated word",
        "answers of other agents (the source reads only AgentCPM-GUI's) are judged as the AgentCPM action "
        "their typed action is: a click a POINT, a long click a POINT held longer, a swipe its path",
    ),
    raw_agents=(AGENT,),
    judge_raw=judge_raw_ac,
    metrics=episode_metrics,
    metric_names=_METRIC_NAMES,
)

AITZ = Protocol(
    name="agentcpm-aitz",
    definition="AgentCPM-GUI's evaluator on AITZ, CAGUI and GUI-Odyssey: a tap inside an enlarged UI box "
    "that contains the gold point, or within 0.14 norm.",
    source="OpenBMB/AgentCPM-GUI eval/utils/evaluator.py with eval/eval_data/process_{aitz,odyssey}.py",
    click="candidates are the ui_boxes, each grown by (1.2 - 1) of its size, that contain the gold point; "
    "inside any matches, else <= 0.14 norm (with no ui_boxes, as on Odyssey, 0.14 only); long_click is its "
    "own type. " + _RAW,
    swipe=_SWIPE + "; the gold direction is the cosine's of its own path, not the word the data states",
    text=_TEXT,
    other=_OTHER + "; recent apps is PRESS HOME (process_odyssey.py)",
    denominator="every step except open_app and inquiry (not in the source's action space)",
    differs_from_box="uses the UI boxes holding the gold point enlarged 1.2x plus a 0.14 rule and lets wait "
    "and finish stand for each other.",
    judge=judge_aitz,
    checked="3,005 generated cases (AITZ gold, AgentCPM-GUI's raw answers): 1.0000 step agreement, no "
    "disagreement; python -m scripts.protocol_diff agentcpm-aitz --official CHECKOUT --python PY "
    "--cases 3000 --seed 1",
    counts=_counts,
    context=("ui_boxes (else the 0.14 rule alone, as the source does on Odyssey)", "point"),
    quirks=(
        "any stop matches any stop, wait included; interrupt and need_feedback are stops",
        "an empty typed text always matches",
        "a POINT with a duration under 200 is a stop; DEEP_LINK and CLEAR are stops",
    ),
    deviations=(
        "a DUAL_POINT is a tap when touch and lift are at most 0.04 apart; the importer measures with "
        "math.dist, the source with numpy's norm, which can differ within rounding of 0.04",
        "answers of other agents (the source reads only AgentCPM-GUI's) are judged as the AgentCPM action "
        "their typed action is",
    ),
    raw_agents=(AGENT,),
    judge_raw=judge_raw_aitz,
    metrics=episode_metrics,
    metric_names=_METRIC_NAMES,
)
