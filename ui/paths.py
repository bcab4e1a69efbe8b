"""Which files the replay UI may open or serve: only those inside the episodes folder and the
results files' own folders.

Step JSON names its screenshots by relative path, so a crafted record (`../../etc/passwd`, an
absolute path, a symlink pointing out of the folder) could otherwise make the app read and serve any
file the process can see. Every path is resolved (symlinks followed) before the check.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class PathOutsideRoots(ValueError):
    """A path resolved outside every folder the app is allowed to read."""


def resolve_inside(path: str | Path, roots: Iterable[str | Path], *, base: str | Path | None = None) -> Path:
    """Resolve `path` (relative paths against `base`, else the first root) and return it when it lies
    inside one of `roots`; raise `PathOutsideRoots` otherwise.

    Symlinks are followed on both sides, so a link inside a root that points elsewhere is refused.
    """
    resolved_roots = [Path(root).resolve() for root in roots]
    if not resolved_roots:
        raise PathOutsideRoots(f"no allowed folders configured; refusing {str(path)!r}")
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = Path(base if base is not None else resolved_roots[0]) / candidate
    resolved = candidate.resolve()
    for root in resolved_roots:
        if resolved == root or resolved.is_relative_to(root):
            return resolved
    allowed = ", ".join(str(root) for root in resolved_roots)
    raise PathOutsideRoots(f"{str(path)!r} resolves to {resolved}, outside the allowed folders ({allowed})")


def serve_roots(episodes: str | Path, results: Iterable[str | Path | None] = ()) -> list[Path]:
    """The folders the app may serve: the episodes folder and the folder of each results file."""
    roots = [Path(episodes).resolve()]
    for item in results:
        if item is None:
            continue
        folder = Path(item).resolve().parent
        if folder not in roots:
            roots.append(folder)
    return roots
