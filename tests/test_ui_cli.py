"""`phone-r1 ui` arguments: defaults, --auth parsing and clear errors before anything starts."""

from __future__ import annotations

import argparse

import pytest

from phone_r1.cli import build_parser, main
from ui.cli import parse_auth


def test_defaults_bind_localhost():
    args = build_parser().parse_args(["ui", "--episodes", "eps"])
    assert (args.host, args.port, args.auth, args.results, args.base_url) == (
        "127.0.0.1",
        7860,
        None,
        None,
        None,
    )


def test_all_flags_parse():
    args = build_parser().parse_args(
        [
            "ui",
            "--episodes",
            "eps",
            "--results",
            "a.jsonl",
            "--results-b",
            "b.jsonl",
            "--base-url",
            "http://127.0.0.1:8000/v1",
            "--model",
            "m",
            "--api-key-env",
            "KEY",
            "--host",
            "0.0.0.0",
            "--port",
            "9",
            "--auth",
            "alice:pa:ss",
        ]
    )
    assert args.auth == ("alice", "pa:ss") and args.api_key_env == "KEY" and str(args.results_b) == "b.jsonl"


@pytest.mark.parametrize("value", ["alice", ":pw", "alice:", ""])
def test_bad_auth_is_refused(value):
    with pytest.raises(argparse.ArgumentTypeError, match="USER:PASSWORD"):
        parse_auth(value)


def test_missing_folders_fail_before_launch(tmp_path, capsys):
    assert main(["ui", "--episodes", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["ui", "--episodes", str(tmp_path), "--results", str(tmp_path / "r.jsonl")]) == 2
    assert "--results" in capsys.readouterr().err


def test_an_episode_folder_or_an_empty_folder_fails_before_launch(tmp_path, capsys):
    from tests.helpers.data import make_raw_folder

    root = make_raw_folder(tmp_path / "raw", {"7": 2})
    (tmp_path / "empty").mkdir()
    assert main(["ui", "--episodes", str(root / "7")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "an episode folder" in err and str(root) in err
    assert main(["ui", "--episodes", str(tmp_path / "empty")]) == 2
    assert "found no episode folders" in capsys.readouterr().err
