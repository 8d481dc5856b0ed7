"""The README's examples run as written.

Every ```python block of README.md is executed as it stands (each in a fresh namespace, in an empty working
directory), and every ``clvkit`` command in its ```bash blocks names a subcommand and options the command
line really has (checked against the argument parser, without running the commands).
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from clvkit.cli import build_parser

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def _commands() -> list[list[str]]:
    """Each ``clvkit ...`` invocation of the bash blocks as tokens, comments and ``[optional]`` brackets removed.

    A line that starts with whitespace and ``[`` continues the command above it (the README's layout for
    long option lists).
    """
    commands: list[list[str]] = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            code = line.split("#", 1)[0].rstrip()
            if not code.strip():
                continue
            tokens = shlex.split(code.replace("[", " ").replace("]", " "))
            if line[:1].isspace() and code.lstrip().startswith("[") and commands:
                commands[-1].extend(tokens)
                continue
            for part in re.split(r"&&|\|\||;", code):
                words = shlex.split(part.replace("[", " ").replace("]", " "))
                for i, word in enumerate(words):
                    if word == "clvkit" or word.endswith("/clvkit") or words[i - 1 : i + 1] == ["-m", "clvkit"]:
                        commands.append(words[i + 1 :])
                        break
    return commands


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("the clvkit parser has no subcommands")


PYTHON_BLOCKS = _blocks("python")
COMMANDS = _commands()


def test_readme_has_examples() -> None:
    # guards the extraction itself: the README has a ten-line example and a command-line section
    assert len(PYTHON_BLOCKS) >= 1
    assert {"demo", "fit", "score", "tier", "binding", "--version"} <= {c[0] for c in COMMANDS if c}


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_block_runs(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    exec(compile(PYTHON_BLOCKS[index], f"README.md python block {index + 1}", "exec"), namespace)


def test_ten_lines_results() -> None:
    # The ten-line example's names hold what its comments say: the JSON round trip gives the same model.
    namespace: dict[str, object] = {}
    exec(compile(PYTHON_BLOCKS[0], "README.md python block 1", "exec"), namespace)
    bgnbd, same = namespace["bgnbd"], namespace["same"]
    assert same.params == bgnbd.params  # type: ignore[attr-defined]
    value = namespace["value"]
    summary = namespace["summary"]
    assert value.clv.shape == (len(summary),)  # type: ignore[attr-defined, arg-type]


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(c[:1]) or "(none)" for c in COMMANDS])
def test_bash_command_exists(words: list[str]) -> None:
    parser = build_parser()
    if words == ["--version"]:
        return
    sub = _subparsers(parser)
    assert words, "a bare 'clvkit' in the README"
    assert words[0] in sub, f"README uses 'clvkit {words[0]}', which is not a subcommand ({sorted(sub)})"
    known = set(sub[words[0]]._option_string_actions)
    options = [w.split("=", 1)[0] for w in words[1:] if w.startswith("-")]
    missing = [o for o in options if o not in known]
    assert not missing, f"README's 'clvkit {words[0]}' uses options it does not have: {missing}"
