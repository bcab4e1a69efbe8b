"""Every command README.md and docs/*.md print is run, here or by the test named for it.

`HOW` says, for each documented command line, how it runs: as printed in a sandbox copy of the
repository (`run`), with `--dry-run` (or `DRY_RUN=1`) where it needs a GPU or vLLM (`dry`), parsed by
the tool it is given to where there is no dry run (`parse`: accelerate, TRL), as a server started,
probed and stopped (`serve`, `ui`), or by another test that runs that command line (`by`). Where a
run needs a change it is named in the table (a free port for 8000; `--limit 2 --max-tokens 8` where a
tiny random model would otherwise generate 1,024 tokens per step). The README's demo transcript is
a recorded run's output, not command lines to run; the README says which stages the demo added since.
`test_every_documented_command_has_a_way_to_run` fails on a new command line until it is given one.
"""

from __future__ import annotations

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
    (r"^phone-r1 ui ", "ui", "launched in-process, its page fetched, closed; a free port for 7860"),
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
    for path, words in BY_WORDS.items():
        text = (ROOT / path).read_text(encoding="utf-8")
        assert all(w in text for w in words), (path, [w for w in words if w not in text])


# --- the sandbox ----------------------------------------------------------------------------------------


@dataclass
class Sandbox:
    root: Path
    ports: dict[str, int] = field(default_factory=dict)  # documented port -> the free one used here
    live: dict[int, Callable[[], None]] = field(default_factory=dict)  # port -> stop

    def path(self, name: str) -> Path:
        return self.root / name

    def stop_all(self) -> None:
        while self.live:
            self.live.popitem()[1]()


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
    from tests.helpers import importers

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
    sandbox = Sandbox(root)
    for name in ("runs/grpo", "runs/grpo/checkpoint-500", "runs/sft/checkpoint-100"):
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


def _stub_at(box: Sandbox, url: str, words: list[str]) -> None:
    """The scripted server answering gold actions at `url`, unless one is up there already; answers in
    the grammar of `--agent` when the command names one."""
    from actions.coords import PixelBudget
    from agent.adapters import make_adapter
    from episodes.readers import iter_steps
    from eval.testing.stub_replies import adapter_gold_replies, gold_replies
    from eval.testing.stub_server import StubServer

    port = int(re.search(r":(\d+)/", url).group(1))
    if port in box.live:
        return
    steps = list(iter_steps(box.path(words[words.index("--episodes") + 1])))
    if "--agent" in words:
        pixels = [int(words[words.index(f) + 1]) for f in ("--min-pixels", "--max-pixels") if f in words]
        budget = PixelBudget(*pixels) if pixels else None
        reply = adapter_gold_replies(steps, make_adapter(words[words.index("--agent") + 1], budget=budget))
    else:
        reply = gold_replies(steps, coord_space="resized", min_pixels=3136, max_pixels=12544)
    server = StubServer(reply, port=port)
    server.start()
    box.live[port] = server.stop


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
    """`phone-r1 ui ...` as typed, its app launched without blocking, its page fetched, then closed."""
    import ui.app

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

    monkeypatch.setattr(ui.app, "launch_app", launch_and_close)
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


def _parse(words: list[str]) -> None:
    """Lines for GPUs with no dry run: parsed by the tool they are given to."""
    if words[0] == "trl":
        from trl.scripts.utils import TrlParser
        from trl.scripts.vllm_serve import ScriptArguments

        TrlParser(ScriptArguments).parse_args_and_config(words[2:])
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
    status = main(words[1:])
    assert status == 0, (
        f"{line.doc}: `{shlex.join(words)}` exited {status}:\n{capsys.readouterr().err[-2000:]}"
    )


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
