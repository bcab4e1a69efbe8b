"""`aitz` against IMNearth/CoAT `coat/evaluate.py` (`ActionEvaluator`, with `coat/screen_utils.py`).

CHECKOUT is the CoAT repository; its Python needs `numpy`, `pandas`, `imagesize` and `Levenshtein`.
As released, `_parse_answer_` fills the gold point only for scroll steps (a typo: every click would be
judged against (0, 0)); this harness wraps it so a click's gold point is its touch point, scaled and
truncated as the scroll branch does, which is the rule the `aitz` card states.

An answer is a seed-format action in 0-1000 given to CoAT as its agent's `{"ACTION", "ARGS"}`: a click
(or long click) as `CLICK` with its box as `bbox` (a point as a zero-size box), a swipe as `SCROLL`
with the word CoAT's own labels use for that finger path (`coat_word`), type as `TYPE` with `text`,
key presses as `PRESS_<KEY>`, task_completed and task_impossible as `STOP`, and the types CoAT lacks
under their own names (which it maps to no type).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

from scripts.protocol_diff import aitz_data
from scripts.protocol_diff.common import TIE_DRAWS, Source, numbers_of, read_seed_answer

TIE_DELTA = 1e-9


class AitzSource(Source):
    name = "aitz"
    protocol = "aitz"
    eval_flags = ("--coord-space", "norm1000")
    importer = "aitz"
    import_flags = ("--split", "test")

    def generate(self, rng: random.Random, n: int, root: Path) -> list[dict[str, Any]]:
        cases = []
        for step in aitz_data.write_episodes(rng, n, root):
            step["image_file"] = str(root / "source" / "test" / step["entry"]["image_path"])
            raw = aitz_data.answer_for(rng, step)
            cases.append({"id": step["step_id"], "step_id": step["step_id"], "raw": raw, "source": step})
        return cases

    def official(self, cases: list[dict[str, Any]], checkout: Path) -> list[dict[str, Any]]:
        sys.path.insert(0, str(checkout))
        from coat.evaluate import ActionEvaluator

        class Fixed(ActionEvaluator):
            """The released evaluator with the click gold point filled as the scroll branch fills it."""

            def _parse_answer_(self, gt):  # noqa: ANN001, ANN202 - the source's signature
                import imagesize

                parsed = list(super()._parse_answer_(gt))
                if parsed[0] == "click":
                    w, h = imagesize.get(gt["image_full_path"])
                    rel_y, rel_x = json.loads(gt["result_touch_yx"])
                    parsed[1] = [int(rel_x * w), int(rel_y * h)]
                return tuple(parsed)

        evaluator = Fixed("COA", "txt")
        rng = random.Random(0)

        def verdict(case: dict[str, Any], delta: float) -> dict[str, Any]:
            entry = dict(case["source"]["entry"])
            for key in ("ui_positions", "ui_text", "ui_types"):
                entry[key] = json.loads(entry[key])
            entry.update(subset="general", image_full_path=case["source"]["image_file"])
            if delta and entry["result_touch_yx"] != "[-1.0, -1.0]":
                y, x = json.loads(entry["result_touch_yx"])
                entry["result_touch_yx"] = json.dumps(
                    [y + rng.uniform(-delta, delta), x + rng.uniform(-delta, delta)]
                )
            pred = {"action_predict": {"COA": {"txt": _coat_action(case["raw"], delta, rng)}}}
            try:
                return evaluator(entry, pred)
            except (IndexError, ValueError) as err:
                # e.g. a click step without UI boxes whose gold point is outside the predicted box: the
                # source raises (a crash of the user's run); counted here as a wrong step.
                return {"exact_match": False, "answer": "?", "pred": f"raised {type(err).__name__}: {err}"}

        out = []
        for case in cases:
            result = verdict(case, 0.0)
            moved = {bool(verdict(case, TIE_DELTA)["exact_match"]) for _ in range(TIE_DRAWS)}
            tie = moved != {bool(result["exact_match"])}
            out.append(
                {
                    "counted": True,
                    "correct": bool(result["exact_match"]),
                    "tie": tie,
                    "detail": f"gold {result['answer']}, read {result['pred']}"
                    + (f"; moved by {TIE_DELTA}: {sorted(moved)}" if tie else ""),
                }
            )
        return out


def _coat_action(raw: str, delta: float, rng: random.Random) -> dict[str, Any]:
    """CoAT's `{"ACTION", "ARGS"}` for a seed-format answer in 0-1000 (see the module docstring)."""
    read = read_seed_answer(raw)
    if read is None:
        return {}
    kind, parameter = read
    if kind in ("click", "long_click"):
        values = numbers_of(parameter)
        if len(values) == 2:
            values = values * 2
        values = [v + rng.uniform(-delta, delta) * 1000 for v in values]
        return {"ACTION": kind.upper(), "ARGS": {"bbox": values}}
    if kind == "swipe":
        x1, y1, x2, y2 = (v / 1000 for v in numbers_of(parameter))
        return {"ACTION": "SCROLL", "ARGS": {"direction": aitz_data.coat_word([y1, x1], [y2, x2])}}
    if kind == "type":
        return {"ACTION": "TYPE", "ARGS": {"text": parameter}}
    if kind in ("back", "home", "enter", "recent_apps"):
        return {"ACTION": f"PRESS_{kind.upper()}", "ARGS": {}}
    if kind in ("task_completed", "task_impossible"):
        return {"ACTION": "STOP", "ARGS": {}}
    return {"ACTION": kind.upper(), "ARGS": {}}


SOURCE = AitzSource()
