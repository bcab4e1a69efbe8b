"""A scripted "live" environment for the semi-online seam: its screens react to the actions.

A toy settings app with three screens, each its own picture: `home` (a settings button), `settings`
(a back arrow) and `done`. Clicking the settings button on `home` opens `settings`; `back` on
`settings` finishes the task; any other action leaves the screen as it is. The gold of a screen is
what moves the task on, so rewards score against the screen the rollout is really on, not a
recorded sequence. It implements `training.environment.Environment`: what an emulator adapter would
do with a device, with pictures drawn here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from actions import Back, Click
from episodes.history import describe_action
from episodes.step import Step
from training.environment import StepInfo

SIZE = (540, 1200)
SETTINGS_BOX = (100, 300, 440, 420)
GOLD = {"home": Click(box=SETTINGS_BOX, description="点击设置"), "settings": Back(description="回退")}


def _draw(folder: Path) -> dict[str, Path]:
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for i, name in enumerate(("home", "settings", "done")):
        image = Image.new("RGB", SIZE, (240, 200 - 60 * i, 120 + 40 * i))
        ImageDraw.Draw(image).rectangle(SETTINGS_BOX, fill=(30 + 80 * i, 120, 60))
        paths[name] = folder / f"{name}.jpg"
        image.save(paths[name], quality=70)
    return paths


class ScriptedLiveEnvironment:
    """Screens `home` -> `settings` -> `done`; the episode given to `reset` only names the task."""

    def __init__(self, folder: Path, max_steps: int = 4) -> None:
        self.pictures = _draw(folder)
        self.max_steps = max_steps
        self.screens: list[str] = []
        self.history: list[str] = []
        self.task = ""

    def _observation(self) -> Step:
        names = self.screens[-2:]
        return Step(
            episode_id="live",
            index=len(self.history),
            task=self.task,
            task_path={},
            history=list(self.history),
            app="设置",
            screenshots=tuple(self.pictures[n] for n in names),
            screen_size=SIZE,
            gold=GOLD[self.screens[-1]],
        )

    def reset(self, episode: Any) -> Step:
        self.task = episode[0].task
        self.screens, self.history = ["home"], []
        return self._observation()

    def step(self, action: Any) -> tuple[Step | None, bool, StepInfo]:
        screen = self.screens[-1]
        gold = GOLD[screen]
        matched = action is not None and action.action_type == gold.action_type
        if matched and action.action_type == "click":
            x, y = action.point
            matched = SETTINGS_BOX[0] <= x <= SETTINGS_BOX[2] and SETTINGS_BOX[1] <= y <= SETTINGS_BOX[3]
        following = {"home": "settings", "settings": "done"}[screen] if matched else screen
        entry = describe_action(action) if action is not None else "无效操作"
        self.screens.append(following)
        self.history.append(entry)
        done = following == "done" or len(self.history) >= self.max_steps
        info = StepInfo(f"live/{len(self.history) - 1}", gold, matched, history_entry=entry)
        return (None if done else self._observation()), done, info
