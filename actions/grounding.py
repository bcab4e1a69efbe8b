"""Grounding rewards for box steps (click, long_click): GUI-G²'s Gaussian point and coverage rewards, and IoU.

Source: GUI-G², "Gaussian Reward Modeling for GUI Grounding" (Tang et al., arXiv 2507.15846), as
implemented in repository zju-real/GUI-G2, path `src/gui_g2/src/open_r1/gaussian_grpo.py`
(`gaussian_point_reward`, `gaussian_plane_reward`). The gold element is a 2-D Gaussian centred on
its box with the adaptive variance σx = α·w, σy = α·h (α = 0.5, the value of the official training
script), diagonal covariance:

- `gaussian_point`: the gold Gaussian at the predicted box centre, unnormalised,
  exp(−½ [(x̂ − x)² / σx² + (ŷ − y)² / σy²]): 1 at the gold centre, e^(−½) one σ away.
- `gaussian_coverage` (the repository's "gaussian_plane"): the Bhattacharyya coefficient
  exp(−D_B) between the predicted box's Gaussian (σ from the predicted size, same α) and the gold
  one. With diagonal covariances it factorises per axis:
  BC = Π_axis sqrt(2 σp σg / (σp² + σg²)) · exp(−Δμ² / (4 (σp² + σg²))); 1 only for the same box.
- `iou`: intersection over union of the predicted and gold boxes (GUI-G1 and others).

What differs from the official code:

- The answer is read by the evaluator's own reader (`actions.match.read_prediction`): every answer
  form phone-r1 accepts, mapped from the prompt's coordinate space back to original pixels and
  clamped to the screen, then compared with the same box geometry the matcher uses. The official
  code takes the first `[x1, y1, x2, y2]` the regex finds, in whatever space the model wrote.
- The prediction must be of the gold's action type (a swipe never scores a click's reward); steps
  whose gold is not a box score 0 and are counted as not applicable (`.../applicable`).
- A point answer (`"x,y"`, a zero-size box) scores `gaussian_point` at that point; its coverage and
  IoU are 0, the limit of both as the predicted box shrinks (the official code returns ~0 through
  an epsilon).
- A point gold (`"click": "x,y"`, or a box of zero width or height) has no element size to take σ
  from; that axis uses `POINT_GOLD_SIZE` × the screen's length on it, so a tap at AITW's distance
  threshold (0.14 of the screen) from a point gold is two σ away. The official code divides by zero.
- Rewards are not rounded to three decimals.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from actions.columns import TILE_COLUMN, budget_of, column, log_means
from actions.coords import PixelBudget, check_screen, check_space
from actions.match import DISTANCE_THRESHOLD, _box, _inside, read_gold, read_prediction
from actions.parse import completion_text
from actions.types import Action, ActionParseError, BoxAction
from actions.wire import parse_action

logger = logging.getLogger(__name__)

# σ = α × element size, per axis (GUI-G²'s adaptive variance; α as in the official training script).
ALPHA = 0.5
# Stand-in element size, as a fraction of the screen, on an axis where the gold box has none.
POINT_GOLD_SIZE = DISTANCE_THRESHOLD
GROUNDING_PARTS: tuple[str, ...] = ("applicable", "typed", "inside", "point_answer")


@dataclass(frozen=True)
class GroundingBreakdown:
    """The three grounding scores of one answer and what they rest on.

    `applicable`: the gold is a box action; `typed`: the answer is of the gold's type; `inside`: the
    answer's tap point is inside the gold box (the evaluator's `box` hit); `point_answer`: the answer
    is a point (zero-size box). All scores are 0 unless `applicable` and `typed`.
    """

    applicable: float
    typed: float
    inside: float
    point_answer: float
    gaussian_point: float
    gaussian_coverage: float
    iou: float
    reason: str


_NOT_APPLICABLE = GroundingBreakdown(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, "gold is not a box action")


def read_box_gold(gold: Any) -> Action:
    """The gold action, strictly read; a click or long-press given as a point `"x,y"` is a zero-size box."""
    try:
        return read_gold(gold)
    except ActionParseError as err:
        # Strict wire parsing wants four numbers; a point gold is first-class for grounding, and the
        # lenient reader turns exactly that into a zero-size box. Anything else stays an error.
        try:
            action = parse_action(gold, strict=False) if isinstance(gold, (str, dict)) else None
        except ActionParseError:
            action = None
        if isinstance(action, BoxAction) and action.box[:2] == action.box[2:]:
            return action
        raise err from None


def gold_sigmas(box: tuple[float, float, float, float], screen: tuple[int, int]) -> tuple[float, float]:
    """(σx, σy) of the gold Gaussian: α × the box size, or α × the stand-in size on an axis without one."""
    width, height = box[2] - box[0], box[3] - box[1]
    if width <= 0:
        width = POINT_GOLD_SIZE * screen[0]
    if height <= 0:
        height = POINT_GOLD_SIZE * screen[1]
    return ALPHA * width, ALPHA * height


def gaussian_point_score(
    point: tuple[float, float], gold_box: tuple[float, float, float, float], screen: tuple[int, int]
) -> float:
    """GUI-G²'s point reward: the unnormalised gold Gaussian at `point`."""
    sigmas = gold_sigmas(gold_box, screen)
    centre = ((gold_box[0] + gold_box[2]) / 2, (gold_box[1] + gold_box[3]) / 2)
    exponent = 0.0
    for axis in (0, 1):
        offset = point[axis] - centre[axis]
        if sigmas[axis] == 0.0:
            # A box so thin that α × its size underflows: the Gaussian's limit, 1 on the centre line
            # and 0 off it, rather than a division by zero.
            if offset != 0.0:
                return 0.0
            continue
        ratio = offset / sigmas[axis]
        # A product, not `** 2`: a sliver of a box makes the ratio huge, and float `**` raises on
        # overflow where `*` gives inf (and exp(-inf) the right 0).
        exponent += ratio * ratio
    return math.exp(-0.5 * exponent)


def gaussian_coverage_score(
    pred_box: tuple[float, float, float, float],
    gold_box: tuple[float, float, float, float],
    screen: tuple[int, int],
) -> float:
    """GUI-G²'s coverage reward: Bhattacharyya coefficient of the predicted and gold box Gaussians."""
    gold_sigma = gold_sigmas(gold_box, screen)
    score = 1.0
    for axis in (0, 1):
        sp = ALPHA * (pred_box[axis + 2] - pred_box[axis])
        sg = gold_sigma[axis]
        if sp <= 0:
            return 0.0
        var = sp * sp + sg * sg
        if var == 0.0:  # both spreads underflow: boxes too thin to compare
            return 0.0
        delta = (pred_box[axis] + pred_box[axis + 2] - gold_box[axis] - gold_box[axis + 2]) / 2
        score *= math.sqrt(2 * sp * sg / var) * math.exp(-delta * delta / (4 * var))
    return score


def iou_score(
    pred_box: tuple[float, float, float, float], gold_box: tuple[float, float, float, float]
) -> float:
    """Intersection over union of two boxes; 0 when either has no area."""
    iw = min(pred_box[2], gold_box[2]) - max(pred_box[0], gold_box[0])
    ih = min(pred_box[3], gold_box[3]) - max(pred_box[1], gold_box[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (
        (pred_box[2] - pred_box[0]) * (pred_box[3] - pred_box[1])
        + (gold_box[2] - gold_box[0]) * (gold_box[3] - gold_box[1])
        - inter
    )
    return inter / union if union > 0 else 0.0


def grounding_score(
    prediction: Any,
    gold: Any,
    screen: tuple[int, int],
    *,
    coord_space: str = "original",
    budget: PixelBudget | None = None,
) -> GroundingBreakdown:
    """All three grounding scores of one answer against a box gold (see the module docstring).

    A malformed answer scores 0 with a reason; bad gold, screen or coord_space raise ValueError.
    """
    gold_action = read_box_gold(gold)
    screen = check_screen(screen)
    check_space(coord_space)
    if not isinstance(gold_action, BoxAction):
        return _NOT_APPLICABLE
    pred, problems = read_prediction(prediction, screen, coord_space, budget)
    if pred is None or pred.action_type != gold_action.action_type:
        found = pred.action_type if pred is not None else "no action (" + ", ".join(problems) + ")"
        return GroundingBreakdown(
            1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, f"expected {gold_action.action_type}, found {found}"
        )
    assert isinstance(pred, BoxAction)
    pred_box, gold_box = _box(pred), _box(gold_action)
    point = pred.point
    is_point = pred_box[0] == pred_box[2] and pred_box[1] == pred_box[3]
    inside = _inside(point, gold_box)
    return GroundingBreakdown(
        applicable=1.0,
        typed=1.0,
        inside=float(inside),
        point_answer=float(is_point),
        gaussian_point=gaussian_point_score(point, gold_box, screen),
        gaussian_coverage=gaussian_coverage_score(pred_box, gold_box, screen),
        iou=iou_score(pred_box, gold_box),
        reason=("point" if is_point else "box") + (" inside" if inside else " outside") + " the gold box",
    )


@functools.lru_cache(maxsize=8192)
def _cached_score(
    text: str, gold: str, width: int, height: int, space: str, budget: PixelBudget
) -> GroundingBreakdown:
    # TRL calls each reward function in turn on the same completions; a recipe that lists both Gaussian
    # rewards reads every answer once.
    return grounding_score(text, gold, (width, height), coord_space=space, budget=budget)


def _scores(
    completions: Sequence[Any], name: str, gold: Any, screen_width: Any, screen_height: Any, kwargs: dict
):
    missing = [
        col
        for col, value in (("gold", gold), ("screen_width", screen_width), ("screen_height", screen_height))
        if value is None
    ]
    if missing:
        raise ValueError(f"{name} needs dataset columns {missing}; found columns {sorted(kwargs)}")
    n = len(completions)
    golds = column({"gold": gold}, "gold", n)
    widths = column({"w": screen_width}, "w", n)
    heights = column({"h": screen_height}, "h", n)
    spaces = column(kwargs, "coord_space", n, "original")
    mins = column(kwargs, "min_pixels", n)
    maxs = column(kwargs, "max_pixels", n)
    tiles = column(kwargs, TILE_COLUMN, n)
    out: list[GroundingBreakdown] = []
    for i, completion in enumerate(completions):
        try:
            budget = budget_of(mins[i], maxs[i], tiles[i])
            text = completion_text(completion)
            if text is not None and isinstance(golds[i], str):
                key = (int(widths[i]), int(heights[i]), spaces[i] or "original", budget)
                out.append(_cached_score(text, golds[i], *key))
            else:
                out.append(
                    grounding_score(
                        completion,
                        golds[i],
                        (widths[i], heights[i]),
                        coord_space=spaces[i] or "original",
                        budget=budget,
                    )
                )
        except (ValueError, TypeError) as err:
            # Ground truth or columns of this row are bad; the completion is not to blame.
            logger.error("%s: row %d has bad ground truth or columns: %s", name, i, err)
            out.append(_NOT_APPLICABLE)
    log_means(
        kwargs.get("log_metric"),
        f"rewards/{name}/",
        {part: [getattr(s, part) for s in out] for part in GROUNDING_PARTS},
    )
    return out


def gaussian_point_reward(
    completions: Sequence[Any],
    gold: Any = None,
    screen_width: Any = None,
    screen_height: Any = None,
    **kwargs: Any,
) -> list[float]:
    """GUI-G²'s Gaussian point reward in [0, 1] (TRL contract; columns as `actions.rewards.action_reward`)."""
    return [
        s.gaussian_point
        for s in _scores(completions, "gaussian_point", gold, screen_width, screen_height, kwargs)
    ]


def gaussian_coverage_reward(
    completions: Sequence[Any],
    gold: Any = None,
    screen_width: Any = None,
    screen_height: Any = None,
    **kwargs: Any,
) -> list[float]:
    """GUI-G²'s Gaussian coverage reward in [0, 1]: overlap of the answer's box Gaussian with the gold's."""
    scores = _scores(completions, "gaussian_coverage", gold, screen_width, screen_height, kwargs)
    return [s.gaussian_coverage for s in scores]


def iou_reward(
    completions: Sequence[Any],
    gold: Any = None,
    screen_width: Any = None,
    screen_height: Any = None,
    **kwargs: Any,
) -> list[float]:
    """Intersection over union of the answer's box and the gold box, in [0, 1]."""
    return [s.iou for s in _scores(completions, "iou", gold, screen_width, screen_height, kwargs)]
