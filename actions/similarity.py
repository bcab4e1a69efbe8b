"""Normalised text similarity shared by the action score and the match verdicts."""

from __future__ import annotations

import unicodedata

from rapidfuzz import fuzz


def normalise_text(text: str) -> str:
    """NFKC, casefolded, white space collapsed: full-width and half-width forms compare equal."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def text_similarity(a: str, b: str) -> float:
    """Levenshtein ratio (python-Levenshtein's `ratio`, i.e. rapidfuzz's `fuzz.ratio`) in [0, 1].

    Two empty strings are identical (1.0); an empty string against a non-empty one scores 0.
    """
    return fuzz.ratio(normalise_text(a), normalise_text(b)) / 100.0
