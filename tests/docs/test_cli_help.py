"""Every flag of every example and benchmark says what it does and, where
it has one, its default, once (`--help` is what a newcomer reads first)."""

import argparse
import re

import pytest

from tests.docs.markdown_blocks import REPO
from tests.docs.scripts import SCRIPTS
from tests.docs.scripts import script_parser


def described_actions(parser):
    return [
        action
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction)
    ]


@pytest.mark.parametrize(
    "script", SCRIPTS, ids=lambda p: str(p.relative_to(REPO))
)
def test_every_flag_has_help_and_its_default_once(script):
    parser = script_parser(script)
    formatter = parser._get_formatter()
    problems = []
    for action in described_actions(parser):
        flag = "/".join(action.option_strings) or action.dest
        if action.help == argparse.SUPPRESS:
            continue  # hidden on purpose (internal flags)
        if not action.help:
            problems.append(f"{flag}: no help")
            continue
        text = formatter._expand_help(action)
        shows_default = action.default not in (None, False, argparse.SUPPRESS)
        if shows_default and action.option_strings:
            default = str(action.default)
            if "default" not in text.lower():
                problems.append(f"{flag}: default {default!r} not shown")
            elif len(re.findall(r"\(default|default:", text)) > 1:
                problems.append(f"{flag}: default shown twice: {text!r}")
    assert not problems, problems
