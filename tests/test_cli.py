import subprocess
import sys
from pathlib import Path

import pytest

from phone_r1.cli import SUBCOMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def test_every_subcommand_has_help():
    parser = build_parser()
    for name, _, _ in SUBCOMMANDS:
        # argparse exits 0 after printing help
        try:
            parser.parse_args([name, "--help"])
        except SystemExit as exc:
            assert exc.code == 0, name


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "phone-r1" in capsys.readouterr().out


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "phone_r1.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "phone-r1" in out.stdout


BROKEN_IMPORT = '''
import sys


class _Broken:
    """Makes one subcommand module unimportable, as a bug in it would."""

    def find_spec(self, name, path=None, target=None):
        if name == "training.cli":
            raise ImportError("training.cli is broken on purpose")
        return None


sys.meta_path.insert(0, _Broken())
'''


def test_a_subcommand_module_that_fails_to_import_fails_loudly(tmp_path):
    import os
    from pathlib import Path

    (tmp_path / "sitecustomize.py").write_text(BROKEN_IMPORT, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    script = Path(sys.executable).with_name("phone-r1")
    cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "phone_r1.cli"]
    for argv in (["--help"], ["train", "grpo", "--help"], ["eval", "--help"]):
        out = subprocess.run([*cmd, *argv], capture_output=True, text=True, env=env)
        assert out.returncode == 1, (argv, out.stdout)
        assert "Traceback" in out.stderr and "ImportError: training.cli is broken on purpose" in out.stderr
    # Without the broken module the same commands work.
    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    assert subprocess.run([*cmd, "--help"], capture_output=True, env=env).returncode == 0


def test_merge_is_its_own_command(capsys):
    assert main(["merge", "--help"]) == 0
    assert "ADAPTER" in capsys.readouterr().out
    assert main(["serve", "a", "b"]) == 2  # serve takes one checkpoint, no second word
    assert "unrecognized arguments: b" in capsys.readouterr().err


def test_every_positional_has_help():
    import argparse

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    yield from walk(child, [*path, name])
            elif not action.option_strings:
                yield path, action

    missing = [(" ".join(p), a.dest) for p, a in walk(build_parser(), ["phone-r1"]) if not a.help]
    assert missing == []


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["train", "grpo", "--config", "training/recipes/tiny/grpo.yaml", "--reward_funcs", "acton"],
            "'action'",
        ),
        (
            ["eval", "run", "--episodes", "e", "--predictions", "p", "-o", "o", "--protocol", "aitww"],
            "'aitw'",
        ),
        (
            ["eval", "run", "--episodes", "e", "--predictions", "p", "-o", "o", "--agent", "os-atlass"],
            "'os-atlas'",
        ),
        (["eval", "report", "r.jsonl", "--protocol", "bx"], "'box'"),
        (["eval", "rescore", "r.jsonl", "--protocol", "gui-r2"], "'gui-r1'"),
        (["ui", "--episodes", "data/demo/test", "--agent", "ui-tars-1.6"], "'ui-tars-1.5'"),
        (["data", "import", "androidcontral", "src", "-o", "out"], "'androidcontrol'"),
    ],
    ids=["recipe-reward", "protocol", "agent", "report-protocol", "rescore-protocol", "ui-agent", "importer"],
)
def test_an_unknown_name_in_any_family_exits_2_with_a_did_you_mean(argv, expected, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"did you mean {expected}?" in err.splitlines()[-1], err  # one line, after argparse's usage


def test_a_bad_importer_path_exits_2_naming_what_failed(tmp_path, capsys):
    argv = ["data", "import", "no_such_pkg.mod:import_episodes", str(tmp_path), "-o", str(tmp_path / "o")]
    assert main(argv) == 2
    assert "cannot import module 'no_such_pkg.mod'" in capsys.readouterr().err
