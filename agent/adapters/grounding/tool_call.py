"""Grounding through a Qwen-style tool call: Qwen2.5-VL, Qwen3-VL, Qwen3.5, GUI-Owl-1.5, InfiGUI-R1.

The answer is `<tool_call>{"name": "computer_use", "arguments": {"action": "left_click",
"coordinate": [x, y]}}</tool_call>`; Qwen3.5 writes the same call as `<tool_call><function=computer_use>
<parameter=action>left_click</parameter><parameter=coordinate>[x, y]</parameter></function></tool_call>`.
Both forms are read by every adapter here. Four numbers in `coordinate` are a box, read as its centre,
as ScreenSpot-Pro's Qwen2.5-VL wrapper does (`models/qwen2_5vl.py` lines 199-204). A `terminate`
call is a refusal for the adapters whose model refuses that way (GUI-Owl-1.5, as ClawGUI's OSWorld-G
judge reads it: `judge/osworld_g_judge.py` `_is_refusal_output`).

The tool block in each system prompt is this project's own wording of the structure; pass the
official one with `--agent-prompt` (a `=== system ===` section) to reproduce a published run.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from actions.grounding_protocols.base import GroundingAnswer
from agent.adapters.grounding.base import GroundingAdapter, json_object, numbers

_TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_PARAMETER = re.compile(r"<parameter=(\w+)>(.*?)(?:</parameter>|$)", re.DOTALL)
_FUNCTION = re.compile(r"<function=([\w.-]+)>")


def read_call(text: str) -> tuple[dict[str, Any] | None, list[str]]:
    """`(arguments, problems)` of the tool call in `text`: JSON inside `<tool_call>`, the XML
    parameter form, or (noted `no_tool_call_tag`) a bare JSON call."""
    problems: list[str] = []
    calls = _TOOL_CALL.findall(text)
    if len(calls) > 1:
        problems.append("multiple_calls")
    body = calls[0] if calls else None
    if body is None:
        problems.append("no_tool_call_tag")
        body = text
    params = _PARAMETER.findall(body)
    if params and _FUNCTION.search(body):
        args: dict[str, Any] = {}
        for key, value in params:
            value = value.strip()
            try:
                args[key] = json.loads(value)
            except json.JSONDecodeError:
                args[key] = value
        return args, problems
    call = json_object(body)
    if call is None:
        problems.append("bad_tool_call")
        return None, problems
    args = call.get("arguments", call)
    if isinstance(args, str):  # some servers send arguments as a JSON string
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            problems.append("bad_tool_call")
            return None, problems
    return (args if isinstance(args, dict) else None), problems


class ToolCallGrounding(GroundingAdapter):
    """Shared prompt, parser and renderer of the tool-call grounding grammar."""

    tool_name: ClassVar[str] = "computer_use"
    call_form: ClassVar[str] = "json"  # how `render` writes the call: json or xml (Qwen3.5)
    refuses_with_terminate: ClassVar[bool] = False
    preamble: ClassVar[str] = ""
    grammar = (
        '<tool_call>{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [x, y]}}'
        "</tool_call>"
    )

    @classmethod
    def tool_block(cls) -> str:
        actions = ["* `left_click`: click the point `coordinate` [x, y]"]
        if cls.refuses_with_terminate:
            actions.append("* `terminate`: stop with `status` failure when nothing on the screen matches")
        tool = {
            "type": "function",
            "function": {
                "name": cls.tool_name,
                "description": "Point at elements of the screen. "
                "The screen's resolution is ${width}x${height}.\n" + "\n".join(actions),
                "parameters": {
                    "type": "object",
                    "properties": {
                        "action": {
                            "type": "string",
                            "enum": ["left_click", "terminate"]
                            if cls.refuses_with_terminate
                            else ["left_click"],
                        },
                        "coordinate": {"type": "array"},
                        "status": {"type": "string", "enum": ["success", "failure"]},
                    },
                    "required": ["action"],
                },
            },
        }
        return (
            "You are a helpful assistant.\n\n# Tools\n\nYou may call the function below.\n\n"
            f"<tools>\n{json.dumps(tool, ensure_ascii=False)}\n</tools>\n\n"
            f"{cls.preamble}Answer with one function call inside <tool_call></tool_call> tags: "
            f'{{"name": "{cls.tool_name}", "arguments": {{...}}}}.'
        )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "system_prompt" not in cls.__dict__:
            cls.system_prompt = cls.tool_block()

    def _parse(self, text: str, screen: tuple[int, int]) -> GroundingAnswer:
        args, problems = read_call(text)
        if args is None:
            return GroundingAnswer(problems=tuple(problems))
        action = str(args.get("action", "")).strip()
        if action == "terminate" and self.refuses_with_terminate:
            return GroundingAnswer(refused=True, problems=tuple(problems))
        coordinate = args.get("coordinate")
        if isinstance(coordinate, str):
            coordinate = numbers(coordinate)
        if not isinstance(coordinate, (list, tuple)) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in coordinate
        ):
            return GroundingAnswer(problems=(*problems, "no_coordinate"))
        return self.point_of([float(v) for v in coordinate], screen, *problems)

    def render_point(self, model_point: tuple[float, float]) -> str:
        x, y = model_point
        if self.call_form == "xml":
            return (
                f"<tool_call>\n<function={self.tool_name}>\n<parameter=action>\nleft_click\n</parameter>\n"
                f"<parameter=coordinate>\n[{x}, {y}]\n</parameter>\n</function>\n</tool_call>"
            )
        call = {"name": self.tool_name, "arguments": {"action": "left_click", "coordinate": [x, y]}}
        return f"<tool_call>\n{json.dumps(call)}\n</tool_call>"

    def render_refusal(self) -> str | None:
        if not self.refuses_with_terminate:
            return None
        call = {"name": self.tool_name, "arguments": {"action": "terminate", "status": "failure"}}
        return f"<tool_call>\n{json.dumps(call)}\n</tool_call>"


class Qwen25VLGrounding(ToolCallGrounding):
    """Qwen2.5-VL: `computer_use` left_click in resized pixels, tool block in the system message.

    Source: likaixin2000/ScreenSpot-Pro-GUI-Grounding `models/qwen2_5vl.py` (system "You are a helpful
    assistant." plus the computer_use tool stating the resized resolution, lines 20-67; the point
    divided by the resized size, line 208; smart_resize with max_pixels 99999999, lines 143-150).
    What differs: that wrapper prefills the answer up to `"coordinate": [` (lines 160-162); a chat
    endpoint cannot, so the model writes the whole call.
    """

    name = "qwen2.5-vl"
    coord_space = "resized"
    spaces = ("resized",)
    source = "likaixin2000/ScreenSpot-Pro-GUI-Grounding models/qwen2_5vl.py"
    settings_reference = {"max_pixels": 99999999, "temperature": 0.0, "system_prompt": "tool block"}


class Qwen3VLGrounding(ToolCallGrounding):
    """Qwen3-VL: the same call on a 0-1000 grid (x / 1000 * W).

    Sources: ZJU-REAL/ClawGUI `clawgui-eval/judge/grounding_judge.py` `qwen3vl_parse` (a 2-number
    coordinate divided by 1000) and README (system prompt required, image before text, min_pixels
    65536, max_pixels 16777216, temperature 0). `terminate` is read as a refusal (ClawGUI's OSWorld-G
    judge reads it so for every model).
    """

    name = "qwen3-vl"
    coord_space = "norm1000"
    spaces = ("norm1000", "norm999")
    refuses_with_terminate = True
    refusal = "a terminate call"
    source = "ZJU-REAL/ClawGUI clawgui-eval/judge/grounding_judge.py (qwen3vl_parse), README"
    settings_reference = {
        "min_pixels": 65536,
        "max_pixels": 16777216,
        "temperature": 0.0,
        "system_prompt": "tool block",
    }


class Qwen35Grounding(Qwen3VLGrounding):
    """Qwen3.5: Qwen3-VL's grid, the call written in the XML parameter form (read in both forms).

    Source: the form is Qwen3.5's tool-call format as third-party evaluators parse it (an inference,
    not checked against a Qwen3.5 evaluation script).
    """

    name = "qwen3.5"
    call_form = "xml"
    grammar = (
        "<tool_call><function=computer_use><parameter=action>left_click</parameter>"
        "<parameter=coordinate>[x, y]</parameter></function></tool_call>"
    )
    source = "inference: Qwen3.5's XML tool-call form; grid as Qwen3-VL"


class GUIOwlGrounding(Qwen3VLGrounding):
    """GUI-Owl-1.5 (Qwen3-VL base): the computer_use call on 0-1000, a refusal by `terminate`.

    Sources: ZJU-REAL/ClawGUI README (guiowl15: [0, 1000], system prompt required, image first,
    min_pixels 200704, max_pixels 10035200, temperature 0.01 in `scripts/infer/*/guiowl15_run_*.sh`)
    and `judge/osworld_g_judge.py` (`guiowl15` read with `qwen3vl_parse`; terminate = refusal).
    GUI-Owl 1.0 (Qwen2.5-VL base) answers in resized pixels: pass `coord_space=resized`.
    """

    name = "gui-owl"
    spaces = ("norm1000", "resized")
    source = "ZJU-REAL/ClawGUI README, judge/osworld_g_judge.py"
    settings_reference = {
        "min_pixels": 200704,
        "max_pixels": 10035200,
        "temperature": 0.01,
        "system_prompt": "tool block",
    }


class InfiGUIR1Grounding(ToolCallGrounding):
    """InfiGUI-R1-3B: the `mobile_use` click in resized pixels, after reasoning in `<think>`.

    Source: the InfiX-ai/InfiGUI-R1-3B model card's first grounding example (removed in its commit
    7b0e1de): the Qwen2.5-VL mobile_use tool stating the smart_resized resolution, the instruction in
    the user turn. Not checked against an evaluation script (the repository ships AndroidControl
    evaluation only).
    """

    name = "infigui-r1"
    coord_space = "resized"
    spaces = ("resized",)
    tool_name = "mobile_use"
    preamble = "Think inside <think></think> before the call. "
    grammar = (
        '<think>...</think><tool_call>{"name": "mobile_use", "arguments": {"action": "click"}}</tool_call>'
    )
    source = "InfiX-ai/InfiGUI-R1-3B model card (history)"

    def render_point(self, model_point: tuple[float, float]) -> str:
        x, y = model_point
        call = {"name": "mobile_use", "arguments": {"action": "click", "coordinate": [x, y]}}
        return f"<think>scripted</think>\n<tool_call>\n{json.dumps(call)}\n</tool_call>"
