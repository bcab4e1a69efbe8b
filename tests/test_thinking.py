"""Templates that open `<think>` in the generation prompt: the whole think + answer is trained and scored."""

from __future__ import annotations

import json

import pytest

from actions import Back
from actions.rewards import action_reward, format_reward
from agent.agent import PhoneAgent
from agent.thinking import answer_prefix, generation_prompt, join_reasoning
from eval.testing.stub_server import StubServer
from tests.helpers.serving import THINK, make_step
from tests.helpers.tiny import tiny_model_dir
from training.rewards import build_reward_funcs, with_answer_prefix

THINKING = {"enable_thinking": True}
ANSWER = json.dumps(Back().to_json(), ensure_ascii=False)
FIELDS = json.dumps(THINK, ensure_ascii=False)
# What a Qwen3.5 model trained by phone-r1 generates after the template's `<think>\n`.
GENERATED = f"{FIELDS}\n</think>\n\n<answer>{ANSWER}</answer>"
COLUMNS = {"gold": [ANSWER], "screen_width": [1080], "screen_height": [2400]}


@pytest.fixture(scope="module")
def qwen3_5():
    from agent.processor import load_processor

    return load_processor(tiny_model_dir(family="qwen3_5"))


def test_the_opened_think_block_is_found_on_the_checkpoints_template(qwen3_5):
    from agent.processor import load_processor

    assert answer_prefix(qwen3_5, THINKING) == "<think>\n"
    assert answer_prefix(qwen3_5) == "<think>\n"  # the public template's default is thinking on
    # Thinking off closes an empty block: nothing is left open for the answer to continue.
    assert generation_prompt(qwen3_5, {"enable_thinking": False}).endswith("<think>\n\n</think>\n\n")
    assert answer_prefix(qwen3_5, {"enable_thinking": False}) == ""
    for name in ("qwen2_5_vl", "qwen3_vl", "internvl"):
        assert answer_prefix(load_processor(tiny_model_dir(family=name))) == ""


def test_a_perfect_answer_scores_as_one_only_with_the_opened_tag_put_back():
    assert format_reward([GENERATED])[0] < 1.0  # what TRL hands the rewards: the <think> is in the prompt
    whole_format, whole_action = build_reward_funcs(["format", "action"], answer_prefix="<think>\n")
    assert whole_format([GENERATED]) == [1.0]
    assert whole_action([GENERATED], **COLUMNS) == [1.0]
    conversational = [[{"role": "assistant", "content": GENERATED}]]
    assert whole_format(conversational) == [1.0]
    # A completion TRL parsed with a response template (think block split out) is joined back.
    parsed = [[{"role": "assistant", "reasoning_content": FIELDS, "content": f"<answer>{ANSWER}</answer>"}]]
    assert whole_format(parsed) == [1.0]
    assert with_answer_prefix(format_reward, "") is format_reward  # nothing opened: the reward as it is
    assert action_reward([GENERATED], **COLUMNS) == [1.0]  # the action alone never needed the tag


def test_sft_trains_the_continuation_of_the_opened_block(qwen3_5):
    """TRL's SFT collator trains on the rendered conversation after the prompt: the target's think
    fields land inside the template's own block, so what the model learns to generate is GENERATED."""
    prompt = [{"role": "user", "content": [{"type": "text", "text": "step"}]}]
    target = [
        {
            "role": "assistant",
            "content": [{"type": "text", "text": f"<think>{FIELDS}</think><answer>{ANSWER}</answer>"}],
        }
    ]
    head = qwen3_5.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True, **THINKING)
    full = qwen3_5.apply_chat_template(prompt + target, tokenize=False, **THINKING)
    assert full.startswith(head) and head.endswith("<think>\n")
    assert full[len(head) :] == GENERATED + "<|im_end|>\n"


def test_a_split_answer_is_joined_without_inventing_a_closing_tag():
    assert join_reasoning(FIELDS, f"<answer>{ANSWER}</answer>") == "<think>\n" + GENERATED
    assert join_reasoning("half a thought", None) == "<think>\nhalf a thought"
    assert format_reward([join_reasoning("half a thought", None)])[0] < 1.0


@pytest.mark.parametrize("split", [False, True])
def test_openai_backend_returns_the_whole_answer(tmp_path, split):
    """Against a server that returns the text as generated, and one that splits the think block out."""
    step = make_step(tmp_path, gold=Back())
    with StubServer(lambda s, m: GENERATED, reasoning=split) as server:
        agent = PhoneAgent.from_endpoint(
            server.base_url, "stub", max_retries=0, chat_template_kwargs=THINKING, answer_prefix="<think>\n"
        )
        result = agent.step(step)
        agent.close()
    assert result.error is None and result.raw_text == "<think>\n" + GENERATED
    assert result.think == THINK and result.action == Back()
    body = agent.backend.wire_body([])
    assert body["chat_template_kwargs"] == THINKING  # the server renders the prompt training rendered


def test_a_recipe_turning_thinking_off_for_qwen3_5_is_refused(tmp_path):
    from tests.helpers.tiny import write_episodes
    from training.config import RecipeError
    from training.run import plan

    data = write_episodes(tmp_path / "eps", n_episodes=1, steps=1)
    argv = ["--config", "training/recipes/tiny/grpo.yaml", "--dataset_path", str(data)]
    argv += [
        "--model_name_or_path",
        str(tiny_model_dir(family="qwen3_5")),
        "--output_dir",
        str(tmp_path / "o"),
    ]
    with pytest.raises(RecipeError, match=r"chat_template_kwargs: \{'enable_thinking': False\}.*Qwen3\.5"):
        plan("grpo", [*argv, "--chat_template_kwargs", '{"enable_thinking": false}'])
    assert plan("grpo", argv).chat_template_kwargs == THINKING
