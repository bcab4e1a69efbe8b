"""GRPO step time per model family: phone-r1's pipeline against a bare TRL script, same tiny model.

phone-r1's side is `training.run` as `phone-r1 train grpo` runs it (recipe parsing, the lazy dataset
that builds prompts and opens images per batch, the `format` + `action` rewards with their breakdown
logging, the checkpoint-metadata callback). The bare side is what a user would write with TRL alone:
a `datasets.Dataset` holding the same prompts with the images decoded up front, and one small regex
format reward. Both use the same model folder, processor, GRPO settings and generation length
(completions forced to the full length so both sides generate the same number of tokens).

Each model family is measured on its own tiny checkpoint (`phone-r1 train tiny --family`), in the
`resized` space where it has one (its own tile) and in its answer grid otherwise, with the chat
template's switches the family needs on both sides (Qwen3.5's `enable_thinking`).

After one untimed warm-up run of each side, runs alternate (phone-r1, bare, phone-r1, bare, ...) so
machine load drifts affect both; the first step of each run is warm-up and not counted. Prints the
median step time of each side and their ratio per family (`train_step_ratio[<family>]: ...`); the last
line is `train_step_ratio: <the largest of them>` (target: at most 1.10 for every family).

    python benchmarks/train_step.py [--family qwen3_vl ...] [--steps 6] [--rounds 2] [--episodes DIR]

With `--semi-online` it measures semi-online GRPO (`semi_online: true`, no patch cap, so every rollout
runs the whole episode) against plain GRPO, both through phone-r1 on the tiny Qwen2.5-VL and the same
steps: time per trained completion (a plain step trains `BATCH` completions; a semi-online step trains
one per live rollout per step index) and the share of the semi-online step spent building own-history
prompts. The last line is `semi_online_completion_ratio: <semi-online / plain>` (target: at most 1.3).

    python benchmarks/train_step.py --semi-online [--steps 4] [--rounds 2]
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


def run_phone_r1(
    model_dir: Path, episodes: Path, steps: int, family: str = "qwen2_5_vl", extra: list[str] | None = None
) -> list[float]:
    return _phone_r1_trainer_times(model_dir, episodes, steps, family, extra)[0][1:]


def _phone_r1_trainer_times(
    model_dir: Path, episodes: Path, steps: int, family: str = "qwen2_5_vl", extra: list[str] | None = None
) -> tuple[list[float], object]:
    import yaml

    from tests.helpers.tiny import family_geometry
    from training.run import build_trainer, plan

    space, budget = family_geometry(family)
    with tempfile.TemporaryDirectory() as out:
        args = common_args(steps, Path(out))
        recipe = yaml.safe_load((ROOT / "training/recipes/tiny/grpo.yaml").read_text())
        recipe.pop("min_pixels")
        recipe.pop("max_pixels")
        recipe.update(budget, coord_space=space)
        recipe_path = Path(out) / "recipe.yaml"
        recipe_path.write_text(yaml.safe_dump(recipe))
        argv = [
            "--config",
            str(recipe_path),
            "--model_name_or_path",
            str(model_dir),
            "--dataset_path",
            str(episodes),
            "--max_train_samples",
            "8",
            "--reward_funcs",
            "format",
            "action",
            "--reward_weights",
            "1",
            "1",
            "--log_completions",
            "false",
            *(extra or []),
        ]
        for key, value in args.items():
            if key == "generation_kwargs":
                argv += [f"--{key}", json.dumps(value)]
            else:
                argv += [f"--{key}", str(value).lower() if isinstance(value, bool) else str(value)]
        timer = step_timer()
        trainer = build_trainer(plan("grpo", argv), callbacks=[timer])
        if hasattr(trainer, "_row"):  # semi-online: time spent building own-history prompts
            build = trainer._row
            trainer.prompt_build_s = 0.0

            def timed_row(step):
                start = time.perf_counter()
                try:
                    return build(step)
                finally:
                    trainer.prompt_build_s += time.perf_counter() - start

            trainer._row = timed_row
        trainer.train()
        return timer.times, trainer


def semi_online_row(args) -> None:
    """Semi-online against plain GRPO, per trained completion, on the tiny Qwen2.5-VL."""
    from training.tiny_model import build_tiny_model

    semi = ["--semi_online", "true", "--semi_online_max_patches", "-1"]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_model(Path(tmp) / "tiny", seed=0)
        run_phone_r1(model_dir, args.episodes, 2)
        run_phone_r1(model_dir, args.episodes, 2, extra=semi)
        plain, online, building, spent = [], [], 0.0, 0.0
        for _ in range(args.rounds):
            plain += [t / BATCH for t in run_phone_r1(model_dir, args.episodes, args.steps)]
            times, trainer = _phone_r1_trainer_times(model_dir, args.episodes, args.steps, extra=semi)
            log = trainer.state.log_history
            trained = [e["semi_online/steps"] * BATCH for e in log if "semi_online/steps" in e]
            # The first step of each run is warm-up, as on the plain side.
            online += [t / n for t, n in zip(times[1:], trained[1:], strict=True)]
            building += trainer.prompt_build_s
            spent += sum(times)
    p, o = statistics.median(plain), statistics.median(online)
    print(
        f"model: tiny Qwen2.5-VL; batch {BATCH}, {GENERATIONS} generations, {COMPLETION} completion tokens, "
        f"first 8 steps of {args.episodes}, {args.rounds} x {args.steps - 1} timed steps per side"
    )
    print(f"plain GRPO:       median {p:.3f} s per trained completion")
    print(f"semi-online GRPO: median {o:.3f} s per trained completion")
    share = building / spent if spent else 0.0
    print(
        f"own-history prompt building: {building:.2f} s of {spent:.2f} s of semi-online steps ({share:.1%})"
    )
    print(f"semi_online_completion_ratio: {o / p:.3f}")


def bare_dataset(episodes: Path, family: str = "qwen2_5_vl"):
    """The same prompts as plain rows with images decoded up front: what a bare TRL script builds."""
    import itertools

    import datasets

    from agent.families import family_of
    from episodes.readers import iter_steps
    from tests.helpers.tiny import family_geometry
    from training.dataset import DatasetSpec, build_dataset

    space, budget = family_geometry(family)
    geometry_of = family_of(family).budget(budget.get("min_pixels"), budget.get("max_pixels"))
    lazy = build_dataset(
        itertools.islice(iter_steps(episodes), 8),
        DatasetSpec(
            coord_space=space,
            min_pixels=geometry_of.min_pixels,
            max_pixels=geometry_of.max_pixels,
            tile=geometry_of.tile,
        ),
    )
    rows = [{"prompt": row["prompt"], "images": row["images"]} for row in lazy]
    return datasets.Dataset.from_list(rows)


def think_answer_format(completions, **kwargs):
    pattern = re.compile(r"<think>.*?</think>\s*<answer>.*?</answer>", re.S)
    return [
        1.0 if pattern.search(c[0]["content"] if isinstance(c, list) else c) else 0.0 for c in completions
    ]


def run_bare(model_dir: Path, dataset, steps: int, family: str = "qwen2_5_vl") -> list[float]:
    from transformers import AutoModelForImageTextToText
    from trl import GRPOConfig, GRPOTrainer

    from agent.families import family_of
    from agent.processor import load_processor
    from tests.helpers.tiny import family_geometry
    from training.model import vision_tower

    _, budget = family_geometry(family)
    with tempfile.TemporaryDirectory() as out:
        config = GRPOConfig(
            **common_args(steps, Path(out)), chat_template_kwargs=dict(family_of(family).chat_template_kwargs)
        )
        model = AutoModelForImageTextToText.from_pretrained(model_dir, attn_implementation="sdpa")
        tower = vision_tower(model) or model.model.vision_tower
        for param in tower.parameters():  # the tiny recipe freezes the vision tower too
            param.requires_grad_(False)
        timer = step_timer()
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=[think_answer_format],
            args=config,
            train_dataset=dataset,
            processing_class=load_processor(model_dir, budget.get("min_pixels"), budget.get("max_pixels")),
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
    parser.add_argument(
        "--family",
        action="append",
        help="model family to measure (repeatable; default: every registered family)",
    )
    parser.add_argument(
        "--semi-online", action="store_true", help="measure semi-online GRPO against plain GRPO instead"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import torch

    if args.semi_online:
        torch.set_num_threads(args.threads)
        semi_online_row(args)
        return

    from agent.families import MODEL_FAMILIES, family_of
    from training.tiny_model import build_tiny_model

    torch.set_num_threads(args.threads)
    ratios = {}
    for family in args.family or MODEL_FAMILIES.names():
        with tempfile.TemporaryDirectory() as tmp:
            model_dir = build_tiny_model(Path(tmp) / "tiny", seed=0, family=family)
            dataset = bare_dataset(args.episodes, family)
            # One untimed run of each side first: the process's first training steps pay one-off costs
            # (allocator growth, lazy imports, thread pools) that would otherwise land on whichever runs
            # first.
            run_phone_r1(model_dir, args.episodes, 3, family)
            run_bare(model_dir, dataset, 3, family)
            phone, bare = [], []
            for _ in range(args.rounds):
                phone += run_phone_r1(model_dir, args.episodes, args.steps, family)
                bare += run_bare(model_dir, dataset, args.steps, family)
        p, b = statistics.median(phone), statistics.median(bare)
        print(
            f"model: tiny {family_of(family).title} ({family}); batch {BATCH}, {GENERATIONS} generations, "
            f"{COMPLETION} completion tokens, {args.rounds} x {args.steps - 1} timed steps per side, "
            f"{args.threads} threads"
        )
        print(f"phone-r1 pipeline: median {p:.3f} s/step (min {min(phone):.3f}, max {max(phone):.3f})")
        print(f"bare TRL script:   median {b:.3f} s/step (min {min(bare):.3f}, max {max(bare):.3f})")
        print(f"ratio of the fastest steps (least disturbed by other load): {min(phone) / min(bare):.3f}")
        print(f"train_step_ratio[{family}]: {p / b:.3f}", flush=True)
        ratios[family] = p / b
    worst = max(ratios, key=ratios.get)
    print(f"largest ratio: {worst}")
    print(f"train_step_ratio: {ratios[worst]:.3f}")


if __name__ == "__main__":
    main()
