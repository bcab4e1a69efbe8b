"""Run one source's official evaluator on written cases: `python -m scripts.protocol_diff.official SOURCE
CHECKOUT CASES OUT` (in the official code's interpreter; standard library only besides that code)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from scripts.protocol_diff import SOURCES


def load_source(name: str):  # noqa: ANN201 - a `common.Source`
    """The `Source` registered as `name` in `SOURCES` (`module` or `module:attr`, attr default SOURCE)."""
    module, _, attr = SOURCES[name].partition(":")
    return getattr(importlib.import_module(module), attr or "SOURCE")


def main(argv: list[str]) -> int:
    name, checkout, cases_path, out_path = argv
    cases = json.loads(Path(cases_path).read_text(encoding="utf-8"))
    verdicts = load_source(name).official(cases, Path(checkout).resolve())
    Path(out_path).write_text(json.dumps(verdicts), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
