"""What `phone-r1 demo` decides before it trains, and the check that its GRPO stage learned.

- `DemoRecipes`: which recipe files of a `--recipes` folder the SFT and GRPO stages use. A folder
  without `sft.yaml` has no SFT stage (GRPO starts from the base model); the GRPO recipe is the first
  of `GRPO_RECIPES` present, since the demo trains in one process (LoRA before full fine-tuning).
- `check_train_command`: parse a stage's `phone-r1 train` command line with the recipe parser, before
  anything is trained, so a wrong folder or field fails in seconds rather than after the SFT stage.
- `RewardCheck`: GRPO's reward at the start and end of the run, from the training report's
  `trend.json`; the demo fails when it did not rise by at least `--min-reward-rise`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# First present wins: one process trains, so a LoRA recipe fits where full fine-tuning may not.
GRPO_RECIPES = ("grpo.yaml", "grpo_lora.yaml", "grpo_full.yaml")
SFT_RECIPE = "sft.yaml"
# Overrides that let a GPU recipe be parsed on a machine without one (what tests/test_training_launch.py
# does too); only `--dry-run` on such a machine uses them, and says so.
CPU_PARSE_OVERRIDES = ("--bf16", "false", "--use_cpu", "true")


class DemoInputError(ValueError):
    """The demo cannot start with these inputs (a recipe folder, a recipe, a data folder): exit 2."""


@dataclass(frozen=True)
class DemoRecipes:
    """The recipe files one demo run trains with."""

    folder: Path
    sft: Path | None
    grpo: Path

    @classmethod
    def find(cls, folder: Path) -> DemoRecipes:
        if not folder.is_dir():
            raise DemoInputError(f"--recipes {folder}: expected a folder of recipe YAML files, found none")
        grpo = next((folder / name for name in GRPO_RECIPES if (folder / name).is_file()), None)
        if grpo is None:
            present = sorted(p.name for p in folder.glob("*.yaml")) or "no YAML files"
            raise DemoInputError(
                f"--recipes {folder}: expected a GRPO recipe named one of {list(GRPO_RECIPES)}, "
                f"found {present}"
            )
        sft = folder / SFT_RECIPE
        return cls(folder, sft if sft.is_file() else None, grpo)


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def check_train_command(kind: str, argv: list[str], *, dry_run: bool) -> str:
    """Parse `phone-r1 train KIND ARGV` as the stage will run it; raises DemoInputError naming the recipe.

    Returns a note for the plan ("" when parsed as is). Without a GPU, a recipe that asks for bf16 on
    a GPU cannot be parsed as is; a dry run parses it with `CPU_PARSE_OVERRIDES` and says so. A dry run
    downloads nothing: for a hub model not in the local cache it parses the recipe's fields without
    the model's family, and says so.
    """
    import yaml

    from training.config import RecipeError, parse_recipe
    from training.run import plan

    recipe = Path(argv[argv.index("--config") + 1])
    note = ""
    if dry_run and not _has_gpu():
        raw = yaml.safe_load(recipe.read_text(encoding="utf-8")) or {}
        if raw.get("use_cpu") is False:
            argv = [*argv, *CPU_PARSE_OVERRIDES]
            note = f"parsed with {' '.join(CPU_PARSE_OVERRIDES)}: no GPU here"
    model = argv[argv.index("--model_name_or_path") + 1] if "--model_name_or_path" in argv else None
    offline = _unreadable_hub_model(model) if dry_run and model else None
    try:
        if offline:
            # The recipe's fields still parse; what needs the model's config.json (its family's budget,
            # template switches, fused experts) is checked when the stage runs where the hub is reachable.
            parse_recipe(kind, argv)
            note = "; ".join(n for n in (note, f"model family not read here ({offline})") if n)
        else:
            plan(kind, argv)
    except RecipeError as err:
        raise DemoInputError(f"{kind} stage, {recipe}: {err}") from None
    return note


def _unreadable_hub_model(model: str) -> str | None:
    """Why a dry run cannot read hub model `model`'s config: it is not in the local Hugging Face cache,
    and a dry run downloads nothing. None for a local folder or a cached hub id."""
    if Path(model).exists():
        return None
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(model, local_files_only=True)
    except OSError:
        return f"{model} is not in the local Hugging Face cache; a dry run downloads nothing"
    return None


@dataclass(frozen=True)
class RewardCheck:
    """GRPO's mean reward over the first and last quarter of its steps, and the rise the demo asks for."""

    first: float
    last: float
    first_steps: tuple[int, int]
    last_steps: tuple[int, int]
    min_rise: float | None  # None: the trend is printed, nothing is asked of it

    @property
    def rise(self) -> float:
        return self.last - self.first

    @property
    def ok(self) -> bool:
        return self.min_rise is None or self.rise >= self.min_rise

    @classmethod
    def read(cls, report_dir: Path, min_rise: float | None) -> RewardCheck | None:
        """From `phone-r1 train report`'s trend.json; None when the run logged under two steps."""
        reward = json.loads((report_dir / "trend.json").read_text(encoding="utf-8"))["reward"]
        if reward is None:
            return None
        return cls(
            reward["first"],
            reward["last"],
            tuple(reward["first_steps"]),
            tuple(reward["last_steps"]),
            min_rise,
        )

    def lines(self) -> list[str]:
        def steps(pair: tuple[int, int]) -> str:
            return f"step {pair[0]}" if pair[0] == pair[1] else f"steps {pair[0]}-{pair[1]}"

        if self.min_rise is None:
            verdict = "rose" if self.rise > 0 else "did NOT rise"
            asked = "nothing asked: --min-reward-rise makes the demo fail without a rise"
        else:
            verdict = "rose" if self.ok else "did NOT rise"
            asked = f"the demo asks for at least {self.min_rise:+.3f}"
        return [
            f"  first  {self.first:.3f}  (mean over {steps(self.first_steps)})",
            f"  last   {self.last:.3f}  (mean over {steps(self.last_steps)})",
            f"  {verdict}: {self.rise:+.3f} ({asked})",
        ]
