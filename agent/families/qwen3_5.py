"""Qwen3.5 (dense and MoE): Qwen3-VL's processor, a thinking chat template, a hybrid decoder.

Sources, as read: transformers 5.23 `models/qwen3_5*/` (configuration: Gated DeltaNet linear-attention
layers beside full attention; the MoE variant's experts are fused 3-D parameters `gate_up_proj` and
`down_proj`, with a dense shared expert) and `models/auto/processing_auto.py` (`qwen3_5` ->
`Qwen3VLProcessor`); the public chat template of Qwen/Qwen3.5-27B, whose generation prompt ends in an
opened `<think>\n` unless `enable_thinking` is false (then in an empty closed block). The processor
files are Qwen3-VL's (patch 16, merge 2, mean/std 0.5, 65536..16777216 pixels).

Thinking: phone-r1's answer is one `<think>{fields}</think><answer>{action}</answer>`. Training and
evaluation pass `enable_thinking: true`, so the template opens the think block itself (also for
checkpoints whose template defaults to thinking off), and the opened `<think>` is re-attached to every
generated answer before it is scored (`agent.thinking`). Switching thinking off instead would put
phone-r1's own `<think>` after an empty closed block, and the template renders a trained assistant turn
with its reasoning inside the template's block, so SFT prompts would stop being prefixes of their
training text.
"""

from __future__ import annotations

from dataclasses import replace

from agent.families.qwen_vl import QWEN3_FUSED_EXPERTS, QWEN3_VL

_GRID = "relative 0-1000, as Qwen3-VL (the Qwen3.5 model cards point to Qwen3-VL's grounding format)"
_THINKING = {"enable_thinking": True}
# What the public template's generation prompt ends in with thinking on.
THINK_PREFIX = "<think>\n"

# Qwen3-VL's processor geometry, grid and video defaults; its own config and thinking template.
QWEN3_5 = replace(
    QWEN3_VL,
    name="qwen3_5",
    title="Qwen3.5",
    config_class="Qwen3_5Config",
    answer_space_note=_GRID,
    think_prefix=THINK_PREFIX,
    chat_template_kwargs=_THINKING,
)

QWEN3_5_MOE = replace(
    QWEN3_5,
    name="qwen3_5_moe",
    title="Qwen3.5-MoE",
    config_class="Qwen3_5MoeConfig",
    fused_experts=QWEN3_FUSED_EXPERTS,
)
