"""`python -m scripts.protocol_diff SOURCE --official CHECKOUT`: phone-r1 beside the official evaluator.

Prints the step-by-step agreement (all cases, and off float ties where the source's precision decides a
verdict), the SR each side gives (official; `eval run`, `eval rescore` and `eval report` for phone-r1)
and the disagreeing cases. Exit 0 when the agreement off ties reaches `--min-agreement`, 1 otherwise,
2 for bad usage. The AndroidControl sources (`infigui`, `uis1`, `osatlas`, `guir1`, `uir1`) are handed
to `scripts.protocol_diff.androidcontrol`, with its own options.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from scripts.protocol_diff import ANDROIDCONTROL_SOURCES, SOURCES
from scripts.protocol_diff.official import load_source

REPO = Path(__file__).resolve().parents[2]


def _phone_r1(*args: str) -> str:
    """Run a `phone-r1` command of this checkout in this process; its stdout, or SystemExit naming it."""
    import contextlib
    import io

    from phone_r1.cli import main as phone_r1

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = phone_r1(list(args))
    if code != 0:
        raise SystemExit(f"phone-r1 {' '.join(args)} failed ({code}):\n{err.getvalue()[-3000:]}")
    return out.getvalue()


def run_official(name: str, python: str, checkout: Path, cases_path: Path, out: Path) -> list[dict[str, Any]]:
    """The official verdicts, computed in `python` with the checkout on its path."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [python, "-m", "scripts.protocol_diff.official", name, str(checkout), str(cases_path), str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the official evaluator failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def run_phone_r1(source: Any, cases: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    """Import (or read) the episodes, score the raw answers, rescore and report; per-step verdicts and SRs."""
    episodes = work / "source" if source.importer is None else work / "episodes"
    if source.importer is not None:
        _phone_r1(
            "data", "import", source.importer, str(work / "source"), "-o", str(episodes), *source.import_flags
        )
    predictions = work / "predictions.jsonl"
    with predictions.open("w", encoding="utf-8") as f:
        for case in cases:
            f.write(json.dumps({"step_id": case["step_id"], "raw": case["raw"]}, ensure_ascii=False) + "\n")
    results = work / "results.jsonl"
    if results.exists():
        results.unlink()
    out = _phone_r1(
        "eval", "run", "--episodes", str(episodes), "--predictions", str(predictions), "--agent",
        source.agent, "--protocol", source.protocol, *source.eval_flags, "-o", str(results),
        "--no-progress", "--concurrency", "64",
    )  # fmt: skip
    run_sr = re.search(r"SR (\S+);", out)
    rescore = work / "rescore.json"
    _phone_r1("eval", "rescore", str(results), "--episodes", str(episodes), "--protocol", source.protocol,
              "-o", str(rescore))  # fmt: skip
    _phone_r1("eval", "report", str(results), "--episodes", str(episodes), "-o", str(work / "report"))
    records = {}
    for line in results.read_text(encoding="utf-8").splitlines()[1:]:
        record = json.loads(line)
        records[record["step_id"]] = record
    metrics = json.loads((work / "report" / "metrics.json").read_text(encoding="utf-8"))
    return {
        "records": records,
        "run_sr": float(run_sr.group(1)) if run_sr and run_sr.group(1) != "n/a" else None,
        "rescore_sr": json.loads(rescore.read_text(encoding="utf-8"))["protocols"][source.protocol].get("sr"),
        "report_sr": metrics.get("sr"),
    }


def compare(
    cases: list[dict[str, Any]], official: list[dict[str, Any]], ours: dict[str, Any]
) -> dict[str, Any]:
    """Step-by-step agreement of (counted, correct) and the disagreeing cases."""
    rows = []
    for case, theirs in zip(cases, official, strict=True):
        record = ours["records"].get(case["step_id"])
        if record is None:
            raise SystemExit(f"case {case['id']}: phone-r1 has no result for step {case['step_id']}")
        verdict = record["verdict"]
        mine = (verdict.get("counted", True), bool(verdict.get("correct")) and not record.get("error"))
        official_pair = (bool(theirs["counted"]), bool(theirs["correct"]))
        agree = mine == official_pair or (not mine[0] and not official_pair[0])
        rows.append((case, theirs, record, mine, official_pair, agree))
    n = len(rows)
    ties = [r for r in rows if r[1].get("tie")]
    agree = sum(r[5] for r in rows)
    agree_off_ties = sum(r[5] for r in rows if not r[1].get("tie"))
    counted = [r for r in rows if r[4][0]]
    official_sr = sum(r[4][1] for r in counted) / len(counted) if counted else None
    return {
        "n": n,
        "agreement": agree / n if n else None,
        "ties": len(ties),
        "agreement_off_ties": agree_off_ties / (n - len(ties)) if n - len(ties) else None,
        "official_sr": official_sr,
        "official_counted": len(counted),
        "disagreements": [r for r in rows if not r[5]],
    }


def _show(row: tuple, width: int = 300) -> str:
    case, theirs, record, mine, official_pair, _ = row
    gold = json.dumps(record["gold"], ensure_ascii=False)
    lines = [
        f"- case {case['id']} (step {case['step_id']}){' [float tie]' if theirs.get('tie') else ''}",
        f"    gold: {gold[:width]}",
        f"    raw: {case['raw'][:width]!r}",
        f"    phone-r1 (counted, correct) = {mine}: {record['verdict'].get('reason', '')[:width]}",
        f"    official (counted, correct) = {official_pair}: {str(theirs.get('detail', ''))[:width]}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run one source's check; the AndroidControl sources have their own options (`androidcontrol.main`)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ANDROIDCONTROL_SOURCES:
        from scripts.protocol_diff import androidcontrol

        return androidcontrol.main(argv)
    parser = argparse.ArgumentParser(
        prog="python -m scripts.protocol_diff", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "source",
        choices=sorted(SOURCES),
        help=f"which official evaluator (and {', '.join(ANDROIDCONTROL_SOURCES)}: see their own --help)",
    )
    parser.add_argument(
        "--official", type=Path, required=True, metavar="CHECKOUT", help="checkout of the official code"
    )
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter with the official code's dependencies"
    )
    parser.add_argument("--cases", type=int, default=3000, help="number of generated cases (default 3000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--work", type=Path, help="working folder (default: a new temporary one)")
    parser.add_argument("--show", type=int, default=20, help="disagreeing cases printed (default 20)")
    parser.add_argument(
        "--min-agreement", type=float, default=0.999, help="exit 1 below this agreement off float ties"
    )
    parser.add_argument("--json", type=Path, help="also write the summary and every disagreement here")
    args = parser.parse_args(argv)
    if not args.official.is_dir():
        parser.error(f"--official {args.official}: expected a checkout folder, found none")
    if args.cases < 1:
        parser.error(f"--cases: expected a positive number, found {args.cases}")
    work = args.work or Path(tempfile.mkdtemp(prefix=f"protocol-diff-{args.source}-"))
    if work.exists() and any(work.iterdir()):
        parser.error(f"--work {work}: expected an empty or new folder")
    work.mkdir(parents=True, exist_ok=True)

    source = load_source(args.source)
    cases = source.generate(random.Random(args.seed), args.cases, work)
    cases_path = work / "cases.json"
    cases_path.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    official = run_official(args.source, args.python, args.official, cases_path, work / "official.json")
    ours = run_phone_r1(source, cases, work)
    summary = compare(cases, official, ours)

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    kinds = Counter(r[2]["gold"]["action_type"] for r in summary["disagreements"])
    print(f"source {args.source} -> protocol {source.protocol}, agent {source.agent}, seed {args.seed}")
    print(f"cases: {summary['n']} ({summary['ties']} float ties); work folder: {work}")
    print(f"agreement: {pct(summary['agreement'])}; off float ties: {pct(summary['agreement_off_ties'])}")
    print(
        f"SR: official {pct(summary['official_sr'])} over {summary['official_counted']} counted steps; "
        f"phone-r1 eval run {pct(ours['run_sr'])}, eval rescore {pct(ours['rescore_sr'])}, "
        f"eval report {pct(ours['report_sr'])}"
    )
    print(f"disagreements: {len(summary['disagreements'])} by gold type {dict(kinds)}")
    for row in summary["disagreements"][: args.show]:
        print(_show(row))
    if args.json:
        dump = {k: v for k, v in summary.items() if k != "disagreements"} | {
            "sr": {k: ours[k] for k in ("run_sr", "rescore_sr", "report_sr")},
            "disagreements": [
                {"case": r[0], "official": r[1], "phone_r1": r[2]["verdict"]}
                for r in summary["disagreements"]
            ],
        }
        args.json.write_text(json.dumps(dump, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if (summary["agreement_off_ties"] or 0) >= args.min_agreement else 1


if __name__ == "__main__":
    sys.exit(main())
