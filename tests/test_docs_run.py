"""Every command README.md and docs/*.md print is run, here or by the test named for it.

`HOW` says, for each documented command line, how it runs: as printed in a sandbox copy of the
repository (`run`), with `--dry-run` (or `DRY_RUN=1`) where it needs a GPU or vLLM (`dry`), parsed by
the tool it is given to where there is no dry run (`parse`: accelerate, TRL), as a server started,
probed and stopped (`serve`, `ui`), or by another test that runs that command line (`by`). Where a
run needs a change it is named in the table (a free port for 8000; `--limit 2 --max-tokens 8` where a
tiny random model would otherwise generate 1,024 tokens per step). A file a command reads that no earlier
line of its document writes (answers produced elsewhere, a run before training, a results file the UI
shows, the user's prompt file) is written by the box first, as `GIVEN` names it: with this project's
own code (`eval run`, the scripted server's gold answers). The README's demo transcript is
a recorded run's output, not command lines to run; the README says which stages the demo added since.
`test_every_documented_command_has_a_way_to_run` fails on a new command line until it is given one.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from phone_r1.cli import main
from tests.test_docs_commands import DOCS, FENCE

ROOT = Path(__file__).resolve().parent.parent
ENV_WORD = re.compile(r"^([A-Z_][A-Z0-9_]*)=(.*)$")


@dataclass(frozen=True)
class Line:
    """One documented command: the document, its environment prefix and its words."""

    doc: str
    env: tuple[tuple[str, str], ...]
    words: tuple[str, ...]
    background: bool = False

    @property
    def text(self) -> str:
        return shlex.join(self.words)


def documented_lines() -> list[Line]:
    """Command lines of the fenced shell blocks, with their `VAR=value` prefixes kept (not program
    output of `console` blocks, not the demo transcript, which is a recorded run's output)."""
    lines: list[Line] = []
    for doc in DOCS:
        for language, block in FENCE.findall(doc.read_text(encoding="utf-8")):
            joined = re.sub(r"\s*\\\n\s*", " ", block)
            for raw in joined.splitlines():
                if raw.startswith("  $ "):
                    continue  # the demo transcript's own lines: a recorded run's output
                raw = raw.strip()
                if language == "console":
                    if not raw.startswith("$ "):
                        continue  # program output
                    raw = raw[2:]
                words = shlex.split(raw, comments=True)
                if not words:
                    continue
                background = words[-1] == "&"
                words = words[:-1] if background else words
                env = []
                while words and ENV_WORD.match(words[0]):
                    env.append(ENV_WORD.match(words.pop(0)).groups())
                lines.append(Line(doc.name, tuple(env), tuple(words), background))
    return lines


# (pattern matched against the command text, way, note). First match wins.
HOW: list[tuple[str, str, str]] = [
    (r"^make test(-tv)?$", "make", "the suite itself: `make -n` shows the pytest it runs"),
    (r"^make demo$", "make", "`make demo DEMO_ARGS='--dry-run --no-ui'` (the install step assumed done)"),
    (r"^phone-r1 demo ", "dry", "--dry-run appended"),
    (r"^phone-r1 serve .*--engine vllm", "dry", "vLLM needs a GPU: --dry-run"),
    (r"^phone-r1 serve .*--dry-run", "run", ""),
    (r"^phone-r1 serve ", "serve", "started, /health probed, stopped; a free port for a fixed one"),
    (r"^phone-r1 ui ", "ui", "launched in-process, its page fetched, closed; a free port for 7860 or none"),
    (r"^phone-r1 eval run .*--local ", "run", "--limit 2 --max-tokens 8 appended (random tiny model)"),
    (r"^phone-r1 eval run .*--base-url ", "run", "against the scripted server, on a free port"),
    (r"^phone-r1 eval parity .*--b-device cuda", "run", "cuda:0 -> cpu, --limit 2: no GPU here"),
    (r"^phone-r1 eval parity ", "run", "--max-tokens 8; A is the scripted server on a free port"),
    (r"^phone-r1 ", "run", ""),
    (r"^python -m eval\.testing\.stub_server ", "stub", "started in the background, on a free port"),
    (r"^scripts/launch_multinode\.sh .*tiny", "by", "tests/test_training_deepspeed.py"),
    (r"^scripts/launch_multinode\.sh ", "dry", "DRY_RUN=1 GPUS_PER_NODE=8 added"),
    (r"^accelerate launch .*--num_processes 2 .*tiny", "by", "tests/test_training_deepspeed.py"),
    (r"^accelerate launch ", "parse", "accelerate's launch parser, then the recipe parsed as on a CPU"),
    (r"^trl vllm-serve ", "parse", "TRL's own vllm-serve parser"),
    (r"^python -m verl\.trainer\.main_ppo ", "by", "tests/test_data_verl_roundtrip.py"),
    (r"^\.venv/bin/python benchmarks/", "by", "tests/test_benchmarks.py"),
    (r"^\.venv/bin/python -m pytest ", "by", "the suite itself"),
    (r"^python -m scripts\.protocol_diff ", "by", "tests/test_protocol_diff.py"),
    # The official evaluators' own environments (their PyPI packages): the user's to build, not the suite's.
    (r"^python3? -m venv /tmp/official ", "by", "the user: an official evaluator's environment"),
]
# A `by` test must hold these words of the command lines it stands for.
BY_WORDS = {
    "tests/test_training_deepspeed.py": ["zero3.yaml", "--beta", "launch_multinode.sh", "NODE_RANK"],
    "tests/test_data_verl_roundtrip.py": ["custom-reward", "RLHFDataset", "export_verl"],
    "tests/test_protocol_diff.py": ["--official", "--ac-jsonl", "main("],
    "tests/test_benchmarks.py": [
        f"{name}.py" for name in ("eval_throughput", "import_scale", "rewards", "dataset_scale", "train_step")
    ],
}


def how(line: Line) -> tuple[str, str]:
    for pattern, way, note in HOW:
        if re.search(pattern, line.text):
            return way, note
    return "", ""


def test_every_documented_command_has_a_way_to_run():
    lines = documented_lines()
    assert len(lines) > 80
    assert [line.text for line in lines if not how(line)[0]] == []
    # A file the box writes for a line no line needs any more is a stale entry.
    assert [p for p, _, _ in GIVEN if not any(re.search(p, line.text) for line in lines)] == []
    for path, words in BY_WORDS.items():
        text = (ROOT / path).read_text(encoding="utf-8")
        assert all(w in text for w in words), (path, [w for w in words if w not in text])


# --- the sandbox ----------------------------------------------------------------------------------------


@dataclass
class Sandbox:
    root: Path
    ports: dict[str, int] = field(default_factory=dict)  # documented port -> the free one used here
    live: dict[int, Callable[[], None]] = field(default_factory=dict)  # port -> stop
    serves: dict[int, tuple[str | None, ...]] = field(default_factory=dict)  # port -> what the stub answers

    def path(self, name: str) -> Path:
        return self.root / name

    def stop_all(self) -> None:
        while self.live:
            self.live.popitem()[1]()
        self.serves.clear()


def _checkpoint(box: Sandbox, name: str) -> None:
    """A checkpoint folder for commands that read one: the tiny model with its phone_r1.json."""
    from agent.checkpoint import CheckpointMeta
    from tests.helpers.tiny import tiny_model_dir

    shutil.copytree(tiny_model_dir(), box.path(name), dirs_exist_ok=True)
    CheckpointMeta(coord_space="resized", min_pixels=3136, max_pixels=12544).save(box.path(name))


def _lora(box: Sandbox, name: str) -> None:
    """A LoRA adapter of the tiny model (what `use_peft: true` training saves), for serve and merge."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageTextToText

    from agent.checkpoint import CheckpointMeta
    from tests.helpers.tiny import tiny_model_dir

    torch.manual_seed(0)
    model = AutoModelForImageTextToText.from_pretrained(str(tiny_model_dir()))
    peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    peft.save_pretrained(box.path(name))
    meta = CheckpointMeta(
        coord_space="resized", min_pixels=3136, max_pixels=12544, base_model=str(tiny_model_dir())
    )
    meta.save(box.path(name))


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    """What the documented commands read: recipes, scripts and benchmarks linked, the demo episodes
    copied (data.md regenerates them in place), the public sets' layouts written by the importer tests'
    helpers, checkpoint folders where a command reads one it did not write."""
    from tests.helpers import grounding_sources, importers

    root = tmp_path_factory.mktemp("repo")
    for name in ("training", "scripts", "benchmarks", "Makefile", "pyproject.toml", "constraints.txt"):
        os.symlink(ROOT / name, root / name)
    shutil.copytree(ROOT / "data" / "demo", root / "data" / "demo")
    shutil.copytree(ROOT / "data" / "demo" / "test", root / "data" / "episodes")  # serving.md's folder
    importers.write_ac(root / "ac")
    importers.write_ac_jsonl(root)
    (root / "images").rename(root / "ac-images")
    importers.write_aitz(root / "AITZ")
    importers.write_odyssey(root / "GUI-Odyssey")
    importers.write_amex(root / "AMEX")
    grounding_sources.screenspot_pro(root / "ScreenSpot-Pro")
    sandbox = Sandbox(root)
    # A finished run's output folder holds the final model beside its checkpoint-* folders.
    for name in ("runs/grpo", "runs/grpo/checkpoint-500", "runs/sft", "runs/sft/checkpoint-100"):
        _checkpoint(sandbox, name)
    _lora(sandbox, "runs/grpo-lora/checkpoint-500")
    yield sandbox
    sandbox.stop_all()


def _replace_ports(box: Sandbox, words: list[str]) -> list[str]:
    """Documented fixed ports (8000, 8001, 8011, 7860) -> free ones, the same one for every mention."""
    from serving.launch import free_port

    out = []
    for word in words:
        for port in re.findall(r"(?<![\d.])(8000|8001|8011|7860)(?!\d)", word):
            box.ports.setdefault(port, free_port())
            word = re.sub(rf"(?<![\d.]){port}(?!\d)", str(box.ports[port]), word)
        out.append(word)
    return out


def _flag(words: list[str], flag: str, default: str | None = None) -> str | None:
    return words[words.index(flag) + 1] if flag in words else default


def _budget(words: list[str]):
    from actions.coords import PixelBudget

    pixels = {
        k: int(_flag(words, f))
        for k, f in (("min_pixels", "--min-pixels"), ("max_pixels", "--max-pixels"))
        if f in words
    }
    return PixelBudget(**pixels) if "max_pixels" in pixels else None


def _gold_answers(box: Sandbox, words: list[str]) -> dict[str, str]:
    """What a model that is always right answers to each step (or grounding item) of the command's
    `--episodes`, in the grammar of its `--agent` and coordinate space: the scripted server's replies."""
    from agent.adapters import make_adapter
    from episodes.grounding import is_grounding_set, read_grounding_items
    from episodes.readers import iter_steps

    episodes = box.path(_flag(words, "--episodes"))
    if is_grounding_set(episodes):
        from agent.adapters.grounding import make_grounding_adapter

        adapter = make_grounding_adapter(_flag(words, "--agent", "phone-r1"), budget=_budget(words))
        return {
            item.id: adapter.render(item.target, item.screen) or "" for item in read_grounding_items(episodes)
        }
    steps = list(iter_steps(episodes))
    if "--agent" in words:
        from agent.prompt import screen_size_of

        adapter = make_adapter(_flag(words, "--agent"), budget=_budget(words))
        return {step.step_id: adapter.render(step.gold, screen_size_of(step)) or "" for step in steps}
    from actions.coords import to_model_space
    from eval.testing.stub_replies import render_reply

    space = _flag(words, "--coord-space", "original")
    return {
        step.step_id: render_reply(
            (
                to_model_space(step.gold, space, step.screen_size, _budget(words))
                if space != "original"
                else step.gold
            ).to_json()
        )
        for step in steps
    }


def _stub_at(box: Sandbox, url: str, words: list[str]) -> None:
    """The scripted server answering gold actions at `url` (grounding sets: each item's target), in the
    grammar of `--agent` when the command names one; one already there is kept when it answers the
    same episodes in the same grammar, replaced otherwise (the user would serve another model there)."""
    from eval.testing.stub_server import StubServer

    port = int(re.search(r":(\d+)/", url).group(1))
    serves = (_flag(words, "--episodes"), _flag(words, "--agent"), _flag(words, "--language"))
    if port in box.live and box.serves.get(port) == serves:
        return
    if port in box.live:
        box.live.pop(port)()
    episodes = box.path(_flag(words, "--episodes"))
    from episodes.grounding import is_grounding_set

    if is_grounding_set(episodes):
        from agent.adapters.grounding import make_grounding_adapter
        from episodes.grounding import read_grounding_items
        from eval.testing.grounding_replies import grounding_replies

        adapter = make_grounding_adapter(_flag(words, "--agent", "phone-r1"), budget=_budget(words))
        reply = grounding_replies(
            read_grounding_items(episodes), adapter, language=_flag(words, "--language")
        )
    else:
        from agent.adapters import make_adapter
        from episodes.readers import iter_steps
        from eval.testing.stub_replies import adapter_gold_replies, gold_replies

        steps = list(iter_steps(episodes))
        if "--agent" in words:
            reply = adapter_gold_replies(steps, make_adapter(_flag(words, "--agent"), budget=_budget(words)))
        else:
            reply = gold_replies(steps, coord_space="resized", min_pixels=3136, max_pixels=12544)
    server = StubServer(reply, port=port)
    server.start()
    box.live[port] = server.stop
    box.serves[port] = serves


# --- what the box writes before a command that reads a file no earlier documented command wrote -------


def _write_predictions(box: Sandbox, words: list[str]) -> None:
    """`--predictions FILE`, "answers produced elsewhere": the gold answers in the command's grammar."""
    path = box.path(_flag(words, "--predictions"))
    rows = [
        json.dumps({"step_id": k, "raw": v}, ensure_ascii=False) for k, v in _gold_answers(box, words).items()
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _eval_run(box: Sandbox, episodes: str, out: str, answers: dict[str, str]) -> None:
    """`phone-r1 eval run --predictions` of `answers` on `episodes`, written to `out`."""
    predictions = box.path(out).with_suffix(".answers.jsonl")
    predictions.parent.mkdir(parents=True, exist_ok=True)
    rows = [json.dumps({"step_id": k, "raw": v}, ensure_ascii=False) for k, v in answers.items()]
    predictions.write_text("\n".join(rows) + "\n", encoding="utf-8")
    args = [
        "eval",
        "run",
        "--episodes",
        episodes,
        "--predictions",
        str(predictions),
        "-o",
        out,
        "--no-progress",
    ]
    assert main(args) == 0, args


def _write_before_run(box: Sandbox, words: list[str]) -> None:
    """The run `eval compare` compares against, made before training: every step answered `wait`."""
    wait = (
        '<answer>{"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": ""}</answer>'
    )
    answers = {k: wait for k in _gold_answers(box, ["--episodes", "data/demo/test"])}
    _eval_run(box, "data/demo/test", words[3], answers)


def _write_results(box: Sandbox, words: list[str]) -> None:
    """The results files `phone-r1 ui` shows: `eval run`s of the gold answers on its `--episodes`."""
    episodes = _flag(words, "--episodes")
    for flag in ("--results", "--results-b"):
        if flag in words and not box.path(_flag(words, flag)).exists():
            _eval_run(box, episodes, _flag(words, flag), _gold_answers(box, ["--episodes", episodes]))


def _write_agent_prompt(box: Sandbox, words: list[str]) -> None:
    """`--agent-prompt FILE`: the user's prompt text (the official one in real use)."""
    path = box.path(_flag(words, "--agent-prompt"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "=== user ===\nOutput only the coordinate of one point: ${instruction}\n", encoding="utf-8"
    )


# (pattern matched against the command text, writer, what it stands for). Every match runs.
GIVEN: list[tuple[str, Callable[[Sandbox, list[str]], None], str]] = [
    (r"--predictions ", _write_predictions, "answers produced elsewhere: the gold, in --agent's grammar"),
    (r"^phone-r1 eval compare runs/eval/before\.jsonl ", _write_before_run, "a run before training"),
    (r"^phone-r1 ui .*--results runs/(eval|after)/", _write_results, "eval runs of the gold answers"),
    (r"--agent-prompt ", _write_agent_prompt, "the user's own prompt file"),
]


def _serve(box: Sandbox, words: list[str]) -> None:
    """Start `phone-r1 serve ...` in its own process, wait for /health, stop it."""
    from serving.launch import free_port, stop

    if "--port" not in words:
        words = [*words, "--port", str(free_port())]  # its default, 8000, may be taken here
    port = words[words.index("--port") + 1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "phone_r1.cli", *words[1:]],
        cwd=box.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 600
        while True:
            if proc.poll() is not None:
                pytest.fail(f"`{shlex.join(words)}` exited {proc.returncode}:\n{proc.stdout.read()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"`{shlex.join(words)}` did not answer /health in 600 s"
            time.sleep(1)
    finally:
        stop(proc, grace_s=20)
        proc.stdout.close()


def _ui(words: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`phone-r1 ui ...` as typed, its app launched without blocking, its page fetched, then closed; a
    free port where the line takes the default, 7860 (any process on the machine may hold it)."""
    import ui.app
    from serving.launch import free_port

    if "--port" not in words:
        words = [*words, "--port", str(free_port())]

    launched: list[int] = []
    real = ui.app.launch_app

    def launch_and_close(data, live=None, **kwargs):
        app = real(data, live, **{**kwargs, "block": False})
        try:
            url = f"http://127.0.0.1:{kwargs['port']}"
            if kwargs.get("auth"):
                user, password = kwargs["auth"]
                assert httpx.post(url + "/login", data={"username": user, "password": password}).is_success
            else:
                assert httpx.get(url + "/", timeout=60).status_code == 200
            launched.append(kwargs["port"])
        finally:
            app.close()
        return app

    # Undone after this line: a second `phone-r1 ui` line would otherwise wrap the first line's wrapper,
    # whose own fetch and close would leave the outer fetch a closed app.
    with monkeypatch.context() as patch:
        patch.setattr(ui.app, "launch_app", launch_and_close)
        assert main(words[1:]) == 0
    assert launched, f"`{shlex.join(words)}` did not launch the app"


def _make(box: Sandbox, line: Line) -> None:
    """`make demo` as a dry run, `make test` as `make -n`; the install prerequisite is not rebuilt."""
    words, env = list(line.words), dict(line.env)
    for key, value in env.items():
        if value.startswith("/data/"):  # "your own episodes": the demo's stand in for them
            env[key] = str(box.path("data/demo") / Path(value).name)
    venv = Path(sys.executable).parent.parent
    extra = ["DEMO_ARGS=--dry-run --no-ui"] if words[1:] == ["demo"] else ["-n"]
    done = subprocess.run(
        ["make", "-o", "install", "-o", "install-tv", f"VENV={venv}", f"TV_VENV={venv}", *words[1:], *extra],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, f"{line.doc}: `{line.text}`:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    assert "-m pytest" in done.stdout or "dry run: nothing was run" in done.stdout, done.stdout[-2000:]


def _parse_trl_vllm_serve(words: list[str]) -> None:
    """`trl vllm-serve` as TRL's CLI reads it: its own flags, the rest handed to `vllm serve` as they are.
    Of those, only `--mm-processor-kwargs` is expected, holding the pixel budget of a server-mode recipe
    for that model (the trainer stops at its first batch when the server resizes otherwise)."""
    import yaml
    from trl.scripts.vllm_serve import make_parser

    args, forwarded = make_parser(prog="trl vllm-serve").parse_args_and_config(
        args=words[2:], return_remaining_strings=True
    )
    assert forwarded[::2] == ["--mm-processor-kwargs"], forwarded
    budget = json.loads(forwarded[1])
    recipes = [yaml.safe_load(path.read_text()) for path in (ROOT / "training" / "recipes").glob("*/*.yaml")]
    served = [
        {k: r.get(k) for k in ("min_pixels", "max_pixels")}
        for r in recipes
        if r.get("vllm_mode") == "server" and r.get("model_name_or_path") == args.model
    ]
    assert budget in served, (words, served)


def _parse(words: list[str]) -> None:
    """Lines for GPUs with no dry run: parsed by the tool they are given to."""
    if words[0] == "trl":
        _parse_trl_vllm_serve(words)
        return
    from accelerate.commands.launch import launch_command_parser

    from training.config import parse_recipe

    args = launch_command_parser().parse_args(words[2:])
    assert (ROOT / args.config_file).is_file() and args.module and args.training_script == "phone_r1.cli"
    train, kind, *rest = args.training_script_args
    assert train == "train"
    rest = [str(ROOT / w) if w.endswith(".yaml") else w for w in rest]
    parse_recipe(kind, [*rest, "--bf16", "false", "--use_cpu", "true"])  # no GPU here


def run_line(
    box: Sandbox, line: Line, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    way, _ = how(line)
    words = list(line.words)
    if way == "by":
        return  # test_every_documented_command_has_a_way_to_run holds the named test to the command
    if way == "make":
        _make(box, line)
        return
    if way == "parse":
        _parse(words)
        return
    if words[0].endswith("launch_multinode.sh"):
        env = {**os.environ, **dict(line.env), "DRY_RUN": "1", "GPUS_PER_NODE": "8"}
        done = subprocess.run(
            ["bash", str(ROOT / words[0]), *words[1:]], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0 and done.stdout.startswith("accelerate launch"), done.stderr
        return
    words = _replace_ports(box, words)
    for pattern, write, _ in GIVEN:
        if re.search(pattern, line.text):
            write(box, words)
    if way == "dry" and "--dry-run" not in words:
        words.append("--dry-run")
    if way == "stub":
        from eval.testing.stub_server import StubServerProcess

        stub = StubServerProcess(words[3:])
        stub.start()
        box.live[int(words[words.index("--port") + 1])] = stub.stop
        return
    if way == "serve":
        _serve(box, words)
        return
    if way == "ui":
        _ui(words, monkeypatch)
        return
    if words[1:3] == ["eval", "run"] and "--base-url" in words:
        _stub_at(box, words[words.index("--base-url") + 1], words)
    if words[1:3] == ["eval", "parity"]:
        _stub_at(box, words[words.index("--a") + 1], words)
        words += ["--max-tokens", "8"]
        if "--b-device" in words:
            words[words.index("--b-device") + 1] = "cpu"
            words[words.index("--limit") + 1] = "2"
    if "--local" in words:
        words += ["--limit", "2", "--max-tokens", "8"]
    if "--help" in words:  # argparse prints the help and exits 0, as for the user
        capsys.readouterr()  # the earlier lines' output
        with pytest.raises(SystemExit) as done:
            main(words[1:])
        out = capsys.readouterr().out
        usage = f"usage: phone-r1 {' '.join(words[1:3])}"
        assert done.value.code == 0 and usage in out and "--reward_funcs" in out, (
            line.doc,
            line.text,
            out[-2000:],
        )
        return
    status = main(words[1:])
    assert status == 0, (
        f"{line.doc}: `{shlex.join(words)}` exited {status}:\n{capsys.readouterr().err[-2000:]}"
    )
    if words[1:3] == ["eval", "run"] and "--local" not in words:
        _answered(box, line, words)


def _answered(box: Sandbox, line: Line, words: list[str]) -> None:
    """A run answered by the scripted server or by the box's answers (gold, some missed on purpose) has no
    failed request and some step right: none right means the answers were read as another grammar, or
    were another set's."""
    from eval.results import read_results

    records = list(read_results(box.path(_flag(words, "-o"))).records.values())
    failed = [r["step_id"] for r in records if r.get("error")]
    right = [r["step_id"] for r in records if (r.get("verdict") or {}).get("correct")]
    assert records and not failed and right, (line.doc, line.text, len(records), failed[:5])


@pytest.mark.slow
@pytest.mark.parametrize("doc", [d.name for d in DOCS])
def test_documented_commands_run(doc, box, monkeypatch, capsys):
    monkeypatch.chdir(box.root)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    try:
        for line in [line for line in documented_lines() if line.doc == doc]:
            run_line(box, line, monkeypatch, capsys)
    finally:
        box.stop_all()
