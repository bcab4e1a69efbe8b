"""The `vllm serve` command line: built from the checkpoint folder and its phone_r1.json, never run here."""

import json
import shlex

import pytest

from agent.checkpoint import CheckpointMeta
from phone_r1.cli import main
from serving.vllm_command import ServeOptions, build_vllm_command, vllm_lora_rank


def _flag(cmd, name):
    """Values following `name` up to the next flag."""
    i = cmd.index(name)
    values = []
    for word in cmd[i + 1 :]:
        if word.startswith("--"):
            break
        values.append(word)
    return values


@pytest.fixture
def full(tmp_path):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    CheckpointMeta(coord_space="resized", min_pixels=3136, max_pixels=2352000).save(folder)
    return folder


@pytest.fixture
def adapter(tmp_path):
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "/models/qwen2.5-vl-3b", "r": 12})
    )
    return folder


def test_full_checkpoint_has_the_spec_flags(full):
    cmd = build_vllm_command(full, ServeOptions(min_pixels=3136, max_pixels=2352000, max_model_len=16384))
    assert cmd[:3] == ["vllm", "serve", str(full.resolve())]
    assert json.loads(_flag(cmd, "--limit-mm-per-prompt")[0]) == {"image": 2}
    assert json.loads(_flag(cmd, "--mm-processor-kwargs")[0]) == {"min_pixels": 3136, "max_pixels": 2352000}
    assert "--enable-prefix-caching" in cmd
    assert _flag(cmd, "--generation-config") == ["vllm"]
    assert _flag(cmd, "--max-model-len") == ["16384"]
    assert _flag(cmd, "--served-model-name") == ["phone-r1"]
    assert _flag(cmd, "--host") == ["127.0.0.1"]
    assert "--enable-lora" not in cmd


def test_lora_adapter_is_served_on_its_base(adapter):
    cmd = build_vllm_command(adapter, ServeOptions(served_model_name="agent"))
    assert cmd[2] == "/models/qwen2.5-vl-3b"
    assert "--enable-lora" in cmd
    assert _flag(cmd, "--lora-modules") == [f"agent={adapter.resolve()}"]
    assert _flag(cmd, "--served-model-name") == ["agent-base"]  # clients ask for `agent`: the adapter
    assert _flag(cmd, "--max-lora-rank") == ["16"]  # rank 12 rounded up to a rank vLLM accepts


def test_lora_adapter_base_override_and_extra_modules(adapter):
    options = ServeOptions(base_model="/local/base", lora_modules=("other=/x/other",), max_lora_rank=64)
    cmd = build_vllm_command(adapter, options)
    assert cmd[2] == "/local/base"
    assert _flag(cmd, "--lora-modules") == [f"phone-r1={adapter.resolve()}", "other=/x/other"]
    assert _flag(cmd, "--max-lora-rank") == ["64"]


def test_lora_adapter_without_base_asks_for_one(tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "adapter_config.json").write_text("{}")
    with pytest.raises(ValueError, match="--base-model"):
        build_vllm_command(folder, ServeOptions())


@pytest.mark.parametrize(("rank", "allowed"), [(1, 8), (8, 8), (9, 16), (64, 64), (300, 320)])
def test_lora_rank_rounds_up_to_a_vllm_rank(rank, allowed):
    assert vllm_lora_rank(rank) == allowed


def test_tensor_and_data_parallel(full):
    cmd = build_vllm_command(full, ServeOptions(tensor_parallel_size=2, data_parallel_size=4))
    assert _flag(cmd, "--tensor-parallel-size") == ["2"]
    assert _flag(cmd, "--data-parallel-size") == ["4"]
    with pytest.raises(ValueError, match="--tp"):
        ServeOptions(tensor_parallel_size=0)


def test_cli_reads_the_pixel_budget_from_the_checkpoint(full, capsys):
    assert main(["serve", str(full), "--engine", "vllm", "--dry-run", "--tp", "2", "--port", "9001"]) == 0
    cmd = shlex.split(capsys.readouterr().out.splitlines()[-1])
    assert json.loads(_flag(cmd, "--mm-processor-kwargs")[0]) == {"min_pixels": 3136, "max_pixels": 2352000}
    assert _flag(cmd, "--port") == ["9001"] and _flag(cmd, "--tensor-parallel-size") == ["2"]


def test_cli_custom_pixel_budget_overrides_the_checkpoint_only_when_asked(full, capsys):
    argv = [
        "serve",
        str(full),
        "--engine",
        "vllm",
        "--dry-run",
        "--min-pixels",
        "784",
        "--max-pixels",
        "1003520",
    ]
    assert main(argv) == 2  # the checkpoint was trained at 3136..2352000
    assert "min_pixels: the checkpoint has 3136, the command line gives 784" in capsys.readouterr().err
    assert main([*argv, "--override-checkpoint-meta"]) == 0
    cmd = shlex.split(capsys.readouterr().out.splitlines()[-1])
    assert json.loads(_flag(cmd, "--mm-processor-kwargs")[0]) == {"min_pixels": 784, "max_pixels": 1003520}
    bad = [*argv[:4], "--dry-run", "--min-pixels", "9", "--max-pixels", "4", "--override-checkpoint-meta"]
    assert main(bad) == 2


def test_cli_merge_lora_serves_the_merged_folder(adapter, tmp_path, capsys):
    merged = tmp_path / "merged"
    argv = [
        "serve",
        str(adapter),
        "--engine",
        "vllm",
        "--dry-run",
        "--merge-lora",
        "--merged-dir",
        str(merged),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    cmd = shlex.split(out.splitlines()[-1])
    assert cmd[2] == str(merged) and "--enable-lora" not in cmd
    assert f"merge {adapter} into {merged} first" in out


def test_cli_api_key_goes_through_the_environment_not_argv(full, capsys, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-never-on-argv")
    assert main(["serve", str(full), "--engine", "vllm", "--dry-run", "--api-key-env", "MY_KEY"]) == 0
    out = capsys.readouterr().out
    assert "sk-never-on-argv" not in out and "--api-key" not in out.splitlines()[-1]
    assert "VLLM_API_KEY is set from $MY_KEY" in out


def test_cli_transformers_engine_command(full, capsys):
    assert (
        main(["serve", str(full), "--engine", "transformers", "--dry-run", "--served-model-name", "x"]) == 0
    )
    cmd = shlex.split(capsys.readouterr().out.splitlines()[-1])
    assert cmd[1:3] == ["-m", "serving.transformers_server"]
    assert _flag(cmd, "--max-pixels") == ["2352000"] and _flag(cmd, "--served-model-name") == ["x"]


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "/no/such/checkpoint", "--dry-run"],  # missing folder
        ["serve", "ADAPTER", "--engine", "transformers", "--dry-run"],  # adapter without --merge-lora
        ["serve", "CKPT", "--engine", "transformers", "--tp", "2", "--dry-run"],
    ],
)
def test_cli_bad_requests_exit_2_with_a_message(argv, full, adapter, capsys):
    argv = [str(full) if a == "CKPT" else str(adapter) if a == "ADAPTER" else a for a in argv]
    assert main(argv) == 2
    assert "phone-r1 serve" in capsys.readouterr().err


@pytest.mark.skipif(__import__("shutil").which("vllm") is not None, reason="vllm is installed here")
def test_cli_vllm_engine_without_vllm_says_so(full, capsys):
    assert main(["serve", str(full), "--engine", "vllm"]) == 2
    assert "vllm is not installed" in capsys.readouterr().err


def test_auto_engine_without_vllm_is_transformers(full, capsys, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real_find_spec(name, *a)
    )
    assert main(["serve", str(full), "--dry-run"]) == 0
    assert "engine: transformers" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["qwen2_5_vl", "qwen3_vl", "qwen3_5", "qwen3_5_moe", "internvl"])
def test_cli_vllm_command_follows_the_checkpoint_family(name, tmp_path, capsys):
    """Pixel budget only for families with one, the chat-template switches training used, no reasoning
    parser (the answer comes back whole), and the context from the recorded lengths."""
    from agent.families import family_of
    from serving.vllm_command import context_length

    family = family_of(name)
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": name}))
    budget = family.budget()
    CheckpointMeta(
        coord_space=family.answer_space,
        min_pixels=budget.min_pixels,
        max_pixels=budget.max_pixels,
        family=name,
        tile=family.tile,
        chat_template_kwargs=dict(family.chat_template_kwargs) or None,
        answer_prefix=family.think_prefix,
        max_prompt_length=3203,
        max_completion_length=512,
    ).save(folder)
    assert main(["serve", str(folder), "--engine", "vllm", "--dry-run"]) == 0
    out = capsys.readouterr().out
    cmd = shlex.split(out.splitlines()[-1])
    assert f"family: {name}" in out
    assert _flag(cmd, "--max-model-len") == [str(context_length(3203, 512))]
    assert "--reasoning-parser" not in cmd
    if family.has_pixel_budget:
        assert json.loads(_flag(cmd, "--mm-processor-kwargs")[0]) == {
            "min_pixels": budget.min_pixels,
            "max_pixels": budget.max_pixels,
        }
    else:
        assert "--mm-processor-kwargs" not in cmd
        argv = ["serve", str(folder), "--engine", "vllm", "--dry-run", "--max-pixels", "1003520"]
        assert main([*argv, "--override-checkpoint-meta"]) == 2
        assert "has no pixel budget" in capsys.readouterr().err
    if family.chat_template_kwargs:
        assert json.loads(_flag(cmd, "--default-chat-template-kwargs")[0]) == {"enable_thinking": True}
        assert "no reasoning parser" in out
    else:
        assert "--default-chat-template-kwargs" not in cmd
