"""One step of an episode: what the agent sees and, for data with labels, the gold action.

Readers (`episodes.readers`) build these; the prompt builder, the dataset builder, the evaluator and the
replay UI all consume them, so this is the one record type that crosses package boundaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actions.context import GoldContext

# The seed's action_type_list: Chinese labels shown to the model for each action type.
DEFAULT_ACTION_TYPE_LIST: dict[str, str] = {
    "open_app": "打开APP",
    "click": "点击",
    "long_click": "长按",
    "type": "输入",
    "swipe": "滑动",
    "task_completed": "任务完成",
    "task_impossible": "任务无法完成",
    "inquiry": "反问",
    "wait": "等待",
    "back": "回退",
}


# A step file's input keys in the seed's order; `step_input` writes them in this order.
INPUT_ORDER: tuple[str, ...] = (
    "task_content",
    "task_path",
    "screen_path1",
    "screen_path2",
    "history_path_all",
    "app_name",
    "action_type_list",
    "step_instruction",
)


@dataclass(frozen=True)
class Step:
    """A step of an episode: each fact of its input once, typed; `step_input` derives the input JSON.

    `screenshots` holds absolute paths, previous screen first and current screen last; a first step
    may have only the current screen. `screen_size` is `(width, height)` of the current screenshot
    in original pixels. `gold` is a typed action from `actions` (or None for unlabelled data), always
    in original pixels. `action_type_list` is the labels the record names (None when it names none:
    the input then has no such key; `labels` falls back to the seed's). `instruction` is the Low
    setting's step instruction (`input.step_instruction`), None when the step has none. `extra` holds
    the input keys the fields do not (a user's own keys, an empty `screen_path1`), as read, so the
    prompt and conversions show them unchanged. `source` names where the step came from
    (`path/step_3.json` or `file.jsonl:17`) for error messages. `context` is the optional gold context
    (`actions.context`) read from the step file's top-level `context` key, beside `input` and `output`.
    """

    episode_id: str
    index: int
    task: str
    task_path: dict[str, str]
    history: list[str]
    app: str
    screenshots: tuple[Path, ...]
    screen_size: tuple[int, int] | None
    gold: Any | None = None
    action_type_list: dict[str, str] | None = None
    instruction: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    context: GoldContext | None = None

    @property
    def labels(self) -> dict[str, str]:
        """The label of each action type as the prompt shows it (the record's, else the seed's)."""
        return self.action_type_list or DEFAULT_ACTION_TYPE_LIST

    @property
    def input(self) -> dict[str, Any]:
        """The step's input JSON, screenshots by file name (`step_input`)."""
        return step_input(self)

    @property
    def step_id(self) -> str:
        """Stable identifier used by datasets, results files and the UI: `<episode_id>/<index>`."""
        return f"{self.episode_id}/{self.index}"

    @property
    def current_screenshot(self) -> Path:
        return self.screenshots[-1]

    @property
    def previous_screenshot(self) -> Path | None:
        return self.screenshots[0] if len(self.screenshots) > 1 else None


def step_input(step: Step, *, screens: Sequence[str] | None = None) -> dict[str, Any]:
    """The one derivation of a step file's `input` object from a `Step`, keys in the seed's order.

    Importers and the synthesizer write it into step files, the prompt builder shows it to the model
    (`screens` then holds `<image>` per screenshot), and own-history evaluation asks it with another
    history. `screens` names the screenshots, previous first (default: their file names, which is how
    a step file beside its screenshots names them). Keys in `extra` follow the known ones in the order
    read; a known key never takes its value from `extra`.
    """
    names = [Path(p).name for p in step.screenshots] if screens is None else list(screens)
    if len(names) != len(step.screenshots):
        raise ValueError(
            f"{step.source or step.step_id}: expected one screen name per screenshot "
            f"({len(step.screenshots)}), found {len(names)}"
        )
    data: dict[str, Any] = {"task_content": step.task, "task_path": dict(step.task_path)}
    if len(names) > 1:
        data["screen_path1"] = names[0]
    if names:
        data["screen_path2"] = names[-1]
    data["history_path_all"] = list(step.history)
    data["app_name"] = step.app
    if step.action_type_list is not None:
        data["action_type_list"] = dict(step.action_type_list)
    if step.instruction is not None:
        data["step_instruction"] = step.instruction
    for key, value in step.extra.items():
        data.setdefault(key, value)
    rank = {key: i for i, key in enumerate(INPUT_ORDER)}
    # sorted() is stable: extra keys keep their order after the known ones.
    return dict(sorted(data.items(), key=lambda item: rank.get(item[0], len(rank))))
