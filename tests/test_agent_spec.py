"""The agent spec: one rule for flags against phone_r1.json, one set of shared flags, ports validated."""

from __future__ import annotations

import argparse
import json

import pytest

from actions.coords import PixelBudget
from agent.checkpoint import CheckpointMeta, CheckpointMismatchError
from agent.spec import AgentSpec, add_agent_flags, port_number, resolve_spec, spec_from_args
from phone_r1.cli import main
from tests.helpers.tiny import tiny_model_dir


@pytest.fixture
def ckpt(tmp_path):
    folder = tmp_path / "ckpt"
    meta = CheckpointMeta(coord_space="resized", min_pixels=3136, max_pixels=12544, prompt_template="en")
    meta.save(folder)
    return folder


def test_the_checkpoint_decides_and_agreeing_flags_change_nothing(ckpt):
    spec = resolve_spec(ckpt, coord_space="resized", max_pixels=12544)
    assert (spec.template, spec.coord_space, spec.budget) == ("en", "resized", PixelBudget(3136, 12544))
    assert spec.recorded and spec.overrides == {} and spec.checkpoint == ckpt
    assert spec.header_fields() == {"checkpoint": str(ckpt.resolve())}


def test_a_differing_flag_is_refused_unless_overridden_and_then_recorded(ckpt):
    with pytest.raises(CheckpointMismatchError, match="coord_space: the checkpoint has 'resized'"):
        resolve_spec(ckpt, coord_space="norm1000")
    spec = resolve_spec(ckpt, coord_space="norm1000", allow_override=True)
    assert spec.coord_space == "norm1000"
    assert spec.overrides == {"coord_space": {"checkpoint": "resized", "given": "norm1000"}}
    assert spec.override_notes() == ["--override-checkpoint-meta: coord_space resized -> norm1000"]
    assert spec.header_fields()["overrides"] == spec.overrides


def test_without_a_checkpoint_flags_apply_over_the_defaults():
    spec = resolve_spec(None, template="en")
    assert (spec.template, spec.coord_space, spec.budget) == ("en", "original", PixelBudget())
    assert spec.checkpoint is None and not spec.recorded and spec.assumed_warning() is None


def test_a_folder_without_phone_r1_json_takes_the_processors_budget_and_warns():
    spec = resolve_spec(tiny_model_dir())
    assert (spec.budget.min_pixels, spec.budget.max_pixels) == (3136, 50176)
    assert not spec.recorded and "no phone_r1.json; assuming" in spec.assumed_warning()


def test_the_default_adapter_is_the_registrys_and_refuses_a_prompt_file():
    from agent.adapters import DEFAULT_ADAPTER

    assert resolve_spec(None).adapter == DEFAULT_ADAPTER and resolve_spec(None).seed_format
    with pytest.raises(ValueError, match="--template"):
        resolve_spec(None, agent_prompt="official.txt")


def test_another_agent_in_resized_pixels_needs_a_known_budget(ckpt):
    with pytest.raises(ValueError, match="--max-pixels"):
        resolve_spec(None, adapter="qwen2.5-vl")
    assert resolve_spec(None, adapter="qwen2.5-vl", max_pixels=50176).make_adapter().name == "qwen2.5-vl"
    assert resolve_spec(ckpt, adapter="qwen2.5-vl").budget == PixelBudget(3136, 12544)
    with pytest.raises(ValueError, match="no_such"):
        resolve_spec(None, adapter="no_such.module:Adapter")


def test_labels_name_what_answered(tmp_path):
    spec = resolve_spec(None, engine="local", location=tmp_path)
    assert spec.endpoint_label() == f"local:{tmp_path.resolve()}" and spec.model_label() == str(tmp_path)
    moved = spec.at("endpoint", "http://127.0.0.1:8001/v1", model="served")
    assert moved.endpoint_label() == "http://127.0.0.1:8001/v1" and moved.model_label() == "served"
    assert moved.budget == spec.budget
    with pytest.raises(ValueError, match="engine"):
        AgentSpec(meta=CheckpointMeta(), engine="carrier-pigeon")


def test_shared_flags_are_declared_once_and_read_back(ckpt):
    parser = argparse.ArgumentParser()
    add_agent_flags(parser, "checkpoint", "settings", "adapter", "api-key-env", defaults={"api-key-env": "K"})
    args = parser.parse_args(["--checkpoint-meta", str(ckpt), "--template", "en", "--max-pixels", "12544"])
    spec = spec_from_args(args, engine="endpoint", location="http://h/v1", model="m")
    assert (spec.template, spec.budget.max_pixels, spec.api_key_env, spec.model) == ("en", 12544, "K", "m")
    with pytest.raises(ValueError, match="unknown flag 'colour'"):
        add_agent_flags(argparse.ArgumentParser(), "colour")


@pytest.mark.parametrize("value", ["0", "65536", "183740", "-1", "http"])
def test_port_numbers_outside_1_to_65535_are_refused(value):
    with pytest.raises(argparse.ArgumentTypeError, match=f"from 1 to 65535, found {value!r}"):
        port_number(value)


def test_port_number_bounds_pass():
    assert (port_number("1"), port_number("65535")) == (1, 65535)


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "CHECKPOINT", "--port", "183740", "--dry-run"],
        ["ui", "--episodes", "data/demo/test", "--port", "70000"],
    ],
)
def test_every_command_taking_a_port_exits_2_naming_the_flag(argv, tmp_path, capsys):
    argv = [str(tmp_path) if a == "CHECKPOINT" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "argument --port: expected a port number from 1 to 65535" in err


def test_the_internal_servers_refuse_a_bad_port_too():
    from serving.transformers_server import build_parser

    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["ckpt", "--port", "183740"])
    assert exc.value.code == 2
    from eval.testing.stub_server import main as stub_main

    with pytest.raises(SystemExit) as exc:
        stub_main(["--port", "99999"])
    assert exc.value.code == 2


def test_serve_banner_shows_the_spec(ckpt, capsys):
    (ckpt / "config.json").write_text("{}")
    assert main(["serve", str(ckpt), "--engine", "vllm", "--dry-run", "--port", "8123"]) == 0
    out = capsys.readouterr().out
    assert "--port 8123" in out and json.dumps({"max_pixels": 12544})[1:-1] in out


def test_the_live_step_takes_the_default_adapter_from_the_registry(monkeypatch):
    """ui.live names no adapter itself: renaming the registry's default renames the live step's."""
    import agent.adapters as adapters
    from actions.registry import Registry
    from ui.live import LiveConfig, live_spec

    seed = adapters.ADAPTERS.entry(adapters.DEFAULT_ADAPTER)
    entries = {e.name: (e.target, e.summary) for e in adapters.ADAPTERS.entries()}
    renamed = Registry("agent adapter", {**entries, "seed": (seed.target, seed.summary)})
    monkeypatch.setattr(adapters, "ADAPTERS", renamed)
    monkeypatch.setattr(adapters, "DEFAULT_ADAPTER", "seed")
    assert live_spec(LiveConfig("http://127.0.0.1:9/v1", "m", None, {})).adapter == "seed"
    # A run recorded by the default adapter lends the live step its template and space.
    header = {"agent": "seed", "template": "en", "coord_space": "norm1000", "min_pixels": 3136}
    spec = live_spec(LiveConfig("http://127.0.0.1:9/v1", "m", None, header))
    assert (spec.adapter, spec.template, spec.coord_space) == ("seed", "en", "norm1000")
