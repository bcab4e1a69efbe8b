"""Screenshots as `data:` URLs for OpenAI-compatible requests, optionally pre-resized to the pixel budget.

Pre-resizing to exactly the size the server's processor would produce (`smart_resize` with the
checkpoint's budget and its family's tile) sends fewer bytes without changing what the model sees: the
server's processor finds the size already right and does not resample a second time. A family whose
processor does not resize to a tile (InternVL's 448-px crops) gets its screenshots as they are.

Encodings are kept in a small LRU cache keyed by path, modification time, size and budget: a step's
previous screenshot is the step before's current one, and an evaluation running many steps at once
asks for the same file from several requests close together.
"""

from __future__ import annotations

import io
import mimetypes
import os
import threading
from collections import OrderedDict
from pathlib import Path

import pybase64

from actions.coords import PixelBudget, model_screen_size

# Formats servers decode everywhere; anything else is re-encoded as PNG.
_PASS_THROUGH = {"image/png", "image/jpeg", "image/webp"}
# Enough for the screenshots of a few dozen steps in flight (two each, shared between neighbours).
CACHE_ENTRIES = 128

_Key = tuple[str, int, int, "PixelBudget | None"]


class _DataUrlCache:
    """A thread-safe LRU of data URLs that can be looked up without computing a missing entry.

    Hand-written because `functools.lru_cache` offers no lookup that leaves a miss uncomputed, which
    the async backend needs to decide between encoding inline (cached or cheap) and in a thread.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[_Key, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _Key) -> str | None:
        with self._lock:
            url = self._items.get(key)
            if url is not None:
                self._items.move_to_end(key)
            return url

    def put(self, key: _Key, url: str) -> None:
        with self._lock:
            self._items[key] = url
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


_cache = _DataUrlCache(CACHE_ENTRIES)


def _key(path: str | Path, budget: PixelBudget | None) -> _Key:
    # Prompts name screenshots by absolute path already; resolving again would cost more than the
    # cache saves, and two spellings of one file only cost a second entry.
    name = os.fspath(path)
    if not os.path.isabs(name):
        name = os.path.abspath(name)
    stat = os.stat(name)  # a missing file fails here with the path in the message
    return (name, stat.st_mtime_ns, stat.st_size, budget)


def _resizing(budget: PixelBudget | None) -> PixelBudget | None:
    """The budget to pre-resize with: None where there is none or its family has no tile."""
    return budget if budget is not None and budget.tile is not None else None


def image_data_url(path: str | Path, budget: PixelBudget | None = None) -> str:
    """`data:<mime>;base64,...` for an image file; resized to `smart_resize` of `budget` when one is given."""
    budget = _resizing(budget)
    key = _key(path, budget)
    url = _cache.get(key)
    if url is None:
        url = _encode(key[0], budget)
        _cache.put(key, url)
    return url


def cached_image_data_url(path: str | Path, budget: PixelBudget | None = None) -> str | None:
    """The data URL `image_data_url` would return, when getting it needs no image decoding; else None.

    Cached encodings and files sent as they are (no budget, a format every server reads) qualify: the
    latter cost one read and a base64 pass, less than handing the work to a thread.
    """
    budget = _resizing(budget)
    key = _key(path, budget)
    url = _cache.get(key)
    if url is None and budget is None and _mime(key[0]) in _PASS_THROUGH:
        url = _encode(key[0], None)
        _cache.put(key, url)
    return url


def clear_image_cache() -> None:
    """Forget every cached encoding (benchmarks measure cold preparation this way)."""
    _cache.clear()


def _b64(data: bytes) -> str:
    # pybase64's SIMD encoder takes about 5 us for a screenshot where the standard library takes about
    # 190 us, on the event loop of an evaluation sending hundreds of them a second; same output.
    return pybase64.b64encode_as_string(data)


def _mime(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def _encode(path: str, budget: PixelBudget | None) -> str:
    mime = _mime(path)
    if budget is None and mime in _PASS_THROUGH:
        data = Path(path).read_bytes()
        return f"data:{mime};base64,{_b64(data)}"
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        if budget is not None:
            target = model_screen_size("resized", image.size, budget)
            if target != image.size:
                image = image.resize(target, Image.Resampling.BICUBIC)
        if mime == "image/jpeg":
            out_format, out_mime = "JPEG", "image/jpeg"
            image = image.convert("RGB")
        else:
            out_format, out_mime = "PNG", "image/png"
        buffer = io.BytesIO()
        save_kwargs = {"quality": 95} if out_format == "JPEG" else {}
        image.save(buffer, format=out_format, **save_kwargs)
    return f"data:{out_mime};base64,{_b64(buffer.getvalue())}"
