"""`aitw` against google-research/google-research `android_in_the_wild/action_matching.py`.

CHECKOUT is a folder holding `android_in_the_wild/` (the google-research repository, or that folder of
it); its Python needs `jax` and `numpy`. Gold steps are AITZ's (AITW ids, normalised (y, x), pixel
`ui_positions` normalised by the PNG size); an answer is a seed-format action in 0-1000, given to
`check_actions_match` as AITW's action: a click or long click as a DUAL_POINT touching and lifting at its
box centre, a swipe as a DUAL_POINT from start to end, the other types by their AITW id (types AITW has
no id for get one no gold has).

JAX computes in float32 by default. Each case is judged as released, with `jax_enable_x64`, and with every
coordinate moved by up to `TIE_DELTA` (three random draws in each precision); a case whose verdicts differ
is a float tie (a distance, an edge or a main-axis comparison within rounding of its threshold), reported
apart.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

from scripts.protocol_diff import aitz_data
from scripts.protocol_diff.common import Source, numbers_of, read_seed_answer

# AITW action ids of the seed-format types; 2 (an unused id) for types AITW lacks.
TIE_DELTA = 2e-6  # a few float32 steps at 1.0
AITW_IDS = {
    "click": 4,
    "long_click": 4,
    "swipe": 4,
    "type": 3,
    "back": 5,
    "home": 6,
    "enter": 7,
    "task_completed": 10,
    "task_impossible": 11,
}


class AitwSource(Source):
    name = "aitw"
    protocol = "aitw"
    eval_flags = ("--coord-space", "norm1000")
    importer = "aitz"
    import_flags = ("--split", "test")

    def generate(self, rng: random.Random, n: int, root: Path) -> list[dict[str, Any]]:
        cases = []
        for step in aitz_data.write_episodes(rng, n, root):
            raw = aitz_data.answer_for(rng, step)
            cases.append({"id": step["step_id"], "step_id": step["step_id"], "raw": raw, "source": step})
        return cases

    def official(self, cases: list[dict[str, Any]], checkout: Path) -> list[dict[str, Any]]:
        sys.path.insert(0, str(checkout))
        import jax
        import numpy as np
        from android_in_the_wild import action_matching

        rng = random.Random(0)

        def moved(values: Any, delta: float) -> Any:
            if not delta:
                return values
            return [v + rng.uniform(-delta, delta) for v in values]

        def judge_all(delta: float = 0.0) -> list[bool]:
            out = []
            for case in cases:
                entry, screen = case["source"]["entry"], case["source"]["screen"]
                w, h = screen
                positions = np.array(
                    [
                        moved([y / h, x / w, bh / h, bw / w], delta)
                        for y, x, bh, bw in json.loads(entry["ui_positions"])
                    ],
                    dtype=float,
                ).reshape(-1, 4)
                g_touch = moved(json.loads(entry["result_touch_yx"]), delta)
                g_lift = moved(json.loads(entry["result_lift_yx"]), delta)
                pred = _prediction(case["raw"])
                if pred is None:
                    out.append(False)
                    continue
                p_touch, p_lift, p_type = moved(pred[0], delta), moved(pred[1], delta), pred[2]
                if len(positions) == 0:
                    # jnp.max of no boxes raises; with no annotation no tap is in a box.
                    positions = np.array([[2.0, 2.0, 0.0, 0.0]])
                hit = action_matching.check_actions_match(
                    p_touch, p_lift, p_type, g_touch, g_lift, entry["result_action_type"], positions
                )
                out.append(bool(hit))
            return out

        as_released = judge_all()
        moved_32 = [judge_all(TIE_DELTA) for _ in range(3)]
        jax.config.update("jax_enable_x64", True)
        exact = judge_all()
        moved_64 = [judge_all(TIE_DELTA) for _ in range(3)]
        out = []
        for i, verdict in enumerate(as_released):
            others = {exact[i], *(m[i] for m in moved_32 + moved_64)}
            tie = others != {verdict}
            detail = f"float64 says {exact[i]}; moved by {TIE_DELTA}: {sorted(others)}" if tie else ""
            out.append({"counted": True, "correct": verdict, "tie": tie, "detail": detail})
        return out


def _prediction(raw: str) -> tuple[list[float], list[float], int] | None:
    """AITW's (touch_yx, lift_yx, action type) of a seed-format answer in 0-1000."""
    read = read_seed_answer(raw)
    if read is None:
        return None
    kind, parameter = read
    if kind in ("click", "long_click"):
        values = numbers_of(parameter)
        if len(values) == 2:
            values = values * 2
        x, y = (values[0] + values[2]) / 2 / 1000, (values[1] + values[3]) / 2 / 1000
        return [y, x], [y, x], 4
    if kind == "swipe":
        x1, y1, x2, y2 = (v / 1000 for v in numbers_of(parameter))
        return [y1, x1], [y2, x2], 4
    return [-1.0, -1.0], [-1.0, -1.0], AITW_IDS.get(kind, 2)


SOURCE = AitwSource()
