"""The `phone-r1` console script.

Each area owns its subcommands in a `cli.py` module exposing `register(subparsers)`; this file only
stitches them together. Those modules import nothing heavy at import time, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from phone_r1 import __version__

# (subcommand, module that registers it, one-line help used when the module is missing)
SUBCOMMANDS: list[tuple[str, str, str]] = [
    ("data", "training.data.cli", "ingest, validate, convert, synthesize and export screenshot episodes"),
    ("train", "training.cli", "GRPO / SFT training on TRL"),
    ("serve", "serving.cli", "serve a checkpoint behind an OpenAI-compatible API"),
    ("checkpoint", "agent.cli", "repair checkpoint folders in place"),
    ("eval", "eval.cli", "offline step-accuracy evaluation and reports"),
    ("ui", "ui.cli", "replay episodes and results in a Gradio app"),
    ("demo", "phone_r1.demo", "the whole loop on the demo episodes"),
]


def _not_built(name: str, reason: str):
    def handler(args: argparse.Namespace) -> int:
        print(f"phone-r1 {name}: not built yet ({reason})", file=sys.stderr)
        return 2

    return handler


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="phone-r1", description="Train, serve, evaluate and replay vision-language phone agents."
    )
    parser.add_argument("--version", action="version", version=f"phone-r1 {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name, help_text in SUBCOMMANDS:
        try:
            module = importlib.import_module(module_name)
            register = module.register
        except (ImportError, AttributeError) as exc:
            stub = sub.add_parser(name, help=f"{help_text} [not built yet]")
            stub.set_defaults(func=_not_built(name, f"{module_name}: {exc}"))
            continue
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
