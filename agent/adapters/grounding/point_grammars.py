"""Grounding in plain-text point or box grammars: UI-TARS-1.5, OS-Atlas, GUI-G², UI-Venus, GUI-R1.

Each class names the source it reproduces and what differs. The user prompts are this project's own
wording of each model's prompt structure; pass the official text with `--agent-prompt`.
"""

from __future__ import annotations

import re

from actions.grounding_protocols.base import GroundingAnswer
from agent.adapters.grounding.base import GroundingAdapter, numbers

_START_BOX = re.compile(r"start_box\s*=\s*['\"]?\s*(?:<\|box_start\|>)?\s*\(([^)]*)\)")
_POINT_TAG = re.compile(r"<point>\s*([-\d.]+)[\s,]+([-\d.]+)\s*</point>")
_BOX_TOKENS = re.compile(r"<\|box_start\|>(.*?)<\|box_end\|>", re.DOTALL)
_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


class UITars15Grounding(GroundingAdapter):
    """UI-TARS-1.5-7B: `Action: click(start_box='(x,y)')` in resized pixels, no system message.

    Sources: bytedance/UI-TARS git history `6b315cc:codes/prompts.py` (the `GROUNDING` template:
    output format `Action: ...`, action space `click(start_box='<|box_start|>(x1,y1)<|box_end|>')`,
    then the instruction), `README_coordinates.md` (resized pixels: smart_resize with factor 28,
    min_pixels 100*28*28, max_pixels 16384*28*28); ZJU-REAL/ClawGUI README (no system prompt, image
    first). `<|box_start|>` is stripped at decode; `(x,y)`, `<point>x y</point>` and four-number boxes
    (centre) are read too.
    """

    name = "ui-tars-1.5"
    coord_space = "resized"
    spaces = ("resized",)
    user_prompt = (
        "You are a GUI agent. Find the element the instruction below names and click it.\n\n"
        "## Output Format\nAction: ...\n\n## Action Space\nclick(start_box='(x,y)')\n\n"
        "## User Instruction\n${instruction}"
    )
    grammar = "Action: click(start_box='(x,y)')"
    source = "bytedance/UI-TARS 6b315cc:codes/prompts.py (GROUNDING), README_coordinates.md"
    settings_reference = {
        "min_pixels": 78400,
        "max_pixels": 12845056,
        "temperature": 0.0,
        "system_prompt": None,
    }

    def _parse(self, text: str, screen: tuple[int, int]) -> GroundingAnswer:
        body = text.split("Action:", 1)[1] if "Action:" in text else text
        problems = () if "Action:" in text else ("no_action_header",)
        match = _START_BOX.search(body)
        if match:
            return self.point_of(numbers(match.group(1)), screen, *problems)
        match = _POINT_TAG.search(body)
        if match:
            return self.point_of([float(match.group(1)), float(match.group(2))], screen, *problems)
        found = re.search(r"\(([-\d.\s,]+)\)", body)
        if found:
            return self.point_of(numbers(found.group(1)), screen, *problems)
        return GroundingAnswer(problems=(*problems, "no_point"))

    def render_point(self, model_point: tuple[float, float]) -> str:
        return f"Action: click(start_box='({model_point[0]},{model_point[1]})')"


class OSAtlasGrounding(GroundingAdapter):
    """OS-Atlas-Base-7B: a box `<|box_start|>(x1,y1),(x2,y2)<|box_end|>` on 0-1000, its centre clicked.

    Source: OS-Copilot/OS-Atlas `README.md` (OS-Atlas-Base-7B: the image, then the command asked
    "(with bbox)"; the answer `<|object_ref_start|>...<|object_ref_end|><|box_start|>(576,12),(592,42)
    <|box_end|>`, Qwen2-VL's 0-1000 grid). The grounding model is Base; OS-Atlas-Pro (the navigation
    adapter) answers actions instead.
    """

    name = "os-atlas"
    coord_space = "norm1000"
    spaces = ("norm1000",)
    user_prompt = 'In this screenshot, where is the element for the command "${instruction}"? Give its box.'
    grammar = "<|box_start|>(x1,y1),(x2,y2)<|box_end|>"
    source = "OS-Copilot/OS-Atlas README.md (OS-Atlas-Base-7B)"
    settings_reference = {"temperature": 0.0, "system_prompt": None}

    def _parse(self, text: str, screen: tuple[int, int]) -> GroundingAnswer:
        match = _BOX_TOKENS.search(text)
        if match:
            return self.point_of(numbers(match.group(1)), screen)
        values = numbers(text)
        if len(values) in (2, 4):
            return self.point_of(values, screen, "no_box_tokens")
        return GroundingAnswer(problems=("no_box",))

    def render_point(self, model_point: tuple[float, float]) -> str:
        x, y = model_point
        return f"<|object_ref_start|>target<|object_ref_end|><|box_start|>({x},{y}),({x},{y})<|box_end|>"


class GUIG2Grounding(GroundingAdapter):
    """GUI-G²-7B: `[x1,y1,x2,y2]` in resized pixels, its centre clicked; no system message.

    Sources: ZJU-REAL/ClawGUI `clawgui-eval/inference/guig2_inferencer.py` (the box divided by the
    processed image's size, `image_grid_thw * 14`) and README (no system prompt, image first,
    min_pixels 78400, max_pixels 12845056); the prompt asks for the box "only [x1,y1,x2,y2]" (the
    GUI-G² and UI-Venus reports' grounding prompt).
    """

    name = "gui-g2"
    coord_space = "resized"
    spaces = ("resized",)
    user_prompt = (
        "Give the box of the element matching this instruction: ${instruction}. Answer only [x1,y1,x2,y2]."
    )
    grammar = "[x1,y1,x2,y2]"
    source = "ZJU-REAL/ClawGUI inference/guig2_inferencer.py, README"
    settings_reference = {
        "min_pixels": 78400,
        "max_pixels": 12845056,
        "temperature": 0.0,
        "system_prompt": None,
    }

    def _parse(self, text: str, screen: tuple[int, int]) -> GroundingAnswer:
        match = _BRACKETS.search(text)
        if match is None:
            return GroundingAnswer(problems=("no_box",))
        return self.point_of(numbers(match.group(1)), screen)

    def render_point(self, model_point: tuple[float, float]) -> str:
        x, y = model_point
        return f"[{x},{y},{x},{y}]"


class UIVenusGrounding(GUIG2Grounding):
    """UI-Venus-Ground-7B (1.0): GUI-G²'s grammar, min_pixels 2000000 and max_pixels 4800000.

    Source: inclusionAI/UI-Venus branch `UI-Venus-1.0`, `models/grounding/ui_venus_ground_7b.py` (the
    box-only prompt, the pixel budget, the box divided by `image_grid_thw * 14`, its centre). What
    differs: an answer that does not parse is a wrong-format answer here; the script scores it as the
    box [0,0,0,0] (a click at the top-left corner).
    """

    name = "ui-venus"
    source = "inclusionAI/UI-Venus UI-Venus-1.0:models/grounding/ui_venus_ground_7b.py"
    settings_reference = {
        "min_pixels": 2000000,
        "max_pixels": 4800000,
        "temperature": 0.0,
        "system_prompt": None,
    }


class UIVenus15Grounding(GroundingAdapter):
    """UI-Venus-1.5 (Qwen3-VL base): `[x,y]` on 0-1000, `[-1,-1]` when the task is infeasible.

    Source: inclusionAI/UI-Venus branch `UI-Venus-1.5`, `models/grounding/ui_venus1_5_gd.py` (the
    centre-point prompt with its infeasible clause, `[-1, -1]` read as infeasible, a point or box
    centre divided by 1000); ZJU-REAL/ClawGUI README (no system prompt, image first, temperature 0).
    """

    name = "ui-venus-1.5"
    coord_space = "norm1000"
    spaces = ("norm1000",)
    user_prompt = (
        "Give the centre point of the element matching this instruction:\n${instruction}\n\n"
        "Answer only [x,y]. If nothing on the screen matches, answer [-1,-1]."
    )
    grammar = "[x,y]"
    refusal = "[-1,-1]"
    source = "inclusionAI/UI-Venus UI-Venus-1.5:models/grounding/ui_venus1_5_gd.py"
    settings_reference = {
        "min_pixels": 3136,
        "max_pixels": 12845056,
        "temperature": 0.0,
        "system_prompt": None,
    }

    def _parse(self, text: str, screen: tuple[int, int]) -> GroundingAnswer:
        match = _BRACKETS.search(text)
        if match is None:
            return GroundingAnswer(problems=("no_point",))
        values = numbers(match.group(1))
        if values[:2] == [-1.0, -1.0] and len(values) in (2, 4):
            return GroundingAnswer(refused=True)
        return self.point_of(values, screen)

    def render_point(self, model_point: tuple[float, float]) -> str:
        return f"[{model_point[0]},{model_point[1]}]"

    def render_refusal(self) -> str | None:
        return "[-1,-1]"


class GUIR1Grounding(GroundingAdapter):
    """GUI-R1: `<answer>[{'action': 'click', 'point': [x, y], ...}]</answer>` after `<think>`, resized pixels.

    Source: ritzz-ai/GUI-R1 `guir1/inference/inference_vllm_screenspot.py` (the single user turn,
    lines 76-84; max_pixels 2097152, line 63; the point read from `<answer>`, lines 37-57; scaled by
    the processed image's size, lines 117-123). Its own ScreenSpot scorer
    (`guir1/eval/eval_screenspot.py`) counts a point on the box edge as outside (strict `<`): GUI-R1's
    published ScreenSpot numbers used that rule, not SeeClick's.
    """

    name = "gui-r1"
    coord_space = "resized"
    spaces = ("resized",)
    user_prompt = (
        "In this screenshot, carry out the command '${instruction}'. Think inside <think></think>, then "
        "answer inside <answer></answer> as "
        "[{'action': 'click', 'point': [x, y], 'input_text': 'no input text'}]."
    )
    grammar = "<answer>[{'action': 'click', 'point': [x, y], ...}]</answer>"
    source = "ritzz-ai/GUI-R1 guir1/inference/inference_vllm_screenspot.py"
    settings_reference = {"max_pixels": 2097152, "temperature": 0.0, "system_prompt": None}

    def _parse(self, text: str, screen: tuple[int, int]) -> GroundingAnswer:
        match = _ANSWER.search(text)
        problems: tuple[str, ...] = ()
        body = match.group(1) if match else text
        if match is None:
            problems = ("no_answer_tag",)
        point = re.search(r"['\"]point['\"]\s*:\s*\[([^\]]*)\]", body)
        if point is None:
            return GroundingAnswer(problems=(*problems, "no_point"))
        return self.point_of(numbers(point.group(1)), screen, *problems)

    def render_point(self, model_point: tuple[float, float]) -> str:
        x, y = model_point
        call = f"[{{'action': 'click', 'point': [{x}, {y}], 'input_text': 'no input text'}}]"
        return f"<think>scripted</think> <answer>{call}</answer>"
