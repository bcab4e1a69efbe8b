"""The generic registry type every user-extendable family is built on, and one contract for every family."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pytest

from actions.registry import Registry, UnknownName
from phone_r1.families import FAMILIES


def is_callable(obj):
    return None if callable(obj) else f"expected a function, found {type(obj).__name__}"


def make() -> Registry:
    return Registry(
        "thing",
        {"join": ("os.path:join", "joins paths"), "split": ("os.path:split", "splits a path")},
        example="my_pkg.mod:fn",
        check=is_callable,
    )


def test_names_and_help_import_nothing():
    reg = Registry("thing", {"x": ("a_module_that_does_not_exist:f", "never imported")})
    assert reg.names() == ["x"] and "x" in reg and len(reg) == 1
    assert reg.help() == "x: never imported"
    assert "a_module_that_does_not_exist" not in sys.modules


def test_load_by_name_and_by_dotted_path():
    import os.path

    reg = make()
    assert reg.load("join") is os.path.join
    assert reg.load("os.path:basename") is os.path.basename
    assert reg.check_name("os.path:dirname") == "os.path:dirname"


def test_unknown_name_lists_names_and_suggests():
    with pytest.raises(UnknownName, match=r"unknown thing 'jion'.*\['join', 'split'\].*did you mean 'join'"):
        make().check_name("jion")


def test_bad_dotted_paths_say_what_failed():
    reg = make()
    with pytest.raises(ValueError, match="cannot import module 'no_such_mod'"):
        reg.load("no_such_mod:f")
    with pytest.raises(ValueError, match="has no 'nope'"):
        reg.load("os.path:nope")
    with pytest.raises(ValueError, match="expected a function, found str"):
        reg.load("os.path:sep")


def test_dot_form_only_where_allowed():
    import os.path

    assert Registry("r", {}, dot_form=True).load("os.path.join") is os.path.join
    with pytest.raises(UnknownName):
        Registry("r", {}).load("os.path.join")


def test_arg_type_exits_2_with_the_reason(capsys):
    parser = argparse.ArgumentParser(prog="p")
    parser.add_argument("--thing", type=make().arg_type)
    assert parser.parse_args(["--thing", "split"]).thing == "split"
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["--thing", "spilt"])
    assert exc.value.code == 2
    assert "did you mean 'split'" in capsys.readouterr().err


# --- every family of phone_r1.families: one contract ----------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("family", FAMILIES.names())
def test_family_contract(family, capsys):
    registry = FAMILIES.load(family)
    assert isinstance(registry, Registry) and len(registry) > 0
    docs = (ROOT / registry.docs).read_text(encoding="utf-8")
    for entry in registry.entries():
        obj = registry.load(entry.name)  # loads and passes the family's check
        # A dotted path to an entry's target is the same object (users' own entries use this form).
        assert registry.load(entry.target) is obj and registry.check_name(entry.target) == entry.target
        assert entry.summary and "\n" not in entry.summary, entry.name
        # Objects that carry their own name (protocols, adapters) carry the registered one.
        assert getattr(obj, "name", entry.name) == entry.name
        # The family's docs page lists every entry, in a table row or a card.
        assert re.search(rf"^(\| `{re.escape(entry.name)}` \||### `{re.escape(entry.name)}`)", docs, re.M), (
            f"{registry.docs} has no table row or card for {family} {entry.name!r}"
        )
    near = registry.names()[0] + "x"
    with pytest.raises(UnknownName, match=rf"unknown {registry.family} '{re.escape(near)}'.*did you mean"):
        registry.check_name(near)
    with pytest.raises(UnknownName, match=rf"\['{re.escape(near)}'\].*did you mean"):
        registry.check_names([registry.names()[0], near])
    with pytest.raises(ValueError, match="cannot load it"):
        registry.load("os.path:no_such_thing")
    with pytest.raises(ValueError, match=f"{registry.family} 'os.path:sep'"):
        registry.load("os.path:sep")  # a string is no entry of any family: the check refuses it
    parser = argparse.ArgumentParser(prog="p")
    parser.add_argument("--name", **registry.argument("an entry"))
    assert parser.parse_args(["--name", registry.names()[-1]]).name == registry.names()[-1]
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["--name", near])
    assert exc.value.code == 2 and "did you mean" in capsys.readouterr().err


def test_families_are_listed_in_the_help(capsys):
    from phone_r1.cli import main

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {name}: " in out for name in FAMILIES)
