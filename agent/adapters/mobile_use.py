"""The `mobile_use` tool call of Qwen2.5-VL, Qwen3-VL, InfiGUI-R1 and GUI-Owl: prompt, parser, renderer.

The grammar (QwenLM/Qwen2.5-VL `cookbooks/utils/agent_function_call.py` [code]):
`<tool_call>{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [x, y]}}</tool_call>`,
with `swipe` (`coordinate` -> `coordinate2`, a finger path), `type`, `key`, `system_button`
(Back/Home/Menu/Enter; Menu has no counterpart), `open`, `wait`, `terminate` (success/failure) and, in
later models, `answer`.
The tool text is this project's own wording. History is the step's recorded descriptions
(`Step i: ...;`), not the agent's own earlier calls; the step instruction (Low setting) is given as
`Current step query:`, as third-party evaluators do.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from actions.types import (
    Action,
    Back,
    Click,
    Enter,
    Home,
    LongClick,
    OpenApp,
    Swipe,
    TaskCompleted,
    TaskImpossible,
    TypeText,
    Wait,
)
from actions.wire import literal_eval
from agent.adapters.base import (
    NO_COUNTERPART,
    Adapter,
    Reading,
    image_part,
    split_submit,
)

_TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_TAG = r"<{0}>(.*?)</{0}>"

# Action name -> (description, parameters) in this project's own words.
_ACTIONS: dict[str, str] = {
    "click": "tap the point `coordinate` [x, y]",
    "long_press": "press and hold the point `coordinate` for `time` seconds",
    "swipe": "move a finger from `coordinate` [x, y] to `coordinate2` [x, y]",
    "type": "enter `text` into the focused field",
    "key": "send the adb key event `text`",
    "system_button": "press `button`: Back, Home, Menu or Enter",
    "open": "launch the app named `text`",
    "wait": "wait `time` seconds for the screen to settle",
    "terminate": "end the task with `status` success or failure",
    "answer": "reply to the user with `text`",
}


class MobileUseAdapter(Adapter):
    """Shared prompt builder, parser and renderer of the `mobile_use` tool call."""

    coord_space = "resized"
    grammar = '<tool_call>{"name": "mobile_use", "arguments": {"action": ..., ...}}</tool_call>'
    keys = ("home", "enter")
    actions_offered: ClassVar[tuple[str, ...]] = (
        "click",
        "long_press",
        "swipe",
        "type",
        "key",
        "system_button",
        "open",
        "wait",
        "terminate",
    )
    preamble: ClassVar[str] = ""
    response_rule: ClassVar[str] = (
        "Answer with one function call inside <tool_call></tool_call> tags: "
        '{"name": "mobile_use", "arguments": {...}}.'
    )

    def tool_text(self) -> str:
        actions = "\n".join(f"* `{name}`: {_ACTIONS[name]}" for name in self.actions_offered)
        tool = {
            "type": "function",
            "function": {
                "name": "mobile_use",
                "description": "Operate a touchscreen phone. The screen's resolution is ${width}x${height}.\n"
                + actions,
                "parameters": {
                    "type": "object",
                    "properties": {
                        "action": {"type": "string", "enum": list(self.actions_offered)},
                        "coordinate": {"type": "array"},
                        "coordinate2": {"type": "array"},
                        "text": {"type": "string"},
                        "time": {"type": "number"},
                        "button": {"type": "string"},
                        "status": {"type": "string", "enum": ["success", "failure"]},
                    },
                    "required": ["action"],
                },
            },
        }
        return (
            "You are a helpful assistant.\n\n# Tools\n\n"
            "You may call the function below to operate the phone.\n\n"
            f"<tools>\n{json.dumps(tool, ensure_ascii=False)}\n</tools>\n\n{self.response_rule}"
        )

    def history_text(self, step: Any) -> str:
        return " ".join(f"Step {i}: {text};" for i, text in enumerate(step.history, start=1))

    def messages(self, step: Any, screen: tuple[int, int]) -> list[dict[str, Any]]:
        user = f"{self.preamble}The user query: {step.task}\n"
        instruction = step.instruction
        if instruction:
            user += f"Current step query: {instruction}\n"
        user += "Task progress (You have done the following operation on the current device): " + (
            self.history_text(step) or "None"
        )
        return [
            {"role": "system", "content": self.instruction(self.tool_text(), screen)},
            {
                "role": "user",
                "content": [{"type": "text", "text": user}, image_part(step.current_screenshot)],
            },
        ]

    def thought(self, text: str) -> dict[str, Any] | None:
        found = {}
        for tag in ("think", "thinking", "step", "conclusion"):
            match = re.search(_TAG.format(tag), text, re.DOTALL)
            if match:
                found[tag] = match.group(1).strip()
        return found or None

    def _call(self, text: str, problems: list[str]) -> dict[str, Any] | None:
        calls = _TOOL_CALL.findall(text)
        if len(calls) > 1:
            problems.append("multiple_calls")
        body = calls[0] if calls else None
        if body is None:
            # InfiGUI-R1's own parser falls back to a bare call; so do we, with a problem.
            start = text.find('{"name"')
            if start < 0:
                return None
            problems.append("no_tool_call_tag")
            body = text[start:]
        elif "</tool_call>" not in text:
            problems.append("tool_call_unclosed")
        body = body.strip()
        start = body.find("{")
        obj: Any = None
        try:
            # The first JSON object; text after it (a stray brace, a <conclusion>) is noted, not fatal.
            obj, end = json.JSONDecoder().raw_decode(body, max(start, 0))
            if body[end:].strip():
                problems.append("call_extra_text")
        except (ValueError, RecursionError):
            try:
                obj = literal_eval(body[max(start, 0) : body.rfind("}") + 1])
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                problems.append("call_not_json")
                return None
        if not isinstance(obj, dict):
            problems.append("call_not_object")
            return None
        args = obj.get("arguments", obj)
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except ValueError:
                problems.append("call_not_json")
                return None
        return args if isinstance(args, dict) else None

    def _parse(self, text: str, screen: tuple[int, int]) -> Reading:
        problems: list[str] = []
        think = self.thought(text)
        args = self._call(text, problems)
        if args is None:
            return Reading(None, problems, think)
        return Reading(self._action(args, screen, problems), problems, think)

    def _point(self, args: dict[str, Any], key: str, problems: list[str]) -> Any:
        value = args.get(key)
        if (
            isinstance(value, (list, tuple))
            and len(value) >= 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value[:2])
        ):
            return value[:2]
        problems.append(f"bad_{key}")
        return None

    def _action(self, args: dict[str, Any], screen: tuple[int, int], problems: list[str]) -> Action | None:
        name = str(args.get("action", "")).strip().lower()
        name = {"tap": "click", "long_click": "long_press"}.get(name, name)
        if name in ("click", "long_press"):
            point = self._point(args, "coordinate", problems)
            if point is None:
                return None
            return self.point_action(Click if name == "click" else LongClick, point, screen)
        if name == "swipe":
            start = self._point(args, "coordinate", problems)
            if "coordinate2" not in args and isinstance(args.get("direction"), str):
                return self.swipe_from_direction(args["direction"], screen, start)
            end = self._point(args, "coordinate2", problems)
            if start is None or end is None:
                return None
            return Swipe(start=self.to_original(start, screen), end=self.to_original(end, screen))
        if name == "type":
            return TypeText(text=split_submit(str(args.get("text", "")), problems))
        if name == "open":
            return OpenApp(app=str(args.get("text", "")))
        if name == "wait":
            return Wait()
        if name == "terminate":
            status = str(args.get("status", "")).lower()
            return TaskCompleted() if status == "success" else TaskImpossible()
        if name == "system_button":
            button = str(args.get("button", "")).strip().lower()
            key = {"back": Back, "home": Home, "enter": Enter}.get(button)
            if key is not None:
                return key()
            problems.append(f"{NO_COUNTERPART}{button or 'button'}")
            return None
        if name in ("key", "answer"):
            problems.append(f"{NO_COUNTERPART}{name}")
            return None
        problems.append("unknown_action")
        return None

    def render_args(self, action: Action, screen: tuple[int, int]) -> dict[str, Any] | None:
        if isinstance(action, (Click, LongClick)):
            name = "click" if isinstance(action, Click) else "long_press"
            args: dict[str, Any] = {"action": name, "coordinate": list(self.to_model(action.point, screen))}
            if name == "long_press":
                args["time"] = 2
            return args
        if isinstance(action, Swipe):
            return {
                "action": "swipe",
                "coordinate": list(self.to_model(action.start, screen)),
                "coordinate2": list(self.to_model(action.end, screen)),
            }
        if isinstance(action, TypeText):
            return {"action": "type", "text": action.text}
        if isinstance(action, OpenApp):
            return {"action": "open", "text": action.app} if "open" in self.actions_offered else None
        if isinstance(action, Wait):
            return {"action": "wait", "time": 2}
        if isinstance(action, (Back, Home, Enter)):
            return {"action": "system_button", "button": action.key.capitalize()}
        if isinstance(action, TaskCompleted):
            return {"action": "terminate", "status": "success"}
        if isinstance(action, TaskImpossible):
            return {"action": "terminate", "status": "failure"}
        return None

    def render_call(self, args: dict[str, Any]) -> str:
        call = json.dumps({"name": "mobile_use", "arguments": args}, ensure_ascii=False)
        return f"<tool_call>\n{call}\n</tool_call>"

    def render(self, action: Action, screen: tuple[int, int]) -> str | None:
        args = self.render_args(action, screen)
        return None if args is None else self.render_call(args)
