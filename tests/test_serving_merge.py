"""`phone-r1 merge` on a tiny LoRA checkpoint: the merged weights reproduce the adapter's logits."""

import json
import shlex

import pytest
import torch

from agent.checkpoint import CheckpointMeta
from phone_r1.cli import main
from tests.helpers.tiny import tiny_model_dir


@pytest.fixture(scope="module")
def lora_adapter(tmp_path_factory):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageTextToText

    base = tiny_model_dir()
    torch.manual_seed(0)
    model = AutoModelForImageTextToText.from_pretrained(str(base))
    # init_lora_weights=False: random B, so the adapter really changes the outputs.
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    peft_model = get_peft_model(model, config)
    folder = tmp_path_factory.mktemp("adapter")
    peft_model.save_pretrained(folder)
    CheckpointMeta(coord_space="norm1000", min_pixels=3136, max_pixels=100352, base_model=str(base)).save(
        folder
    )
    return base, folder


def _logits(model, input_ids):
    with torch.inference_mode():
        return model(input_ids=input_ids).logits


def test_merged_weights_reproduce_adapter_logits(lora_adapter, tmp_path, capsys):
    from peft import PeftModel
    from transformers import AutoModelForImageTextToText

    from agent.processor import load_processor

    base, adapter = lora_adapter
    out = tmp_path / "merged"
    assert main(["merge", str(adapter), "-o", str(out)]) == 0
    assert str(out) in capsys.readouterr().out

    input_ids = torch.tensor([[5, 17, 99, 230, 7, 64, 300, 12]])
    with_adapter = PeftModel.from_pretrained(
        AutoModelForImageTextToText.from_pretrained(str(base)), str(adapter)
    )
    plain = AutoModelForImageTextToText.from_pretrained(str(base))
    merged = AutoModelForImageTextToText.from_pretrained(str(out))
    expected = _logits(with_adapter, input_ids)
    assert not torch.allclose(expected, _logits(plain, input_ids), atol=1e-4)  # the adapter matters
    torch.testing.assert_close(_logits(merged, input_ids), expected, atol=1e-4, rtol=1e-4)

    # Everything serving needs travels with the merged weights.
    assert CheckpointMeta.load(out) == CheckpointMeta.load(adapter)
    assert load_processor(out).image_processor is not None
    assert not (out / "adapter_config.json").exists()


def test_merged_checkpoint_serves_as_full_weights_with_the_adapters_budget(lora_adapter, tmp_path, capsys):
    _, adapter = lora_adapter
    out = tmp_path / "merged"
    assert main(["merge", str(adapter), "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["serve", str(out), "--engine", "vllm", "--dry-run"]) == 0
    cmd = shlex.split(capsys.readouterr().out.splitlines()[-1])
    assert cmd[2] == str(out.resolve()) and "--enable-lora" not in cmd
    i = cmd.index("--mm-processor-kwargs")
    assert json.loads(cmd[i + 1]) == {"min_pixels": 3136, "max_pixels": 100352}


def test_merge_refuses_full_weights_and_overwriting_the_input(lora_adapter, tmp_path, capsys):
    base, adapter = lora_adapter
    assert main(["merge", str(base), "-o", str(tmp_path / "x")]) == 2
    assert "adapter_config.json" in capsys.readouterr().err
    assert main(["merge", str(adapter), "-o", str(adapter)]) == 2
    assert main(["merge", str(adapter)]) == 2  # -o is required
    assert "the following arguments are required: -o/--output" in capsys.readouterr().err
