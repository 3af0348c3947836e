"""Every command explains itself: each option and argument has help text and
each command ends its --help with an example that the parser accepts."""

import argparse
import shlex

import pytest

from qpki.cli.parser import build_parser


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


COMMANDS = [(group, action, command) for group, group_parser in _subparsers(build_parser()).items()
            for action, command in _subparsers(group_parser).items()]


def test_there_are_commands():
    assert len(COMMANDS) >= 38


@pytest.mark.parametrize("group,action,command", COMMANDS, ids=[f"{g} {a}" for g, a, c in COMMANDS])
def test_every_option_has_help_and_the_command_an_example(group, action, command):
    undocumented = [act.option_strings or act.dest for act in command._actions
                    if not isinstance(act, argparse._HelpAction) and not act.help]
    assert not undocumented
    assert command.epilog and command.epilog.startswith("example:\n  ")
    line = command.epilog.split("\n", 1)[1].strip()
    words = shlex.split(line)
    while words and "=" in words[0]:  # an environment variable set for the example
        words.pop(0)
    assert words[0] == "qpki", line
    words = words[1:]
    parsed = build_parser().parse_args(words)
    assert (parsed.group, parsed.action) == (group, action)
    # what the console script parses with: only the group the words name is built
    assert vars(build_parser(words).parse_args(words)) == vars(parsed)


def test_the_parser_for_some_words_builds_only_their_group():
    groups = _subparsers(build_parser(["crl", "info", "x.crl"]))
    assert set(groups) == {group for group, dummy, dummy in COMMANDS}
    assert _subparsers(groups["crl"]) and not any(
        _subparsers(parser) for name, parser in groups.items() if name != "crl")
    top = build_parser(["--help"]).format_help()
    assert top == build_parser().format_help()
