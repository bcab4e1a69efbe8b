"""Differential check of a phone-r1 protocol against its official evaluator, run from a checkout you pass.

    python -m scripts.protocol_diff SOURCE --checkout DIR --python PY --ac-jsonl FILE --work DIR

SOURCE is one module of this folder (`infigui`, `uis1`, `osatlas`, `guir1`, `uir1`). Each generates raw
answers in the grammar its evaluator was written for (random and adversarial: near every threshold,
decimals, negatives, missing fields, odd JSON) for every step of AndroidControl's test set, scores them with
`phone-r1 eval run --predictions ... --protocol NAME` (then `eval report` and `eval rescore`, whose SRs must
be equal), runs the official evaluator on the same answers with the interpreter PY (a virtual environment
holding the official code's dependencies; the official code is imported from DIR and never copied), and
prints the agreement, step by step and on the evaluator's own aggregate figures, with the disagreeing
cases. Official code never enters this repository: DIR is a checkout fetched by the user.
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
from pathlib import Path

from scripts.protocol_diff import common

SOURCES = ("infigui", "uis1", "osatlas", "guir1", "uir1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.protocol_diff", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("source", choices=SOURCES)
    parser.add_argument("--checkout", type=Path, required=True, help="the official repository's checkout")
    parser.add_argument("--python", required=True, help="interpreter with the official code's dependencies")
    parser.add_argument(
        "--ac-jsonl", type=Path, required=True, help="UI-S1's android_control_evaluation_std.jsonl"
    )
    parser.add_argument(
        "--work", type=Path, required=True, help="working folder (the imported gold is cached)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=1, help="answers per step (one run each)")
    parser.add_argument("--episodes", type=int, help="only the first N episodes")
    parser.add_argument("--agent", help="the agent whose grammar to answer in (default: the source's first)")
    parser.add_argument("--show", type=int, default=12, help="disagreeing cases printed")
    args = parser.parse_args(argv)
    module = importlib.import_module(f"scripts.protocol_diff.{args.source}")
    agent = args.agent or module.AGENTS[0]
    if agent not in module.AGENTS:
        parser.error(f"--agent: expected one of {module.AGENTS}")
    gold_dir = args.work / (f"gold-{args.episodes}" if args.episodes else "gold")
    steps = common.prepare_gold(args.ac_jsonl, gold_dir, args.episodes)
    budget = module.BUDGET
    total_agree = total_n = 0
    ok = True
    for round_ in range(args.rounds):
        rng = random.Random(f"{args.seed}/{round_}")
        cases = [module.make_case(step, rng, agent) for step in steps]
        work = args.work / f"{args.source}-{agent}-{args.seed}-{round_}"
        ours = common.phone_r1_side(
            gold_dir / "steps", {c["step_id"]: c["raw"] for c in cases}, agent, module.PROTOCOL, budget, work
        )
        theirs = common.official_side(args.source, args.checkout, args.python, cases, work)
        agree, n, lines = common.compare(cases, ours["records"], theirs["cases"], module.FIELDS, args.show)
        total_agree, total_n = total_agree + agree, total_n + n
        srs = ours["sr"]
        # `eval run` prints its SR with four decimals.
        same_sr = srs["report"] == srs["rescore"] and abs(srs["run"] - srs["report"]) <= 5e-5
        ok &= same_sr
        fields = ", ".join(module.FIELDS)
        print(f"round {round_}: {n} cases, agreement {agree / n:.4f} ({n - agree} differ) on {fields}")
        print(
            f"  SR run / report / rescore: {srs['run']:.4f} / {srs['report']:.4f} / {srs['rescore']:.4f}"
            + ("" if same_sr else "  <- differ")
        )
        for name, mine, official in module.aggregates(ours, theirs, cases):
            close = mine is not None and official is not None and abs(mine - official) < 1e-9
            ok &= close or (mine is None and official is None)
            print(f"  {name}: phone-r1 {mine} official {official}" + ("" if close else "  <- differ"))
        for line in lines:
            print(line)
    share = total_agree / total_n
    print(f"{args.source} ({agent}, protocol {module.PROTOCOL}): {total_n} cases, agreement {share:.4f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
