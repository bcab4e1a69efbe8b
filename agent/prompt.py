"""Prompt templates and the chat messages for one step.

The static instructions (role, input fields, action space, coordinate space, output format, rules) are
the system message, and the step's input JSON plus its screenshots come last, so consecutive requests
share a long identical prefix that a server's prefix cache can reuse. Templates are files in
`agent/prompts/`: `<name>.md` holds the text with a `${coordinate_rules}` placeholder and
`<name>.coords.json` holds one sentence per coordinate space with `${width}` / `${height}`.
`<name>.fields.json` holds text used only when a step has it: `${step_instruction_field}` describes the
step instruction of the Low setting (`input.step_instruction`) and is empty for every other step, so
prompts without one are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Any

import orjson

from actions.vocab import DEFAULT_TEMPLATE
from episodes.step import Step, step_input

PROMPTS_DIR = Path(__file__).with_name("prompts")
# What the model sees in place of each screenshot's name in the step JSON.
IMAGE_PLACEHOLDER = "<image>"


def available_templates() -> list[str]:
    """Names of the prompt templates shipped in `agent/prompts/` (e.g. `["en", "zh"]`)."""
    return sorted(
        p.stem for p in PROMPTS_DIR.glob("*.md") if (PROMPTS_DIR / f"{p.stem}.coords.json").is_file()
    )


@lru_cache(maxsize=32)
def _fields(template: str) -> dict[str, str]:
    path = PROMPTS_DIR / f"{template}.fields.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


@lru_cache(maxsize=32)
def _template_files(template: str) -> tuple[str, dict[str, str]]:
    text_path = PROMPTS_DIR / f"{template}.md"
    coords_path = PROMPTS_DIR / f"{template}.coords.json"
    if not text_path.is_file() or not coords_path.is_file():
        raise ValueError(
            f"unknown prompt template {template!r}: expected {text_path} and {coords_path}; "
            f"available: {available_templates()}"
        )
    coords = json.loads(coords_path.read_text(encoding="utf-8"))
    return text_path.read_text(encoding="utf-8").strip(), coords


def _coordinate_rule(template: str, coord_space: str) -> str:
    _, coords = _template_files(template)
    if coord_space not in coords:
        raise ValueError(
            f"{PROMPTS_DIR / f'{template}.coords.json'}: no sentence for coordinate space {coord_space!r}; "
            f"has {sorted(coords)}"
        )
    return coords[coord_space]


def system_text(
    template: str, coord_space: str, model_screen: tuple[int, int], step_instruction: bool = False
) -> str:
    """The system message: the template with the coordinate space and the model-space screen size filled in.

    `model_screen` is `(width, height)` as the model sees the screen
    (`actions.coords.model_screen_size(coord_space, screen, budget)`); `step_instruction` adds the
    description of `input.step_instruction` (steps of the Low setting: `step.instruction is not None`).
    """
    width, height = (int(v) for v in model_screen)
    return _system_text(template, coord_space, width, height, bool(step_instruction))


@lru_cache(maxsize=256)
def _system_text(
    template: str, coord_space: str, width: int, height: int, step_instruction: bool = False
) -> str:
    # Cached: a test set has few screen sizes, and filling the long template is most of a step's prompt time.
    text, _ = _template_files(template)
    rule = Template(_coordinate_rule(template, coord_space)).substitute(width=width, height=height)
    field = _fields(template).get("step_instruction_field", "") if step_instruction else ""
    return Template(text).substitute(coordinate_rules=rule, step_instruction_field=field)


def step_text(step: Step) -> str:
    """The step's input JSON as one line, screenshots shown as `<image>`, keys in the seed's order.

    The JSON is `episodes.step.step_input`, the one derivation of a step's input.
    """
    placeholders = [IMAGE_PLACEHOLDER] * len(step.screenshots)
    return json.dumps(step_input(step, screens=placeholders), ensure_ascii=False)


def screen_size_of(step: Step) -> tuple[int, int]:
    """`(width, height)` of the current screen: `step.screen_size`, or read from the image header."""
    if step.screen_size is not None:
        return (int(step.screen_size[0]), int(step.screen_size[1]))
    from episodes.images import image_size  # only when the reader did not record the size

    return image_size(step.current_screenshot)


def model_screen_for(step: Step, coord_space: str, budget: Any = None) -> tuple[int, int]:
    """The screen size stated in the prompt for this step's current screenshot."""
    from actions.coords import model_screen_size

    return tuple(model_screen_size(coord_space, screen_size_of(step), budget))


def build_messages(
    step: Step, *, template: str = DEFAULT_TEMPLATE, coord_space: str = "original", budget: Any = None
) -> list[dict[str, Any]]:
    """Generic chat messages for one step.

    A system message with the static template text, then one user message: the step's input JSON as
    text followed by one `{"type": "image", "image": "/abs/path"}` part per screenshot, previous first.
    `budget` is an `actions.coords.PixelBudget` (needed for `resized`).
    """
    system = system_text(
        template, coord_space, model_screen_for(step, coord_space, budget), step.instruction is not None
    )
    content: list[dict[str, Any]] = [{"type": "text", "text": step_text(step)}]
    content += [{"type": "image", "image": os.path.abspath(path)} for path in step.screenshots]
    return [{"role": "system", "content": system}, {"role": "user", "content": content}]


# Which of the shipped templates is written in Chinese; the others are English. A task "is Chinese"
# when it holds a CJK ideograph.
CHINESE_TEMPLATES = ("zh",)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def template_language_warning(template: str, tasks: list[str]) -> str | None:
    """A warning when most `tasks` are in another language than `template` (None when they agree or
    the template is not a shipped one): a Chinese prompt on English episodes trains, but asks the model
    a different question than the benchmark's."""
    if template not in available_templates() or not tasks:
        return None
    chinese = sum(bool(_CJK.search(task)) for task in tasks)
    if template in CHINESE_TEMPLATES and chinese * 2 < len(tasks):
        found = f"{len(tasks) - chinese} of {len(tasks)} tasks read have no Chinese text"
        fix = "prompt_template: en for English episodes"
    elif template not in CHINESE_TEMPLATES and chinese * 2 > len(tasks):
        found = f"{chinese} of {len(tasks)} tasks read are in Chinese"
        fix = "prompt_template: zh for Chinese episodes"
    else:
        return None
    language = "Chinese" if template in CHINESE_TEMPLATES else "English"
    return f"prompt_template {template!r} is {language} but {found}; use {fix}"


def template_hash(template: str = DEFAULT_TEMPLATE, coord_space: str = "original") -> str:
    """Short hash of a template's files for one coordinate space (recorded in eval result headers)."""
    text, _ = _template_files(template)
    digest = hashlib.sha256()
    fields = json.dumps(_fields(template), sort_keys=True)
    for part in (template, coord_space, text, _coordinate_rule(template, coord_space), fields):
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()[:16]


def prompt_hash(messages: list[dict[str, Any]]) -> str:
    """Short hash of the exact messages sent for a step (text and image paths)."""
    return hashlib.sha256(orjson.dumps(messages, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
