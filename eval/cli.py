"""`phone-r1 eval run | report | compare`; model, client and plotting libraries load inside the handlers."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from actions.vocab import DEFAULT_HISTORY, HISTORY_MODES
from agent.spec import add_agent_flags, default_adapter

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `eval` and its subcommands to the `phone-r1` parser."""
    # The registries are lazy (names and summaries only), cheap enough for `--help`.
    from actions.grounding_protocols import GROUNDING_PROTOCOLS
    from actions.protocols import PROTOCOLS
    from actions.registry import argument_across

    parser = subparsers.add_parser("eval", help="offline step-accuracy evaluation and reports")
    sub = parser.add_subparsers(dest="eval_command", metavar="EVAL_COMMAND")
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])

    run = sub.add_parser(
        "run",
        help="score an agent on episodes, step by step (resumable)",
        description="Score an agent on every step of some episodes with the gold history (teacher forcing). "
        "Records are appended to the results file as steps finish; rerunning with the same file resumes.",
    )
    run.add_argument(
        "--episodes",
        type=Path,
        required=True,
        help="raw episode folder or converted JSONL, or a grounding set (grounding.jsonl; docs/eval.md, "
        "Grounding)",
    )
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    source.add_argument("--local", type=Path, metavar="CHECKPOINT", help="in-process transformers checkpoint")
    source.add_argument(
        "--predictions",
        type=Path,
        metavar="FILE",
        help='score answers produced elsewhere: JSONL of {"step_id", "raw"}',
    )
    run.add_argument("--model", help="served model name (required with --base-url)")
    run.add_argument(
        "-o", "--output", type=Path, required=True, help="results JSONL (resumed when it exists)"
    )
    add_agent_flags(
        run,
        "api-key-env",
        "checkpoint-meta",
        "template",
        "coord-space",
        "override-checkpoint-meta",
        "adapter",
        "pixels",
        defaults={"api-key-env": "OPENAI_API_KEY"},
        help={
            "api-key-env": "environment variable holding the API key (default OPENAI_API_KEY)",
            "agent": "prompt and answer grammar to ask in (an agent adapter on episodes: default the one the "
            f"checkpoint's phone_r1.json records, else {default_adapter()}; a grounding adapter on a "
            "grounding set)",
            "agent-prompt": "replace the adapter's prompt with FILE (a model's official text; ${width}, "
            "${height}, ${task}, ${history}, and on a grounding set ${instruction}, are filled in)",
        },
        grounding=True,
    )
    run.add_argument(
        "--protocol",
        **argument_across(
            [PROTOCOLS, GROUNDING_PROTOCOLS],
            "how answers are judged (default box on episodes; on a grounding set, its benchmark's, from "
            "dataset_card.json, else region)",
        ),
    )
    run.add_argument(
        "--temperature", type=float, default=0.0, help="sampling temperature (default 0: greedy), recorded"
    )
    run.add_argument(
        "--language",
        metavar="LANG",
        help="grounding: send the instruction in this language (an item's `instructions` key, e.g. cn)",
    )
    run.add_argument(
        "--history",
        choices=HISTORY_MODES,
        default=DEFAULT_HISTORY,
        help="gold: every step sees the recorded history (teacher forcing, the default); own: the agent's "
        "own earlier answers, each episode stopping at its first mismatch; own-patched: own answers, each "
        "mismatch replaced by the gold and the episode going on",
    )
    run.add_argument(
        "--concurrency",
        type=int,
        default=32,
        help="requests in flight (default 32, sized for a vLLM server); with --history own*: episodes",
    )
    run.add_argument("--timeout", type=float, default=120.0, help="seconds per request attempt")
    run.add_argument("--max-retries", type=int, default=2, help="retries per request (back-off between)")
    run.add_argument("--max-tokens", type=int, default=1024, help="completion token limit")
    run.add_argument(
        "--limit",
        type=int,
        help="only the first N steps (with --history own*: the whole episodes holding them)",
    )
    run.add_argument("--retry-errors", action="store_true", help="redo steps whose last attempt failed")
    run.add_argument(
        "--skip-invalid",
        action="store_true",
        help="skip malformed step records (each named, then counted in the summary) instead of stopping "
        "at the first",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(func=_run)

    report = sub.add_parser("report", help="metrics.json, report.md and report.html for a results file")
    report.add_argument("results", type=Path, help="results JSONL written by `phone-r1 eval run`")
    report.add_argument("-o", "--output", type=Path, help="output folder (default: next to the results file)")
    report.add_argument(
        "--protocol",
        **argument_across(
            [PROTOCOLS, GROUNDING_PROTOCOLS], "rescore under this protocol (default: the run's)"
        ),
    )
    report.add_argument(
        "--episodes", type=Path, help="episodes of the run: their gold context feeds the per-protocol table"
    )
    report.add_argument("--max-failures", type=int, default=24, help="failed-step thumbnails to show")
    report.add_argument(
        "--against",
        type=Path,
        metavar="GOLD_RESULTS",
        help="with an own-history run: a teacher-forced run of the same agent, for the gap between them",
    )
    report.set_defaults(func=_report)

    compare = sub.add_parser("compare", help="metric deltas and flipped steps between two results files")
    compare.add_argument("a", type=Path, help="results JSONL of the baseline run")
    compare.add_argument("b", type=Path, help="results JSONL of the run compared with it")
    compare.add_argument(
        "--protocol",
        **argument_across(
            [PROTOCOLS, GROUNDING_PROTOCOLS], "compare under this protocol (default: the runs')"
        ),
    )
    compare.add_argument("--max-flips", type=int, default=20, help="flipped steps listed per direction")
    compare.add_argument("--json", type=Path, help="also write the comparison as JSON here")
    compare.set_defaults(func=_compare)

    rescore = sub.add_parser(
        "rescore",
        help="re-judge a stored run under match protocols, without calling the model",
        description="Re-judge every step of a results file under each protocol and print one table "
        "(SR, TM, GR, episode success, steps counted) with a column per protocol.",
    )
    rescore.add_argument("results", type=Path, help="results JSONL of a run (`eval run -o`)")
    rescore.add_argument("--episodes", type=Path, help="the run's episodes (gold context for the protocols)")
    rescore.add_argument(
        "--protocol",
        nargs="+",
        default=["all"],
        metavar="NAME",
        help=f"'all' (default) or names among: {', '.join(PROTOCOLS)}; on a grounding run among: "
        f"{', '.join(GROUNDING_PROTOCOLS)} (or dotted paths like {PROTOCOLS.example})",
    )
    rescore.add_argument("-o", "--output", type=Path, help="also write the table as JSON here")
    rescore.set_defaults(func=_rescore)

    from eval import parity  # its module imports only the standard library at top level

    parity.register(sub)


def _run(args: argparse.Namespace) -> int:
    from eval.run import run_command

    return run_command(args)


def _grounding_run(path: Path, command: str) -> bool | None:
    """True when `path` holds a grounding run, False for a navigation run, None (and a message) when it
    cannot be read."""
    from eval.grounding_report import is_grounding
    from eval.results import read_results

    try:
        return is_grounding(read_results(path))
    except (OSError, ValueError) as exc:
        print(f"phone-r1 eval {command}: {exc}", file=sys.stderr)
        return None


def _family_check(protocol: str | None, grounding: bool, command: str) -> bool:
    """False (and a message) when `protocol` names a rule of the other task's family."""
    from actions.grounding_protocols import GROUNDING_PROTOCOLS
    from actions.protocols import PROTOCOLS

    if protocol is None:
        return True
    family = GROUNDING_PROTOCOLS if grounding else PROTOCOLS
    try:
        family.check_name(protocol)
    except ValueError as exc:
        task = "a grounding run" if grounding else "a navigation run"
        print(f"phone-r1 eval {command}: {exc} ({task})", file=sys.stderr)
        return False
    return True


def _grounding_report(args: argparse.Namespace, out: Path) -> int:
    from actions.grounding_protocols import NotApplicable
    from eval.grounding_report import summary_text, write_grounding_report

    if not _family_check(args.protocol, True, "report"):
        return 2
    try:
        paths = write_grounding_report(
            args.results, out, protocol=args.protocol, max_failures=args.max_failures
        )
        print(summary_text(args.results, args.protocol))
    except (OSError, ValueError, NotApplicable) as exc:
        print(f"phone-r1 eval report: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


def _report(args: argparse.Namespace) -> int:
    from eval.report import write_report

    out = args.output or args.results.with_suffix("").parent / f"{args.results.stem}_report"
    grounding = _grounding_run(args.results, "report")
    if grounding is None:
        return 2
    if grounding:
        return _grounding_report(args, out)
    if not _family_check(args.protocol, False, "report"):
        return 2
    try:
        paths = write_report(
            args.results,
            out,
            protocol=args.protocol,
            max_failures=args.max_failures,
            against=args.against,
            episodes=args.episodes,
        )
    except (OSError, ValueError) as exc:
        print(f"phone-r1 eval report: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    from eval.provenance import header_warnings
    from eval.results import read_results

    for warning in header_warnings(read_results(args.results).header):
        print(f"warning: checkpoint settings: {warning}", file=sys.stderr)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from eval.compare import compare_files, format_comparison

    kinds = [_grounding_run(args.a, "compare"), _grounding_run(args.b, "compare")]
    if None in kinds:
        return 2
    if kinds[0] != kinds[1]:
        print("phone-r1 eval compare: one run is a grounding run and the other is not", file=sys.stderr)
        return 2
    if not _family_check(args.protocol, bool(kinds[0]), "compare"):
        return 2
    try:
        if kinds[0]:
            from eval.grounding_report import format_grounding_comparison, grounding_compare
            from eval.results import read_results

            comparison = grounding_compare(read_results(args.a), read_results(args.b), protocol=args.protocol)
            text = format_grounding_comparison(comparison, max_flips=args.max_flips)
        else:
            comparison = compare_files(args.a, args.b, protocol=args.protocol)
            text = format_comparison(comparison, max_flips=args.max_flips)
    except (OSError, ValueError) as exc:
        print(f"phone-r1 eval compare: {exc}", file=sys.stderr)
        return 2
    print(text)
    if args.json:
        import json

        args.json.write_text(json.dumps(comparison, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def _rescore(args: argparse.Namespace) -> int:
    import json

    from actions.grounding_protocols import GROUNDING_PROTOCOLS
    from actions.protocols import PROTOCOLS
    from actions.registry import argument_across
    from eval.rescore import format_table, load_contexts, protocol_names, rescore
    from eval.results import read_results

    # Names first (a did-you-mean over both families); which family applies is the run's to say.
    check = argument_across([PROTOCOLS, GROUNDING_PROTOCOLS], "")["type"]
    for name in args.protocol:
        if name != "all":
            try:
                check(name)
            except argparse.ArgumentTypeError as err:
                print(f"phone-r1 eval rescore: --protocol: {err}", file=sys.stderr)
                return 2
    try:
        results = read_results(args.results)
        from eval.grounding_report import is_grounding

        if is_grounding(results):
            from eval.grounding_report import (
                format_grounding_rescore,
                grounding_protocol_names,
                grounding_rescore,
            )

            table = grounding_rescore(results, grounding_protocol_names(args.protocol))
            text = format_grounding_rescore(table)
        else:
            names = protocol_names(args.protocol)
            contexts = load_contexts(args.episodes, results, label=args.results) if args.episodes else {}
            table = rescore(results, names, contexts)
            text = format_table(table)
    except (ValueError, FileNotFoundError) as err:
        print(f"phone-r1 eval rescore: {err}", file=sys.stderr)
        return 2
    print(text)
    if args.output:
        payload = {"results": str(args.results.resolve()), "protocols": table}
        args.output.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0
