"""Import a generated AndroidControl shard of 1,500 episodes / 9,000 steps and one ten times smaller.

Both shards are real GZIP TFRecord files (masked CRC32Cs, `tf.train.Example` episodes of six actions
with small PNG screenshots and a 60-node accessibility forest per screen). Each is imported with
`phone-r1 data import androidcontrol` in a fresh subprocess, so each peak RSS stands alone; the
import streams record by record, so the peak must not grow with the shard. Prints steps/s and peak
RSS of each; the last line is the ratio of the peaks (large / small).

    python benchmarks/import_scale.py [--episodes 1500] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ACTIONS = 6  # per episode; with --episodes 1500 that is 9,000 steps

CHILD = """
import json, sys, time
from episodes.importers import run_import
from episodes.importers.base import ImportOptions
t = time.perf_counter()
card = run_import("androidcontrol", sys.argv[1], sys.argv[2], ImportOptions(split="test", progress=False))
seconds = time.perf_counter() - t
print(json.dumps({"steps": card["steps_out_total"], "episodes": card["episodes_out"], "seconds": seconds}))
"""


def write_shard(folder: Path, episodes: int, seed: int = 0) -> int:
    """A shard of `episodes` episodes plus splits.json (all in test); returns the number of actions."""
    from episodes.importers.tfrecord import frame
    from tests.helpers.importers import encode_example, encode_forest, encode_node, png

    rng = random.Random(seed)
    size = (270, 600)
    shots = [png(size, shade) for shade in range(0, 256, 16)]
    forests = []
    for k in range(8):
        nodes = [encode_node(0, (0, 0, 270, 600), children=tuple(range(1, 60)))]
        for i in range(1, 60):
            x, y = rng.randrange(0, 200), rng.randrange(0, 560)
            nodes.append(encode_node(i, (x, y, x + 60, y + 30), clickable=(i + k) % 3 == 0))
        forests.append(encode_forest(nodes))
    kinds = [
        lambda: {"action_type": "click", "x": rng.randrange(270), "y": rng.randrange(600)},
        lambda: {"action_type": "scroll", "direction": rng.choice(["up", "down", "left", "right"])},
        lambda: {"action_type": "input_text", "text": "search text"},
        lambda: {"action_type": "open_app", "app_name": "Settings"},
        lambda: {"action_type": "wait"},
        lambda: {"action_type": "navigate_back"},
    ]
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / "android_control-00000-of-00001", "wb", compresslevel=1) as f:
        for ep in range(episodes):
            n = ACTIONS + 1
            example = encode_example(
                {
                    "episode_id": [ep],
                    "goal": [f"goal {ep}".encode()],
                    "screenshots": [shots[(ep + i) % len(shots)] for i in range(n)],
                    "accessibility_trees": [forests[(ep + i) % len(forests)] for i in range(n)],
                    "screenshot_widths": [size[0]] * n,
                    "screenshot_heights": [size[1]] * n,
                    "actions": [json.dumps(rng.choice(kinds)()).encode() for _ in range(ACTIONS)],
                    "step_instructions": [f"step {i}".encode() for i in range(ACTIONS)],
                }
            )
            f.write(frame(example))
    (folder / "splits.json").write_text(
        json.dumps({"train": [], "validation": [], "test": list(range(episodes))})
    )
    return episodes * ACTIONS


def measure(shard: Path, out: Path) -> tuple[dict, float, float]:
    """(the child's result, its peak RSS in MiB, its CPU seconds)."""
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(shard), str(out)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(proc.pid, 0)
    result = json.loads(proc.stdout.read())
    proc.stdout.close()
    if status != 0:
        raise SystemExit(f"import of {shard} failed with status {status}")
    return result, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--episodes", type=int, default=1500, help="episodes in the large shard (default 1500)"
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where to write the shards (default: a temp dir)"
    )
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="import_scale_"))
    try:
        rows = []
        for episodes in (max(1, args.episodes // 10), args.episodes):
            src = work / f"ac_{episodes}"
            t = time.perf_counter()
            actions = write_shard(src, episodes)
            mib = (src / "android_control-00000-of-00001").stat().st_size / 2**20
            print(
                f"generated {episodes} episodes / {actions} steps ({mib:.1f} MiB) in "
                f"{time.perf_counter() - t:.1f}s"
            )
            result, rss, cpu = measure(src, work / f"out_{episodes}")
            rate = result["steps"] / result["seconds"]
            print(
                f"{episodes:>6} episodes {result['steps']:>6} steps: {result['seconds']:.2f}s, "
                f"{rate:,.0f} steps/s (CPU {cpu:.2f}s), peak RSS {rss:.0f} MiB"
            )
            rows.append((rate, rss))
            shutil.rmtree(work / f"out_{episodes}", ignore_errors=True)
        (small_rate, small_rss), (large_rate, large_rss) = rows
        print(f"steps/s large/small: {large_rate / small_rate:.2f}")
        print(f"import_peak_rss_ratio: {large_rss / small_rss:.2f}")
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
