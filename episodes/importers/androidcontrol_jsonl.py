"""AndroidControl in the per-episode JSONL layout of UI-S1 and the Qwen2.5-VL evaluation.

Source: X-PLUG/MobileAgent `UI-S1/datasets/android_control_evaluation_std.jsonl` (and the train
example): one episode per line, `{"goal", "episode_id"?, "steps": [{"action_content", "screenshot",
"step_instruction"?, "check_options"?}]}`, actions in the Qwen action space (click / long_press
`coordinate`, swipe `coordinate`/`coordinate2`, type / open `text`, system_button `button`, wait,
terminate). Each step holds the screen it acts on; there is no screen after the last action.

What differs:
- a swipe with `check_options.direction` is rebuilt from that word, which is AndroidControl's content
  direction, inverted on both axes like the TFRecord importer; the layout's own coordinates are not
  used because its converter inverted only up/down (a swipe without the word keeps its coordinates,
  counted in the card);
- clicks keep the point and `check_options.candidate_bbox` as given in `context.candidate_boxes` (the
  containing a11y nodes, smallest first, not clipped to the screen); the gold box is the smallest
  candidate under the area limit (clipped), else a small square;
- system_button Back / Home / Enter are key presses, Menu and anything else without a counterpart are
  dropped; `terminate` becomes task_completed (success) or task_impossible.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from episodes.importers import geometry as g
from episodes.importers.base import DatasetWriter, ImportOptions, Screen, SourceEpisode, SourceStep

FORMAT_VERSION = (
    "UI-S1 android_control JSONL (goal, steps[action_content, screenshot, step_instruction, check_options])"
)


def resolve_screenshot(path: str, root: Path | None, jsonl: Path) -> Path:
    """The screenshot on disk: the path as written, else its name under `--screenshots` (or the JSONL's
    folder)."""
    p = Path(path)
    if p.is_file():
        return p
    for base in (root, jsonl.parent):
        if base is not None:
            for candidate in (base / p.name, base / path.lstrip("/")):
                if candidate.is_file():
                    return candidate
    raise FileNotFoundError(
        f"expected screenshot {path} (or {p.name} under --screenshots), found no such file"
    )


def _size(path: Path) -> tuple[int, int]:
    from episodes.images import image_size

    return image_size(path)


def convert_step(
    step: dict[str, Any], screen: tuple[int, int], description: str
) -> tuple[dict[str, Any] | None, str | None, dict[str, Any], str]:
    """`(wire action or None, drop reason, context, source type)` of one step."""
    act = step.get("action_content") or {}
    check = step.get("check_options") or {}
    kind = str(act.get("action"))
    if kind in ("click", "long_press"):
        boxes = check.get("candidate_bbox") or act.get("bbox") and [act["bbox"]] or []
        wired, context, how = g.click(
            "click" if kind == "click" else "long_click", act["coordinate"], boxes, boxes, screen, description
        )
        context["box_from"] = "candidate_bbox" if how == "element" else how
        if check.get("candidate_bbox"):
            # The layout's own boxes, as given (a node reaching past the screen edge included): the
            # evaluators written for it enlarge them unclipped.
            context["candidate_boxes"] = [list(box) for box in check["candidate_bbox"]]
        return wired, None, context, kind
    if kind == "swipe":
        if check.get("direction"):
            start, end = g.finger_swipe(check["direction"], screen, means="content")
            return (
                g.swipe(start, end, screen, description),
                None,
                {"scroll_direction": check["direction"], "scroll_direction_means": "content"},
                "swipe:direction",
            )
        return (
            g.swipe(act["coordinate"], act["coordinate2"], screen, description),
            None,
            {},
            "swipe:coordinates",
        )
    if kind == "type":
        return g.wire("type", str(act["text"]), description), None, {}, kind
    if kind == "open":
        context = {"candidate_boxes": check["candidate_bbox"]} if check.get("candidate_bbox") else {}
        return g.wire("open_app", str(act["text"]), description), None, context, kind
    if kind == "wait":
        return g.wire("wait", "", description), None, {}, kind
    if kind == "system_button":
        button = str(act.get("button", "")).lower()
        if button in ("back", "home", "enter"):
            return g.wire(button, "", description), None, {}, f"system_button:{button}"
        return None, f"no_counterpart:system_button:{button}", {}, f"system_button:{button}"
    if kind == "terminate":
        if str(act.get("status", "success")) == "success":
            return g.wire("task_completed", "", description), None, {}, kind
        return g.wire("task_impossible", "", description), None, {}, kind
    return None, f"unknown_action:{kind}", {}, kind


def episode_from(obj: dict[str, Any], line: int, src: Path, options: ImportOptions) -> SourceEpisode:
    if not isinstance(obj, dict) or not isinstance(obj.get("steps"), list):
        raise ValueError("expected an object with 'goal' and a 'steps' list")
    steps: list[SourceStep] = []
    for i, step in enumerate(obj["steps"]):
        path = resolve_screenshot(str(step.get("screenshot", "")), options.screenshots, src)
        screen = _size(path)
        instruction = step.get("step_instruction") or None
        description = instruction or str((step.get("action_content") or {}).get("action", ""))
        try:
            wired, reason, context, kind = convert_step(step, screen, description)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"step {i}: bad action {step.get('action_content')}: {exc}") from exc
        steps.append(
            SourceStep(
                kind, Screen(path=path, ext=path.suffix or ".png"), wired, reason, context, instruction
            )
        )
    episode_id = str(obj.get("episode_id", line))
    return SourceEpisode(episode_id, str(obj.get("goal", "")), "", steps, final_screen=None)


def import_episodes(src: Path, options: ImportOptions, writer: DatasetWriter) -> None:
    """Read the JSONL file line by line into `writer`."""
    from tqdm import tqdm

    writer.convention(
        "scroll",
        "swipes with check_options.direction are rebuilt from that AndroidControl content "
        "direction, inverted on both axes (down -> finger up); swipes without it keep their "
        "coordinates as the finger path (counted as swipe:coordinates; the layout's converter is "
        "reported to leave left/right un-inverted)",
    )
    writer.convention(
        "click_box", g.GOLD_BOX_RULE + "; eligible and candidates: check_options.candidate_bbox"
    )
    writer.convention(
        "dropped",
        "system_button other than Back, Home and Enter (Menu) has no counterpart: dropped; history and "
        "screen_path1 skip it",
    )
    writer.convention(
        "finish", "terminate steps as given; --add-finish has no screen to add one on in this layout"
    )
    writer.convention("task_path", "empty: the step instructions would give the answers away")
    if options.add_finish:
        writer.convention(
            "finish", "--add-finish ignored: this layout has no screenshot after the last action"
        )
    with src.open(encoding="utf-8") as f:
        for line_no, line in enumerate(
            tqdm(f, desc="androidcontrol-jsonl", unit=" episodes", disable=not options.progress), 1
        ):
            if not line.strip():
                continue
            try:
                episode = episode_from(json.loads(line), line_no, src, options)
            except (ValueError, FileNotFoundError) as exc:
                writer.reject(str(src), line_no, str(exc))
                continue
            writer.write(episode)
            if writer.full:
                return
