"""vLLM's own code reads our serve commands and preprocesses our prompts (`phone_r1.vllm_check`).

The end-to-end test needs the vLLM venv that `make vllm-check` builds (`.venv-vllm`, about 9 GB);
without it the test is skipped with the reason. The report logic is tested everywhere.
"""

import copy
import shlex
from pathlib import Path

import pytest

from phone_r1.vllm_check import build_plan, report, run_probe

ROOT = Path(__file__).resolve().parents[1]
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
# The stamp, not the interpreter: .ci/run may still be installing the venv in the background.
HAS_VLLM = (ROOT / ".venv-vllm" / ".installed").is_file()


def _result(plan):
    """A probe result in which vLLM agreed with everything."""
    ok = [{"summary": "ok"} for _ in plan["commands"]]
    parity = [{"as_sent": dict(c["training"]), "resized": dict(c["training"])} for c in plan["parity"]]
    versions = {"vllm": "0", "transformers": "0", "torch": "0", "trl": "0"}
    return {"versions": versions, "commands": ok, "parity": parity, "trl": {"summary": "ok"}}


def _plan():
    training = {"tokens": [55], "grid_thw": [[1, 22, 10]], "placeholders": 55, "prompt_ids": [1, 2]}
    return {
        "commands": [{"name": "full weights", "argv": ["vllm", "serve", "/m"], "env": {}}],
        "parity": [
            {
                "screen": [1080, 2400],
                "images": 1,
                "budget": "checkpoint",
                "pixels": [1, 2],
                "training": training,
            },
        ],
    }


def test_report_counts_rejections_and_token_differences():
    plan = _plan()
    text, failures = report(plan, _result(plan))
    assert failures == 0 and "parity differences: 0" in text and "serve commands parsed by vLLM: 1/1" in text

    result = _result(plan)
    result["commands"][0] = {"error": "vllm: error: unrecognized arguments: --bogus"}
    result["parity"][0]["resized"]["grid_thw"] = [[1, 22, 12]]
    result["trl"] = {"error": "trl is not importable here"}
    text, failures = report(plan, result)
    assert failures == 3
    assert "REJECTED  full weights" in text and "unrecognized arguments: --bogus" in text
    assert (
        "DIFFERENT" in text
        and "parity differences: 1" in text
        and "serve commands parsed by vLLM: 0/1" in text
    )


@pytest.mark.slow
@pytest.mark.skipif(
    not HAS_VLLM, reason="no .venv-vllm here: `make vllm-check` builds it (about 9 GB from PyPI)"
)
def test_vllm_parses_every_serve_command_and_preprocesses_like_training(tmp_path):
    plan = build_plan(tmp_path)
    good = copy.deepcopy(plan["commands"][0])
    bad = {**good, "name": "bad flag", "argv": [*good["argv"], "--no-such-flag"]}
    plan["commands"].append(bad)
    result = run_probe(plan, str(VLLM_PYTHON), tmp_path)
    text, failures = report(plan, result)
    print(text)
    # The bad flag fails with vLLM's own parser message; everything else passes.
    assert failures == 1, text
    assert "no-such-flag" in result["commands"][-1]["error"], result["commands"][-1]
    assert f"serve commands parsed by vLLM: {len(plan['commands']) - 1}/{len(plan['commands'])}" in text
    assert "parity differences: 0" in text
    kinds = " ".join(shlex.join(c["argv"]) for c in plan["commands"])
    for flag in ("--enable-lora", "--lora-modules", "--tensor-parallel-size 2", "--mm-processor-kwargs"):
        assert flag in kinds
