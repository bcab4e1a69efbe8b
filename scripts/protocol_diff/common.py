"""What every source of the differential check shares; standard library only (see the package docstring).

A case is a JSON-able dict: `id`, `step_id` (the step's id once phone-r1 has imported the source data),
`raw` (the answer text phone-r1 reads with the source's agent) and `source` (whatever the official side
needs: the gold record in the source's own format, the screen size). `official` returns one dict per
case: `counted` (in the official denominator), `correct`, and optionally `tie` (the verdict flips with
the floating-point precision the source computes in) and `detail`.
"""

from __future__ import annotations

import json
import random
import re
import struct
import zlib
from pathlib import Path
from typing import Any

# Screen sizes of the public datasets: AITZ's stored PNGs, common phones, AndroidControl's two sizes, a
# tablet-like odd size.
SCREENS: tuple[tuple[int, int], ...] = ((270, 600), (1080, 2400), (720, 1280), (1440, 3120), (411, 869))
THINK = {
    "task_interpretation": "t",
    "current_page_audit": "p",
    "path_alignment_check": "a",
    "action_validation": "v",
}
_PNG_CACHE: dict[tuple[int, int], bytes] = {}
# Random moves of a case's coordinates by a source's TIE_DELTA that decide whether its verdict is a float
# tie (an exact diagonal flips with probability 1/2 per move, so one move is not enough).
TIE_DRAWS = 6


class Source:
    """One official evaluator: how to write its data, which answers to send, how to call its code."""

    name = ""
    protocol = ""  # the phone-r1 protocol reproducing it
    agent = "phone-r1"  # the adapter whose grammar the raw answers are in
    eval_flags: tuple[str, ...] = ()  # extra `eval run` flags (coordinate space, pixel budget)
    importer: str | None = None  # `phone-r1 data import` format of the written data (None: step files)
    import_flags: tuple[str, ...] = ()

    def generate(self, rng: random.Random, n: int, root: Path) -> list[dict[str, Any]]:
        """Write about `n` cases' source data under `root / "source"` and return the cases."""
        raise NotImplementedError

    def official(self, cases: list[dict[str, Any]], checkout: Path) -> list[dict[str, Any]]:
        """The official evaluator's verdict on every case, from the code in `checkout`."""
        raise NotImplementedError


def write_png(path: Path, size: tuple[int, int]) -> None:
    """A valid black grayscale PNG of `size` (written once per size, then copied: only headers are read)."""
    if size not in _PNG_CACHE:
        width, height = size
        rows = (b"\x00" + b"\x00" * width) * height

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

        header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
        _PNG_CACHE[size] = (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b"")
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_PNG_CACHE[size])


def number(rng: random.Random, value: float, decimals: float = 0.3) -> float | int:
    """`value` as the answer writes it: an integer mostly, sometimes with decimals."""
    if rng.random() < decimals:
        return round(value, rng.choice((1, 2, 3)))
    return int(round(value))


def fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def seed_answer(action_type: str, parameter: str) -> str:
    """A completion in the seed's format: think JSON, then the wire action."""
    wire = {
        "action_type": action_type,
        "action_parameter": {action_type: parameter},
        "action_description": "",
    }
    return f"<think>{json.dumps(THINK)}</think><answer>{json.dumps(wire, ensure_ascii=False)}</answer>"


def read_seed_answer(text: str) -> tuple[str, str] | None:
    """`(action_type, parameter)` of a completion `seed_answer` wrote (the official side reads it so)."""
    found = re.findall(r"<answer>(.*?)</answer>", text, re.DOTALL)
    if not found:
        return None
    try:
        obj = json.loads(found[-1])
        kind = obj["action_type"]
        return kind, obj["action_parameter"][kind]
    except (ValueError, KeyError, TypeError):
        return None


def numbers_of(parameter: str) -> list[float]:
    return [float(v) for v in parameter.split(",")]


TEXTS = ("hello world", "Running Shoes", "无锡 weather", "a", "x" * 30, "order #42", "weather: sunny")


def text_variant(rng: random.Random, gold: str) -> str:
    """A typed text near `gold`: equal, containing or contained, case-changed, one edit, empty or other."""
    choice = rng.random()
    if choice < 0.2 or not gold:
        return gold
    if choice < 0.3:
        return gold[: max(1, len(gold) // 2)]
    if choice < 0.4:
        return gold + " now"
    if choice < 0.5:
        return gold.upper()
    if choice < 0.6:
        return gold[:-1] + "#"
    if choice < 0.68:
        return f"  {gold} "
    if choice < 0.76:
        return ""
    if choice < 0.85:
        i = rng.randrange(len(gold))
        return gold[:i] + gold[i + 1 :]
    return rng.choice(TEXTS)
