"""Hypothesis strategies and completion generators for the `actions` tests."""

from __future__ import annotations

import json
import random
import re
from typing import Any

from hypothesis import strategies as st

from actions import (
    Back,
    Click,
    Enter,
    Home,
    Inquiry,
    LongClick,
    OpenApp,
    RecentApps,
    Swipe,
    TaskCompleted,
    TaskImpossible,
    TypeText,
    Wait,
)
from actions.vocab import THINK_FIELDS

SEED_CLICK = {
    "action_type": "click",
    "action_parameter": {"click": "49,721,1368,1008"},
    "action_description": "点击剑来",
}
SEED_INQUIRY = {
    "action_type": "inquiry",
    "action_parameter": {
        "inquiry": '{\n "Question": "搜索笑脸后有多个表情包,请问您想发送哪一个?",\n "CandidatesList": '
        "\"['黄色大笑脸', '手绘风格笑脸', '红晕笑脸']\",\n \"PicDescribe\": "
        '"聊天界面中显示了表情搜索结果。",\n'
        ' "AnswerIndex": 0\n}'
    },
    "action_description": "反问",
}
SEED_WAIT = {"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": "等待"}

THINK_OK = {
    "task_interpretation": "在书架中找到剑来",
    "current_page_audit": "当前是书架页",
    "path_alignment_check": "第2步:点击剑来",
    "action_validation": "剑来在屏幕中部",
}

texts = st.text(max_size=24)
coordinates = st.one_of(
    st.integers(min_value=0, max_value=4000),
    st.floats(min_value=0, max_value=4000, allow_nan=False, allow_infinity=False),
)
boxes = st.tuples(coordinates, coordinates, coordinates, coordinates)
points = st.tuples(coordinates, coordinates)


def _described(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.builds(lambda action, description: _with(action, description), strategy, texts)


def _with(action: Any, description: str) -> Any:
    import dataclasses

    return dataclasses.replace(action, description=description)


actions_strategy = _described(
    st.one_of(
        st.builds(OpenApp, app=texts),
        st.builds(Click, box=boxes),
        st.builds(LongClick, box=boxes),
        st.builds(Swipe, start=points, end=points),
        st.builds(TypeText, text=texts),
        st.builds(
            Inquiry,
            question=texts,
            candidates=st.lists(texts, max_size=5).map(tuple),
            pic_describe=texts,
            answer_index=st.one_of(st.none(), st.integers(min_value=-3, max_value=30)),
        ),
        st.builds(Wait),
        st.builds(Back),
        st.builds(Home),
        st.builds(Enter),
        st.builds(RecentApps),
        st.builds(TaskCompleted, summary=texts),
        st.builds(TaskImpossible, reason=texts),
    )
)


def completion(think: Any = THINK_OK, action: Any = SEED_CLICK, *, think_raw: str | None = None) -> str:
    """A well-formed completion in the seed's `<think>` / `<answer>` format."""
    body = think_raw if think_raw is not None else json.dumps(think, ensure_ascii=False)
    return f"<think>{body}</think>\n<answer>{json.dumps(action, ensure_ascii=False)}</answer>"


_CHINESE = "点击设置打开微信搜索无锡的视频已完成任务返回首页"


def generated_completions(n: int, seed: int = 0) -> list[str]:
    """A deterministic mix of completions for comparing against the seed's format reward.

    Kinds: well-formed, truncated at a random point, nested or repeated tags, think payloads that are
    JSON but not objects (strings or lists naming the four fields, numbers, booleans, null), missing
    fields, non-JSON payloads, Chinese prose, code fences and tags in other places.
    """
    rng = random.Random(seed)
    actions = [SEED_CLICK, SEED_INQUIRY, SEED_WAIT, [1, 2], "点击", 42]
    thinks: list[str] = [
        json.dumps(THINK_OK, ensure_ascii=False),
        json.dumps({k: v for k, v in THINK_OK.items() if k != "action_validation"}, ensure_ascii=False),
        json.dumps(" ".join(THINK_FIELDS)),
        json.dumps(list(THINK_FIELDS)),
        json.dumps(["task_interpretation"]),
        "我需要点击剑来",
        "{'task_interpretation': 1}",
        "",
        "[]",
        "{}",
        "5",
        "true",
        "null",
        "3.5",
    ]
    out: list[str] = []
    for _ in range(n):
        kind = rng.randrange(9)
        think = rng.choice(thinks)
        action = rng.choice(actions)
        answer = json.dumps(action, ensure_ascii=False)
        text = f"<think>{think}</think>\n<answer>{answer}</answer>"
        if kind == 1:
            text = text[: rng.randrange(len(text) + 1)]
        elif kind == 2:
            text = f"<think><think>{think}</think></think><answer><answer>{answer}</answer></answer>"
        elif kind == 3:
            text = f"<answer>{answer}</answer><think>{think}</think><answer>{{}}</answer>"
        elif kind == 4:
            text = "".join(rng.choice(_CHINESE) for _ in range(rng.randrange(40))) + text
        elif kind == 5:
            text = f"<think>{think}</think><answer>```json\n{answer}\n```</answer>"
        elif kind == 6:
            text = f"<think>\n  {think} \n</think>  <answer> {answer}\n</answer> {rng.choice(_CHINESE)}"
        elif kind == 7:
            text = answer  # the seed's SFT format: a bare JSON action
        out.append(text)
    return out


@st.composite
def mutated_completions(draw: st.DrawFn) -> str:
    """A valid completion with a few random edits: deletions, insertions, duplications, truncation."""
    action = draw(actions_strategy)
    text = completion(action=action.to_json())
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if not text:
            break
        i = draw(st.integers(min_value=0, max_value=len(text)))
        j = draw(st.integers(min_value=i, max_value=min(len(text), i + 12)))
        edit = draw(st.sampled_from(["delete", "insert", "duplicate", "truncate"]))
        if edit == "delete":
            text = text[:i] + text[j:]
        elif edit == "insert":
            noise = draw(
                st.sampled_from(["{", "}", '"', "'", ",", "<answer>", "</think>", "```", "\\", "null"])
            )
            text = text[:i] + noise + text[i:]
        elif edit == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i]
    return text


# The seed's format reward, verbatim from seed 001 except its DEBUG_MODE file logging.
def seed_format_reward(completions, **kwargs):
    """Reward function that checks if the completion has a specific format and structure."""
    completion_contents = [completion[0]["content"] for completion in completions]
    rewards = []
    for content in completion_contents:
        score = 0.0
        # Check for <think></think> tags (0.5 points)
        think_match = re.search(r"<think>(.*?)</think>", content, re.DOTALL)
        if think_match:
            score += 0.5
            think_content = think_match.group(1).strip()
            # Check if think content is valid JSON (0.5 points)
            try:
                think_json = json.loads(think_content)
                score += 0.5
                # Check if think content has the required fields (0.5 points)
                required_fields = [
                    "task_interpretation",
                    "current_page_audit",
                    "path_alignment_check",
                    "action_validation",
                ]
                if all(field in think_json for field in required_fields):
                    score += 0.5
            except json.JSONDecodeError:
                pass  # Not valid JSON, no additional points
        # Check for <answer></answer> tags (0.5 points)
        answer_match = re.search(r"<answer>(.*?)</answer>", content, re.DOTALL)
        if answer_match:
            score += 0.5
            answer_content = answer_match.group(1).strip()
            # Check if answer content is valid JSON (0.5 points)
            try:
                json.loads(answer_content)
                score += 0.5
            except json.JSONDecodeError:
                pass  # Not valid JSON, no additional points
        rewards.append(score)
    return rewards
