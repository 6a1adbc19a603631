"""The ``gspolicy`` command line.

Every command reports problems as located diagnostics (``file:line:col: code: message``, the
line underlined, then help) in Chinese or English and exits 1; it never shows a traceback for
bad input.  Exit codes: 0 success, 1 problems found in the input, 2 bad command-line usage,
70 an internal error (a bug: set ``GSPOLICY_DEBUG=1`` to see the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from gspolicy._i18n import Lang, default_lang, parse_lang
from gspolicy._resources import bundled_schema_path
from gspolicy.errors import Diagnostic, render_diagnostics
from gspolicy.schema.load import read_schema
from gspolicy.schema.model import Record, Schema
from gspolicy.schema.records import load_records_from

__all__ = ["main"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with a one-line message (no traceback, no long usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]  # argparse declares NoReturn
        self.print_usage(sys.stderr)
        sys.stderr.write(f"gspolicy: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _lang(value: str) -> Lang:
    lang = parse_lang(value)
    if lang is None:
        raise argparse.ArgumentTypeError(f"`{value}` is not a language: use `zh` or `en`")
    return lang


def _build_parser() -> _Parser:
    parser = _Parser(prog="gspolicy", description="Gansu poverty-alleviation policy as explainable code.")
    parser.add_argument(
        "--lang", type=_lang, default=None, help="language of messages: zh or en (default: from the locale)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    households = sub.add_parser(
        "households",
        help="validate household record files (JSON, JSONL, YAML) and print a summary",
        description="Validate household record files against the household schema and print a summary.",
    )
    households.add_argument("files", nargs="+", type=Path, metavar="FILE")
    households.add_argument(
        "--schema", type=Path, default=None, help="schema file (default: the bundled one)"
    )
    households.add_argument("--format", choices=("text", "json"), default="text")
    households.set_defaults(run=_cmd_households)
    return parser


def _print_problems(diagnostics: Sequence[Diagnostic], lang: Lang, out: TextIO) -> None:
    if diagnostics:
        out.write(render_diagnostics(diagnostics, lang) + "\n")


def _load_schema(path: Path | None, lang: Lang) -> Schema | None:
    schema, problems = read_schema(path or bundled_schema_path())
    if schema is None or any(d.is_error for d in problems):
        _print_problems(problems, lang, sys.stderr)
        return None
    return schema


def _summary(records: Sequence[Record], schema: Schema) -> dict[str, object]:
    statuses: Counter[str] = Counter()
    causes: Counter[str] = Counter()
    counties: Counter[str] = Counter()
    members = 0
    for record in records:
        registration = record.get("registration")
        if isinstance(registration, Record):
            statuses[str(registration.get("status", "(missing)"))] += 1
            causes[str(registration.get("main_cause", "(missing)"))] += 1
        else:
            statuses["(missing)"] += 1
            causes["(missing)"] += 1
        counties[str(record.get("county_code", "(missing)"))] += 1
        people = record.get("members")
        if isinstance(people, tuple):
            members += len(people)
    return {
        "households": len(records),
        "members": members,
        "by_status": dict(sorted(statuses.items())),
        "by_main_cause": dict(sorted(causes.items())),
        "by_county": dict(sorted(counties.items())),
        "schema": f"{schema.id}@{schema.version}",
    }


def _label(schema: Schema, enum_name: str, code: str, lang: Lang) -> str:
    enum = schema.enums.get(enum_name)
    if enum is None or code not in enum.codes:
        return code
    return enum.value(code).title.get(lang)


def _cmd_households(args: argparse.Namespace, lang: Lang) -> int:
    schema = _load_schema(args.schema, lang)
    if schema is None:
        return EXIT_PROBLEMS
    records, problems = load_records_from(args.files, schema)
    _print_problems(problems, lang, sys.stderr)
    if any(d.is_error for d in problems):
        return EXIT_PROBLEMS
    summary = _summary(records, schema)
    if args.format == "json":
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    zh = lang == "zh"
    lines = [
        (f"已校验 {summary['households']} 户、{summary['members']} 人（数据结构 {summary['schema']}）")
        if zh
        else f"validated {summary['households']} households, {summary['members']} members "
        f"(schema {summary['schema']})",
        "按贫困户状态：" if zh else "by status:",
    ]
    by_status = summary["by_status"]
    assert isinstance(by_status, dict)
    for code, count in by_status.items():
        lines.append(f"  {_label(schema, 'poverty_status', code, lang)}: {count}")
    lines.append("按主要致贫原因：" if zh else "by main cause of poverty:")
    by_cause = summary["by_main_cause"]
    assert isinstance(by_cause, dict)
    for code, count in by_cause.items():
        lines.append(f"  {_label(schema, 'poverty_cause', code, lang)}: {count}")
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    lang: Lang = args.lang or default_lang()
    run: Callable[[argparse.Namespace, Lang], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return run(args, lang)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as err:
        if os.environ.get("GSPOLICY_DEBUG"):
            raise
        sys.stderr.write(
            (
                "gspolicy：内部错误（程序缺陷，请报告）："
                if lang == "zh"
                else "gspolicy: internal error (a bug, please report it): "
            )
            + f"{type(err).__name__}: {err}\n"
        )
        return EXIT_INTERNAL


def entry() -> None:
    """The console-script entry point."""
    raise SystemExit(main())
