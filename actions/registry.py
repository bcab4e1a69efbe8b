"""One registry shape for every family users extend (rewards, protocols, adapters, importers, ...).

A `Registry` maps names to `module:attr` targets with a one-line summary. Listing names, building
`--help` text and validating a recipe import nothing; an entry is imported the first time it is
loaded. Users name their own entry by dotted path (`my_pkg.mod:attr`). An unknown name is an
`UnknownName` (a `ValueError`) listing the known names with a did-you-mean; the CLIs turn it into exit
status 2 (`Registry.arg_type` does that for argparse).

    ADAPTERS = Registry("agent adapter", {
        "phone-r1": ("agent.adapters.phone_r1:PhoneR1Adapter", "this project's think/answer JSON"),
    }, example="my_pkg.mod:MyAdapter", check=is_adapter_class, docs="docs/eval.md")

CLIs add a family's flag with `parser.add_argument("--agent", **ADAPTERS.argument(...))` (names in
`--help`, unknown names exit 2), recipes validate a list with `check_names`, and `docs` names the page
whose table rows or `###` cards list every entry (each name in backticks). `phone_r1.families.FAMILIES`
lists every family (itself a `Registry`); the CLI's help, the contract test and the docs check loop
over it, so adding a family is one entry there.

Only the standard library is imported here: every CLI's `--help` reads registries.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    """One registered name: where its object lives and one line for `--help` and the docs."""

    name: str
    target: str  # "package.module:attr"
    summary: str


class UnknownName(ValueError):
    """A name that is neither registered nor a loadable dotted path."""


def split_target(target: str, *, dot_form: bool = False) -> tuple[str, str]:
    """`(module, attr)` of `module:attr` (or `module.attr` where `dot_form` allows it)."""
    module, sep, attr = target.partition(":")
    if not sep and dot_form:
        module, _, attr = target.rpartition(".")
    if not module or not attr or ":" in attr:
        raise ValueError(f"expected a dotted path like my_pkg.module:name, found {target!r}")
    return module, attr


def load_target(target: str, *, what: str = "object", dot_form: bool = False) -> Any:
    """The object at `module:attr`; a ValueError says which part failed to load."""
    module_name, attr = split_target(target, dot_form=dot_form)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(
            f"{what} {target!r}: cannot load it: cannot import module {module_name!r}: {exc}"
        ) from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ValueError(
            f"{what} {target!r}: cannot load it: module {module_name!r} has no {attr!r}"
        ) from None


class Registry(Generic[T]):
    """Names of one family, each resolved lazily to a `module:attr` target.

    `family` names the family in messages ("match protocol"); `example` is the dotted path shown in
    errors; `check(obj)` returns a problem sentence (or None) for a loaded object, so a user's dotted
    path to the wrong kind of thing is refused with the reason; `dot_form` also accepts
    `module.attr` for users' own entries (TRL's form for reward functions); `docs` is the page (from
    the repository root) whose table or cards name every entry.
    """

    def __init__(
        self,
        family: str,
        entries: Mapping[str, tuple[str, str]],
        *,
        example: str = "my_pkg.module:name",
        check: Callable[[Any], str | None] | None = None,
        dot_form: bool = False,
        docs: str = "",
    ) -> None:
        self.family = family
        self.example = example
        self.docs = docs
        self._check = check
        self._dot_form = dot_form
        self._entries: dict[str, Entry] = {
            name: Entry(name, target, summary) for name, (target, summary) in entries.items()
        }
        self._loaded: dict[str, T] = {}

    # --- the names -------------------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.family!r}, {list(self._entries)})"

    def names(self) -> list[str]:
        return list(self._entries)

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def entry(self, name: str) -> Entry:
        self.check_name(name, load=False)
        return self._entries[name]

    def summary(self, name: str) -> str:
        return self.entry(name).summary

    def items(self) -> list[tuple[str, T]]:
        """`(name, object)` for every registered entry (imports them all)."""
        return [(name, self.load(name)) for name in self._entries]

    def help(self, sep: str = "; ") -> str:
        """One `name: summary` per entry, for `--help`."""
        return sep.join(f"{e.name}: {e.summary}" for e in self._entries.values())

    def argument(self, text: str, *, default: str | None = None, metavar: str = "NAME") -> dict[str, Any]:
        """`add_argument` keywords for a flag naming one entry: `text`, the default, every entry and the
        dotted-path form in its help; a name that is neither exits 2 with a did-you-mean (`arg_type`)."""
        shown = f" (default {default})" if default is not None else ""
        return {
            "type": self.arg_type,
            "default": default,
            "metavar": metavar,
            "help": f"{text}{shown}: {self.help()}; or a dotted path like {self.example}",
        }

    def is_dotted(self, name: str) -> bool:
        """True for a user's entry named by import path rather than by a registered name."""
        if name in self._entries:
            return False
        return ":" in name or (self._dot_form and "." in name)

    # --- validation and loading ------------------------------------------------------------------
    def unknown(self, name: object) -> UnknownName:
        """The error for a name that is not registered, with a did-you-mean where one is close."""
        close = difflib.get_close_matches(str(name), self.names(), n=1) if isinstance(name, str) else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return UnknownName(
            f"unknown {self.family} {name!r}: expected one of {self.names()} "
            f"or a dotted path like {self.example}{hint}"
        )

    def check_name(self, name: str, *, load: bool = True) -> str:
        """`name` if it is registered or (with `load`) a loadable dotted path; else UnknownName."""
        if isinstance(name, str) and name in self._entries:
            return name
        if isinstance(name, str) and self.is_dotted(name):
            if load:
                self.load(name)
            return name
        raise self.unknown(name)

    def check_names(self, names: Iterable[str]) -> list[str]:
        """Each name checked once (dotted paths loaded); every unknown one in one `UnknownName`."""
        names = list(names)
        unknown = [n for n in names if not (isinstance(n, str) and (n in self._entries or self.is_dotted(n)))]
        if unknown:
            hints = [
                f"{n!r}: did you mean {close[0]!r}?"
                for n in unknown
                if isinstance(n, str) and (close := difflib.get_close_matches(n, self.names(), n=1))
            ]
            raise UnknownName(
                f"unknown {self.family} {unknown}: expected names from {self.names()} "
                f"or a dotted path like {self.example}" + (f" ({'; '.join(hints)})" if hints else "")
            )
        for name in names:
            self.check_name(name)
        return names

    def load(self, name: str) -> T:
        """The object a registered name or a dotted path points to (imported once, then cached)."""
        if name in self._loaded:
            return self._loaded[name]
        if name in self._entries:
            obj = load_target(self._entries[name].target, what=f"{self.family} {name!r}")
        elif isinstance(name, str) and self.is_dotted(name):
            obj = load_target(name, what=self.family, dot_form=self._dot_form)
        else:
            raise self.unknown(name)
        problem = self._check(obj) if self._check else None
        if problem:
            raise ValueError(f"{self.family} {name!r}: {problem}")
        self._loaded[name] = obj
        return obj

    def arg_type(self, value: str) -> str:
        """An argparse `type=`: registered names and dotted paths pass; others exit 2 with the reason.

        Dotted paths are loaded here, so a bad one is refused before any work starts.
        """
        try:
            return self.check_name(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None


def argument_across(
    registries: list[Registry[Any]], text: str, *, default: str | None = None, metavar: str = "NAME"
) -> dict[str, Any]:
    """`add_argument` keywords for a flag naming an entry of one of several families, when the command
    decides later which family applies (`eval run --agent` names a navigation adapter on episodes and a
    grounding adapter on a grounding set). A name registered in none of them, and not a dotted path,
    exits 2 with a did-you-mean over all their names; the command checks it against its family."""

    def check(value: str) -> str:
        if any(value in r for r in registries) or any(r.is_dotted(value) for r in registries):
            return value
        names = list(dict.fromkeys(n for r in registries for n in r.names()))
        close = difflib.get_close_matches(value, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        families = " or ".join(r.family for r in registries)
        raise argparse.ArgumentTypeError(f"unknown {families} {value!r}: expected one of {names}{hint}")

    shown = f" (default {default})" if default is not None else ""
    helps = "; ".join(f"{r.family}s: {', '.join(r.names())}" for r in registries)
    return {
        "type": check,
        "default": default,
        "metavar": metavar,
        "help": f"{text}{shown}. {helps}; or a dotted path like {registries[0].example}",
    }
