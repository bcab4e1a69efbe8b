"""Reading Python-call-shaped actions: `click(start_box='(12,34)')`, `Scroll(start=(1,2), end=(3,4))`.

Hand-written rather than `ast.parse`: the models write calls that are not valid Python (unescaped
quotes inside `content='...'`, `start_box='='`, literal `<|box_start|>` tokens), and the values needed
are only strings and number tuples.
"""

from __future__ import annotations

import re

_CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$", re.DOTALL)
# key='...' | key="..." | key=(...) | key=[...] | key=bare
_ARG = re.compile(
    r"""(\w+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(\([^)]*\))|(\[[^\]]*\])|([^,)\s]+))""",
    re.DOTALL,
)
_ESCAPES = {"\\n": "\n", "\\'": "'", '\\"': '"', "\\\\": "\\", "\\t": "\t"}


def unescape(text: str) -> str:
    return re.sub(r"\\[n'\"\\t]", lambda m: _ESCAPES[m.group(0)], text)


def parse_call(text: str) -> tuple[str, dict[str, str]] | None:
    """`(name, {key: raw value})` of one call, or None when `text` is not call-shaped."""
    match = _CALL.match(text)
    if match is None:
        return None
    name, body = match.group(1), match.group(2)
    args: dict[str, str] = {}
    for arg in _ARG.finditer(body):
        key = arg.group(1)
        single, double, paren, bracket, bare = arg.group(2, 3, 4, 5, 6)
        if single is not None:
            args[key] = unescape(single)
        elif double is not None:
            args[key] = unescape(double)
        else:
            args[key] = paren or bracket or bare or ""
    if body.strip() and not args:
        # A positional argument (`Launch('Maps')`): keep it under `_`.
        args["_"] = body.strip().strip("'\"")
    return name, args
