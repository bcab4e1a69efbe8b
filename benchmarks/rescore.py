"""Rescoring throughput: a generated AndroidControl-sized run (8,444 steps) re-judged under every protocol.

The mix follows the AndroidControl test set by gold type (click 5,074, swipe 1,211, type 632, open_app
608, wait 567, back 343, long_click 9); every click carries candidate and UI boxes and every swipe a
stated direction and every open_app step a candidate box, so no protocol refuses. Pure CPU; run it on
one core:

    taskset -c 0 .venv/bin/python benchmarks/rescore.py [--steps 8444]

The last line is the headline figure: `rescore_all_seconds: <wall seconds for --protocol all>`.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actions.context import GoldContext  # noqa: E402
from actions.coords import model_screen_size  # noqa: E402
from actions.protocols import PROTOCOLS  # noqa: E402
from actions.protocols.androidcontrol_qwen import INFIGUI_BUDGET  # noqa: E402
from eval.rescore import rescore  # noqa: E402
from eval.results import Results  # noqa: E402

MIX = {"click": 5074, "swipe": 1211, "type": 632, "open_app": 608, "wait": 567, "back": 343, "long_click": 9}
SCREEN = (1080, 2400)


def wire(kind: str, param: str) -> dict:
    return {"action_type": kind, "action_parameter": {kind: param}, "action_description": ""}


def make_run(n: int, rng: random.Random) -> tuple[Results, dict[str, GoldContext]]:
    kinds = [k for k, c in MIX.items() for _ in range(c)]
    rng.shuffle(kinds)
    records, contexts = {}, {}
    for i in range(n):
        kind = kinds[i % len(kinds)]
        episode, index = i // 6, i % 6
        step_id = f"{episode}/{index}"
        x, y = rng.randrange(100, 980), rng.randrange(100, 2300)
        ctx = GoldContext()
        if kind in ("click", "long_click"):
            box = (x - 60, y - 40, x + 60, y + 40)
            gold = wire(kind, ",".join(map(str, box)))
            px, py = x + rng.randrange(-150, 150), y + rng.randrange(-150, 150)
            pred = wire(kind if rng.random() < 0.9 else "click", f"{px},{py},{px},{py}")
            ui = [box] + [(b, b + 50, b + 200, b + 120) for b in rng.sample(range(0, 800), 30)]
            ctx = GoldContext(point=(x, y), candidate_boxes=(box,), ui_boxes=tuple(ui))
        elif kind == "swipe":
            gold = wire("swipe", f"540,1800,540,{rng.choice([600, 2300])}")
            pred = wire("swipe", f"540,1800,{rng.choice([540, 100])},{rng.choice([600, 2300])}")
            ctx = GoldContext(scroll_direction=rng.choice(["up", "down"]), scroll_direction_means="content")
        elif kind in ("type", "open_app"):
            gold = wire(kind, "weather in Paris")
            pred = wire(kind, rng.choice(["weather in Paris", "weather", "", "news"]))
            if kind == "open_app":
                ctx = GoldContext(candidate_boxes=((x - 50, y - 50, x + 50, y + 50),))  # the launcher icon
        else:
            gold = wire(kind, "")
            pred = wire(rng.choice([kind, "back", "wait"]), "")
        records[step_id] = {
            "step_id": step_id,
            "episode_id": str(episode),
            "index": index,
            "app": "app",
            "screen": list(SCREEN),
            "gold": gold,
            "prediction": pred,
            "verdict": {"correct": False, "type_match": False, "reason": ""},
        }
        contexts[step_id] = ctx
    return Results({"kind": "header", "protocol": "box"}, records), contexts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8444)
    args = parser.parse_args()
    results, contexts = make_run(args.steps, random.Random(0))
    start = time.perf_counter()
    # The resized image size (androidcontrol-qwen's threshold) comes from transformers' smart_resize,
    # imported once per process: timed apart so the two costs can be told apart.
    model_screen_size("resized", SCREEN, INFIGUI_BUDGET)
    imported = time.perf_counter() - start
    table = rescore(results, list(PROTOCOLS), contexts)
    elapsed = time.perf_counter() - start
    for name, entry in table.items():
        if "refused" in entry:
            print(f"{name:24s} refused: {entry['refused']}")
        else:
            print(f"{name:24s} SR {entry['sr']:.3f}  steps counted {entry['n_steps']}")
    print(
        f"{args.steps} steps x {len(PROTOCOLS)} protocols in {elapsed:.2f} s "
        f"({imported:.2f} s of it importing smart_resize, {elapsed - imported:.2f} s judging)"
    )
    print(f"rescore_all_seconds: {elapsed:.2f}")


if __name__ == "__main__":
    main()
