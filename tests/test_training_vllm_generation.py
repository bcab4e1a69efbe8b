"""phone-r1's seam on TRL's vLLM generation (`training.vllm_generation`), without vLLM.

vLLM itself (its renderer and input processor, on CPU) is exercised by `make vllm-check`
(`tests/test_serving_vllm_check.py`); here a stand-in `LLM` expands image placeholders the way vLLM
0.33 does (the k-th image token of the prompt becomes the k-th image's run), so the seam's wiring into
TRL's own `VLLMGeneration.generate` and `_place_features` is tested on every stack.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from PIL import Image
from trl.generation import vllm_generation as trl_vllm

from agent.processor import load_processor
from tests.helpers.tiny import FAMILY_NAMES, tiny_model_dir
from training.vllm_generation import (
    ImageExpansion,
    ImageSafeVLLMGeneration,
    VLLMPromptError,
    check_server_features,
    check_vllm_prompts,
    make_image_safe,
    processor_kwargs,
)

BUDGET = (3136, 109760)
SCREENS = ((1080, 2400), (1440, 3120))


def _prompt(n_images: int) -> list[dict]:
    return [
        {"role": "system", "content": [{"type": "text", "text": "你是一个手机任务执行专家"}]},
        {
            "role": "user",
            "content": [{"type": "text", "text": '{"task_content": "打开设置"}'}]
            + [{"type": "image"} for _ in range(n_images)],
        },
    ]


def _batch(processor, family: str):
    """Two prompts (1080x2400 and 1440x3120 screens, two screenshots each) tokenized as TRL does."""
    from trl.data_utils import prepare_multimodal_messages

    from agent.families import family_of

    images = [[Image.new("RGB", screen, (200, 210, 220 + i)) for i in range(2)] for screen in SCREENS]
    prompts = [prepare_multimodal_messages(_prompt(2), images=imgs) for imgs in images]
    kwargs = dict(family_of(family).chat_template_kwargs)
    out = processor.apply_chat_template(
        prompts, add_generation_prompt=True, tokenize=True, return_dict=True, **kwargs
    )
    return prompts, [list(map(int, ids)) for ids in out["input_ids"]], images, kwargs


@pytest.fixture(scope="module", params=FAMILY_NAMES)
def family_processor(request):
    return request.param, load_processor(tiny_model_dir(family=request.param), *BUDGET)


def test_fold_gives_the_chat_template_text_tokenized_without_expansion(family_processor):
    """What vLLM expects: the template's text tokenized alone (one placeholder per image)."""
    family, processor = family_processor
    prompts, ids, _, kwargs = _batch(processor, family)
    expansion = ImageExpansion.of(processor)
    for prompt, expanded in zip(prompts, ids, strict=True):
        text = processor.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False, **kwargs)
        unexpanded = processor.tokenizer(text, add_special_tokens=False)["input_ids"]
        assert expansion.fold(expanded) == unexpanded
        # Each image's span: prefix + its run of image tokens + suffix, two per prompt.
        spans = expansion.images(expanded)
        assert len(spans) == 2 and all(length > 1 for _, length in spans)
    if family == "internvl":
        assert expansion.prefix and expansion.suffix  # <img> ... </img>
    else:
        assert not expansion.prefix and not expansion.suffix


def test_an_image_run_without_its_frame_is_refused():
    processor = load_processor(tiny_model_dir(family="internvl"))
    expansion = ImageExpansion.of(processor)
    ids = [1, *expansion.prefix, expansion.image_token_id, expansion.image_token_id, 2]  # no suffix
    with pytest.raises(VLLMPromptError, match="not framed"):
        expansion.fold(ids)


def test_prompt_check_names_the_first_difference_and_the_trl_issues():
    check_vllm_prompts([[1, 2, 3]], [[1, 2, 3]])
    with pytest.raises(VLLMPromptError, match=r"token 2\b.*#6294 and #6401"):
        check_vllm_prompts([[1, 2, 9, 9]], [[1, 2, 3]])


def _expanded(processor, image) -> list[int]:
    """One image as the processor writes it into a prompt."""
    out = processor(text=[processor.image_token], images=[image], add_special_tokens=False)
    return list(map(int, out["input_ids"][0]))


class _VLLMLike:
    """Stands in for `vllm.LLM` in TRL's colocate branch: expands image placeholders as vLLM 0.33 does.

    The k-th occurrence of the image token in the prompt becomes the k-th image's expansion, computed by
    the real processor with the `mm_processor_kwargs` vLLM was handed (else the checkpoint's budget).
    """

    def __init__(self, path, expansion: ImageExpansion) -> None:
        self.path, self.expansion, self.calls = path, expansion, []

    def generate(self, prompts, sampling_params=None, use_tqdm=False, mm_processor_kwargs=None):
        self.calls.append({"prompts": prompts, "mm_processor_kwargs": mm_processor_kwargs})
        budget = mm_processor_kwargs or {}
        processor = load_processor(self.path, budget.get("min_pixels"), budget.get("max_pixels"))
        token = self.expansion.image_token_id
        outputs = []
        for prompt in prompts:
            images = prompt["multi_modal_data"]["image"]
            images = images if isinstance(images, list) else [images]
            runs = [_expanded(processor, image) for image in images]
            ids, seen = [], 0
            for t in prompt["prompt_token_ids"]:
                if t == token and seen < len(runs):
                    ids += runs[seen]
                    seen += 1
                else:
                    ids.append(t)
            outputs.append(
                SimpleNamespace(prompt_token_ids=ids, outputs=[SimpleNamespace(token_ids=[7], logprobs=None)])
            )
        return outputs


def _colocate_generation(monkeypatch, processor, llm) -> ImageSafeVLLMGeneration:
    """TRL's VLLMGeneration in colocate mode, as the trainer builds it, with the stand-in LLM."""
    monkeypatch.setattr(trl_vllm, "SamplingParams", lambda **kw: kw, raising=False)
    generation = object.__new__(trl_vllm.VLLMGeneration)
    generation.__dict__.update(
        mode="colocate",
        accelerator=SimpleNamespace(process_index=0),
        llm=llm,
        enable_sleep_mode=False,
        tensor_parallel_size=1,
        structured_outputs_regex=None,
        generation_kwargs={},
        temperature=1.0,
        top_p=1.0,
        top_k=0,
        min_p=None,
        repetition_penalty=1.0,
        max_completion_length=8,
        logprobs=0,
        processing_class=processor,
        model=torch.nn.Linear(1, 1),  # TRL asks whether it is a peft model
    )
    return make_image_safe(generation, processor)


def test_colocate_hands_vllm_unexpanded_ids_and_the_budget_and_gets_the_trainers_prompt(monkeypatch):
    path = tiny_model_dir(family="qwen3_vl")
    processor = load_processor(path, *BUDGET)
    _, ids, images, _ = _batch(processor, "qwen3_vl")
    llm = _VLLMLike(path, ImageExpansion.of(processor))
    generation = _colocate_generation(monkeypatch, processor, llm)
    prompt_ids, completion_ids, _, _ = generation.generate(ids, images, num_generations=1)
    assert prompt_ids == ids and completion_ids == [[7], [7]]
    (call,) = llm.calls
    assert call["mm_processor_kwargs"] == {"min_pixels": BUDGET[0], "max_pixels": BUDGET[1]}
    sent = [row["prompt_token_ids"] for row in call["prompts"]]
    assert [s.count(generation.expansion.image_token_id) for s in sent] == [2, 2]


def test_colocate_stops_when_vllm_would_generate_from_another_prompt(monkeypatch):
    """vLLM resizing with another budget (here: none passed) must not go unnoticed."""
    path = tiny_model_dir(family="qwen3_vl")
    processor = load_processor(path, *BUDGET)
    _, ids, images, _ = _batch(processor, "qwen3_vl")
    generation = _colocate_generation(monkeypatch, processor, _VLLMLike(path, ImageExpansion.of(processor)))
    generation.mm_kwargs = {}  # the checkpoint's saved budget, not the trainer's
    with pytest.raises(VLLMPromptError, match="vLLM built"):
        generation.generate(ids, images, num_generations=1)


def _features(lengths: list[int]) -> dict:
    return {
        "mm_hashes": {"image": [f"h{i}" for i in range(len(lengths))]},
        "mm_placeholders": {"image": [{"offset": 3 + 100 * i, "length": n} for i, n in enumerate(lengths)]},
    }


def test_server_features_must_give_each_image_the_trainers_token_count():
    path = tiny_model_dir(family="qwen2_5_vl")
    processor = load_processor(path, *BUDGET)
    _, ids, _, _ = _batch(processor, "qwen2_5_vl")
    expansion = ImageExpansion.of(processor)
    lengths = [length for _, length in expansion.images(ids[0])]
    check_server_features(_features(lengths), ids[0], expansion)
    with pytest.raises(VLLMPromptError, match="--mm-processor-kwargs"):
        check_server_features(_features([n + 4 for n in lengths]), ids[0], expansion)

    generation = object.__new__(trl_vllm.VLLMGeneration)
    generation.processing_class = processor
    make_image_safe(generation, processor)
    placed = generation._place_features(_features(lengths), ids[0])
    assert [p["offset"] for p in placed["mm_placeholders"]["image"]] == [
        s for s, _ in expansion.images(ids[0])
    ]
    with pytest.raises(VLLMPromptError):
        generation._place_features(_features([55, 55]), ids[0])


def test_processor_kwargs_are_the_trainers_budget_or_nothing():
    assert processor_kwargs(load_processor(tiny_model_dir(family="qwen3_5"), *BUDGET)) == {
        "min_pixels": BUDGET[0],
        "max_pixels": BUDGET[1],
    }
    assert processor_kwargs(load_processor(tiny_model_dir(family="internvl"))) == {}


def test_the_grpo_trainer_puts_the_seam_on_its_vllm_generation(monkeypatch):
    """`AccountedGRPOTrainer` with `use_vllm` re-classes the generation object TRL built."""
    import trl

    from training.image_accounting import AccountedGRPOTrainer

    processor = load_processor(tiny_model_dir(family="qwen2_5_vl"))

    def fake_init(self, *args, **kwargs):
        self.use_vllm = True
        self.processing_class = processor
        self.vllm_generation = object.__new__(trl_vllm.VLLMGeneration)

    monkeypatch.setattr(trl.GRPOTrainer, "__init__", fake_init)
    trainer = AccountedGRPOTrainer()
    assert isinstance(trainer.vllm_generation, ImageSafeVLLMGeneration)
    assert trainer.vllm_generation.expansion == ImageExpansion.of(processor)
