"""What every grounding adapter shares: prompt files, coordinate grids, the reading of a point.

A grounding adapter asks one public model to point at the element an instruction names, in that
model's own prompt structure, and reads its answer back into an
`actions.grounding_protocols.GroundingAnswer`: the point in screenshot pixels, exact (not rounded and
not clamped: a point off the screen is simply wrong), the same point as a fraction of the screen
computed from the model's own units (what normalising evaluators compare), or a refusal where the
model's grammar has one. `parse` never raises.

Prompts. Each adapter ships this project's own wording of its model's prompt structure. The official
text, which reproducing a published number needs, is loaded at run time from a file the user passes
(`--agent-prompt`): plain text is the user turn's template; a file may instead hold sections headed by
a line `=== system ===` and a line `=== user ===`. `${instruction}`, `${width}` and `${height}` (the
screen in the model's own units) are filled in; the user part must use `${instruction}`.

Coordinate grids: `original` (the screenshot's pixels), `resized` (pixels of the image the processor
feeds the model: smart_resize with the serving pixel budget), `norm1000` (0-1000 per axis, x/1000*W),
`norm999` (0-999, x/999*W) and `unit` (0-1 per axis).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from string import Template
from typing import Any, ClassVar

from actions.grounding_protocols.base import GroundingAnswer
from actions.regions import Point, Refusal, Region, region_center

logger = logging.getLogger(__name__)

GROUNDING_SPACES: tuple[str, ...] = ("original", "resized", "norm1000", "norm999", "unit")
ORDERS: tuple[str, ...] = ("image-first", "text-first")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_SECTION = re.compile(r"^=== (system|user) ===[ \t]*$", re.MULTILINE)


def numbers(text: str) -> list[float]:
    """Every number in `text`, in order."""
    return [float(n) for n in _NUMBER.findall(text)]


class PromptFileError(ValueError):
    """A prompt file this adapter cannot use (named, with the reason)."""


def read_prompt_file(path: str | Path) -> tuple[str | None, str]:
    """`(system or None, user template)` from a prompt file (see the module docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptFileError(f"--agent-prompt {path}: cannot read it: {exc}") from None
    marks = list(_SECTION.finditer(text))
    if not marks:
        system, user = None, text
    else:
        if text[: marks[0].start()].strip():
            raise PromptFileError(f"--agent-prompt {path}: text before the first '=== system|user ===' line")
        parts: dict[str, str] = {}
        for mark, following in zip(marks, [*marks[1:], None], strict=True):
            name = mark.group(1)
            if name in parts:
                raise PromptFileError(f"--agent-prompt {path}: two '=== {name} ===' sections")
            end = following.start() if following is not None else len(text)
            parts[name] = text[mark.end() : end].strip("\n")
        if "user" not in parts:
            raise PromptFileError(
                f"--agent-prompt {path}: a '=== system ===' section needs a '=== user ===' one"
            )
        system, user = parts.get("system"), parts["user"]
    if "${instruction}" not in user and "$instruction" not in user:
        raise PromptFileError(f"--agent-prompt {path}: the user prompt must contain ${{instruction}}")
    return system, user


class GroundingAdapter:
    """Base class: subclasses set the class attributes and implement `_parse` and `render_point`.

    `budget` is the serving processor's `actions.coords.PixelBudget` (adapters answering in `resized`
    pixels need it); `prompt_file` replaces the prompt (module docstring); `coord_space` overrides the
    grid the model answers on (for a checkpoint of another family than the adapter's default).
    """

    name: ClassVar[str] = ""
    coord_space: ClassVar[str] = "original"
    spaces: ClassVar[tuple[str, ...]] = ()  # grids this grammar is used with (empty: only `coord_space`)
    order: ClassVar[str] = "image-first"
    system_prompt: ClassVar[str | None] = None  # this project's wording; None: no system message
    user_prompt: ClassVar[str] = "${instruction}"
    grammar: ClassVar[str] = ""  # the answer shape, for problems and the docs
    refusal: ClassVar[str | None] = None  # how the model says no element matches (None: it cannot)
    source: ClassVar[str] = ""  # where the official prompt and parser were read
    settings_reference: ClassVar[dict[str, Any]] = {}  # the published run's settings (reproduction guide)

    def __init__(
        self, budget: Any = None, *, prompt_file: str | Path | None = None, coord_space: str | None = None
    ) -> None:
        self.budget = budget
        self.prompt_file = Path(prompt_file) if prompt_file else None
        space = coord_space or type(self).coord_space
        allowed = self.spaces or (type(self).coord_space,)
        if space not in GROUNDING_SPACES:
            raise ValueError(f"expected a coordinate space in {list(GROUNDING_SPACES)}, found {space!r}")
        if space not in allowed:
            raise ValueError(
                f"grounding adapter {self.name!r} answers on {list(allowed)}, not {space!r} "
                "(pass the grid the checkpoint answers on, or another adapter)"
            )
        self.space = space
        self._system, self._user = type(self).system_prompt, type(self).user_prompt
        if self.prompt_file is not None:
            self._system, self._user = read_prompt_file(self.prompt_file)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, space={self.space!r}, budget={self.budget!r})"

    # -- coordinates -----------------------------------------------------------------------------
    def model_screen(self, screen: tuple[int, int]) -> tuple[int, int]:
        """`(width, height)` of the screen in the model's units (the size a prompt states)."""
        if self.space == "original":
            return int(screen[0]), int(screen[1])
        if self.space == "norm1000":
            return 1000, 1000
        if self.space == "norm999":
            return 999, 999
        if self.space == "unit":
            return 1, 1
        if self.budget is None:
            raise ValueError(
                f"grounding adapter {self.name!r} answers in resized pixels and needs the serving pixel "
                "budget (pass --max-pixels and --min-pixels as the server's processor uses them)"
            )
        from actions.coords import model_screen_size

        return tuple(model_screen_size("resized", screen, self.budget))  # type: ignore[return-value]

    def answer_at(self, model_point: Point, screen: tuple[int, int], **extra: Any) -> GroundingAnswer:
        """The answer for a point in the model's units: the fraction from those units, then pixels."""
        mw, mh = self.model_screen(screen)
        fraction = (float(model_point[0]) / mw, float(model_point[1]) / mh)
        point = (fraction[0] * screen[0], fraction[1] * screen[1])
        if self.space == "original":  # pixels already: keep them exact
            point = (float(model_point[0]), float(model_point[1]))
        return GroundingAnswer(point=point, fraction=fraction, **extra)

    def to_model(self, point: Point, screen: tuple[int, int]) -> tuple[float, float]:
        """A pixel point in the model's units, rounded as a model writes them (2 decimals on `unit`)."""
        mw, mh = self.model_screen(screen)
        x, y = point[0] * mw / screen[0], point[1] * mh / screen[1]
        if self.space == "unit":
            return round(x, 3), round(y, 3)
        return int(round(x)), int(round(y))

    # -- prompts ---------------------------------------------------------------------------------
    def texts(self, instruction: str, screen: tuple[int, int]) -> tuple[str | None, str]:
        """`(system text or None, user text)` for one item, placeholders filled in."""
        width, height = self.model_screen(screen)
        fields = {"instruction": instruction, "width": width, "height": height}
        system = Template(self._system).safe_substitute(fields) if self._system is not None else None
        return system, Template(self._user).safe_substitute(fields)

    def messages(self, item: Any, instruction: str | None = None) -> list[dict[str, Any]]:
        """Generic chat messages for one item (image parts as `{"type": "image", "image": path}`)."""
        system, user = self.texts(instruction if instruction is not None else item.instruction, item.screen)
        image = {"type": "image", "image": str(item.image)}
        text = {"type": "text", "text": user}
        content = [image, text] if self.order == "image-first" else [text, image]
        messages: list[dict[str, Any]] = []
        if system is not None:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": content})
        return messages

    def prompt_hash(self) -> str:
        """Short hash naming the prompt this adapter sends (its name, grid, order and texts)."""
        digest = hashlib.sha256()
        for part in (self.name, self.space, self.order, self._system or "", self._user):
            digest.update(part.encode("utf-8") + b"\0")
        return digest.hexdigest()[:16]

    def settings(self) -> dict[str, Any]:
        """The settings that decide whether a run reproduces a published one (results header)."""
        return {
            "adapter": self.name,
            "coord_space": self.space,
            "image_text_order": self.order,
            "system_prompt": self._system,
            "user_prompt": self._user,
            "prompt_file": str(self.prompt_file) if self.prompt_file else None,
            "prompt_hash": self.prompt_hash(),
            "refusal": self.refusal,
        }

    # -- answers ---------------------------------------------------------------------------------
    def parse(self, text: Any, screen: tuple[int, int]) -> GroundingAnswer:
        """The answer a raw text gives; never raises (a parser bug costs one item, never a run)."""
        if not isinstance(text, str):
            return GroundingAnswer(problems=("not_text", f"expected_grammar:{self.name}"))
        try:
            answer = self._parse(text, screen)
        except Exception:
            logger.exception("%s grounding adapter failed on %.200r", self.name, text)
            return GroundingAnswer(problems=("internal_error",))
        if not answer.parsed and not any(p.startswith("expected_grammar:") for p in answer.problems):
            answer = GroundingAnswer(problems=(*answer.problems, f"expected_grammar:{self.name}"))
        return answer

    def _parse(self, text: str, screen: tuple[int, int]) -> GroundingAnswer:
        raise NotImplementedError

    def point_of(self, values: list[float], screen: tuple[int, int], *extra: str) -> GroundingAnswer:
        """A point from 2 numbers or a box's centre from 4, in the model's units; else no point."""
        if len(values) == 2:
            return self.answer_at((values[0], values[1]), screen, problems=tuple(extra))
        if len(values) == 4:
            centre = ((values[0] + values[2]) / 2, (values[1] + values[3]) / 2)
            return self.answer_at(centre, screen, problems=(*extra, "box_answer"))
        return GroundingAnswer(problems=(*extra, f"expected 2 or 4 numbers, found {len(values)}"))

    def render(self, target: Region, screen: tuple[int, int]) -> str | None:
        """An answer in this grammar pointing at the target's centre, or refusing a refusal item
        (None where the grammar cannot refuse). The scripted server answers with it."""
        if isinstance(target, Refusal):
            return self.render_refusal()
        centre = region_center(target, screen)
        assert centre is not None
        return self.render_point(self.to_model(centre, screen))

    def render_point(self, model_point: tuple[float, float]) -> str:
        raise NotImplementedError

    def render_refusal(self) -> str | None:
        return None


def json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in `text` (None when there is none that parses)."""
    start = text.find("{")
    while start >= 0:
        depth = 0
        for end in range(start, len(text)):
            if text[end] == "{":
                depth += 1
            elif text[end] == "}":
                depth -= 1
                if depth == 0:
                    try:
                        found = json.loads(text[start : end + 1])
                    except json.JSONDecodeError:
                        break
                    return found if isinstance(found, dict) else None
        start = text.find("{", start + 1)
    return None
