"""`phone-r1 train` subcommands: `grpo`, `sft` (TRL trainers driven by YAML recipes), `report` and `tiny`.

Heavy libraries (torch, transformers, TRL) load inside the handlers so `--help` stays fast.
"""

from __future__ import annotations

import argparse


def _tiny(args: argparse.Namespace) -> int:
    from agent.families import family_of
    from training.tiny_model import build_tiny_model

    out = build_tiny_model(args.output_dir, seed=args.seed, family=args.family)
    print(f"tiny {family_of(args.family).title} ({args.family}) written to {out}")
    return 0


def _train(kind: str):
    def handler(args: argparse.Namespace) -> int:
        from training.run import main as run_main

        return run_main(kind, args.recipe_args)

    return handler


def _report(args: argparse.Namespace) -> int:
    from training.alarms import AlarmSettings
    from training.report import main as report_main

    settings = AlarmSettings(
        zero_std_threshold=args.zero_std_threshold,
        clipped_threshold=args.clipped_threshold,
        entropy_ratio=args.entropy_ratio,
        consecutive=args.consecutive,
    )
    return report_main(args.run_dir, args.output, settings, fail_on_alarm=args.fail_on_alarm)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `train` with its subcommands to the `phone-r1` parser."""
    train = subparsers.add_parser("train", help="GRPO / SFT training on TRL", description=__doc__)
    sub = train.add_subparsers(dest="train_command", metavar="SUBCOMMAND")
    train.set_defaults(func=lambda args: (train.print_help(), 0)[1])

    for kind, help_text in (
        ("grpo", "GRPO with TRL's GRPOTrainer on multi-image steps"),
        ("sft", "supervised warm start with TRL's SFTTrainer"),
    ):
        p = sub.add_parser(
            kind,
            help=help_text,
            description=(
                f"{help_text}. Arguments are TRL's: `--config RECIPE.yaml` plus any field of the recipe "
                f"as an override (`--max_steps 2 --output_dir runs/x`). See docs/training.md; "
                f"`phone-r1 train {kind} --config X --help` lists every field."
            ),
            # Everything after the subcommand belongs to TrlParser; a prefix no argument uses keeps
            # argparse from claiming `--config` and friends for itself.
            add_help=False,
            prefix_chars="+",
        )
        p.add_argument(
            "recipe_args", nargs=argparse.REMAINDER, help="--config RECIPE.yaml [--field value ...]"
        )
        p.set_defaults(func=_train(kind))

    from training.alarms import AlarmSettings

    defaults = AlarmSettings()
    report = sub.add_parser(
        "report",
        help="HTML + PNG report of a GRPO run, with alarms when it is not learning",
        description="Curves of every reward part, reward spread, zero-variance groups, KL, entropy, "
        "completion "
        "length and clipping from RUN_DIR's trainer_state.json and logged completions; alarms are printed "
        "and shown at the top of RUN_DIR/report/report.html.",
    )
    report.add_argument("run_dir", help="output_dir of a `phone-r1 train grpo` run")
    report.add_argument(
        "-o", "--output", default=None, help="folder for report.html and the PNGs (RUN_DIR/report)"
    )
    report.add_argument(
        "--zero-std-threshold",
        type=float,
        default=defaults.zero_std_threshold,
        help="alarm when at least this share of groups has zero reward variance for --consecutive steps",
    )
    report.add_argument(
        "--clipped-threshold",
        type=float,
        default=defaults.clipped_threshold,
        help="alarm when at least this share of completions is clipped for --consecutive steps",
    )
    report.add_argument(
        "--entropy-ratio",
        type=float,
        default=defaults.entropy_ratio,
        help="alarm when entropy stays under this fraction of its start for --consecutive steps",
    )
    report.add_argument(
        "--consecutive", type=int, default=defaults.consecutive, help="K: steps in a row an alarm needs"
    )
    report.add_argument("--fail-on-alarm", action="store_true", help="exit 1 when any alarm trips")
    report.set_defaults(func=_report)

    from agent.families import DEFAULT_FAMILY, MODEL_FAMILIES

    tiny = sub.add_parser(
        "tiny",
        help="build a tiny random checkpoint of a model family (default Qwen2.5-VL: tests, the demo)",
        description="A random checkpoint of the family's real architecture at toy size, with processor files "
        "and chat template laid out as the released checkpoints ship them (stock AutoProcessor and "
        "AutoModelForImageTextToText load it where torchvision is installed).",
    )
    tiny.add_argument("-o", "--output-dir", required=True, help="folder to write the checkpoint to")
    tiny.add_argument("--seed", type=int, default=0, help="weights and tokenizer are the same for a seed")
    tiny.add_argument(
        "--family",
        default=DEFAULT_FAMILY,
        choices=MODEL_FAMILIES.names(),
        help=f"model family (config.model_type); default {DEFAULT_FAMILY}. " + MODEL_FAMILIES.help(),
    )
    tiny.set_defaults(func=_tiny)
