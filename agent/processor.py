"""Build each family's processor on machines without torchvision; repair checkpoints saved before.

What was observed, with transformers 5.23.0:

- torch 2.13.0 (CPU wheel, no torchvision): `AutoProcessor.from_pretrained` on a checkpoint whose
  `processor_config.json` names a stock Qwen processor (`Qwen2_5_VLProcessor`, `Qwen2VLProcessor`,
  `Qwen3VLProcessor`, also Qwen3.5's) or `InternVLProcessor` raises `ImportError` ("...VideoProcessor
  requires the Torchvision library"): the stock processor always builds a video processor, and that
  needs torchvision. On a checkpoint naming a class transformers does not know it returns a bare
  tokenizer, without a warning.
- torch 2.14.1 + torchvision 0.29.1: the stock names load the stock processors (images give
  `pixel_values`, and `image_grid_thw` for Qwen); an unknown name (`Qwen2_5_VLImageOnlyProcessor`,
  what phone-r1 wrote before) again returns a bare tokenizer, so training, `transformers serve` and
  vLLM lose every image.

So checkpoints keep their own stock class and carry their family's video-processor config (the
family record, `agent.families`), which makes them stock checkpoints wherever torchvision exists.
Without torchvision, phone-r1 builds them with a subclass of that stock class made here: it has no
`video_processor` argument (transformers derives a processor's parts from its `__init__` signature),
and it carries the stock class name, because `save_pretrained` writes the class name into
`processor_config.json` and `tokenizer_config.json`.

`load_processor` calls the class of this stack directly, bypassing `AutoProcessor`, so it loads new
and old checkpoints on both stacks; it warns on an old one and names `phone-r1 checkpoint repair`.

`register_processor()` is for code that goes through a bare `AutoProcessor` (a `transformers serve`
process): where torchvision is missing it points every family's stock name at its subclass, in this
process only and never at import time. Start such a server through this module; it registers, then
hands the argument list to transformers' own CLI::

    python -m agent.processor serve --host 127.0.0.1 --port 8000 /path/to/checkpoint

(`run_transformers_cli(["serve", ...])` does the same from Python.)

When this module can go: once every phone-r1 stack has torchvision, or once transformers builds these
processors without torchvision when no video is processed. Then `load_processor` reduces to
`AutoProcessor.from_pretrained` plus the pixel budget, and `register_processor` to a no-op. The
repair (`repair_checkpoint`) can go once no checkpoint naming the old class is in use.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# One video-free subclass per stock class name, made on first use.
_VIDEO_FREE: dict[str, type] = {}

# The class phone-r1 checkpoints named before the family record (Qwen2.5-VL's stock class).
STOCK_PROCESSOR_CLASS = "Qwen2_5_VLProcessor"
# Names phone-r1 wrote before; `repair_checkpoint` replaces them (all were Qwen2.5-VL checkpoints).
LEGACY_PROCESSOR_CLASSES = ("Qwen2_5_VLImageOnlyProcessor",)
REPAIR_COMMAND = "phone-r1 checkpoint repair"
# Where transformers records the processor class in a saved checkpoint.
CLASS_FILES = ("processor_config.json", "tokenizer_config.json", "preprocessor_config.json")


def _legacy_family() -> Any:
    from agent.families import DEFAULT_FAMILY, family_of

    return family_of(DEFAULT_FAMILY)


def video_processor_defaults(family: Any = None) -> dict[str, Any]:
    """The video-processor config a checkpoint of `family` carries (default: Qwen2.5-VL's)."""
    return dict((family or _legacy_family()).video_processor)


def video_free_class(class_name: str, video_defaults: dict[str, Any]) -> type:
    """The stock processor `class_name` without its video processor (which needs torchvision).

    Its instances save under the stock name with `video_defaults` as their video-processor config, so
    what they save is a stock checkpoint.
    """
    if class_name in _VIDEO_FREE:
        return _VIDEO_FREE[class_name]
    import inspect

    import transformers

    stock = getattr(transformers, class_name)
    defaults = dict(video_defaults)

    # transformers reads a processor's parts from its __init__ signature and passes saved settings by
    # the names in __init__'s code object, so the stock settings (InternVL's `image_seq_length`) must be
    # real parameters here too. The stock __init__ hands (image_processor, tokenizer, video_processor)
    # on positionally; ProcessorMixin pairs them with this class's parts (no video processor), dropping
    # the None.
    if "image_seq_length" in inspect.signature(stock.__init__).parameters:

        def __init__(
            self, image_processor=None, tokenizer=None, image_seq_length=256, chat_template=None, **kw
        ):
            stock.__init__(
                self, image_processor, tokenizer, None, image_seq_length, chat_template=chat_template, **kw
            )

    else:

        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            stock.__init__(self, image_processor, tokenizer, None, chat_template=chat_template, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        data = stock.to_dict(self)
        data.setdefault("video_processor", dict(defaults))
        return data

    # save_pretrained records type(self).__name__ as processor_class; under the stock name what this
    # class saves is a stock checkpoint.
    cls = type(
        class_name,
        (stock,),
        {
            "__init__": __init__,
            "to_dict": to_dict,
            "__doc__": f"`{class_name}` without the video processor (which needs torchvision).",
            "__module__": __name__,
        },
    )
    _VIDEO_FREE[class_name] = cls
    return cls


def _torchvision_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torchvision") is not None


def processor_class(family: Any = None, class_name: str | None = None) -> type:
    """The class that builds `family`'s processor on this stack: the stock one, or the video-free one.

    `class_name` is the processor class a checkpoint names (default: the family's)."""
    family = family or _legacy_family()
    name = class_name or family.processor_class
    if _torchvision_available():
        import transformers

        return getattr(transformers, name)
    return video_free_class(name, family.video_processor)


def register_processor() -> type:
    """Make a bare `AutoProcessor` build an image-capable processor of every family here. Idempotent.

    Returns Qwen2.5-VL's processor class in use. With torchvision installed the stock processors work
    and are left in place.
    """
    from agent.families import MODEL_FAMILIES, family_of

    if _torchvision_available():
        return processor_class()
    import importlib

    import transformers
    from transformers import AutoProcessor
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING_NAMES, model_type_to_module_name

    for name in MODEL_FAMILIES:
        family = family_of(name)
        cls = processor_class(family)
        AutoProcessor.register(getattr(transformers, family.config_class), cls, exist_ok=True)
        # AutoProcessor resolves a saved processor_class by name in the modules of the model types
        # that list it before looking at registrations, so the stock name must lead to the subclass
        # in each of those modules.
        for model_type, names in PROCESSOR_MAPPING_NAMES.items():
            if family.processor_class not in (names if isinstance(names, tuple) else (names,)):
                continue
            module = importlib.import_module(
                f".{model_type_to_module_name(model_type)}", "transformers.models"
            )
            if hasattr(module, family.processor_class):
                setattr(module, family.processor_class, cls)
    return processor_class()


def legacy_files(folder: str | Path) -> list[Path]:
    """The processor files in `folder` that name a class phone-r1 no longer writes (see the docstring)."""
    found = []
    for name in CLASS_FILES:
        path = Path(folder) / name
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("processor_class") in LEGACY_PROCESSOR_CLASSES:
                found.append(path)
    return found


def repair_checkpoint(folder: str | Path) -> list[Path]:
    """Make a checkpoint saved with an old processor class name load as a stock Qwen2.5-VL checkpoint.

    Rewrites `processor_class` to the stock name in the processor files of `folder` and of its
    `checkpoint-*` sub-folders (a training output), and adds the video-processor config the stock
    processor needs where it is missing. Idempotent. Returns the files it changed.
    """
    folder = Path(folder)
    changed = []
    for checkpoint in [folder, *sorted(p for p in folder.glob("checkpoint-*") if p.is_dir())]:
        for path in legacy_files(checkpoint):
            data = json.loads(path.read_text(encoding="utf-8"))
            data["processor_class"] = STOCK_PROCESSOR_CLASS
            if path.name == "processor_config.json":
                data.setdefault("video_processor", video_processor_defaults())
            path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            changed.append(path)
    return changed


def saved_processor_class(folder: str | Path) -> str | None:
    """The processor class a checkpoint folder's processor files name (None when they name none)."""
    for name in CLASS_FILES:
        path = Path(folder) / name
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("processor_class"), str):
                return data["processor_class"]
    return None


def load_processor(path: str | Path, min_pixels: int | None = None, max_pixels: int | None = None) -> Any:
    """Load a checkpoint's own processor (the class its files name), with images, with or without torchvision.

    The family comes from `config.json`'s model_type (`agent.families`); an unsupported one is a
    ValueError listing the supported ones. `min_pixels` / `max_pixels` override the saved pixel budget
    of a Qwen image processor; a processor without a pixel budget (InternVL's fixed tiles) ignores
    them. Raises ValueError when what loads cannot process images (so a tokenizer is never mistaken
    for a processor). A checkpoint naming the old processor class still loads, with a warning naming
    the repair command.
    """
    from agent.families import family_for

    legacy = legacy_files(path)
    if legacy:
        logger.warning(
            "%s names the processor class %s, which stock transformers and vLLM do not load (they fall "
            "back to the tokenizer where torchvision is installed); fix it in place with: %s %s",
            legacy[0],
            json.loads(legacy[0].read_text(encoding="utf-8"))["processor_class"],
            REPAIR_COMMAND,
            path,
        )
    family = family_for(path)
    # Called directly rather than through AutoProcessor, which resolves the saved processor_class by
    # name: that fails without torchvision for the stock name and yields a tokenizer for the old one.
    # An old checkpoint may lack the video config the stock class needs; the video-free class does not.
    if legacy:
        cls = video_free_class(STOCK_PROCESSOR_CLASS, family.video_processor)
    else:
        cls = processor_class(family, saved_processor_class(path))
    processor = cls.from_pretrained(str(path))
    image_processor = getattr(processor, "image_processor", None)
    if image_processor is None:
        raise ValueError(
            f"{path}: expected a processor with an image processor, got {type(processor).__name__}; "
            "is processor_config.json (or preprocessor_config.json) missing from the checkpoint?"
        )
    # transformers 5 keeps the budget in `size` (shortest_edge = min_pixels, longest_edge = max_pixels);
    # passing min_pixels/max_pixels per call is deprecated.
    size = dict(image_processor.size) if image_processor.size else {}
    if "longest_edge" not in size and "shortest_edge" not in size:
        if min_pixels is not None or max_pixels is not None:
            logger.debug(
                "%s: %s has no pixel budget; min/max pixels ignored", path, type(image_processor).__name__
            )
        return processor
    if min_pixels is not None:
        size["shortest_edge"] = int(min_pixels)
    if max_pixels is not None:
        size["longest_edge"] = int(max_pixels)
    if (
        size.get("shortest_edge")
        and size.get("longest_edge")
        and size["shortest_edge"] > size["longest_edge"]
    ):
        raise ValueError(f"pixel budget must satisfy min_pixels <= max_pixels, got {size}")
    image_processor.size = size
    return processor


def run_transformers_cli(argv: list[str]) -> int:
    """Register the processors, then run transformers' own CLI (`serve`, `chat`, ...) in this process."""
    register_processor()
    from transformers.cli.transformers import main as transformers_main

    sys.argv = ["transformers", *argv]
    result = transformers_main()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(run_transformers_cli(sys.argv[1:]))
