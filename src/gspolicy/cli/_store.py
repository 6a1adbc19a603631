"""What the ``gspolicy log`` and ``gspolicy ledger`` commands share.

The ``--db`` and ``--format`` options, the entry argument, problems reported as diagnostics, and
output written as it is made."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import click

from gspolicy._i18n import Lang, Text
from gspolicy.cli._support import EXIT_PROBLEMS, PATH, WholeNumber, argument, option, print_problems
from gspolicy.errors import PolicyError

__all__ = ["DB", "ENTRY", "ENTRY_ID", "FORMAT", "Command", "guarded", "out"]

Command = Callable[[argparse.Namespace, Lang], int]


def guarded(run: Command) -> Command:
    """Report `PolicyError`s as diagnostics and exit 1 (never a traceback for bad input)."""

    def wrapper(args: argparse.Namespace, lang: Lang) -> int:
        try:
            return run(args, lang)
        except PolicyError as err:
            print_problems(err.diagnostics, lang, sys.stderr)
            return EXIT_PROBLEMS

    return wrapper


ENTRY = WholeNumber(1, 2**63 - 1)  # SQLite's largest row id

DB = option(
    "--db",
    type=PATH,
    required=True,
    metavar="PATH",
    help=Text(zh="判定日志（SQLite 文件）", en="the decision log (SQLite file)"),
)
FORMAT = option(
    "--format",
    type=click.Choice(["text", "json"]),
    default="text",
    help=Text(zh="输出格式：text（默认）或 json", en="output: text (default) or json"),
)
ENTRY_ID = argument(
    "entry", type=ENTRY, metavar="ID", help=Text(zh="日志条目编号", en="the log entry's number")
)


def out(text: str) -> None:
    """Write `text` to stdout now (a long listing shows as it is made)."""
    sys.stdout.write(text)
    sys.stdout.flush()
