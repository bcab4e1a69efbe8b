"""One step of an episode: what the agent sees and, for data with labels, the gold action.

Readers (`episodes.readers`) build these; the prompt builder, the dataset builder, the evaluator and the
replay UI all consume them, so this is the one record type that crosses package boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Step:
    """A step of an episode.

    `screenshots` holds absolute paths, previous screen first and current screen last; a first step
    may have only the current screen. `screen_size` is `(width, height)` of the current screenshot
    in original pixels. `gold` is a typed action from `actions` (or None for unlabelled data), always
    in original pixels. `input` is the step's input JSON exactly as it was read, so conversions can
    reproduce it byte for byte. `source` names where the step came from (`path/step_3.json` or
    `file.jsonl:17`) for error messages.
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
    action_type_list: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ACTION_TYPE_LIST))
    input: dict[str, Any] = field(default_factory=dict)
    source: str = ""

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
