"""Reward throughput: completions scored per second by the format and action rewards.

A realistic mix of GRPO completions (Chinese think JSON, correct and near-miss taps, swipes, typed
text, inquiries, truncated and malformed output, bare JSON) against gold actions on phone-sized
screens, in all three coordinate spaces, called in TRL-sized batches. The seed's own format reward
runs side by side as the baseline for the ratio.

    .venv/bin/python benchmarks/rewards.py [--n 4000] [--batch 16] [--repeats 3]

The last line is the headline figure: `rewards_per_second: <format + action completions per second>`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actions.coords import PixelBudget, to_model_space  # noqa: E402
from actions.rewards import action_reward, format_reward  # noqa: E402
from actions.types import Click, Inquiry, OpenApp, Swipe, TypeText, Wait  # noqa: E402
from tests.helpers.actions import seed_format_reward  # noqa: E402

SCREENS = [(1080, 2400), (1440, 3200), (720, 1600), (1080, 2340)]
SPACES = ["original", "resized", "norm1000"]
BUDGET = PixelBudget(3136, 1003520)
THINK = {
    "task_interpretation": (
        "在书架中找到剑来,前往内容页,使用章节下载功能,先选择第5章,第7章,再选择第10章进行下载。"
    ),
    "current_page_audit": "当前页面为起点读书的书架页,列表中可以看到剑来、雪中悍刀行等书籍。",
    "path_alignment_check": "已完成第1步打开APP,当前应执行第2步点击剑来。",
    "action_validation": "剑来位于屏幕中部,点击其封面区域即可进入内容页。",
}


def _gold(rng: random.Random, screen: tuple[int, int]):
    w, h = screen
    kind = rng.choice(["click"] * 6 + ["swipe", "swipe", "type", "open_app", "inquiry", "wait"])
    if kind == "click":
        x1, y1 = rng.randrange(w - 200), rng.randrange(h - 200)
        return Click(
            box=(x1, y1, x1 + rng.randrange(40, 200), y1 + rng.randrange(40, 200)), description="点击剑来"
        )
    if kind == "swipe":
        x = rng.randrange(w)
        return Swipe(start=(x, int(h * 0.8)), end=(x, int(h * 0.3)), description="向上滑动")
    if kind == "type":
        return TypeText(text="无锡的视频", description="输入无锡的视频")
    if kind == "open_app":
        return OpenApp(app="起点读书", description="打开APP")
    if kind == "inquiry":
        return Inquiry(
            question="请问您想发送哪一个?",
            candidates=("黄色大笑脸", "小笑脸"),
            pic_describe="表情",
            answer_index=0,
        )
    return Wait(description="等待")


def _prediction(rng: random.Random, gold, screen: tuple[int, int]):
    """The policy's answer: mostly right, sometimes off by a little or of another type."""
    roll = rng.random()
    if isinstance(gold, Click) and roll < 0.4:
        dx, dy = rng.randrange(-150, 150), rng.randrange(-150, 150)
        x1, y1, x2, y2 = gold.box
        return Click(box=(max(0, x1 + dx), max(0, y1 + dy), max(0, x2 + dx), max(0, y2 + dy)))
    if roll > 0.9:
        return Wait()
    return gold


def _completion(rng: random.Random, action, space: str, screen: tuple[int, int]) -> str:
    answer = json.dumps(to_model_space(action, space, screen, BUDGET).to_json(), ensure_ascii=False)
    think = json.dumps(THINK, ensure_ascii=False, indent=rng.choice([None, 2]))
    roll = rng.random()
    text = f"<think>{think}</think>\n<answer>{answer}</answer>"
    if roll < 0.08:
        return text[: rng.randrange(len(text))]  # truncated at max_completion_length
    if roll < 0.12:
        return answer  # the seed's SFT format
    if roll < 0.15:
        return f"<think>{think}</think><answer>```json\n{answer}\n```</answer>"
    if roll < 0.18:
        return f"<think>我先看一下页面</think><answer>{answer.replace(chr(34), chr(39))}</answer>"
    return text


def build_mix(n: int, seed: int = 0) -> tuple[list[str], dict[str, list]]:
    """`n` completions and their reward columns, as a GRPO dataset would provide them."""
    rng = random.Random(seed)
    completions: list[str] = []
    columns: dict[str, list] = {
        k: [] for k in ("gold", "screen_width", "screen_height", "coord_space", "min_pixels", "max_pixels")
    }
    for _ in range(n):
        screen = rng.choice(SCREENS)
        space = rng.choice(SPACES)
        gold = _gold(rng, screen)
        completions.append(_completion(rng, _prediction(rng, gold, screen), space, screen))
        columns["gold"].append(gold.to_json_str())
        columns["screen_width"].append(screen[0])
        columns["screen_height"].append(screen[1])
        columns["coord_space"].append(space)
        columns["min_pixels"].append(BUDGET.min_pixels)
        columns["max_pixels"].append(BUDGET.max_pixels)
    return completions, columns


def _per_second(
    fn: Callable[[list, dict], object], completions: list, columns: dict, batch: int, repeats: int
) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(0, len(completions), batch):
            fn(completions[i : i + batch], {k: v[i : i + batch] for k, v in columns.items()})
        best = min(best, time.perf_counter() - start)
    return len(completions) / best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="completions in the mix")
    parser.add_argument("--batch", type=int, default=16, help="completions per reward call (TRL batch)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the best is reported")
    args = parser.parse_args(argv)

    completions, columns = build_mix(args.n)
    conversational = [[{"role": "assistant", "content": c}] for c in completions]
    metrics: dict[str, float] = {}

    def log_metric(name: str, value: float) -> None:
        metrics[name] = value

    def ours_format(batch, cols):
        return format_reward(batch, log_metric=log_metric)

    def ours_action(batch, cols):
        return action_reward(batch, **cols, log_metric=log_metric)

    def ours_both(batch, cols):
        return ours_format(batch, cols), ours_action(batch, cols)

    def seed_format(batch, cols):
        return seed_format_reward(batch)

    ours_both(
        completions[:64], {k: v[:64] for k, v in columns.items()}
    )  # warm-up: smart_resize import and cache
    rates = {
        "seed format_reward": _per_second(seed_format, conversational, columns, args.batch, args.repeats),
        "format_reward": _per_second(ours_format, conversational, columns, args.batch, args.repeats),
        "action_reward": _per_second(ours_action, conversational, columns, args.batch, args.repeats),
        "format_reward + action_reward": _per_second(
            ours_both, conversational, columns, args.batch, args.repeats
        ),
    }
    full = action_reward(completions, **columns)
    print(f"mix: {args.n} completions, batch {args.batch}, spaces {SPACES}, best of {args.repeats}")
    print(f"mean action reward on the mix: {sum(full) / len(full):.3f}")
    for name, rate in rates.items():
        print(f"{name:32s} {rate:10.0f} completions/s")
    ratio = rates["format_reward"] / rates["seed format_reward"]
    print(f"format_reward vs seed format_reward: {ratio:.2f}x the seed's throughput")
    print(f"rewards_per_second: {rates['format_reward + action_reward']:.0f}")


if __name__ == "__main__":
    main()
