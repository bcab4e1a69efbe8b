"""vLLM's own code reads our serve commands and preprocesses our prompts (`phone_r1.vllm_check`).

The end-to-end test needs the vLLM venv that `make vllm-check` builds (`.venv-vllm`, about 9 GB);
without it the test is skipped with the reason. The report logic is tested everywhere.
"""

import copy
import shlex
from pathlib import Path

import pytest

from phone_r1.vllm_check import build_plan, run_probe
from phone_r1.vllm_check_report import SERVER_WITH_BUDGET, SERVER_WITHOUT_BUDGET, report

ROOT = Path(__file__).resolve().parents[1]
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
# The stamp, not the interpreter: .ci/run may still be installing the venv in the background.
HAS_VLLM = (ROOT / ".venv-vllm" / ".installed").is_file()

IMAGE = 9  # the image token of the toy prompts


def _engine(ids: list[int]) -> dict:
    """What vLLM's input processor returns for `ids` (one placeholder per run of image tokens)."""
    runs, i = [], 0
    while i < len(ids):
        if ids[i] == IMAGE:
            j = i
            while j < len(ids) and ids[j] == IMAGE:
                j += 1
            runs.append([i, j - i, j - i])
            i = j
        else:
            i += 1
    return {"prompt_ids": list(ids), "placeholders": runs}


def _plan_and_result():
    """One family in which vLLM agreed with everything (a GRPO batch of one prompt with two images)."""
    training = {"tokens": [55], "prompt_ids": [1, 2]}
    trainer = [[1, 2, 3, *[IMAGE] * 4, 5, *[IMAGE] * 5, 6]]
    lengths = [4, 5]
    family = {
        "family": "qwen3_5",
        "title": "Qwen3.5",
        "recorded": {"max_prompt_length": 2, "completion": 256},
        "commands": [{"name": "full weights", "argv": ["vllm", "serve", "/m"], "env": {}}],
        "parity": [
            {
                "screen": [1080, 2400],
                "images": 1,
                "budget": "checkpoint",
                "pixels": [1, 2],
                "training": training,
            }
        ],
        "generation": {
            "budget": [3136, 109760],
            "screens": [[1080, 2400]],
            "trainer_ids": trainer,
            "expansion": {"image_token_id": IMAGE, "prefix": [], "suffix": [], "placeholder": [IMAGE]},
        },
    }
    server = {
        "features": {"mm_placeholders": {"image": [{"offset": 0, "length": n} for n in lengths]}},
        "server_embeds": lengths,
        "engine": _engine(trainer[0]),
    }
    colocate = {"as_trl": [{"prompt_ids": [0] * 30, "placeholders": []}], "seam": [_engine(trainer[0])]}
    servers = {
        label: {"prompts": [copy.deepcopy(server)]} for label in (SERVER_WITH_BUDGET, SERVER_WITHOUT_BUDGET)
    }
    seen = {
        "commands": [{"summary": "ok", "max_model_len": 512}],
        "parity": [{"as_sent": dict(training), "resized": dict(training)}],
        "generation": {"colocate": colocate, "server": servers},
    }
    versions = {"vllm": "0", "transformers": "0", "torch": "0", "trl": "0"}
    return {"families": [family], "trl": {}}, {
        "versions": versions,
        "families": [seen],
        "trl": {"summary": "ok"},
    }


def test_report_counts_every_kind_of_failure():
    plan, result = _plan_and_result()
    text, failures = report(plan, result)
    assert failures == 0, text
    assert "parity differences: 0" in text and "serve commands parsed by vLLM: 1/1" in text
    # What TRL sends on its own is reported, not counted: phone-r1 does not send it.
    assert "corrupted (TRL issues #6294 and #6401" in text and "generation failures: 0" in text

    seen = result["families"][0]
    seen["commands"][0] = {"error": "vllm: error: unrecognized arguments: --bogus"}
    seen["parity"][0]["resized"]["tokens"] = [56]
    plan["families"][0]["recorded"]["max_prompt_length"] = 3  # training's count is not vLLM's
    seen["generation"]["colocate"]["seam"][0]["prompt_ids"] = [7]
    result["trl"] = {"error": "trl is not importable here"}
    text, failures = report(plan, result)
    assert failures == 5, text
    assert "REJECTED  full weights" in text and "unrecognized arguments: --bogus" in text
    assert "parity differences: 1" in text and "serve commands parsed by vLLM: 0/1" in text
    assert "vLLM renders 2: DIFFERENT" in text


@pytest.mark.parametrize(
    ("server", "embeds", "failures", "verdict"),
    [
        # The recipe's server resizing with another budget: phone-r1 refuses, but the documented set-up fails.
        (SERVER_WITH_BUDGET, [3, 3], 1, "refused by phone-r1"),
        # Without the budget: refusing is the right outcome.
        (SERVER_WITHOUT_BUDGET, [3, 3], 0, "refused by phone-r1"),
    ],
)
def test_server_features_of_another_budget_are_refused(server, embeds, failures, verdict):
    plan, result = _plan_and_result()
    prompt = result["families"][0]["generation"]["server"][server]["prompts"][0]
    prompt["server_embeds"] = embeds
    prompt["features"]["mm_placeholders"]["image"] = [{"offset": 0, "length": n} for n in embeds]
    text, count = report(plan, result)
    assert count == failures and verdict in text, text
    assert "TRL as is: corrupted" in text


def test_a_corruption_the_seam_lets_through_fails():
    """Features whose lengths match but whose embeddings do not fill the positions vLLM will use."""
    plan, result = _plan_and_result()
    prompt = result["families"][0]["generation"]["server"][SERVER_WITHOUT_BUDGET]["prompts"][0]
    prompt["engine"]["placeholders"][0][1] = 7
    text, count = report(plan, result)
    assert count == 1 and "CORRUPTED and let through" in text, text


@pytest.mark.slow
@pytest.mark.skipif(
    not HAS_VLLM, reason="no .venv-vllm here: `make vllm-check` builds it (about 9 GB from PyPI)"
)
def test_vllm_parses_every_serve_command_and_preprocesses_like_training(tmp_path):
    """Three families with distinct processors and templates here (`make vllm-check` runs every one):
    Qwen2.5-VL with every kind of command, Qwen3.5 (32-px tile, thinking template), InternVL (tiles)."""
    plan = build_plan(tmp_path, ["qwen2_5_vl", "qwen3_5", "internvl"])
    first = plan["families"][0]
    good = copy.deepcopy(first["commands"][0])
    first["commands"].append({**good, "name": "bad flag", "argv": [*good["argv"], "--no-such-flag"]})
    result = run_probe(plan, str(VLLM_PYTHON), tmp_path)
    text, failures = report(plan, result)
    print(text)
    # The bad flag fails with vLLM's own parser message; everything else passes.
    assert failures == 1, text
    assert "no-such-flag" in result["families"][0]["commands"][-1]["error"]
    total = sum(len(f["commands"]) for f in plan["families"])
    assert f"serve commands parsed by vLLM: {total - 1}/{total}" in text
    assert text.count("parity differences: 0") == 3 and text.count("generation failures: 0") == 3
    kinds = " ".join(shlex.join(c["argv"]) for f in plan["families"] for c in f["commands"])
    for flag in ("--enable-lora", "--lora-modules", "--tensor-parallel-size 2", "--mm-processor-kwargs",
                 "--default-chat-template-kwargs"):  # fmt: skip
        assert flag in kinds
    # TRL 1.16's colocate inputs would be corrupted for every family (two prompts each), and vLLM renders
    # the trainer's own prompt from what phone-r1's seam sends.
    assert text.count("corrupted (TRL issues") == text.count("colocate, as TRL 1.16 sends it") == 6


def test_the_check_command_starts_and_covers_every_model_family():
    from agent.families import MODEL_FAMILIES
    from phone_r1.vllm_check import family_names, main

    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    assert family_names() == MODEL_FAMILIES.names()
