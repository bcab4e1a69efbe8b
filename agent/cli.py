"""`phone-r1 checkpoint` subcommands: `repair` (processor files saved under an old class name).

Only the standard library is imported here; the repair itself loads inside the handler.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _repair(args: argparse.Namespace) -> int:
    import json

    from agent.processor import CLASS_FILES, STOCK_PROCESSOR_CLASS, repair_checkpoint

    status = 0
    for folder in args.checkpoints:
        if not folder.is_dir() or not any((folder / name).is_file() for name in CLASS_FILES):
            print(
                f"phone-r1 checkpoint repair: {folder}: expected a checkpoint folder with one of "
                f"{', '.join(CLASS_FILES)}, found none",
                file=sys.stderr,
            )
            status = 2
            continue
        try:
            changed = repair_checkpoint(folder)
        except (OSError, json.JSONDecodeError) as err:
            print(f"phone-r1 checkpoint repair: {folder}: {err}", file=sys.stderr)
            status = 2
            continue
        for path in changed:
            print(f"{path}: processor_class -> {STOCK_PROCESSOR_CLASS}")
        if not changed:
            print(f"{folder}: nothing to repair")
    return status


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `checkpoint` with its subcommands to the `phone-r1` parser."""
    checkpoint = subparsers.add_parser(
        "checkpoint", help="repair checkpoint folders in place", description=__doc__
    )
    sub = checkpoint.add_subparsers(dest="checkpoint_command", metavar="SUBCOMMAND")
    checkpoint.set_defaults(func=lambda args: (checkpoint.print_help(), 0)[1])
    repair = sub.add_parser(
        "repair",
        help="make checkpoints saved by older phone-r1 name the stock Qwen2_5_VLProcessor",
        description="Rewrite processor_class in processor_config.json / tokenizer_config.json to the stock "
        "Qwen2_5_VLProcessor (and add the video-processor config it needs), in CHECKPOINT and its "
        "checkpoint-* sub-folders, so stock AutoProcessor, transformers serve and vLLM load them. "
        "Idempotent.",
    )
    repair.add_argument(
        "checkpoints",
        nargs="+",
        type=Path,
        metavar="CHECKPOINT",
        help="checkpoint folder (a training output folder also repairs its checkpoint-* folders)",
    )
    repair.set_defaults(func=_repair)
