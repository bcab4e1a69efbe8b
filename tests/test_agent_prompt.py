import json
import re

import pytest

from actions import (
    SEED_ACTION_TYPES,
    THINK_FIELDS,
    PixelBudget,
    model_screen_size,
    parse_action,
    parse_completion,
)
from agent.prompt import (
    PROMPTS_DIR,
    available_templates,
    build_messages,
    prompt_hash,
    step_text,
    system_text,
    template_hash,
)
from tests.helpers.serving import make_step


def test_messages_layout_system_prefix_then_json_then_images_previous_first(tmp_path):
    step = make_step(tmp_path)
    messages = build_messages(step)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert isinstance(messages[0]["content"], str)
    parts = messages[1]["content"]
    assert parts[0] == {"type": "text", "text": step_text(step)}
    assert parts[1:] == [{"type": "image", "image": str(p)} for p in step.screenshots]
    assert parts[1]["image"].endswith("screen_0.jpg")  # previous screen first


def test_system_message_is_the_same_for_every_step_of_a_screen_size(tmp_path):
    a = build_messages(make_step(tmp_path / "a", index=1))
    b = build_messages(make_step(tmp_path / "b", index=2))
    assert a[0] == b[0]
    assert "打开淘宝" not in a[0]["content"]  # nothing of the step leaks into the shared prefix


def test_step_text_is_the_input_json_with_images_and_key_order_kept(tmp_path):
    step = make_step(tmp_path)
    data = json.loads(step_text(step))
    assert list(data) == list(step.input)
    assert data["screen_path1"] == data["screen_path2"] == "<image>"
    assert "淘宝" in step_text(step)  # not \u-escaped, as the seed's converter writes it
    assert step_text(step) == json.dumps(
        {**step.input, "screen_path1": "<image>", "screen_path2": "<image>"}, ensure_ascii=False
    )


def test_first_step_with_one_screenshot_has_one_image(tmp_path):
    step = make_step(tmp_path, sizes=[(720, 1280)])
    parts = build_messages(step)[1]["content"]
    assert [p["type"] for p in parts] == ["text", "image"]
    assert "screen_path1" not in json.loads(parts[0]["text"])


def test_step_input_is_derived_from_its_fields(tmp_path):
    from dataclasses import replace

    from episodes.step import DEFAULT_ACTION_TYPE_LIST

    step = replace(make_step(tmp_path), action_type_list=dict(DEFAULT_ACTION_TYPE_LIST))
    data = json.loads(step_text(step))
    assert data["task_content"] == step.task and data["screen_path1"] == "<image>"
    assert data["action_type_list"]["click"] == "点击"


@pytest.mark.parametrize("space", ["original", "resized", "norm1000"])
@pytest.mark.parametrize("template", ["zh", "en"])
def test_system_text_states_the_model_screen_size(tmp_path, template, space):
    budget = PixelBudget(3136, 1003520)
    step = make_step(tmp_path)
    width, height = model_screen_size(space, step.screen_size, budget)
    text = build_messages(step, template=template, coord_space=space, budget=budget)[0]["content"]
    assert f"{width}" in text and f"{height}" in text
    assert "${" not in text
    if space == "resized":
        assert (width, height) != (1080, 2400)


@pytest.mark.parametrize("template", ["zh", "en"])
def test_template_carries_fields_actions_think_and_valid_examples(template):
    text = system_text(template, "original", (1080, 2400))
    for name in [
        "task_content",
        "task_path",
        "screen_path1",
        "screen_path2",
        "history_path_all",
        "app_name",
        "action_type_list",
        *SEED_ACTION_TYPES,
        *THINK_FIELDS,
    ]:
        assert name in text, name
    # Every one-line action example is valid wire JSON, one per action type.
    examples = [json.loads(line) for line in text.splitlines() if line.startswith('{"action_type"')]
    assert sorted(parse_action(e).action_type for e in examples) == sorted(SEED_ACTION_TYPES)
    # The full output example parses with no problems.
    shape = re.search(r"^<think>.*</answer>$", text, re.M).group(0)
    parsed = parse_completion(shape)
    assert parsed.action is not None and parsed.problems == []


def test_available_templates_and_unknown_template():
    assert {"zh", "en"} <= set(available_templates())
    assert all((PROMPTS_DIR / f"{t}.md").is_file() for t in available_templates())
    with pytest.raises(ValueError, match="available"):
        system_text("klingon", "original", (10, 10))
    with pytest.raises(ValueError, match="coordinate space"):
        system_text("zh", "polar", (10, 10))


def test_hashes_are_stable_and_distinguish_templates_spaces_and_steps(tmp_path):
    hashes = {template_hash(t, s) for t in ("zh", "en") for s in ("original", "resized", "norm1000")}
    assert len(hashes) == 6
    assert template_hash("zh", "original") == template_hash()
    a, b = make_step(tmp_path / "a"), make_step(tmp_path / "b")
    assert prompt_hash(build_messages(a)) == prompt_hash(build_messages(a))
    assert prompt_hash(build_messages(a)) != prompt_hash(build_messages(b))  # different screenshot paths


def test_shipped_templates_are_the_vocabulary_names() -> None:
    from actions.vocab import DEFAULT_TEMPLATE, TEMPLATE_NAMES
    from agent.prompt import available_templates

    assert available_templates() == sorted(TEMPLATE_NAMES) and DEFAULT_TEMPLATE in TEMPLATE_NAMES
