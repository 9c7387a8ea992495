"""The documentation stays true: every `epizoo` command it shows parses with the command's own
arguments, its links resolve, and the Python pipeline of docs/python.md runs as written."""
from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from importlib import import_module

import pytest

from conftest import REPO
from epizoo.cli import COMMANDS

PAGES = [REPO / "README.md", REPO / "model-template" / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
FENCED = re.compile(r"```(\w*)\n(.*?)```", re.S)


def _blocks(language: str) -> list[tuple[str, str]]:
    return [(page.relative_to(REPO).as_posix(), body) for page in PAGES
            for lang, body in FENCED.findall(page.read_text()) if lang == language]


def shell_pages() -> list[str]:
    return sorted({page for page, _ in _blocks("bash")})


def shell_lines(page: str) -> list[str]:
    """The shell lines of a page's bash blocks, in order (continuations and quotes that span lines
    joined, comments dropped); ``page`` relative to the repository."""
    lines = []
    for where, body in _blocks("bash"):
        pending = ""
        for line in body.replace("\\\n", " ").splitlines() if where == page else []:
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line.startswith("#") and not pending:
                continue
            pending = f"{pending} {line}".strip()
            if pending and _quotes_closed(pending):
                lines.append(re.sub(r"\s+", " ", pending))
                pending = ""
        assert not pending, f"{page}: a quote is not closed in `{pending}`"
    return lines


def _quotes_closed(line: str) -> bool:
    try:
        shlex.split(line)
    except ValueError:
        return False
    return True


def _commands() -> list[tuple[str, list[str]]]:
    """Every `epizoo ...` command line of the pages' bash blocks (shell substitutions as X)."""
    found = []
    for page in shell_pages():
        for line in shell_lines(page):
            words = shlex.split(re.sub(r"\$\([^)]*\)", "X", line))
            if words[0] == "epizoo" or words[:3] == ["python", "-m", "epizoo"]:
                found.append((page, words[words.index("epizoo") + 1:]))
    return found


class _Refused(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _Refused(message)


def test_the_pages_show_epizoo_commands():
    commands = {words[0] for _, words in _commands()}
    assert {"new", "weights", "check", "list", "catalogue", "train", "score-variants", "impute"} <= commands


@pytest.mark.parametrize("page, words", _commands(), ids=lambda value: " ".join(value)[:60] if isinstance(value, list) else value)
def test_every_documented_command_parses(page, words):
    assert words[0] in COMMANDS, f"{page}: `epizoo {words[0]}` is not a command"
    parser = _Parser(prog=f"epizoo {words[0]}")
    import_module(COMMANDS[words[0]][0]).add_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")
    try:
        parser.parse_args(words[1:])
    except _Refused as refused:
        pytest.fail(f"{page}: `epizoo {' '.join(words)}`: {refused}")


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)[^)]*\)", page.read_text()):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(REPO)} -> {target}")
    assert not broken, broken


def test_the_python_pipeline_runs_as_written():
    (page, pipeline), = [(page, body) for page, body in _blocks("python") if page == "docs/python.md"]
    result = subprocess.run([sys.executable, "-c", pipeline], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'profile': (8, 2048, 15), 'counts': (8, 15)" in result.stdout
    assert "(10, 2048, 4)" in result.stdout
