"""The generic registry type every user-extendable family is built on."""

from __future__ import annotations

import argparse
import sys

import pytest

from actions.registry import Registry, UnknownName


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
