"""Every command of the command line is wired: in the parser, documented, and run by its own handler;
and every portal kind is one ``--kind`` takes.

Removing a subcommand from the parser, a handler from ``HANDLERS`` or a kind from the ``--kind``
choices fails a test here.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from btvstat_open import cli
from connectors.kinds import KINDS, kind_class

ROOT = Path(__file__).parent.parent
# as code, not prose; a command's name may hold a hyphen (build-site)
DOCUMENTED = re.compile(r"(?:^|`|\$ )btvstat-open ([a-z]+(?:-[a-z]+)*)(?: ([a-z]+))?", re.M)
# "btvstat-open" followed by a word that is no command: the default publisher, a sentence's start
NOT_COMMANDS = {"local", "serves"}


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def commands() -> dict[str, list[str]]:
    """Every runnable command line of the parser (one per action of ``user``...), by the name the
    command line dispatches it under ("catalog validate", "user")."""
    found: dict[str, list[str]] = {}
    for name, sub in _subparsers(cli.build_parser()).items():
        nested = _subparsers(sub)
        for argv in [_argv(f"{name} {n}", p) for n, p in nested.items()] if nested else [_argv(name, sub)]:
            found[cli._name(cli.build_parser().parse_args(argv))] = argv
    return found


def _argv(name: str, parser: argparse.ArgumentParser) -> list[str]:
    """The shortest command line that parses: a placeholder for each required argument."""
    argv = name.split()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):  # a third level: `catalog translations stamp`
            first, sub = next(iter(action.choices.items()))
            return _argv(f"{name} {first}", sub)
        value = str(next(iter(action.choices))) if action.choices else "x"
        if not action.option_strings and action.nargs not in ("?", "*", argparse.SUPPRESS):
            argv.append(value)
        elif action.option_strings and action.required:
            argv += [action.option_strings[0], value]
    return argv


def test_every_command_has_a_handler_and_every_handler_a_command() -> None:
    assert set(commands()) == set(cli.HANDLERS)
    for name in cli.HANDLERS:
        assert callable(cli._handler(name)), name


@pytest.mark.parametrize("name", sorted(cli.HANDLERS))
def test_each_command_runs_its_own_handler(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[tuple[str, str]] = []

    def handler(wanted: str) -> Callable[[argparse.Namespace], int]:
        def run(args: argparse.Namespace) -> int:
            ran.append((wanted, cli._name(args)))
            return 0

        return run

    monkeypatch.setattr(cli, "_handler", handler)
    assert cli.dispatch(cli.build_parser().parse_args(commands()[name])) == 0
    assert ran == [(name, name)]


def test_every_command_is_documented_and_every_documented_one_exists() -> None:
    text = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
    documented = set()
    for word, sub in DOCUMENTED.findall(text):
        if word not in NOT_COMMANDS:
            documented.add(f"{word} {sub}" if f"{word} {sub}" in cli.HANDLERS else word)
    top = {name.split()[0] for name in commands()}
    assert top <= {name.split()[0] for name in documented}, "a command the README and docs never show"
    unknown = {name for name in documented if name.split()[0] not in top}
    assert not unknown, f"documented commands the parser lacks: {sorted(unknown)}"


@pytest.mark.parametrize("name", ["pull", "push", "sync"])
def test_kind_takes_every_portal_kind(name: str) -> None:
    command = _subparsers(cli.build_parser())[name]
    kind = next(a for a in command._actions if "--kind" in a.option_strings)
    assert set(kind.choices or ()) == {"auto", *KINDS}
    for each in KINDS:
        assert kind_class(each).__name__ == KINDS[each].target.split(":")[1]
