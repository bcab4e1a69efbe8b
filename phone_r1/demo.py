"""`phone-r1 demo`: the whole loop on one command.

data → model → sft → grpo → eval (before and after training, each against a live server) → report →
ui. Every stage calls the same `phone-r1` subcommands a user would type, so the demo doubles as an
end-to-end check of the CLI, and each stage can be rerun alone (`--stage eval`) from the artifacts
the earlier stages left under `--out`. `--dry-run` prints every stage's commands and checks the
training recipes without running anything.

The summary prints GRPO's mean reward over the first and last quarter of its steps, from the
training report, and the demo fails (exit 1) unless it rose by `--min-reward-rise` (env
MIN_REWARD_RISE; on the tiny model DEFAULT_MIN_REWARD_RISE, with `--model` nothing unless asked).
The tiny model is warmed on the tagged `<think>`/`<answer>` target, so GRPO's `format` and `action`
rewards start above 0 with room left to earn (docs/training.md, "The demo's GRPO").
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from phone_r1.demo_plan import DemoInputError, DemoRecipes, RewardCheck, check_train_command

STAGES = ("data", "model", "sft", "grpo", "eval", "report", "ui")
REPO_ROOT = Path(__file__).resolve().parent.parent
# Overrides for the tiny random model only (see stage_sft): SFT on the tagged target at a high
# cosine learning rate, then GRPO with groups of 4 completions long enough for that target (the demo's
# tagged targets are 108-288 tokens, median 149, with the tiny tokenizer) at a learning rate under
# which the reward rose with seeds 0 and 1 (docs/training.md, "The demo's GRPO").
TINY_SFT_OVERRIDES = (
    "--sft_target",
    "think",
    "--learning_rate",
    "1e-2",
    "--lr_scheduler_type",
    "cosine",
    "--warmup_steps",
    "10",
    "--save_strategy",
    "no",
    "--disable_tqdm",
    "true",
)
TINY_COMPLETION_TOKENS = 200
TINY_GRPO_OVERRIDES = (
    "--learning_rate",
    "2e-3",
    "--per_device_train_batch_size",
    "8",
    "--num_generations",
    "4",
    "--max_completion_length",
    str(TINY_COMPLETION_TOKENS),
    "--save_strategy",
    "no",
    "--disable_tqdm",
    "true",
)
# The rise GRPO's reward must show on the tiny model (first to last quarter of its steps); seeds 0 and 1
# of the defaults rose by 0.189 and 0.139.
DEFAULT_MIN_REWARD_RISE = 0.05
DEFAULT_TRAIN = REPO_ROOT / "data" / "demo" / "train"
DEFAULT_TEST = REPO_ROOT / "data" / "demo" / "test"
TINY_RECIPES = REPO_ROOT / "training" / "recipes" / "tiny"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="the whole loop on the demo episodes (train, serve, eval, report, replay UI)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--stage", choices=("all", *STAGES), default="all", help="run one stage alone (default: all)"
    )
    p.add_argument("--out", type=Path, default=Path("runs/demo"), help="where every artifact goes")
    p.add_argument(
        "--model",
        default=os.environ.get("MODEL"),
        help="base model (hub id or folder); default: the tiny random Qwen2.5-VL built locally (env MODEL)",
    )
    p.add_argument(
        "--recipes",
        type=Path,
        default=Path(os.environ["RECIPES"]) if os.environ.get("RECIPES") else None,
        help="folder of recipes: sft.yaml (optional: without it GRPO starts from the base model) and one "
        "of grpo.yaml, grpo_lora.yaml, grpo_full.yaml, the first found (env RECIPES; default: "
        "training/recipes/tiny)",
    )
    p.add_argument(
        "--train-data",
        type=Path,
        default=Path(os.environ.get("DATA", DEFAULT_TRAIN)),
        help="training episodes (env DATA)",
    )
    p.add_argument(
        "--test-data",
        type=Path,
        default=Path(os.environ.get("TEST_DATA", DEFAULT_TEST)),
        help="held-out episodes (env TEST_DATA)",
    )
    p.add_argument(
        "--sft-steps", type=int, default=int(os.environ.get("SFT_STEPS", 300)), help="SFT warm-start steps"
    )
    p.add_argument("--grpo-steps", type=int, default=int(os.environ.get("GRPO_STEPS", 30)), help="GRPO steps")
    p.add_argument(
        "--min-reward-rise",
        type=_reward_rise,
        default=os.environ.get("MIN_REWARD_RISE", "auto"),
        help="fail unless GRPO's mean reward over its last quarter of steps exceeds that over its first "
        "quarter by this much; 'none' prints the trend without asking anything (env MIN_REWARD_RISE; "
        f"default: {DEFAULT_MIN_REWARD_RISE} on the tiny model, none with --model)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print every stage's commands and check the recipes (parsed as the stages would run them) "
        "without running anything",
    )
    p.add_argument("--eval-limit", type=int, default=None, help="evaluate only the first N held-out steps")
    p.add_argument(
        "--max-tokens",
        type=int,
        default=int(os.environ.get("MAX_TOKENS", TINY_COMPLETION_TOKENS)),
        help="completion budget per evaluated step (bounds CPU generation time; default: the tiny "
        "model's GRPO completion length, which its tagged answers need)",
    )
    p.add_argument(
        "--engine", choices=("auto", "vllm", "transformers"), default="auto", help="serving engine"
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address of the servers the demo starts")
    p.add_argument("--ui-port", type=int, default=7860, help="port of the replay UI")
    p.add_argument(
        "--no-ui",
        action="store_true",
        default=os.environ.get("CI", "").lower() == "true",
        help="end after the report instead of opening the replay UI (default when CI=true)",
    )
    p.set_defaults(func=run)


def _reward_rise(text: str) -> float | str | None:
    """`--min-reward-rise`: a number, 'none' (ask nothing) or 'auto' (the default for the model)."""
    if text in ("auto", "none"):
        return None if text == "none" else text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, 'none' or 'auto', found {text!r}") from None


@dataclass
class Demo:
    args: argparse.Namespace
    times: dict[str, float] = field(default_factory=dict)
    reward: RewardCheck | None = None

    # -- paths every stage agrees on -------------------------------------------------------------
    @property
    def out(self) -> Path:
        return self.args.out.resolve()

    @property
    def recipes(self) -> DemoRecipes:
        return DemoRecipes.find((self.args.recipes or TINY_RECIPES).resolve())

    @property
    def min_reward_rise(self) -> float | None:
        """The rise asked of GRPO's reward: the tiny model's default, nothing for a user's `--model`
        (whose recipe and step count the demo knows nothing about) unless asked."""
        asked = self.args.min_reward_rise
        if asked == "auto":
            return None if self.args.model else DEFAULT_MIN_REWARD_RISE
        return asked

    @property
    def dry_run(self) -> bool:
        return bool(getattr(self.args, "dry_run", False))

    @property
    def base_model(self) -> str:
        return self.args.model or str(self.out / "tiny-model")

    @property
    def sft_dir(self) -> Path:
        return self.out / "sft"

    @property
    def grpo_dir(self) -> Path:
        return self.out / "grpo"

    @property
    def eval_dir(self) -> Path:
        return self.out / "eval"

    @property
    def train_report_dir(self) -> Path:
        return self.out / "train-report"

    @property
    def report_dir(self) -> Path:
        return self.out / "report"

    def results(self, label: str) -> Path:
        return self.eval_dir / f"{label}.jsonl"

    # -- helpers -----------------------------------------------------------------------------------
    def phone_r1(self, *argv: str | Path, background: bool = False, log: Path | None = None):
        cmd = [sys.executable, "-m", "phone_r1.cli", *map(str, argv)]
        print(f"  $ phone-r1 {shlex.join(_shown(cmd[3:]))}", flush=True)
        if self.dry_run:
            return None
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if background:
            assert log is not None
            log.parent.mkdir(parents=True, exist_ok=True)
            handle = log.open("w")
            # A new session so the whole server tree can be stopped together.
            return subprocess.Popen(
                cmd, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        done = subprocess.run(cmd, env=env)
        if done.returncode != 0:
            raise DemoError(f"`phone-r1 {shlex.join(cmd[3:])}` exited with status {done.returncode}")
        return done

    def require(self, path: Path, stage: str) -> None:
        if not path.exists() and not self.dry_run:
            raise DemoError(
                f"{path} is missing: run `phone-r1 demo --stage {stage}` (or the whole demo) first"
            )

    # -- stages ------------------------------------------------------------------------------------
    def stage_data(self) -> None:
        for root in (self.args.train_data, self.args.test_data):
            if not root.exists():
                if root.resolve() in (DEFAULT_TRAIN, DEFAULT_TEST):
                    raise DemoInputError(
                        f"{root} is missing from this checkout; restore data/demo or pass "
                        "--train-data/--test-data"
                    )
                raise DemoInputError(f"episode folder {root} does not exist")
            self.phone_r1("data", "validate", root)
        self.phone_r1("data", "stats", self.args.train_data)

    def stage_model(self) -> None:
        if self.args.model:
            print(f"  using base model {self.args.model}")
            return
        self.phone_r1("train", "tiny", "-o", self.out / "tiny-model")

    def train_argv(self, kind: str) -> list[str]:
        """The `phone-r1 train KIND` arguments of the SFT or GRPO stage."""
        recipes = self.recipes
        if kind == "sft":
            recipe, model, output, steps = recipes.sft, self.base_model, self.sft_dir, self.args.sft_steps
            extra = () if self.args.model else TINY_SFT_OVERRIDES
        else:
            model = str(self.sft_dir) if recipes.sft else self.base_model
            recipe, output, steps = recipes.grpo, self.grpo_dir, self.args.grpo_steps
            extra = () if self.args.model else TINY_GRPO_OVERRIDES
        assert recipe is not None
        argv = ["--config", recipe, "--model_name_or_path", model, "--dataset_path"]
        argv += [self.args.train_data.resolve(), "--output_dir", output, "--max_steps", steps, *extra]
        return [str(a) for a in argv]

    def preflight(self, stages: tuple[str, ...]) -> None:
        """Parse the training stages' command lines now, so a bad recipe fails before anything trains."""
        kinds = [k for k in ("sft", "grpo") if k in stages and (k == "grpo" or self.recipes.sft)]
        for kind in kinds:
            argv = self.train_argv(kind)
            if kind == "grpo" and "sft" in kinds:
                # The SFT checkpoint GRPO starts from is not written yet (or is a previous run's, maybe
                # cut short); the recipe reads its model family from it, which is the base model's.
                argv[argv.index("--model_name_or_path") + 1] = self.base_model
            note = check_train_command(kind, argv, dry_run=self.dry_run)
            recipe = self.recipes.sft if kind == "sft" else self.recipes.grpo
            print(f"  {kind} recipe {_shown([str(recipe)])[0]}: parses" + (f" ({note})" if note else ""))

    def stage_sft(self) -> None:
        if self.recipes.sft is None:
            folder = _shown([str(self.recipes.folder)])[0]
            print(f"  {folder} has no sft.yaml: no SFT stage, GRPO starts from the base model")
            return
        if not self.args.model:
            self.require(self.out / "tiny-model", "model")
        self.phone_r1("train", "sft", *self.train_argv("sft"))

    def stage_grpo(self) -> None:
        if self.recipes.sft is not None:
            self.require(self.sft_dir, "sft")
        self.phone_r1("train", "grpo", *self.train_argv("grpo"))
        self.phone_r1("train", "report", self.grpo_dir, "-o", self.train_report_dir)
        print(f"  training report: {_shown([str(self.train_report_dir / 'report.html')])[0]}")
        if not self.dry_run:
            self.reward = RewardCheck.read(self.train_report_dir, self.min_reward_rise)

    def _evaluate(self, label: str, checkpoint: str) -> None:
        from agent.spec import resolve_spec
        from serving.launch import ServerFailed, free_port, stop, wait_for_health

        # Both runs are asked in the trained checkpoint's space, template and pixel budget, so the
        # before/after numbers compare the weights and nothing else.
        if self.dry_run:
            meta, port = recipe_meta(self.recipes.grpo), "PORT"  # not trained yet: the recipe's budget
        else:
            meta, port = resolve_spec(self.grpo_dir).meta, free_port(self.args.host)
        log = self.eval_dir / f"serve-{label}.log"
        name = f"phone-r1-{label}"
        server = self.phone_r1(
            "serve",
            checkpoint,
            "--engine",
            self.args.engine,
            "--host",
            self.args.host,
            "--port",
            port,
            "--served-model-name",
            name,
            "--min-pixels",
            meta.min_pixels,
            "--max-pixels",
            meta.max_pixels,
            background=True,
            log=log,
        )
        try:
            base_url = f"http://{self.args.host}:{port}/v1"
            try:
                if server is not None:
                    wait_for_health(f"http://{self.args.host}:{port}/health", server, timeout_s=300.0)
            except ServerFailed as exc:
                raise DemoError(f"{exc}; see {log}") from None
            # Each model is also run on its own history (episodes stop at its first mistake), for the
            # report's teacher-forced vs own-history comparison, before and after training.
            runs = [(label, "gold"), (f"{label}-own", "own")]
            for name_, history in runs:
                results = self.results(name_)
                if results.exists() and not self.dry_run:
                    results.unlink()  # a fresh demo run scores from scratch; `eval run` itself resumes
                extra = ["--limit", str(self.args.eval_limit)] if self.args.eval_limit else []
                self.phone_r1(
                    "eval",
                    "run",
                    "--episodes",
                    self.args.test_data.resolve(),
                    "--base-url",
                    base_url,
                    "--model",
                    name,
                    "--checkpoint-meta",
                    self.grpo_dir,
                    "--max-tokens",
                    self.args.max_tokens,
                    "--history",
                    history,
                    "-o",
                    results,
                    *extra,
                )
        finally:
            if server is not None:
                stop(server, grace_s=30.0)

    def stage_eval(self) -> None:
        self.require(self.grpo_dir, "grpo")
        self._evaluate("before", self.base_model)
        self._evaluate("after", str(self.grpo_dir))

    def stage_report(self) -> None:
        for label in ("before", "after"):
            self.require(self.results(label), "eval")
        self.phone_r1("eval", "report", self.results("after"), "-o", self.report_dir)
        self.phone_r1("eval", "report", self.results("before"), "-o", self.report_dir / "before")
        self.phone_r1("eval", "compare", self.results("before"), self.results("after"))
        own_reports = {
            "before": self.report_dir / "before" / "own-history",
            "after": self.report_dir / "own-history",
        }
        for label, own_report in own_reports.items():
            if self.results(f"{label}-own").exists() or self.dry_run:
                self.phone_r1(
                    "eval",
                    "report",
                    self.results(f"{label}-own"),
                    "--against",
                    self.results(label),
                    "-o",
                    own_report,
                )
        if self.dry_run:
            return
        print_before_after(self.report_dir / "before" / "metrics.json", self.report_dir / "metrics.json")
        print_history_gap({label: report / "metrics.json" for label, report in own_reports.items()})

    def stage_ui(self) -> None:
        if self.args.no_ui:
            print("  replay UI skipped (--no-ui or CI=true); open it with:")
            ui = ["--episodes", str(self.args.test_data.resolve()), "--results", str(self.results("after"))]
            print(f"  phone-r1 ui {shlex.join(_shown(ui + ['--results-b', str(self.results('before'))]))}")
            return
        self.require(self.results("after"), "eval")
        self.phone_r1(
            "ui",
            "--episodes",
            self.args.test_data.resolve(),
            "--results",
            self.results("after"),
            "--results-b",
            self.results("before"),
            "--host",
            self.args.host,
            "--port",
            self.args.ui_port,
        )

    def run(self, stages: tuple[str, ...]) -> None:
        import signal

        # SIGTERM (a CI time-out, `kill`) unwinds like Ctrl-C, so the servers a stage started are stopped.
        signal.signal(signal.SIGTERM, _interrupt)
        if "sft" in stages or "grpo" in stages:
            print("== recipes ==", flush=True)
            self.preflight(stages)
        if not self.dry_run:
            self.out.mkdir(parents=True, exist_ok=True)
        for stage in stages:
            print(f"\n== stage {stage} ==", flush=True)
            start = time.perf_counter()
            getattr(self, f"stage_{stage}")()
            self.times[stage] = time.perf_counter() - start
        if self.dry_run:
            print("\ndry run: nothing was run; the recipes parse as the stages would use them")
            return
        self.print_summary()
        if "grpo" in self.times and self.reward is None and self.min_reward_rise is not None:
            raise DemoError(
                f"a rise of GRPO's reward of at least {self.min_reward_rise:+.3f} was asked, but GRPO logged "
                "fewer than 2 steps; run more --grpo-steps or pass --min-reward-rise none"
            )
        if self.reward is not None and not self.reward.ok:
            raise DemoError(
                f"GRPO's reward did not rise: {self.reward.first:.3f} over its first steps, "
                f"{self.reward.last:.3f} over its last ({self.reward.rise:+.3f}, at least "
                f"{self.reward.min_rise or 0.0:+.3f} asked); see {self.train_report_dir / 'report.html'}"
            )

    def print_summary(self) -> None:
        if "grpo" in self.times:
            print("\n== GRPO reward (training report) ==")
            if self.reward is None:
                print("  GRPO logged fewer than 2 steps: no rise to check")
            for line in self.reward.lines() if self.reward else []:
                print(line)
        print("\n== stage times ==")
        for stage, seconds in self.times.items():
            print(f"  {stage:<8} {seconds:8.1f} s")
        print(f"  {'total':<8} {sum(self.times.values()):8.1f} s")
        artifacts = [
            ("base model", Path(self.base_model)),
            ("SFT checkpoint", self.sft_dir),
            ("GRPO checkpoint", self.grpo_dir),
            ("results (before)", self.results("before")),
            ("results (after)", self.results("after")),
            ("training report", self.train_report_dir / "report.html"),
            ("report", self.report_dir / "report.html"),
        ]
        artifacts = [(label, path) for label, path in artifacts if path.exists()]
        if artifacts:
            print("\n== artifacts ==")
        for label, path in artifacts:
            print(f"  {label:<18} {path}")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


class DemoError(RuntimeError):
    """A stage could not run; the message says which stage to run first or what to fix."""


def _shown(argv: list[str]) -> list[str]:
    """Arguments as printed: paths under the working directory relative to it (they run from there)."""
    cwd = os.getcwd().rstrip("/") + "/"
    return [a[len(cwd) :] if a.startswith(cwd) else a for a in argv]


def recipe_meta(recipe: Path):
    """The checkpoint settings a recipe will record (for a dry run, before anything is trained)."""
    import yaml

    from actions.vocab import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS
    from agent.checkpoint import CheckpointMeta

    raw = yaml.safe_load(recipe.read_text(encoding="utf-8")) or {}
    return CheckpointMeta(
        min_pixels=int(raw.get("min_pixels", DEFAULT_MIN_PIXELS)),
        max_pixels=int(raw.get("max_pixels", DEFAULT_MAX_PIXELS)),
    )


def print_before_after(before: Path, after: Path) -> None:
    b = json.loads(before.read_text())
    a = json.loads(after.read_text())
    print("\n== held-out step accuracy: before vs after training ==")
    print(f"  {'metric':<22} {'before':>8} {'after':>8}")
    for key, label in [
        ("sr", "step success (SR)"),
        ("tm", "type match (TM)"),
        ("gr", "grounding (GR)"),
        ("format_validity", "format validity"),
        ("mean_reward", "mean partial reward"),
    ]:
        if key in a or key in b:
            print(f"  {label:<22} {_fmt(b.get(key)):>8} {_fmt(a.get(key)):>8}")


def print_history_gap(metrics: dict[str, Path]) -> None:
    """Teacher-forced against own-history figures, before and after training (`metrics`: label -> the
    `eval report --against` metrics.json; a label whose report is missing shows `-`)."""
    gaps = {
        label: json.loads(path.read_text())["own_history"]["against"] if path.is_file() else {}
        for label, path in metrics.items()
    }
    if not any(gaps.values()):
        return
    episodes = next(gap["episodes"] for gap in gaps.values() if gap)
    print(f"\n== teacher-forced vs own history, before and after training ({episodes} episodes) ==")
    print(f"  {'metric':<34} {'before':>8} {'after':>8}")
    for key, label in [
        ("teacher_forced_sr", "teacher-forced step success (SR)"),
        ("teacher_forced_episode_success", "teacher-forced episode success"),
        ("own_task_success", "own-history task success"),
        ("own_progress", "own-history progress"),
    ]:
        before, after = (_fmt(gaps.get(name, {}).get(key)) for name in ("before", "after"))
        print(f"  {label:<34} {before:>8} {after:>8}")


def _fmt(value) -> str:
    if isinstance(value, dict):
        value = value.get("value", value.get("mean"))
    return "-" if value is None else f"{float(value):.3f}"


def run(args: argparse.Namespace) -> int:
    stages = STAGES if args.stage == "all" else (args.stage,)
    try:
        Demo(args).run(stages)
    except DemoInputError as exc:
        print(f"phone-r1 demo: {exc}", file=sys.stderr)
        return 2
    except DemoError as exc:
        print(f"phone-r1 demo: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("phone-r1 demo: interrupted", file=sys.stderr)
        return 130
    return 0
