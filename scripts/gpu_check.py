"""What only a CUDA GPU shows, in a few minutes, offline: bf16 GRPO steps and GPU-vs-CPU parity.

    python scripts/gpu_check.py            # from the repository root, on a machine with a CUDA GPU

Builds the tiny random Qwen2.5-VL, trains a few GRPO steps on the demo episodes in bf16 (flash-attn 2
when installed, sdpa otherwise), prints the step time and peak GPU memory, then runs `eval parity`
between the trained checkpoint in-process on the GPU and on the CPU, and ends with one summary line
`gpu-check: ...`. Everything it writes goes under `runs/gpu-check/` (`--out`) (removed first, so a second run
starts clean); the Hugging Face caches are pointed there too, so nothing outside the working tree is
touched and no network is needed. Exit code 2 when no CUDA GPU is visible, 1 when a stage fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "runs" / "gpu-check"
RECIPE = ROOT / "training" / "recipes" / "tiny" / "grpo.yaml"


def _offline_env(out: Path) -> None:
    # Caches inside the working tree and no hub access: the check must not reach outside either.
    for var, sub in (("HF_HOME", "hf-home"), ("TRITON_CACHE_DIR", "triton"), ("TMPDIR", "tmp")):
        (out / sub).mkdir(parents=True, exist_ok=True)
        os.environ[var] = str(out / sub)
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")


def grpo_steps(out: Path, model_dir: Path, steps: int, gpu: bool) -> dict[str, float | str]:
    """A few GRPO steps (bf16 on the GPU; float32 with `--device cpu`) through phone-r1's training path."""
    import torch

    from training.model import pick_attn_implementation
    from training.run import plan, train

    attn = pick_attn_implementation(None)
    precision = (
        ["--use_cpu", "false", "--bf16", "true", "--dtype", "bfloat16"] if gpu else ["--use_cpu", "true"]
    )
    argv = [
        "--config", str(RECIPE),
        "--model_name_or_path", str(model_dir),
        "--dataset_path", str(ROOT / "data" / "demo" / "train"),
        "--output_dir", str(out / "grpo"),
        "--max_steps", str(steps),
        "--max_completion_length", "64",
        *precision,
        "--attn_implementation", attn,
        "--save_strategy", "no",
        "--disable_tqdm", "true",
        "--dataloader_num_workers", "0",
    ]  # fmt: skip
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    trainer = train(plan("grpo", argv))
    wall = time.perf_counter() - start
    runtime = next(e["train_runtime"] for e in trainer.state.log_history if "train_runtime" in e)
    return {
        "attn": attn,
        "steps": trainer.state.global_step,
        "step_s": runtime / max(trainer.state.global_step, 1),
        "wall_s": wall,
        "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if gpu else 0.0,
    }


def parity(out: Path, checkpoint: Path, limit: int, device: str) -> dict:
    """`eval parity` between the checkpoint in-process on `device` and on the CPU."""
    import json

    from phone_r1.cli import main

    out = out / "parity.json"
    argv = ["eval", "parity", "--episodes", str(ROOT / "data" / "demo" / "test")]
    argv += ["--a", str(checkpoint), "--a-device", device, "--b", str(checkpoint), "--b-device", "cpu"]
    code = main([*argv, "--limit", str(limit), "--max-tokens", "64", "-o", str(out)])
    if code != 0:
        raise RuntimeError(f"eval parity exited with {code}")
    return json.loads(out.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="GRPO steps (default 5)")
    parser.add_argument(
        "--parity-steps", type=int, default=8, help="steps compared by eval parity (default 8)"
    )
    parser.add_argument(
        "--device",
        default="cuda:0",
        help="cuda:N (default cuda:0), or cpu to rehearse the check without a GPU",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"working folder, emptied first (default {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)

    import torch

    gpu = args.device != "cpu"
    if gpu and not torch.cuda.is_available():
        print("gpu-check: no CUDA GPU is visible (torch.cuda.is_available() is False); nothing was run")
        return 2
    out = args.out.resolve()
    sys.path.insert(0, str(ROOT))
    shutil.rmtree(out, ignore_errors=True)
    _offline_env(out)
    from training.tiny_model import build_tiny_model

    where = torch.cuda.get_device_name(args.device) if gpu else "cpu"
    print(f"gpu-check: {where}, torch {torch.__version__}", flush=True)
    model_dir = out / "tiny"
    build_tiny_model(model_dir, seed=0)
    try:
        train_figures = grpo_steps(out, model_dir, args.steps, gpu)
        print(
            f"grpo: {train_figures['steps']} steps in bf16 with {train_figures['attn']}: "
            f"{train_figures['step_s']:.3f} s/step, peak GPU memory {train_figures['peak_gib']:.2f} GiB",
            flush=True,
        )
        summary = parity(out, out / "grpo", args.parity_steps, args.device)
    except Exception as exc:  # the summary line must say which stage failed, with the error
        print(f"gpu-check: FAILED: {type(exc).__name__}: {exc}")
        return 1
    drift = summary["drift_px"]["max"]
    print(
        f"gpu-check: ok on {where}; grpo {train_figures['step_s']:.3f} s/step {train_figures['attn']}, "
        f"peak GPU {train_figures['peak_gib']:.2f} GiB; parity {args.device}-vs-cpu identical actions "
        f"{100 * summary['identical_actions']:.0f}%, text {100 * summary['identical_text']:.0f}%, "
        f"max drift {'-' if drift is None else f'{drift:.1f} px'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
