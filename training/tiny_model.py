"""A tiny random Qwen2.5-VL checkpoint for tests, the demo and benchmarks (no model hub needed).

The checkpoint has the real architecture (vision tower, merger, M-RoPE text model) at toy size, a
byte-level BPE tokenizer trained on the fly on the prompt and action vocabulary (Chinese included,
so completions stay short in tokens), Qwen2.5-VL's chat template and the image processor config.
It loads with `Qwen2_5_VLForConditionalGeneration.from_pretrained(dir)` and
`agent.processor.load_processor(dir)`, and where torchvision is installed with a stock
`AutoProcessor.from_pretrained(dir)` too (it names the stock `Qwen2_5_VLProcessor`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

# Qwen2.5-VL's special tokens, in the order the real tokenizer numbers them after its BPE vocabulary.
SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

# Qwen2-VL / Qwen2.5-VL's chat template (system default, multi-image user turns, assistant turns).
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Vocabulary the tokenizer must cover cheaply: the seed's prompt, think fields, actions, apps.
_CORPUS_LINES: tuple[str, ...] = (
    "<think>",
    "</think>",
    "<answer>",
    "</answer>",
    '{"task_interpretation": "", "current_page_audit": "", "path_alignment_check": "", '
    '"action_validation": ""}',
    '{"action_type": "click", "action_parameter": {"click": "49,721,1368,1008"}, "action_description": '
    '"点击剑来"}',
    '{"action_type": "long_click", "action_parameter": {"long_click": "763,2183,1151,2706"}, '
    '"action_description": "长按"}',
    '{"action_type": "swipe", "action_parameter": {"swipe": "158,1557,122,1253"}, "action_description": '
    '"滑动"}',
    '{"action_type": "type", "action_parameter": {"type": "无锡"}, "action_description": "输入无锡"}',
    '{"action_type": "open_app", "action_parameter": {"open_app": "微信"}, "action_description": "打开APP"}',
    '{"action_type": "wait", "action_parameter": {"wait": ""}, "action_description": "等待"}',
    '{"action_type": "back", "action_parameter": {"back": ""}, "action_description": "回退"}',
    '{"action_type": "task_completed", "action_parameter": {"task_completed": "任务已完成"}, '
    '"action_description": "任务完成"}',
    '{"action_type": "task_impossible", "action_parameter": {"task_impossible": "任务无法完成"}, '
    '"action_description": "任务无法完成"}',
    '{"action_type": "inquiry", "action_parameter": {"inquiry": "{\\"Question\\": \\"请问您想发送哪一个?\\", '
    "\\\"CandidatesList\\\": \\\"['黄色大笑脸', '小笑脸']\\\", "
    '\\"PicDescribe\\": \\"聊天界面\\", \\"AnswerIndex\\": '
    '0}"}, '
    '"action_description": "反问"}',
    '{"task_content": "在书架中找到剑来,前往内容页,使用章节下载功能", '
    '"task_path": {"1": "打开APP", "2": "点击剑来"}, '
    '"screen_path1": "<image>", "screen_path2": "<image>", "history_path_all": ["打开APP"], "app_name": '
    '"起点读书", '
    '"action_type_list": {"open_app": "打开APP", "click": "点击", "long_click": "长按", "type": "输入", '
    '"swipe": "滑动", "task_completed": "任务完成", "task_impossible": "任务无法完成", "inquiry": "反问", '
    '"wait": "等待", "back": "回退"}}',
    "# Role: 手机任务执行专家",
    "你是一个手机任务执行专家,可以根据UI图和任务提示,输出具体的操作动作",
    "根据任务描述、UI图和历史执行步骤,生成准确的手机操作动作。",
    "请根据以下的任务描述、UI图以及历史操作,确定精确的动作,输出相应的操作参数:",
    "First output the thinking process in <think> </think> tags and then output the final answer in "
    "<answer> </answer> tags. Output the final answer in JSON format.",
    "You are a phone task agent. Given the task, the planned path, the history and two screenshots "
    "(previous and current), output one action.",
    "The screen is 1080x2400 pixels. Coordinates are absolute pixels of the current screenshot.",
    "当前页面 上一页 首页 搜索 设置 购物车 关注 下载 确定 取消 发送 返回 消息 我的 订阅 继续 章节 小说 书架",
    "淘宝 微信 起点读书 支付宝 抖音 美团 京东 高德地图 设置 相册 Settings Search Cart Follow Download OK "
    "Cancel",
    "任务理解 当前页面 路径对齐 动作校验 用户需要 当前处于 下一步应该 符合任务路径",
    "0 1 2 3 4 5 6 7 8 9 , . : ; \" ' { } [ ] ( ) - _ / \\ < > = + * ? ! # @ & % $",
)


def _corpus(extra_texts: tuple[str, ...] = ()) -> list[str]:
    """Texts the tokenizer trains on: built-in vocabulary plus the agent's prompt templates if present."""
    texts = list(_CORPUS_LINES) + list(extra_texts)
    prompts_dir = Path(__file__).resolve().parent.parent / "agent" / "prompts"
    if prompts_dir.is_dir():
        for path in sorted(prompts_dir.rglob("*")):
            if path.is_file() and path.suffix in {".txt", ".md", ".jinja", ".json"}:
                texts.append(path.read_text(encoding="utf-8"))
    # Repeat so frequent pieces (JSON keys, tags, Chinese words) become single tokens.
    return texts * 4


def build_tokenizer(vocab_size: int = 2048, extra_texts: tuple[str, ...] = ()):
    """Train a byte-level BPE with Qwen2's pre-tokenizer and wrap it in `Qwen2Tokenizer`."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(extra_texts), trainer=trainer)
    state = json.loads(tok.to_str())["model"]
    vocab: dict[str, int] = dict(state["vocab"])
    # tokenizers may store merges as "a b" strings or [a, b] pairs; Qwen2Tokenizer wants tuples.
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in state["merges"]]
    for token in SPECIAL_TOKENS:
        vocab.setdefault(token, len(vocab))
    extra = [t for t in SPECIAL_TOKENS if t != "<|endoftext|>"]
    return Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        extra_special_tokens=extra,
        chat_template=CHAT_TEMPLATE,
    )


def build_tiny_model(
    out_dir: str | Path,
    seed: int = 0,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    vision_depth: int = 2,
    vision_hidden_size: int = 32,
    vocab_size: int = 2048,
    min_pixels: int = 28 * 28 * 4,
    max_pixels: int = 28 * 28 * 64,
) -> Path:
    """Save a random tiny Qwen2.5-VL (weights, tokenizer, chat template, processor) to `out_dir`.

    The same `seed` gives the same weights and tokenizer. `min_pixels` / `max_pixels` is the image
    processor's default pixel budget (small, so CPU runs stay fast; callers may override per load).
    Returns `out_dir`.
    """
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from agent.processor import _processor_class

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(vocab_size=vocab_size)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}

    num_heads = 4
    head_dim = hidden_size // num_heads
    # M-RoPE splits head_dim/2 rotary frequencies into temporal, height and width sections.
    half = head_dim // 2
    mrope_section = [half - 2 * (half // 4), half // 4, half // 4]
    config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": hidden_size,
            "intermediate_size": hidden_size * 2,
            "num_hidden_layers": num_layers,
            "num_attention_heads": num_heads,
            "num_key_value_heads": 2,
            "max_position_embeddings": 4096,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 1000000.0,
                "mrope_section": mrope_section,
            },
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
            "tie_word_embeddings": False,
        },
        vision_config={
            "depth": vision_depth,
            "hidden_size": vision_hidden_size,
            "intermediate_size": vision_hidden_size * 2,
            "num_heads": 2,
            "out_hidden_size": hidden_size,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 56,
            "fullatt_block_indexes": [vision_depth - 1],
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config)
    model.generation_config.eos_token_id = [ids["<|im_end|>"], ids["<|endoftext|>"]]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.generation_config.bos_token_id = ids["<|endoftext|>"]
    model.save_pretrained(out)

    image_processor = Qwen2VLImageProcessorPil(
        min_pixels=min_pixels, max_pixels=max_pixels, patch_size=14, temporal_patch_size=2, merge_size=2
    )
    processor = _processor_class()(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=CHAT_TEMPLATE
    )
    processor.save_pretrained(out)
    logger.info("tiny Qwen2.5-VL (seed %d, %d parameters) written to %s", seed, model.num_parameters(), out)
    return out
