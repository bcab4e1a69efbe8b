"""The differential checks on AndroidControl's test set (`infigui`, `uis1`, `osatlas`, `guir1`, `uir1`).

    python -m scripts.protocol_diff SOURCE --checkout DIR --python PY --ac-jsonl FILE --work DIR

Each of those source modules generates raw answers in the grammar its evaluator was written for (random and
adversarial: near every threshold, decimals, negatives, missing fields, odd JSON) for every step of
AndroidControl's test set, scores them with `phone-r1 eval run --predictions ... --protocol NAME` (then
`eval report` and `eval rescore`, whose SRs must be equal), runs the official evaluator on the same answers
with the interpreter PY (a virtual environment holding the official code's dependencies; the official code
is imported from DIR and never copied), and prints the agreement, step by step and on the evaluator's own
aggregate figures, with the disagreeing cases. This module holds what they share: the gold steps, the
phone-r1 side, the comparison, and the command (`main`).

The gold side is AndroidControl's test set as UI-S1 ships it (`UI-S1/evaluation/dataset/
android_control_evaluation_std.jsonl` in X-PLUG/MobileAgent: 1,543 episodes, 8,444 steps, with the
candidate boxes of the accessibility tree). It is imported with `phone-r1 data import androidcontrol-jsonl`
(placeholder screenshots of 1080x2400 or 1440x3120, told apart by the
episode's coordinates: the file ships paths only) for phone-r1, and each source module builds
its own evaluator's gold from the original JSONL line, so the two sides share nothing but the raw answers.

This module is imported by the official side too (run with another interpreter), so it imports only the
standard library at top level.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.protocol_diff import ANDROIDCONTROL_SOURCES

REPO = Path(__file__).resolve().parents[2]
SCREEN = (1080, 2400)
# The file's other screen size: its swipes are drawn from (720, 2340), 0.75 of the height, on these.
LARGE_SCREEN = (1440, 3120)


def screen_of(line: dict[str, Any]) -> tuple[int, int]:
    """The episode's screen size, from its coordinates (the JSONL holds paths, not images): 1440x3120 when
    any point or box goes past 1080x2400."""
    xs, ys = [], []
    for step in line["steps"]:
        action, check = step["action_content"], step.get("check_options") or {}
        for key in ("coordinate", "coordinate2"):
            if key in action:
                xs.append(action[key][0])
                ys.append(action[key][1])
        for box in check.get("candidate_bbox") or []:
            xs += [box[0], box[2]]
            ys += [box[1], box[3]]
    large = (xs and max(xs) > SCREEN[0]) or (ys and max(ys) > SCREEN[1])
    return LARGE_SCREEN if large else SCREEN


@dataclass
class GoldStep:
    """One AndroidControl test step: phone-r1's imported step and the original JSONL step."""

    step_id: str
    episode_id: str
    index: int
    episode_length: int
    screen: tuple[int, int]
    original: dict[str, Any]  # the JSONL step: action_content, check_options, step_instruction
    line: dict[str, Any] = field(repr=False)  # the whole JSONL episode
    gold: Any = None  # phone-r1's typed gold action
    context: Any = None


def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
    """A command with its output captured; a failure stops the check with the command's stderr."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, **kwargs)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"failed ({done.returncode}): {' '.join(map(str, cmd))[:300]}")
    return done


def phone_r1(*args: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "phone_r1.cli", *args])


def prepare_gold(jsonl: Path, work: Path, limit: int | None = None) -> list[GoldStep]:
    """Import the JSONL once (cached under `work`) and pair every imported step with its original."""
    from PIL import Image

    from episodes.readers import iter_steps

    shots, steps_dir = work / "shots", work / "steps"
    lines = [json.loads(line) for line in jsonl.open(encoding="utf-8") if line.strip()]
    if limit is not None:
        lines = lines[:limit]
    if not (steps_dir / "dataset_card.json").is_file():
        shots.mkdir(parents=True, exist_ok=True)
        blanks = {}
        for size in (SCREEN, LARGE_SCREEN):
            Image.new("RGB", size, (240, 240, 240)).save(shots / f"_blank_{size[0]}.png")
            blanks[size] = (shots / f"_blank_{size[0]}.png").read_bytes()
        for line in lines:
            blank = blanks[screen_of(line)]
            for step in line["steps"]:
                target = shots / Path(step["screenshot"]).name
                if not target.exists():
                    target.write_bytes(blank)
        subset = work / "gold.jsonl"
        subset.write_text(
            "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
        )
        phone_r1(
            "data",
            "import",
            "androidcontrol-jsonl",
            str(subset),
            "-o",
            str(steps_dir),
            "--screenshots",
            str(shots),
        )
    by_id = {str(line["episode_id"]): line for line in lines}
    out = []
    for step in iter_steps(steps_dir):
        source = step.context.source
        line = by_id[source.episode_id]
        out.append(
            GoldStep(
                step.step_id,
                source.episode_id,
                source.step_index,
                len(line["steps"]),
                tuple(step.screen_size) if getattr(step, "screen_size", None) else SCREEN,
                line["steps"][source.step_index],
                line,
                step.gold,
                step.context,
            )
        )
    return out


def phone_r1_side(
    steps_dir: Path,
    answers: dict[str, str],
    agent: str,
    protocol: str,
    budget: tuple[int, int] | None,
    work: Path,
) -> dict[str, Any]:
    """`eval run --predictions`, `eval report` and `eval rescore` on the answers: records, three SRs."""
    work.mkdir(parents=True, exist_ok=True)
    predictions, results = work / "predictions.jsonl", work / "results.jsonl"
    predictions.write_text(
        "".join(json.dumps({"step_id": k, "raw": v}, ensure_ascii=False) + "\n" for k, v in answers.items()),
        encoding="utf-8",
    )
    results.unlink(missing_ok=True)
    flags = ["--min-pixels", str(budget[0]), "--max-pixels", str(budget[1])] if budget else []
    done = phone_r1(
        "eval",
        "run",
        "--episodes",
        str(steps_dir),
        "--predictions",
        str(predictions),
        "--agent",
        agent,
        "--protocol",
        protocol,
        "--no-progress",
        "--concurrency",
        "64",
        "-o",
        str(results),
        *flags,
    )
    run_sr = float(done.stdout.split("SR ", 1)[1].split(";", 1)[0])
    phone_r1("eval", "report", str(results), "-o", str(work / "report"), "--episodes", str(steps_dir))
    metrics = json.loads((work / "report" / "metrics.json").read_text(encoding="utf-8"))
    phone_r1(
        "eval",
        "rescore",
        str(results),
        "--episodes",
        str(steps_dir),
        "--protocol",
        protocol,
        "-o",
        str(work / "rescore.json"),
    )
    rescored = json.loads((work / "rescore.json").read_text(encoding="utf-8"))["protocols"][protocol]
    records, header = {}, None
    for line in results.open(encoding="utf-8"):
        obj = json.loads(line)
        if obj.get("kind") == "step":
            records[obj["step_id"]] = obj
        else:
            header = obj
    return {
        "header": header,
        "records": records,
        "metrics": metrics,
        "sr": {"run": run_sr, "report": metrics["sr"], "rescore": rescored["sr"]},
    }


def official_side(
    module: str, checkout: Path, python: str, cases: list[dict[str, Any]], work: Path
) -> dict[str, Any]:
    """Run `module`'s official harness under `python` (the interpreter with the official code's deps)."""
    work.mkdir(parents=True, exist_ok=True)
    cases_file, out_file = work / "cases.jsonl", work / "official.json"
    cases_file.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    run(
        [
            python,
            "-m",
            f"scripts.protocol_diff.{module}",
            "--official",
            str(checkout),
            str(cases_file),
            str(out_file),
            str(work),
        ]
    )
    return json.loads(out_file.read_text(encoding="utf-8"))


def read_cases(path: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]


def compare(
    cases: list[dict[str, Any]],
    ours: dict[str, dict[str, Any]],
    theirs: list[dict[str, Any]],
    fields: tuple[str, ...],
    show: int,
) -> tuple[int, int, list[str]]:
    """Per case: the official verdict's `fields` against phone-r1's verdict; (agreeing, compared, report)."""
    agree = n = 0
    kinds: Counter[str] = Counter()
    examples: list[str] = []
    for case, official in zip(cases, theirs, strict=True):
        if official is None:
            continue
        verdict = ours[case["step_id"]]["verdict"]
        mine = {
            "correct": bool(verdict.get("correct")),
            "type_match": bool(verdict.get("type_match")),
            "counted": bool(verdict.get("counted", True)),
            "raised": bool(verdict.get("raised")),
        }
        n += 1
        diff = [f for f in fields if f in official and bool(official[f]) != mine[f]]
        if not diff:
            agree += 1
            continue
        differing = ", ".join(f"{f} official={official[f]} phone-r1={mine[f]}" for f in diff)
        key = f"{case.get('kind', '?')}: {differing}"
        kinds[key] += 1
        if len(examples) < show:
            gold = json.dumps(case.get("gold"), ensure_ascii=False)[:160]
            examples.append(
                f"  {case['step_id']} [{case.get('kind')}] gold={gold}\n    raw={case['raw'][:240]!r}\n"
                f"    official={official} phone-r1={mine} reason={verdict.get('reason')!r}"
            )
    lines = [f"  {count:6d}  {key}" for key, count in kinds.most_common()]
    return agree, n, lines + (["examples:"] + examples if examples else [])


def main(argv: list[str] | None = None) -> int:
    """The check of one AndroidControl source; exit 0 when every SR and own figure agrees, 1 otherwise."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.protocol_diff", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("source", choices=ANDROIDCONTROL_SOURCES)
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
    steps = prepare_gold(args.ac_jsonl, gold_dir, args.episodes)
    budget = module.BUDGET
    total_agree = total_n = 0
    ok = True
    for round_ in range(args.rounds):
        rng = random.Random(f"{args.seed}/{round_}")
        cases = [module.make_case(step, rng, agent) for step in steps]
        work = args.work / f"{args.source}-{agent}-{args.seed}-{round_}"
        ours = phone_r1_side(
            gold_dir / "steps", {c["step_id"]: c["raw"] for c in cases}, agent, module.PROTOCOL, budget, work
        )
        theirs = official_side(args.source, args.checkout, args.python, cases, work)
        agree, n, lines = compare(cases, ours["records"], theirs["cases"], module.FIELDS, args.show)
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
