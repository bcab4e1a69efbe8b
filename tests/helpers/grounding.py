"""Small grounding sets for tests: real JSONL lines and real (tiny) screenshots, written on the fly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image

SCREEN = (200, 100)


def screenshot(path: Path, size: tuple[int, int] = SCREEN) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (230, 230, 230)).save(path)
    return path


def item_line(i: int, **overrides: Any) -> dict[str, Any]:
    """One valid item: a box, a polygon or a refusal in turn, on `images/s<i % 2>.png`."""
    targets = [
        {"type": "box", "box": [10, 10, 60, 40], "units": "pixel"},
        {"type": "polygon", "points": [[100, 20], [150, 20], [150, 80], [100, 80]], "units": "pixel"},
        {"type": "refuse"},
    ]
    line: dict[str, Any] = {
        "id": f"set/{i}",
        "benchmark": "test",
        "image": f"images/s{i % 2}.png",
        "screen": list(SCREEN),
        "instruction": f"press button {i}",
        "instructions": {"cn": f"按下按钮{i}"},
        "target": targets[i % 3],
        "categories": {"platform": ["mobile", "desktop"][i % 2], "ui_type": "icon"},
    }
    line.update(overrides)
    return line


def write_set(root: Path, lines: list[dict[str, Any] | str], *, images: bool = True) -> Path:
    """`root/grounding.jsonl` holding `lines` (dicts as JSON, strings as written), and its screenshots."""
    root.mkdir(parents=True, exist_ok=True)
    if images:
        for name in ("s0.png", "s1.png"):
            screenshot(root / "images" / name)
    text = "".join(
        (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines
    )
    (root / "grounding.jsonl").write_text(text, encoding="utf-8")
    return root
