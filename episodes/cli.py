"""`phone-r1 data ...` subcommands. Heavy libraries load inside the handlers, so `--help` stays fast."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from actions.vocab import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MIN_PIXELS,
    DEFAULT_TEMPLATE,
    TEMPLATE_NAMES,
)

if TYPE_CHECKING:
    from agent.spec import AgentSpec
    from episodes.verl import ExportResult

log = logging.getLogger(__name__)
Handler = Callable[[argparse.Namespace], int]


def _bad_input_is_one_line(command: str) -> Callable[[Handler], Handler]:
    """A missing path, a folder that holds no episodes or a bad record read strictly: one line, exit 2."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(args: argparse.Namespace) -> int:
            from episodes.readers import NotEpisodes
            from episodes.records import RecordError

            try:
                return handler(args)
            except (FileNotFoundError, NotEpisodes, RecordError) as exc:
                print(f"phone-r1 data {command}: {exc}", file=sys.stderr)
                return 2

        return run

    return wrap


@_bad_input_is_one_line("validate")
def _validate(args: argparse.Namespace) -> int:
    from episodes.grounding import is_grounding_set

    if is_grounding_set(args.root):
        return _validate_grounding(args)
    from episodes.validate import validate

    report = validate(args.root, image_root=args.image_root, decode=args.decode, progress=True)
    for problem in report.problems:
        print(problem)
    errors = len(report.errors)
    print(
        f"{report.episodes} episodes, {report.steps} steps: {errors} error(s), "
        f"{len(report.problems) - errors} warning(s)",
        file=sys.stderr,
    )
    return 2 if errors else 0  # bad data is bad input


def _validate_grounding(args: argparse.Namespace) -> int:
    from episodes.grounding import validate_grounding

    report = validate_grounding(args.root, decode=args.decode)
    for problem in report.problems:
        print(problem)
    errors = len(report.errors)
    print(
        f"{report.items} grounding items: {errors} error(s), {len(report.problems) - errors} warning(s)",
        file=sys.stderr,
    )
    return 2 if errors else 0


def _grounding_set(args: argparse.Namespace) -> int:
    from episodes.grounding_steps import write_grounding_set
    from episodes.records import RecordError

    try:
        card = write_grounding_set(args.root, args.output)
    except (RecordError, FileNotFoundError, FileExistsError) as exc:
        print(f"phone-r1 data grounding-set: {exc}", file=sys.stderr)
        return 2
    skipped = ", ".join(f"{n} {why}" for why, n in card["skipped"].items()) or "none"
    print(f"wrote {card['items_out']} grounding items to {args.output} (steps skipped: {skipped})")
    return 0


@_bad_input_is_one_line("convert")
def _convert(args: argparse.Namespace) -> int:
    from episodes.convert import ConvertError, convert

    try:
        summary = convert(
            args.root,
            args.output,
            template=args.template,
            skip_invalid=args.skip_invalid,
            rejects=args.rejects,
            progress=True,
        )
    except ConvertError as exc:
        print(f"phone-r1 data convert: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {summary.written} records to {summary.output}")
    if summary.rejected:
        print(f"rejected {summary.rejected} records, reasons in {summary.rejects}", file=sys.stderr)
    return 0


@_bad_input_is_one_line("stats")
def _stats(args: argparse.Namespace) -> int:
    from episodes.stats import compute_stats, render_stats

    stats = compute_stats(args.root, image_root=args.image_root, progress=not args.json)
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=2))
    else:
        render_stats(stats)
    return 0


@_bad_input_is_one_line("synth")
def _synth(args: argparse.Namespace) -> int:
    from episodes.synth import existing_tasks, synthesize

    if (args.width is None) != (args.height is None):
        print("phone-r1 data synth: expected --width and --height together", file=sys.stderr)
        return 2
    exclude: set[str] = set()
    for folder in args.exclude_tasks_from:
        exclude |= existing_tasks(folder)
    size = (args.width, args.height) if args.width is not None else None
    written = synthesize(
        args.output,
        episodes=args.episodes,
        seed=args.seed,
        start_id=args.start_id,
        size=size,
        quality=args.quality,
        exclude_tasks=exclude,
        progress=True,
    )
    print(f"wrote {len(written)} episodes to {args.output}")
    return 0


@_bad_input_is_one_line("export-verl")
def _export_verl(args: argparse.Namespace) -> int:
    from agent.spec import spec_from_args

    # The rows hold the prompt the checkpoint will be asked with: the agent spec's one rule for the
    # flags against the checkpoint's phone_r1.json.
    try:
        spec = spec_from_args(args)
    except ValueError as exc:
        print(f"phone-r1 data export-verl: {exc}", file=sys.stderr)
        return 2
    from agent.adapters.training import InexpressibleStep

    try:
        result = _export(args, spec)
    except InexpressibleStep as exc:
        print(f"phone-r1 data export-verl: {exc}", file=sys.stderr)
        return 2
    skipped = f"; skipped {sum(result.skipped.values())} steps {result.skipped}" if result.skipped else ""
    print(
        f"wrote {result.rows} rows to {result.parquet}; reward function: {result.reward_file} (compute_score)"
        + skipped
    )
    return 0


def _export(args: argparse.Namespace, spec: AgentSpec) -> ExportResult:
    from episodes.verl import export_verl

    return export_verl(
        args.root,
        args.output,
        split=args.split,
        data_source=args.data_source,
        template=spec.template,
        coord_space=spec.coord_space,
        min_pixels=spec.meta.min_pixels,
        max_pixels=spec.meta.max_pixels,
        tile=spec.meta.tile or 0,
        embed_images=not args.image_paths,
        image_root=args.image_root,
        progress=True,
        agent=None if spec.seed_format else spec.adapter,
        agent_prompt=spec.agent_prompt,
        skip_inexpressible=args.skip_inexpressible,
    )


def _import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from episodes.importers import run_import
    from episodes.importers.base import ImportOptions

    options = ImportOptions(
        split=args.split,
        setting=args.setting,
        limit=args.limit,
        add_finish=args.add_finish,
        skip_invalid=args.skip_invalid,
        workers=args.workers,
        screenshots=Path(args.screenshots) if args.screenshots else None,
    )
    try:
        card = run_import(args.format, args.src, args.output, options)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        # ImportFailure (a bad source record) is a ValueError: file, record and reason are in its text.
        print(f"phone-r1 data import: {exc}", file=sys.stderr)
        return 2
    if card.get("kind") == "grounding":
        print(
            f"wrote {card['items_out']} grounding items to {args.output} (rejected {card['rejected']}, "
            f"protocol {card['protocol']}); card: dataset_card.json"
        )
        return 0
    print(
        f"wrote {card['episodes_out']} episodes, {card['steps_out_total']} steps to {args.output} "
        f"(dropped {sum(card['dropped'].values())}, rejected {card['rejected']}); card: dataset_card.json"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `phone-r1 data` and its subcommands."""
    data = subparsers.add_parser(
        "data",
        help="ingest, validate, convert, synthesize and export screenshot episodes",
        description="Raw screenshot episodes: validate, convert, summarise, synthesize, export.",
    )
    sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    data.set_defaults(func=lambda args: (data.print_help(), 0)[1])

    def root_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "root", help="episode folder (ROOT/<episode_id>/step_<n>.json) or converted JSONL file"
        )
        p.add_argument(
            "--image-root",
            default=None,
            help="for a JSONL file: folder its image paths are relative to (default: the file's folder)",
        )

    p = sub.add_parser(
        "validate",
        help="report every problem with file and line (episodes or a grounding set); exit 2 if any",
    )
    root_arg(p)
    p.add_argument(
        "--decode", action="store_true", help="decode every screenshot (slow; catches truncated files)"
    )
    p.set_defaults(func=_validate)

    p = sub.add_parser("convert", help="write the seed's JSONL (id, image, conversations)")
    p.add_argument("root", help="raw episode folder")
    p.add_argument("-o", "--output", required=True, help="output .jsonl")
    p.add_argument(
        "--template",
        default=DEFAULT_TEMPLATE,
        choices=TEMPLATE_NAMES,
        help=f"prompt template of agent/prompts (default: {DEFAULT_TEMPLATE})",
    )
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="write bad records to a rejects file with reasons and go on (default: stop at the first)",
    )
    p.add_argument("--rejects", default=None, help="rejects file (default: <output>.rejects.jsonl)")
    p.set_defaults(func=_convert)

    from episodes.importers import IMPORTERS

    formats = "\n".join(f"  {e.name:22s}{e.summary}" for e in IMPORTERS.entries())
    p = sub.add_parser(
        "import",
        help="import a public benchmark (AndroidControl, AITZ, GUI-Odyssey, AMEX) as raw episodes, or a "
        "grounding benchmark (ScreenSpot, ScreenSpot-v2, ScreenSpot-Pro, OSWorld-G, UI-Vision, MMBench-GUI) "
        "as a grounding set",
        description="Import a public GUI-agent data set as raw episodes with the gold context and a "
        "dataset_card.json (counts, conventions, dropped steps), or a grounding benchmark as a grounding set "
        "(grounding.jsonl and images/). Formats:\n" + formats,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "format",
        type=IMPORTERS.arg_type,
        metavar="FORMAT",
        help=f"one of {', '.join(IMPORTERS)}, or a dotted path like {IMPORTERS.example}",
    )
    p.add_argument("src", metavar="SRC", help="the downloaded data set (folder, shard or JSONL file)")
    p.add_argument("-o", "--output", required=True, help="output folder (new or empty)")
    p.add_argument(
        "--split",
        default=None,
        help="split to import (AndroidControl: splits.json key; AITZ: train|test folder; "
        "GUI-Odyssey: [random|task|device|app/]train|test; AMEX: train|test as amex_to_qa.py splits "
        "level 3; ScreenSpot: mobile|desktop|web; "
        "ScreenSpot-Pro: an annotation file's stem; UI-Vision: basic|functional|spatial; "
        "MMBench-GUI: basic|advanced); default: everything",
    )
    p.add_argument(
        "--setting",
        choices=("high", "low"),
        default="high",
        help="low puts each step instruction in the prompt (input.step_instruction); default: high",
    )
    p.add_argument("--limit", type=int, default=None, help="stop after N episodes (grounding: N items)")
    p.add_argument(
        "--add-finish",
        action="store_true",
        help="AndroidControl: append a task_completed step to each episode (changes step counts)",
    )
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="write bad records to OUT/rejects.jsonl and go on (default: stop at the first)",
    )
    p.add_argument(
        "--screenshots",
        default=None,
        metavar="DIR",
        help="androidcontrol-jsonl, grounding formats: folder holding the screenshots the annotations name "
        "(grounding default: the release's own images folder)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="androidcontrol: shards read in parallel processes (default 1; not with --limit)",
    )
    p.set_defaults(func=_import)

    p = sub.add_parser(
        "grounding-set",
        help="a grounding set from navigation episodes: each click on a box, with its step instruction "
        "(or description) as the instruction",
        description="Write the UI elements the click and long-press steps of raw episodes target as a "
        "grounding set (OUT/grounding.jsonl and images/), for grounding evaluation or training.",
    )
    p.add_argument("root", help="raw episode folder or converted JSONL")
    p.add_argument("-o", "--output", required=True, help="output folder (new or empty)")
    p.set_defaults(func=_grounding_set)

    p = sub.add_parser("stats", help="counts per action type, app, steps per episode, screen sizes")
    root_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=_stats)

    p = sub.add_parser("synth", help="draw synthetic phone episodes in the raw format")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--episodes", type=int, default=10, help="number of episodes (default: 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed; same seed, same files (default: 0)")
    p.add_argument("--start-id", type=int, default=10001, help="first episode id (default: 10001)")
    p.add_argument(
        "--width", type=int, default=None, help="screen width (default: a 1080x2400-class size per episode)"
    )
    p.add_argument("--height", type=int, default=None, help="screen height (with --width)")
    p.add_argument(
        "--exclude-tasks-from",
        action="append",
        default=[],
        metavar="DIR",
        help="redraw episodes whose task appears in this episode folder (for held-out sets; repeatable)",
    )
    p.add_argument("--quality", type=int, default=70, help="JPEG quality (default: 70)")
    p.set_defaults(func=_synth)

    p = sub.add_parser("export-verl", help="parquet in veRL's RLHF schema plus a compute_score reward file")
    root_arg(p)
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--split", default="train", help="split name, also the parquet file name (default: train)")
    p.add_argument("--data-source", default="phone_r1", help="data_source column (default: phone_r1)")
    from agent.spec import add_agent_flags  # the flags every command that asks a model shares

    add_agent_flags(
        p,
        "checkpoint",
        "settings",
        "adapter",
        help={
            "agent": "write each prompt in this agent's own prompt and grammar, as `eval run --agent` asks "
            "it "
            "(default: the checkpoint's phone_r1.json agent, else the seed format); the reward file reads "
            "answers with its adapter",
            "template": "prompt template of agent/prompts (default: the checkpoint's, else "
            f"{DEFAULT_TEMPLATE})",
            "coord-space": "coordinate space the prompt states and the reward maps back from (default: the "
            "checkpoint's, else original)",
            "min-pixels": f"pixel budget: smallest image area (default: the checkpoint's, else "
            f"{DEFAULT_MIN_PIXELS})",
            "max-pixels": f"pixel budget: largest image area (default: the checkpoint's, else "
            f"{DEFAULT_MAX_PIXELS})",
        },
    )
    p.add_argument(
        "--image-paths",
        action="store_true",
        help="store image paths instead of embedding the JPEG bytes "
        "(smaller; paths must exist on the workers)",
    )
    p.add_argument(
        "--skip-inexpressible",
        action="store_true",
        help="with --agent: skip (and count) steps whose gold action the agent's grammar cannot say, "
        "instead of stopping at the first",
    )
    p.set_defaults(func=_export_verl)
