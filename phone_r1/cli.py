"""The `phone-r1` console script.

Each area owns its subcommands in a `cli.py` module exposing a registering function
(`register(subparsers)`); this file only stitches them together. Those modules load torch, transformers
and TRL inside their handlers, so `--help` stays fast. A module that fails to import fails `phone-r1`
with its traceback: a broken command must never look like a missing one.

Conventions every subcommand follows (docs/architecture.md):
- flags are spelled with dashes (`--output-dir`), except the TRL recipe fields of `train grpo` and
  `train sft`, which keep TRL's underscores (`--output_dir`, `--max_steps`) because TRL parses them;
- exit status 0 on success, 2 for bad input or usage (a wrong flag, a bad recipe, bad data, a missing
  file), 1 for a run that failed (a crash, a server that did not come up, a demo stage that failed).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from phone_r1 import __version__

# (subcommand, module, its registering function)
SUBCOMMANDS: list[tuple[str, str, str]] = [
    ("data", "episodes.cli", "register"),
    ("train", "training.cli", "register"),
    ("serve", "serving.cli", "register"),
    ("merge", "serving.cli", "register_merge"),
    ("checkpoint", "agent.cli", "register"),
    ("eval", "eval.cli", "register"),
    ("ui", "ui.cli", "register"),
    ("demo", "phone_r1.demo", "register"),
]


def build_parser() -> argparse.ArgumentParser:
    from phone_r1.families import FAMILIES

    parser = argparse.ArgumentParser(
        prog="phone-r1",
        description="Train, serve, evaluate and replay vision-language phone agents.",
        epilog="families you extend by name, or by dotted path (my_pkg.module:attr) for your own:\n  "
        + FAMILIES.help("\n  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"phone-r1 {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for _, module_name, function in SUBCOMMANDS:
        getattr(importlib.import_module(module_name), function)(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit status (argparse's own 2 for a bad command line)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and usage errors (2), as a status to return
        return exc.code if isinstance(exc.code, int) else 2 if exc.code else 0
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
