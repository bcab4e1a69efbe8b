"""Tiny random checkpoints of every model family for tests, the demo and benchmarks (no model hub needed).

A checkpoint has its family's real architecture (vision tower, merger, text model) at toy size, a
byte-level BPE tokenizer trained on the fly on the prompt and action vocabulary (Chinese included,
so completions stay short in tokens), the family's chat template and processor files as the released
checkpoints ship them (`training.tiny_families`). It loads with `AutoModelForImageTextToText` and
`agent.processor.load_processor(dir)`, and where torchvision is installed with a stock
`AutoProcessor.from_pretrained(dir)` too (it names its family's stock processor class). The default
family is Qwen2.5-VL (`phone-r1 train tiny`, the demo); `--family NAME` builds another.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from training.tiny_families import QWEN2_TEMPLATE, QWEN_TOKENS, SPECS, TinySpec

logger = logging.getLogger(__name__)

# Qwen2.5-VL's special tokens and chat template (kept under these names for callers of this module).
SPECIAL_TOKENS: tuple[str, ...] = QWEN_TOKENS
CHAT_TEMPLATE = QWEN2_TEMPLATE

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


def build_tokenizer(vocab_size: int = 2048, extra_texts: tuple[str, ...] = (), spec: TinySpec | None = None):
    """Train a byte-level BPE with Qwen2's pre-tokenizer and wrap it in the family's tokenizer class."""
    import transformers
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    spec = spec or SPECS["qwen2_5_vl"]
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
    for token in spec.tokens:
        vocab.setdefault(token, len(vocab))
    named = set(spec.named_tokens.values())
    extra: list[str] | dict[str, str] = [t for t in spec.tokens if t != "<|endoftext|>" and t not in named]
    kwargs = {}
    if spec.named_tokens:
        # Named tokens become tokenizer attributes (`tokenizer.context_image_token`, `..._id`), which
        # InternVL's processor reads; the rest stay plain special tokens.
        kwargs["extra_special_tokens"] = dict(spec.named_tokens)
        kwargs["additional_special_tokens"] = extra
    else:
        kwargs["extra_special_tokens"] = extra
    return getattr(transformers, spec.tokenizer_class)(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=spec.chat_template,
        **kwargs,
    )


def build_tiny_model(
    out_dir: str | Path,
    seed: int = 0,
    *,
    family: str = "qwen2_5_vl",
    hidden_size: int = 64,
    num_layers: int = 2,
    vision_depth: int = 2,
    vision_hidden_size: int = 32,
    vocab_size: int = 2048,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
) -> Path:
    """Save a random tiny checkpoint of `family` (weights, tokenizer, chat template, processor) to `out_dir`.

    The same `seed` gives the same weights and tokenizer. `min_pixels` / `max_pixels` is the image
    processor's default pixel budget: small by default (4 to 64 tokens per image), so CPU runs stay
    fast; callers may override per load. Returns `out_dir`.
    """
    import torch
    import transformers

    from agent.families import family_of
    from agent.processor import video_free_class
    from training import tiny_families

    if family not in SPECS:
        raise ValueError(f"no tiny model for family {family!r}; expected one of {list(SPECS)}")
    spec = SPECS[family]
    record = family_of(family)
    tile = record.tile or 28
    min_pixels = min_pixels if min_pixels is not None else tile * tile * 4
    max_pixels = max_pixels if max_pixels is not None else tile * tile * 64
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(vocab_size=vocab_size, spec=spec)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in spec.tokens}
    config = tiny_families.model_config(
        family,
        ids,
        len(tokenizer),
        hidden_size=hidden_size,
        num_layers=num_layers,
        vision_depth=vision_depth,
        vision_hidden_size=vision_hidden_size,
    )
    torch.manual_seed(seed)
    model = getattr(transformers, spec.model_class)(config)
    model.generation_config.eos_token_id = [ids[t] for t in spec.eos]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.generation_config.bos_token_id = ids["<|endoftext|>"]
    model.save_pretrained(out)

    cls = video_free_class(record.processor_class, tiny_families.video_config(family, record.video_processor))
    processor = cls(
        image_processor=tiny_families.image_processor(family, min_pixels, max_pixels),
        tokenizer=tokenizer,
        chat_template=spec.chat_template,
        **tiny_families.processor_kwargs(family, config),
    )
    processor.save_pretrained(out)
    logger.info(
        "tiny %s (seed %d, %d parameters) written to %s", record.title, seed, model.num_parameters(), out
    )
    return out
