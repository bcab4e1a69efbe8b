"""Chat templates that open `<think>` in the generation prompt: keep the whole answer for scoring.

phone-r1's answer is `<think>{fields}</think><answer>{action}</answer>`. Qwen3.5's public chat template
ends its generation prompt with an opened `<think>\\n` (`enable_thinking` true, its default), so what a
model generates starts inside the think block: `{fields}\\n</think>\\n\\n<answer>…</answer>`. Scored as
it comes, a perfect answer loses the think tag (format reward 0.4 instead of 1.0).

phone-r1 keeps the template as the family ships it, with thinking on (`ModelFamily.chat_template_kwargs`
sets `enable_thinking: true`, also for checkpoints whose template defaults to off), and re-attaches the
opened part of the prompt to every generated answer before it is scored or parsed: GRPO rewards
(`training.rewards`), SFT (whose target the template itself renders inside its think block, so the
trained continuation is exactly what generation produces), evaluation backends and parity. Turning
thinking off instead would leave the template's empty `<think>\\n\\n</think>` before phone-r1's own
think block, and SFT prompts would no longer be prefixes of their training text.

`answer_prefix(processor, kwargs)` finds the opened part on the checkpoint's own template, so a Thinking
variant of another family (Qwen3-VL-*-Thinking) is handled the same way without a record saying so.
Training writes it into `phone_r1.json` (`answer_prefix`); serving and evaluation read it from there.
"""

from __future__ import annotations

from typing import Any

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
_PROBE = [{"role": "user", "content": [{"type": "text", "text": "x"}]}]


def generation_prompt(processor: Any, chat_template_kwargs: dict[str, Any] | None = None) -> str:
    """What the chat template appends for `add_generation_prompt=True` (after the last user turn)."""
    kwargs = dict(chat_template_kwargs or {})
    without = processor.apply_chat_template(_PROBE, tokenize=False, add_generation_prompt=False, **kwargs)
    with_prompt = processor.apply_chat_template(_PROBE, tokenize=False, add_generation_prompt=True, **kwargs)
    if not with_prompt.startswith(without):
        raise ValueError(
            "the chat template renders a conversation differently with add_generation_prompt; "
            f"expected {without[-80:]!r} to start {with_prompt[-120:]!r}"
        )
    return with_prompt[len(without) :]


def answer_prefix(processor: Any, chat_template_kwargs: dict[str, Any] | None = None) -> str:
    """The opened think block the generation prompt ends in (`"<think>\\n"`), or "" when it opens none."""
    prompt = generation_prompt(processor, chat_template_kwargs)
    start = prompt.rfind(THINK_OPEN)
    if start < 0 or THINK_CLOSE in prompt[start:]:
        return ""
    return prompt[start:]


def reattach(text: str, prefix: str) -> str:
    """A generated answer with the opened part of its prompt put back in front."""
    return prefix + text if prefix else text


def join_reasoning(reasoning: str | None, content: str | None, prefix: str = THINK_OPEN + "\n") -> str:
    """One answer from a server that split the think block out (`reasoning_content` / `reasoning`).

    vLLM's reasoning parsers and `transformers serve` return the text inside the think block apart
    from the rest and strip the white space around it. This joins them as the Qwen3.5 template renders
    a reasoning turn (`<think>\\n{reasoning}\\n</think>\\n\\n{content}`). Where the server found no
    closing tag it sends no content, and no closing tag is invented: an unclosed block stays unclosed.
    """
    head = prefix if prefix.startswith(THINK_OPEN) else THINK_OPEN + "\n"
    text = head + (reasoning or "").strip("\n")
    if content:
        text += f"\n{THINK_CLOSE}\n\n{content}"
    return text
