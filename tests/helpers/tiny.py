"""Tiny random checkpoints for tests (Qwen2.5-VL by default, any family on request), built once, reused.

    from tests.helpers.tiny import tiny_model_dir
    path = tiny_model_dir()                       # a folder that from_pretrained / load_processor accept
    path = tiny_model_dir(family="qwen3_5")       # another family's tiny checkpoint

The folder lives under the system temp dir, keyed by the seed and a hash of everything the build
depends on (the factory's source and the agent's prompt templates, which the tokenizer trains on), so
a changed factory never serves a stale model and repeated sessions skip the ~4 s build. Tests must
not write into it: copy it first if a test needs to modify the checkpoint.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]


def _build_key(seed: int, family: str = "qwen2_5_vl") -> str:
    digest = hashlib.sha256()
    sources = [
        _ROOT / "training" / "tiny_model.py",
        _ROOT / "training" / "tiny_families.py",
        _ROOT / "agent" / "processor.py",
        *sorted((_ROOT / "agent" / "families").glob("*.py")),
    ]
    prompts = _ROOT / "agent" / "prompts"
    if prompts.is_dir():
        sources += sorted(p for p in prompts.rglob("*") if p.is_file())
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    prefix = "" if family == "qwen2_5_vl" else f"{family}-"
    return f"{prefix}seed{seed}-{digest.hexdigest()[:16]}"


def tiny_model_dir(seed: int = 0, family: str = "qwen2_5_vl") -> Path:
    """Return the folder of the tiny model of `family` for `seed`, building it on first use."""
    from training.tiny_model import build_tiny_model

    cache = Path(tempfile.gettempdir()) / "phone-r1-tiny-models"
    target = cache / _build_key(seed, family)
    if (target / "model.safetensors").is_file() and (target / "processor_config.json").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename, so a concurrent or interrupted build never leaves half a model.
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}-", dir=cache))
    build_tiny_model(staging, seed=seed, family=family)
    try:
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / "model.safetensors").is_file():
            raise
    return target


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    """Session fixture: the tiny model folder for seed 0 (import it into a test module to use it)."""
    return tiny_model_dir(0)


# Every family's tiny checkpoint, for tests parametrised over families.
FAMILY_NAMES: tuple[str, ...] = (
    "qwen2_5_vl",
    "qwen2_vl",
    "qwen3_vl",
    "qwen3_vl_moe",
    "qwen3_5",
    "qwen3_5_moe",
    "internvl",
)


BACK = {"action_type": "back", "action_parameter": {"back": ""}, "action_description": "回退"}
CLICK = {
    "action_type": "click",
    "action_parameter": {"click": "100,300,440,420"},
    "action_description": "点击设置",
}


def write_episodes(
    root: Path,
    n_episodes: int = 2,
    steps: int = 2,
    action: dict | None = None,
    size: tuple[int, int] = (540, 1200),
    single_first: bool = False,
    history: list[str] | None = None,
) -> Path:
    """Raw episodes in the seed's format where every step shows two screenshots (previous, current).

    With `single_first` each episode's first step shows only the current screen (no `screen_path1`),
    as real first steps do, so batches mix one- and two-image prompts.

    Every step's gold is `action` (default: `back`), so a tiny model can learn the answer quickly:
    what the GRPO tests and the learning check need.

    Step n's recorded history is `history[: n + 1]` (default `["打开APP", "点击设置"]`, which is not
    what an own-history run writes for a `back`; the semi-online learning check passes the own-history
    entries of the gold actions instead).
    """
    import json

    from PIL import Image, ImageDraw

    from episodes.step import DEFAULT_ACTION_TYPE_LIST

    action = action or BACK
    for e in range(n_episodes):
        episode_id = str(100 + e)
        folder = root / episode_id
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(steps + 1):
            image = Image.new("RGB", size, (240, 240 - 20 * n, 200 + 10 * e))
            ImageDraw.Draw(image).rectangle((100, 300, 440, 420), fill=(30 * n, 120, 60))
            image.save(folder / f"{episode_id}_{n}.jpg", quality=70)
        for n in range(steps):
            record = {
                "input": {
                    "task_content": "打开设置并返回",
                    "task_path": {"1": "打开APP", "2": "点击设置", "3": "回退"},
                    "screen_path1": f"{episode_id}_{n}.jpg",
                    "screen_path2": f"{episode_id}_{n + 1}.jpg",
                    "history_path_all": list(history or ["打开APP", "点击设置"])[: n + 1],
                    "app_name": "设置",
                    "action_type_list": dict(DEFAULT_ACTION_TYPE_LIST),
                },
                "output": action,
            }
            if single_first and n == 0:
                del record["input"]["screen_path1"]
            (folder / f"step_{n}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return root


class JudgeServer:
    """A local OpenAI-compatible chat endpoint that grades deterministically from the request text.

    Scores vary between completions (a hash of the prompt picks one of 0.0, 0.1, ... 1.0), which gives
    GRPO non-zero advantages on an untrained model. `fail_every=k` answers HTTP 500 to every k-th
    request; `delay_s` sleeps before answering. Binds 127.0.0.1 on a free port; use as a context manager.
    """

    def __init__(self, fail_every: int = 0, delay_s: float = 0.0) -> None:
        self.fail_every = fail_every
        self.delay_s = delay_s
        self.requests = 0
        self._server = None
        self._thread = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> JudgeServer:
        import hashlib
        import json
        import threading
        import time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.requests += 1
                number = owner.requests
                if owner.delay_s:
                    time.sleep(owner.delay_s)
                if owner.fail_every and number % owner.fail_every == 0:
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b'{"error": "judge down"}')
                    return
                content = json.loads(body)["messages"][-1]["content"]
                score = int(hashlib.sha256(content.encode()).hexdigest(), 16) % 11 / 10
                reply = {
                    "id": f"judge-{number}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "judge",
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": f"{score:.1f}"},
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                data = json.dumps(reply).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (time-out tests)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def family_geometry(family: str) -> tuple[str, dict[str, int]]:
    """(coordinate space, pixel-budget fields) of `family`'s tiny runs: `resized` at the tiny recipe's
    budget scaled to the family's own tile where it has one (the recipe's is Qwen2.5-VL's 28 px); its
    answer grid and no budget (InternVL's fixed tiles) otherwise."""
    import yaml

    from agent.families import family_of

    record = family_of(family)
    if record.tile is None:
        return record.answer_space, {}
    recipe = yaml.safe_load((_ROOT / "training/recipes/tiny/grpo.yaml").read_text(encoding="utf-8"))
    scale = (record.tile / 28) ** 2
    return "resized", {key: int(recipe[key] * scale) for key in ("min_pixels", "max_pixels")}


def learning_check(measured_where: str):
    """The marks of a learning check (a test that trains and asks for a rise): slow; 3000 s, since CI's
    background venv builds slow it several-fold; run once, on the CPU-torch stack (`make test`), since
    the torchvision stack's kernels take another path through the same steps, measured by hand in
    `measured_where`."""
    import importlib.util

    marks = (
        pytest.mark.slow,
        pytest.mark.timeout(3000),
        pytest.mark.skipif(
            importlib.util.find_spec("torchvision") is not None,
            reason="a learning check runs on the CPU-torch stack; this stack was measured by hand in "
            + measured_where,
        ),
    )

    def mark(test):
        for each in marks:
            test = each(test)
        return test

    return mark


# Recipe overrides every CPU learning check shares: a constant learning rate, a log line and a seed per
# step, nothing saved.
LEARNING_FLAGS = [
    "--gradient_checkpointing",
    "false",
    "--disable_tqdm",
    "true",
    "--save_strategy",
    "no",
    "--lr_scheduler_type",
    "constant",
    "--logging_steps",
    "1",
    "--seed",
    "0",
]
