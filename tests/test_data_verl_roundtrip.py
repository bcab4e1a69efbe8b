"""veRL itself reads `phone-r1 data export-verl` output: its RLHFDataset loads the rows with their
images, and its custom-reward loading plus `naive` reward manager score completions exactly as
phone-r1's own action reward does.

veRL pins transformers < 5.11, so it runs in its own environment, `.venv-verl` (`make verl-venv`,
built here on first use and reused afterwards). When that environment cannot be built, the test is
skipped with pip's own last lines as the reason; nothing else skips it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from actions.coords import PixelBudget, to_model_space
from actions.match import read_gold
from actions.rewards import action_reward
from actions.types import BoxAction, Click, Wait
from episodes.verl import export_verl
from tests.helpers.tiny import CLICK, tiny_model_dir, write_episodes

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-verl"
BUDGET = PixelBudget(3136, 12544)


def verl_python(capsys: pytest.CaptureFixture) -> Path:
    """The veRL environment's interpreter, building it with `make verl-venv` when missing.

    The build takes minutes; its phase lines go straight to the terminal (past pytest's capture), so
    the suite says what it is doing instead of going silent."""
    python = VENV / "bin" / "python"
    if (VENV / ".installed").is_file() and python.is_file():
        return python
    if shutil.which("make") is None:
        pytest.skip("the veRL environment is not built and `make` is missing to build it (make verl-venv)")
    start = time.perf_counter()
    lines: list[str] = []
    with capsys.disabled():
        print(f"\n{VENV.name} is missing: `make verl-venv` builds it now (minutes, once)", flush=True)
        with subprocess.Popen(
            ["make", "verl-venv"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as make:
            for line in make.stdout:
                lines.append(line.rstrip())
                print(f"  {line.rstrip()}", flush=True)
            returncode = make.wait(timeout=1800)
        print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)
    if returncode != 0:
        tail = "\n".join(lines[-15:])
        pytest.skip(f"veRL could not be installed here (`make verl-venv` exited {returncode}):\n{tail}")
    return python


def stock_processor_copy(tmp_path: Path) -> Path:
    """The tiny model with its processor files naming the stock `Qwen2_5_VLProcessor`.

    phone-r1 saves `Qwen2_5_VLImageOnlyProcessor` there (agent/processor.py). transformers 5.10's
    AutoProcessor does not fall back to the stock class for that name even with torchvision installed
    (it returns the bare tokenizer), and veRL's `hf_processor` then reports no processor, so the export
    could not be read with images. A stock Qwen2.5-VL checkpoint names the stock class.
    """
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir(), model)
    for name in ("processor_config.json", "tokenizer_config.json"):
        path = model / name
        config = json.loads(path.read_text(encoding="utf-8"))
        config["processor_class"] = "Qwen2_5_VLProcessor"
        path.write_text(json.dumps(config), encoding="utf-8")
    return model


def completions_for(step_id: str, gold_text: str, extra: dict) -> list[dict]:
    """The gold answer in the prompt's space, a near miss, another action type and garbage."""
    screen = (extra["screen_width"], extra["screen_height"])
    gold = read_gold(gold_text)
    model_gold = to_model_space(gold, extra["coord_space"], screen, BUDGET)
    answers = [model_gold]
    if isinstance(model_gold, BoxAction):
        x1, y1, x2, y2 = model_gold.box
        answers.append(Click(box=(x1 + 3, y1 + 2, x2 + 3, y2 + 2)))
    answers.append(Wait())
    think = json.dumps(
        {
            k: "打开设置"
            for k in (
                "task_interpretation",
                "current_page_audit",
                "path_alignment_check",
                "action_validation",
            )
        },
        ensure_ascii=False,
    )
    texts = [f"<think>{think}</think><answer>{a.to_json_str()}</answer>" for a in answers]
    texts.append("<think>不知道</think><answer>{oops")
    return [{"step_id": step_id, "completion": t} for t in texts]


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_verl_loads_the_export_and_scores_like_phone_r1(tmp_path, capsys):
    python = verl_python(capsys)
    toy = write_episodes(tmp_path / "toy", n_episodes=2, steps=2, action=CLICK)
    demo = tmp_path / "mixed"
    for episode in sorted((ROOT / "data" / "demo" / "train").iterdir())[:2]:
        shutil.copytree(episode, demo / episode.name)
    exports = []
    for name, root in (("toy", toy), ("mixed", demo)):
        result = export_verl(
            root,
            tmp_path / f"export-{name}",
            coord_space="resized",
            min_pixels=BUDGET.min_pixels,
            max_pixels=BUDGET.max_pixels,
        )
        exports.append(result)
    import pyarrow as pa
    import pyarrow.parquet as pq

    merged = tmp_path / "train.parquet"
    pq.write_table(pa.concat_tables([pq.read_table(r.parquet) for r in exports]), merged)
    table = pq.read_table(merged).to_pylist()
    cases = [
        c
        for row in table
        for c in completions_for(
            row["extra_info"]["step_id"], row["reward_model"]["ground_truth"], row["extra_info"]
        )
    ]
    cases_file, out_file = tmp_path / "completions.json", tmp_path / "verl.json"
    cases_file.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")

    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_DISABLE_IMPORT_WARNING": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [
            str(python),
            "-P",  # the script's folder holds a tests helper named `actions`; the package must win
            str(ROOT / "tests/helpers/verl_check.py"),
            str(merged),
            str(stock_processor_copy(tmp_path)),
            str(exports[0].reward_file),
            str(cases_file),
            str(out_file),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(out_file.read_text(encoding="utf-8"))
    print(f"\nveRL side: {report['versions']}")

    # RLHFDataset kept every row (its overlong filter drops rows the processor fails on) with its images.
    assert [r["step_id"] for r in report["rows"]] == [row["extra_info"]["step_id"] for row in table]
    for row, verl_row in zip(table, report["rows"], strict=True):
        assert verl_row["image_parts"] == len(row["images"]) == row["prompt"][1]["content"].count("<image>")
        assert len(verl_row["image_sizes"]) == len(row["images"])
        assert verl_row["image_tokens"] > 0
    assert any(len(row["images"]) == 2 for row in table)  # multi-image prompts (previous and current screen)

    # veRL's reward loading scores what phone-r1's action reward scores, completion by completion.
    assert len(report["scores"]) == len(cases)
    by_step = {row["extra_info"]["step_id"]: row for row in table}
    for case in report["scores"]:
        assert case["decoded_equal"], case["completion"]
        extra = by_step[case["step_id"]]["extra_info"]
        ours = action_reward(
            [case["completion"]],
            gold=[by_step[case["step_id"]]["reward_model"]["ground_truth"]],
            screen_width=extra["screen_width"],
            screen_height=extra["screen_height"],
            coord_space=extra["coord_space"],
            min_pixels=extra["min_pixels"],
            max_pixels=extra["max_pixels"],
        )[0]
        assert case["score"] == ours, (case, ours)
    values = {c["score"] for c in report["scores"]}
    assert 1.0 in values and 0.0 in values and len(values) > 2  # right, wrong and partial answers
    print(
        f"veRL scored {len(report['scores'])} completions on {len(table)} rows like phone-r1 "
        f"(python {sys.version.split()[0]})"
    )
