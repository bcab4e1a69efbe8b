"""Every command shown in README.md and docs/*.md must exist: subcommands, flags, make targets, scripts.

Commands are taken from fenced `bash`/`sh`/`console` blocks; a `phone-r1 ...` line is parsed by the
real argument parser (without running it), so a renamed flag or a typo in the docs fails here.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from phone_r1.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"```(bash|sh|console|shell)\n(.*?)```", re.S)


def shell_commands(text: str) -> list[str]:
    commands = []
    for language, block in FENCE.findall(text):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip()
            if language == "console" and not line.startswith("$ "):
                continue  # program output, not a command
            if line.startswith("$ "):
                line = line[2:]
            try:
                line = shlex.join(shlex.split(line, comments=True))
            except ValueError:  # an unbalanced quote is kept as written; the parse test reports it
                pass
            if not line:
                continue
            # split compound lines and strip env assignments (`MODEL=x make demo`)
            for part in re.split(r"\s*(?:&&|\|\||;|\|)\s*", line):
                words = part.split()
                while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
                    words.pop(0)
                if words:
                    commands.append(" ".join(words))
    return commands


def documented(prefix: str) -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for command in shell_commands(doc.read_text(encoding="utf-8")):
            if command.split()[0] == prefix:
                found.append((doc.name, command))
    return found


def test_docs_show_commands():
    assert documented("phone-r1"), "README/docs show no phone-r1 command"
    assert documented("make")


@pytest.mark.parametrize(("doc", "command"), documented("phone-r1"))
def test_phone_r1_command_parses(doc, command):
    argv = shlex.split(command)[1:]
    argv = [a for a in argv if not a.startswith(">")]
    if "--help" in argv or "-h" in argv:
        argv = [a for a in argv if a not in ("--help", "-h")]
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
    except SystemExit as exc:  # argparse reports the bad flag on stderr
        pytest.fail(f"{doc}: `{command}` does not parse (exit {exc.code})")
    assert getattr(args, "func", None) is not None, f"{doc}: `{command}` names no subcommand"
    # `train grpo/sft` forward unknown flags to TrlParser, which checks them against the recipe dataclasses
    if unknown and argv[:1] != ["train"]:
        pytest.fail(f"{doc}: `{command}` has unknown arguments {unknown}")


@pytest.mark.parametrize(("doc", "command"), documented("make"))
def test_make_target_exists(doc, command):
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-zA-Z][\w-]*):", makefile, re.M))
    for word in shlex.split(command)[1:]:
        if "=" in word or word.startswith("-"):
            continue
        assert word in targets, f"{doc}: `{command}` names no Makefile target {word!r}"


def script_commands() -> list[tuple[str, str]]:
    found = documented("bash") + documented("sbatch")
    for doc in DOCS:
        for command in shell_commands(doc.read_text(encoding="utf-8")):
            if command.split()[0].lstrip("./").startswith("scripts/"):
                found.append((doc.name, command))
    return found


@pytest.mark.parametrize(("doc", "command"), script_commands())
def test_scripts_exist(doc, command):
    words = shlex.split(command)
    script = words[0] if words[0].lstrip("./").startswith("scripts/") else words[1]
    assert (ROOT / script).exists(), f"{doc}: `{command}` names a missing script {script}"
