"""Index raw episode folders of 1k / 10k / 100k / 167k steps; print time and peak RSS for each.

The folders are generated once (JSON step files in the seed's format, ten steps per episode, every
step pointing at two small shared screenshots outside the episode folders), the largest holding
167,300 steps as the seed's real set. Smaller sizes link to the first episodes of the largest.
Each size is indexed in a fresh subprocess — streaming `episodes.readers.iter_steps` over the
whole folder: parse JSON, check the record, parse the gold action, read the screen size — so each
peak RSS stands alone. Peak memory must stay flat as steps grow; the last line is the ratio of the
peak at 167k steps to the peak at 1k steps.

    python benchmarks/dataset_scale.py [--sizes 1000,10000,100000,167300] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS_PER_EPISODE = 10
SIZES = (1000, 10_000, 100_000, 167_300)
ACTIONS = [
    {"action_type": "open_app", "action_parameter": {"open_app": "设置"}, "action_description": "打开APP"},
    {
        "action_type": "click",
        "action_parameter": {"click": "40,300,1040,480"},
        "action_description": "点击WLAN",
    },
    {"action_type": "type", "action_parameter": {"type": "无锡天气"}, "action_description": "输入无锡天气"},
    {
        "action_type": "swipe",
        "action_parameter": {"swipe": "540,1800,540,600"},
        "action_description": "向上滑动",
    },
    {
        "action_type": "long_click",
        "action_parameter": {"long_click": "0,600,1080,790"},
        "action_description": "长按消息",
    },
    {"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": "等待"},
    {"action_type": "back", "action_parameter": {"back": ""}, "action_description": "回退"},
    {
        "action_type": "click",
        "action_parameter": {"click": "700,2200,1040,2330"},
        "action_description": "点击确定",
    },
    {"action_type": "type", "action_parameter": {"type": "hello"}, "action_description": "输入hello"},
    {
        "action_type": "task_completed",
        "action_parameter": {"task_completed": "完成"},
        "action_description": "任务完成",
    },
]


def generate(work: Path, steps: int) -> Path:
    """`work/raw_max` with `steps` steps and `work/images` with the two shared screenshots."""
    from PIL import Image

    from episodes.step import DEFAULT_ACTION_TYPE_LIST

    images = work / "images"
    images.mkdir(parents=True, exist_ok=True)
    for name, shade in (("a.jpg", 230), ("b.jpg", 200)):
        Image.new("RGB", (1080, 2400), (shade, shade, shade)).save(images / name, quality=60)
    root = work / "raw_max"
    root.mkdir()
    plan = {str(i + 1): a["action_description"] for i, a in enumerate(ACTIONS)}
    for e in range(steps // STEPS_PER_EPISODE + (1 if steps % STEPS_PER_EPISODE else 0)):
        episode = root / str(10001 + e)
        episode.mkdir()
        for k in range(min(STEPS_PER_EPISODE, steps - e * STEPS_PER_EPISODE)):
            inp = {"task_content": f"打开设置并连接WLAN（第{e}号任务）", "task_path": plan}
            if k:
                inp["screen_path1"] = "../../images/a.jpg"
            inp["screen_path2"] = "../../images/b.jpg"
            inp["history_path_all"] = [a["action_description"] for a in ACTIONS[:k]]
            inp["app_name"] = "设置"
            inp["action_type_list"] = DEFAULT_ACTION_TYPE_LIST
            record = {"input": inp, "output": ACTIONS[k]}
            (episode / f"step_{k}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return root


def subset(work: Path, full: Path, steps: int) -> Path:
    """A folder of links to the first episodes of `full`, holding `steps` steps."""
    root = work / f"raw_{steps}"
    root.mkdir()
    for e in range(steps // STEPS_PER_EPISODE):
        os.symlink(full / str(10001 + e), root / str(10001 + e), target_is_directory=True)
    return root


def child(root: str) -> None:
    """Index one folder (run in a fresh process) and print JSON with the figures."""
    from episodes.readers import iter_steps

    start = time.perf_counter()
    count = 0
    for step in iter_steps(root, strict=True):
        count += 1
        assert step.gold is not None and step.screen_size == (1080, 2400)
    elapsed = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"steps": count, "time_s": elapsed, "peak_rss_mb": peak_kb / 1024}))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated step counts")
    parser.add_argument("--workdir", default=None, help="where to generate the folders (default: a temp dir)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    sizes = sorted(int(s) for s in args.sizes.split(","))
    work = Path(args.workdir or tempfile.mkdtemp(prefix="phone_r1_dataset_scale_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        full = generate(work, sizes[-1])
        print(f"generated {sizes[-1]} steps in {time.perf_counter() - t0:.1f}s under {work}", flush=True)
        results = {}
        for size in sizes:
            root = full if size == sizes[-1] else subset(work, full, size)
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(root)], capture_output=True, text=True, check=True
            )
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            results[size] = figures
            print(
                f"steps={figures['steps']:>7d}  time_s={figures['time_s']:8.2f}  "
                f"steps_per_s={figures['steps'] / figures['time_s']:9.0f}  "
                f"peak_rss_mb={figures['peak_rss_mb']:7.1f}",
                flush=True,
            )
        ratio = results[sizes[-1]]["peak_rss_mb"] / results[sizes[0]]["peak_rss_mb"]
        print(f"rss_ratio_{sizes[-1] // 1000}k_to_{sizes[0] // 1000}k: {ratio:.3f}", flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
