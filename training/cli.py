"""`phone-r1 train` subcommands: `grpo`, `sft` (TRL trainers driven by YAML recipes) and `tiny`.

Heavy libraries (torch, transformers, TRL) load inside the handlers so `--help` stays fast.
"""

from __future__ import annotations

import argparse


def _tiny(args: argparse.Namespace) -> int:
    from training.tiny_model import build_tiny_model

    out = build_tiny_model(args.output_dir, seed=args.seed)
    print(f"tiny Qwen2.5-VL written to {out}")
    return 0


def _train(kind: str):
    def handler(args: argparse.Namespace) -> int:
        from training.run import main as run_main

        return run_main(kind, args.recipe_args)

    return handler


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

    tiny = sub.add_parser("tiny", help="build the tiny random Qwen2.5-VL used by tests and the demo")
    tiny.add_argument("-o", "--output-dir", required=True, help="folder to write the checkpoint to")
    tiny.add_argument("--seed", type=int, default=0, help="weights and tokenizer are the same for a seed")
    tiny.set_defaults(func=_tiny)
