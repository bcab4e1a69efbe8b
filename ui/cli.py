"""`phone-r1 ui`: the replay app. Standard library only at import; Gradio loads inside the handler."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from agent.spec import add_agent_flags, default_adapter

logger = logging.getLogger(__name__)


def parse_auth(value: str) -> tuple[str, str]:
    """`user:pass` → (user, pass); the password may itself contain colons."""
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise argparse.ArgumentTypeError(f"expected --auth USER:PASSWORD, found {value!r}")
    return user, password


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `ui` subcommand."""
    p = subparsers.add_parser(
        "ui",
        help="replay episodes and results in a Gradio app",
        description="Step through screenshot episodes with gold and predicted actions drawn on the screen; "
        "optionally run the shown step live against an OpenAI-compatible endpoint.",
    )
    p.add_argument(
        "--episodes",
        type=Path,
        required=True,
        help="raw episode folder (ROOT/<episode>/step_<n>.json) or the converted JSONL inside it",
    )
    p.add_argument(
        "--results", type=Path, help="results.jsonl of `phone-r1 eval run` (predictions drawn red)"
    )
    p.add_argument("--results-b", type=Path, help="a second results file to compare (predictions drawn blue)")
    p.add_argument(
        "--base-url", help="OpenAI-compatible endpoint for 'Run this step' (e.g. http://127.0.0.1:8000/v1)"
    )
    p.add_argument("--model", help="served model name at --base-url")
    add_agent_flags(
        p,
        "agent",
        "api-key-env",
        "checkpoint",
        help={
            "agent": "agent adapter for the live step (agent.adapters; default: the shown run's, else "
            f"{default_adapter()})",
            "checkpoint-meta": "'Run this step' must match DIR/phone_r1.json (default: the results header's "
            "checkpoint)",
            "override-checkpoint-meta": "run steps live even when the shown run's settings differ from the "
            "checkpoint's",
        },
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    add_agent_flags(p, "port", defaults={"port": 7860}, help={"port": "port to bind, 1-65535 (default 7860)"})
    p.add_argument("--auth", type=parse_auth, metavar="USER:PASS", help="require this login on every route")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for path, flag in (
        (args.episodes, "--episodes"),
        (args.results, "--results"),
        (args.results_b, "--results-b"),
    ):
        if path is not None and not path.exists():
            print(f"phone-r1 ui: {flag} {path} does not exist", file=sys.stderr)
            return 2
    if args.host not in ("127.0.0.1", "localhost", "::1") and args.auth is None:
        logger.warning(
            "binding %s without --auth: anyone who can reach this address can browse the episodes", args.host
        )
    # No analytics or version check: the app often runs where nothing outside can be reached.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from episodes.readers import NotEpisodes
    from eval.results import EpisodesMismatch
    from ui.app import launch_app
    from ui.live import LiveConfig
    from ui.replay import load_replay

    try:
        data = load_replay(args.episodes, args.results, args.results_b)
    except NotEpisodes as exc:  # one episode's folder, or a folder without episodes
        print(f"phone-r1 ui: --episodes: {exc}", file=sys.stderr)
        return 2
    except EpisodesMismatch as exc:  # a results file made on other episodes
        print(f"phone-r1 ui: {exc}", file=sys.stderr)
        return 2
    header = data.runs[0].header if data.runs else None
    live = LiveConfig(
        args.base_url,
        args.model,
        args.api_key_env,
        header,
        checkpoint_meta=args.checkpoint_meta,
        override_checkpoint_meta=args.override_checkpoint_meta,
        agent=args.agent,
    )
    print(f"phone-r1 ui: {len(data.episodes)} episodes on http://{args.host}:{args.port}", flush=True)
    launch_app(data, live, host=args.host, port=args.port, auth=args.auth, block=True)
    return 0
