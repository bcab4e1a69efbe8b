"""The six grounding benchmarks' files laid out as each releases them, in miniature (tiny screenshots,
two or three items, every target kind the benchmark has)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.grounding import screenshot


def _json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def screenspot(root: Path, *, v2: bool = False) -> Path:
    """`screenspot_{mobile,web}[_v2].json` + `screenspot_imgs/` (v2: `screenspotv2_image/`)."""
    images = root / ("screenspotv2_image" if v2 else "screenspot_imgs")
    screenshot(images / "mobile_a.png", (100, 200))
    screenshot(images / "web_b.png", (300, 150))
    suffix = "_v2" if v2 else ""
    _json(
        root / f"screenspot_mobile{suffix}.json",
        [
            {
                "img_filename": "mobile_a.png",
                "bbox": [10, 20, 30, 40],
                "instruction": "open mail",
                "data_type": "icon",
                "data_source": "android",
            },
            {
                "img_filename": "mobile_a.png",
                "bbox": [50, 100, 20, 10],
                "instruction": "read more",
                "data_type": "text",
                "data_source": "ios",
            },
        ],
    )
    _json(
        root / f"screenspot_web{suffix}.json",
        [
            {
                "img_filename": "web_b.png",
                "bbox": [100, 50, 60, 20],
                "instruction": "log in",
                "data_type": "text",
                "data_source": "shop",
            }
        ],
    )
    return root


def screenspot_pro(root: Path) -> Path:
    """`annotations/<app>_<platform>.json` + `images/<app>/...`."""
    screenshot(root / "images" / "vscode_macos" / "s1.png", (400, 200))
    item = {
        "img_filename": "vscode_macos/s1.png",
        "bbox": [300, 10, 320, 30],
        "instruction": "run the file",
        "instruction_cn": "运行文件",
        "id": "vscode_macos_0",
        "application": "vscode",
        "platform": "macos",
        "img_size": [400, 200],
        "ui_type": "icon",
        "group": "Dev",
    }
    _json(
        root / "annotations" / "vscode_macos.json",
        [item, {**item, "id": "vscode_macos_1", "ui_type": "text", "bbox": [10, 10, 90, 20]}],
    )
    return root


def osworld_g(root: Path) -> Path:
    """`OSWorld-G.json` + `images/` + `classification_result.json`: a box, a polygon, a refusal."""
    screenshot(root / "images" / "a.png", (200, 100))
    items = [
        {
            "id": "a-0",
            "image_path": "a.png",
            "image_size": [200, 100],
            "instruction": "open",
            "box_type": "bbox",
            "box_coordinates": [10, 20, 30, 40],
            "GUI_types": ["Button"],
        },
        {
            "id": "a-1",
            "image_path": "a.png",
            "image_size": [200, 100],
            "instruction": "drag the slider",
            "box_type": "polygon",
            "box_coordinates": [100, 10, 150, 10, 150, 60, 100, 60],
            "GUI_types": ["Slider"],
        },
        {
            "id": "a-2",
            "image_path": "a.png",
            "image_size": [200, 100],
            "instruction": "click the upload button",
            "box_type": "refusal",
            "box_coordinates": [-1, -1, -1, -1],
            "GUI_types": [],
        },
    ]
    _json(root / "OSWorld-G.json", items)
    _json(
        root / "classification_result.json",
        {
            "classified": {
                "text_matching": [{"id": "a-0"}],
                "layout_understanding": [{"id": "a-0"}],
                "fine_grained_manipulation": [{"id": "a-1"}],
            }
        },
    )
    return root


def ui_vision(root: Path) -> Path:
    """`annotations/element_grounding/element_grounding_<setting>.json` + `images/`."""
    screenshot(root / "images" / "element_grounding" / "gimp.png", (300, 200))
    base = {
        "image_path": "element_grounding/gimp.png",
        "image_size": [300, 200],
        "element_type": "icon",
        "platform": "GIMP",
        "category": "Creative",
    }
    folder = root / "annotations" / "element_grounding"
    _json(
        folder / "element_grounding_basic.json",
        [{**base, "prompt_to_evaluate": "Brush tool", "bbox": [10, 10, 40, 40]}],
    )
    _json(
        folder / "element_grounding_functional.json",
        [{**base, "prompt_to_evaluate": "Paint freely", "bbox": [40, 40, 10, 10]}],
    )
    _json(
        folder / "element_grounding_spatial.json",
        [{**base, "prompt_to_evaluate": "Right of the brush", "bbox": [50, 10, 80, 40]}],
    )
    return root


def mmbench_gui(root: Path) -> Path:
    """`MMBench-GUI/L2_annotations.json` + `MMBench-GUI/offline_images/<platform>/...`."""
    folder = root / "MMBench-GUI"
    screenshot(folder / "offline_images" / "os_windows" / "w.png", (400, 300))
    screenshot(folder / "offline_images" / "os_android" / "p.png", (100, 200))
    items = [
        {
            "index": 7,
            "image_path": "w.png",
            "platform": "os_windows",
            "instruction": "close",
            "bbox": [0.9, 0.0, 1.0, 0.1],
            "data_type": "icon",
            "grounding_type": "basic",
            "app_name": "explorer",
        },
        {
            "index": 8,
            "image_path": "p.png",
            "platform": "os_android",
            "instruction": "send the message",
            "bbox": [0.1, 0.8, 0.9, 0.9],
            "data_type": "text",
            "grounding_type": "advanced",
            "app_name": "sms",
            "category": "communication",
        },
    ]
    _json(folder / "L2_annotations.json", items)
    return root
