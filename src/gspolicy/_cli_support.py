"""Shared plumbing of the command line: the argument parser, exit codes, dates, problem output.

Commands live beside the features they drive (``gspolicy.cli`` for the core ones, a ``cli``
module in a feature package for the others); each exposes ``register(sub, common)`` that adds
its sub-parser and sets ``run=`` to a function ``(args, lang) -> exit code``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from gspolicy._i18n import Lang, parse_lang
from gspolicy.errors import Diagnostic, render_diagnostics

__all__ = [
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "Parser",
    "date_arg",
    "lang_arg",
    "path_arg",
    "print_problems",
    "whole_number",
]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70


class Parser(argparse.ArgumentParser):
    """argparse that exits 2 with a one-line message (no traceback, no long usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]  # argparse declares NoReturn
        self.print_usage(sys.stderr)
        sys.stderr.write(f"gspolicy: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def lang_arg(value: str) -> Lang:
    lang = parse_lang(value)
    if lang is None:
        raise argparse.ArgumentTypeError(f"`{value}` is not a language: use `zh` or `en`")
    return lang


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argument type: a whole number from `low` to `high` (never an overflow further on)."""

    def parse(value: str) -> int:
        text = value.strip()
        if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > len(str(high)) + 1:
            raise argparse.ArgumentTypeError(f"`{value}` is not a whole number from {low} to {high}")
        number = int(text)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"`{value}` is not a whole number from {low} to {high}")
        return number

    return parse


def path_arg(value: str) -> Path:
    """An argument type: a path this system can name (a lone surrogate cannot be one)."""
    try:
        usable = "\x00" not in value and bool(os.fsencode(value))
    except UnicodeEncodeError:
        usable = False
    if not usable:
        shown = value.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        shown = shown.replace("\x00", "\\x00")
        raise argparse.ArgumentTypeError(f"`{shown}` is not a file name this system can use")
    return Path(value)


def date_arg(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"`{value}` is not a date: write YYYY-MM-DD, e.g. 2018-12-31"
        ) from None


def print_problems(diagnostics: Sequence[Diagnostic], lang: Lang, out: TextIO) -> None:
    """Render diagnostics (sorted, with a count) when there are any."""
    if diagnostics:
        out.write(render_diagnostics(diagnostics, lang) + "\n")
