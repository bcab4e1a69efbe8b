"""Screenshot sizes, read from the image header once per image.

Every reader of episodes (the typed reader, validation, stats, conversion) asks one `ImageSizes`
per pass; consecutive steps share a screenshot (a step's previous screen is its predecessor's
current one), so each image's header is opened once. Pillow opens lazily: only the header is read
unless `decode=True`, which also decodes the pixels to catch truncated files.
"""

from __future__ import annotations

import os
from pathlib import Path

MISSING_IMAGE, UNREADABLE_IMAGE = "missing_image", "unreadable_image"

# (size, problem code, message): size is None exactly when the code is set.
ImageCheck = tuple[tuple[int, int] | None, str | None, str | None]


class ImageSizes:
    """Memo of `(width, height)` per screenshot path, or why it cannot be used.

    Bounded by `maxsize` (cleared when full) and by `reset()`, which readers call between episodes
    (episodes do not share screenshots), so memory stays flat on large data sets.
    """

    def __init__(self, decode: bool = False, maxsize: int = 8192) -> None:
        self.decode = decode
        self.maxsize = maxsize
        self.seen: dict[str, ImageCheck] = {}

    def check(self, path: str | os.PathLike[str]) -> ImageCheck:
        """`(size, None, None)` for a readable image, `(None, code, message)` otherwise."""
        key = os.fspath(path)
        found = self.seen.get(key)
        if found is None:
            if len(self.seen) >= self.maxsize:  # bounded: the memo must not grow with the data set
                self.seen.clear()
            found = self.seen[key] = self._read(key)
        return found

    def _read(self, path: str) -> ImageCheck:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:  # reads the header only unless decode is set
                size = image.size
                if self.decode:
                    image.load()
        except FileNotFoundError:
            return None, MISSING_IMAGE, f"expected screenshot {Path(path)}, found no such file"
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            # Pillow raises SyntaxError for some malformed headers.
            message = f"expected a readable image at {path}, found {type(exc).__name__}: {exc}"
            return None, UNREADABLE_IMAGE, message
        return size, None, None

    def reset(self) -> None:
        self.seen.clear()


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """`(width, height)` of one image from its header.

    Raises `FileNotFoundError` for a missing file and `ValueError` for a file Pillow cannot identify.
    """
    size, code, message = ImageSizes().check(path)
    if size is None:
        raise FileNotFoundError(message) if code == MISSING_IMAGE else ValueError(message)
    return size
