"""Does a results file's header still match the checkpoint it names?

`eval run` records the checkpoint folder whose `phone_r1.json` gave its settings, and any setting it
was told to override. A report read later must say when the header and that file disagree (the run
was made with other settings than the checkpoint's, or the checkpoint folder changed since), since the
numbers then describe another setting than the one the model was trained in.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Results-header field -> CheckpointMeta field.
HEADER_SETTINGS = {
    "coord_space": "coord_space",
    "template": "prompt_template",
    "min_pixels": "min_pixels",
    "max_pixels": "max_pixels",
}


def header_warnings(header: Mapping[str, Any] | None) -> list[str]:
    """One sentence per override the run declared and per header setting that differs from the
    checkpoint's `phone_r1.json`; empty when the header names no checkpoint or all agree."""
    from agent.checkpoint import META_FILENAME, CheckpointMeta

    if not header or not header.get("checkpoint"):
        return []
    folder = Path(str(header["checkpoint"]))
    declared = dict(header.get("overrides") or {})
    lines = [
        f"run overrode {name}: checkpoint {change.get('checkpoint')!r}, run {change.get('given')!r} "
        "(--override-checkpoint-meta)"
        for name, change in declared.items()
    ]
    if not (folder / META_FILENAME).is_file():
        return [*lines, f"the header names checkpoint {folder}, which has no {META_FILENAME} now"]
    try:
        meta = CheckpointMeta.load(folder)
    except (OSError, ValueError) as exc:
        return [*lines, f"the header names checkpoint {folder}, whose {META_FILENAME} cannot be read: {exc}"]
    for field, meta_field in HEADER_SETTINGS.items():
        if meta_field in declared or field not in header:
            continue
        if header[field] != getattr(meta, meta_field):
            lines.append(
                f"{field}: the results header has {header[field]!r} but {folder / META_FILENAME} has "
                f"{getattr(meta, meta_field)!r}; these results were not made with the checkpoint's settings"
            )
    return lines
