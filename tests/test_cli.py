import subprocess
import sys

from phone_r1.cli import SUBCOMMANDS, build_parser, main


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
