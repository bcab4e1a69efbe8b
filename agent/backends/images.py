"""Screenshots as `data:` URLs for OpenAI-compatible requests, optionally pre-resized to the pixel budget.

Pre-resizing to exactly the size the server's processor would produce (`smart_resize` with the
checkpoint's budget) sends fewer bytes without changing what the model sees.
"""

from __future__ import annotations

import base64
import io
import mimetypes
from functools import lru_cache
from pathlib import Path

from actions.coords import PixelBudget, model_screen_size

# Formats servers decode everywhere; anything else is re-encoded as PNG.
_PASS_THROUGH = {"image/png", "image/jpeg", "image/webp"}


def image_data_url(path: str | Path, budget: PixelBudget | None = None) -> str:
    """`data:<mime>;base64,...` for an image file; resized to `smart_resize` of `budget` when one is given."""
    path = Path(path)
    stat = path.stat()  # a missing file fails here with the path in the message
    return _encoded(str(path.resolve()), stat.st_mtime_ns, stat.st_size, budget)


# Consecutive steps share a screenshot (this step's previous screen is the last step's current one),
# so a few recent encodings are kept.
@lru_cache(maxsize=16)
def _encoded(path: str, mtime_ns: int, size: int, budget: PixelBudget | None) -> str:
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if budget is None and mime in _PASS_THROUGH:
        data = Path(path).read_bytes()
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
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
    return f"data:{out_mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"
