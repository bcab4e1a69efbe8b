"""GRPO step time: phone-r1's pipeline against a bare TRL script, same tiny model, batch and lengths.

phone-r1's side is `training.run` as `phone-r1 train grpo` runs it (recipe parsing, the lazy dataset
that builds prompts and opens images per batch, the `format` + `action` rewards with their breakdown
logging, the checkpoint-metadata callback). The bare side is what a user would write with TRL alone:
a `datasets.Dataset` holding the same prompts with the images decoded up front, and one small regex
format reward. Both use the same model folder, processor, GRPO settings and generation length
(completions forced to the full length so both sides generate the same number of tokens).

After one untimed warm-up run of each side, runs alternate (phone-r1, bare, phone-r1, bare, ...) so
machine load drifts affect both; the first step of each run is warm-up and not counted. Prints the
median step time of each side and their ratio; the last line is
`train_step_ratio: <phone-r1 / bare>` (target: at most 1.10).

    python benchmarks/train_step.py [--steps 6] [--rounds 2] [--episodes data/demo/train]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BATCH, GENERATIONS, COMPLETION = 2, 2, 32
MIN_PIXELS, MAX_PIXELS = 3136, 12544


def step_timer():
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.times: list[float] = []
            self._start = 0.0

        def on_step_begin(self, args, state, control, **kwargs):
            self._start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.times.append(time.perf_counter() - self._start)

    return StepTimer()


def common_args(steps: int, out: Path) -> dict:
    return dict(
        output_dir=str(out),
        per_device_train_batch_size=BATCH,
        num_generations=GENERATIONS,
        max_completion_length=COMPLETION,
        generation_kwargs={"min_new_tokens": COMPLETION},
        max_steps=steps,
        learning_rate=1e-4,
        beta=0.0,
        gradient_checkpointing=False,
        bf16=False,
        use_cpu=True,
        report_to="none",
        logging_steps=1,
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
        dataloader_num_workers=0,
    )


def run_phone_r1(model_dir: Path, episodes: Path, steps: int) -> list[float]:
    from training.run import build_trainer, plan

    with tempfile.TemporaryDirectory() as out:
        args = common_args(steps, Path(out))
        argv = [
            "--config",
            str(ROOT / "training/recipes/tiny/grpo.yaml"),
            "--model_name_or_path",
            str(model_dir),
            "--dataset_path",
            str(episodes),
            "--max_train_samples",
            "8",
            "--min_pixels",
            str(MIN_PIXELS),
            "--max_pixels",
            str(MAX_PIXELS),
            "--reward_funcs",
            "format",
            "action",
            "--reward_weights",
            "1",
            "1",
            "--log_completions",
            "false",
        ]
        for key, value in args.items():
            if key == "generation_kwargs":
                argv += [f"--{key}", json.dumps(value)]
            else:
                argv += [f"--{key}", str(value).lower() if isinstance(value, bool) else str(value)]
        timer = step_timer()
        trainer = build_trainer(plan("grpo", argv), callbacks=[timer])
        trainer.train()
        return timer.times[1:]


def bare_dataset(episodes: Path):
    """The same prompts as plain rows with images decoded up front: what a bare TRL script builds."""
    import itertools

    import datasets

    from episodes.readers import iter_steps
    from training.dataset import DatasetSpec, build_dataset

    lazy = build_dataset(
        itertools.islice(iter_steps(episodes), 8),
        DatasetSpec(coord_space="resized", min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS),
    )
    rows = [{"prompt": row["prompt"], "images": row["images"]} for row in lazy]
    return datasets.Dataset.from_list(rows)


def think_answer_format(completions, **kwargs):
    pattern = re.compile(r"<think>.*?</think>\s*<answer>.*?</answer>", re.S)
    return [
        1.0 if pattern.search(c[0]["content"] if isinstance(c, list) else c) else 0.0 for c in completions
    ]


def run_bare(model_dir: Path, dataset, steps: int) -> list[float]:
    from transformers import AutoModelForImageTextToText
    from trl import GRPOConfig, GRPOTrainer

    from agent.processor import load_processor

    with tempfile.TemporaryDirectory() as out:
        config = GRPOConfig(**common_args(steps, Path(out)))
        model = AutoModelForImageTextToText.from_pretrained(model_dir, attn_implementation="sdpa")
        for param in model.model.visual.parameters():  # the tiny recipe freezes the vision tower too
            param.requires_grad_(False)
        timer = step_timer()
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=[think_answer_format],
            args=config,
            train_dataset=dataset,
            processing_class=load_processor(model_dir, MIN_PIXELS, MAX_PIXELS),
            callbacks=[timer],
        )
        trainer.train()
        return timer.times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=6, help="GRPO steps per run (the first is warm-up)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each side")
    parser.add_argument("--episodes", type=Path, default=ROOT / "data/demo/train")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import torch

    from training.tiny_model import build_tiny_model

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_model(Path(tmp) / "tiny", seed=0)
        dataset = bare_dataset(args.episodes)
        # One untimed run of each side first: the process's first training steps pay one-off costs
        # (allocator growth, lazy imports, thread pools) that would otherwise land on whichever runs first.
        run_phone_r1(model_dir, args.episodes, 3)
        run_bare(model_dir, dataset, 3)
        phone, bare = [], []
        for _ in range(args.rounds):
            phone += run_phone_r1(model_dir, args.episodes, args.steps)
            bare += run_bare(model_dir, dataset, args.steps)
    p, b = statistics.median(phone), statistics.median(bare)
    print(
        f"model: tiny Qwen2.5-VL; batch {BATCH}, {GENERATIONS} generations, {COMPLETION} completion tokens, "
        f"{args.rounds} x {args.steps - 1} timed steps per side, {args.threads} threads"
    )
    print(f"phone-r1 pipeline: median {p:.3f} s/step (min {min(phone):.3f}, max {max(phone):.3f})")
    print(f"bare TRL script:   median {b:.3f} s/step (min {min(bare):.3f}, max {max(bare):.3f})")
    print(f"per step, phone-r1: {[round(t, 3) for t in phone]}")
    print(f"per step, bare:     {[round(t, 3) for t in bare]}")
    print(f"ratio of the fastest steps (least disturbed by other load): {min(phone) / min(bare):.3f}")
    print(f"train_step_ratio: {p / b:.3f}")


if __name__ == "__main__":
    main()
