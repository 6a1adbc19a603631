"""``gspolicy lists``: the management lists per batch or per responsible department — the
households with the measures due, from the work ledger or planned from the decisions."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import click

from gspolicy._i18n import Lang, Text
from gspolicy.cli._options import FILES, POLICIES
from gspolicy.cli._run import policies
from gspolicy.cli._store import guarded
from gspolicy.cli._support import DATE, EXIT_OK, EXIT_PROBLEMS, PATH, command, option, print_problems
from gspolicy.errors import Diagnostic
from gspolicy.stats.lists import (
    ManagementLists,
    due_from_ledger,
    due_from_outcomes,
    management_lists,
    registry_ids,
)
from gspolicy.stats.registry import decided_pairs
from gspolicy.store.ledger import Ledger
from gspolicy.store.log import DecisionLog
from gspolicy.tables import XLSX_MAX_ROWS

__all__ = ["lists", "render_csv", "render_table", "sheet_names", "write_xlsx"]


@command(
    "lists",
    help=Text(
        zh="按批次或责任部门列出管理名单：有待落实措施的农户、金额、期限和责任部门（格式由统计包的 lists: 声明）。",
        en="Write the management lists per batch or responsible department: the households with the "
        "measures due, their amounts, deadlines and responsible departments (layout from the "
        "statistics pack's `lists:`).",
    ),
)
@FILES
@option(
    "--by",
    type=click.Choice(["batch", "department"]),
    required=True,
    help=Text(zh="按批次（batch）或责任部门（department）分列", en="one list per batch or per department"),
)
@option(
    "--as-of",
    type=DATE,
    required=True,
    help=Text(zh="名单日期：此日尚未完成的措施", en="the day of the lists: the measures not done on it"),
)
@option(
    "--ledger",
    type=PATH,
    default=None,
    metavar="DB",
    help=Text(
        zh="工作台账（SQLite 文件）：列出其当前计划中的事项；不给时按判定结果现场制定（无期限）",
        en="the work ledger (SQLite file): list its current plans' items; without it, the items are "
        "planned from the decisions as the ledger plans them (no deadline)",
    ),
)
@option(
    "--format",
    type=click.Choice(["table", "csv", "xlsx"]),
    default="table",
    help=Text(
        zh="输出格式：table（默认，按组分节）、csv（一个文件，首列为批次或部门）、xlsx（每组一个工作表，需 --output）",
        en="output: table (default, a section per group), csv (one file, the batch or department "
        "first) or xlsx (a sheet per group; needs --output)",
    ),
)
@option(
    "--output",
    "-o",
    type=PATH,
    default=None,
    metavar="PATH",
    help=Text(zh="写入此文件（默认：标准输出）", en="write to this file (default: stdout)"),
)
@POLICIES
@option(
    "--encoding",
    default="utf-8",
    metavar="NAME",
    help=Text(
        zh="CSV 登记表的编码（默认 UTF-8；例如 gb18030）",
        en="the encoding of CSV registry tables (default: UTF-8; e.g. gb18030)",
    ),
)
def lists(args: argparse.Namespace, lang: Lang) -> int:
    """Write the management lists."""
    return guarded(_cmd_lists)(args, lang)


def _cmd_lists(args: argparse.Namespace, lang: Lang) -> int:
    if args.format == "xlsx" and args.output is None:
        raise click.UsageError(
            Text(zh="--format xlsx 需要 --output 文件", en="--format xlsx needs --output FILE").get(lang)
        )
    policy_set = policies(list(args.policies or ()) or None, lang)
    if policy_set is None:
        return EXIT_PROBLEMS
    if args.ledger is not None:  # the ledger's items of the files' households
        ids = registry_ids(policy_set, args.files, encoding=args.encoding)
        with DecisionLog.open(args.ledger, create=False) as log:
            due = list(due_from_ledger(Ledger(log), args.as_of, ids))
    else:
        pairs = decided_pairs(policy_set, args.files, args.as_of, encoding=args.encoding)
        due = list(due_from_outcomes(policy_set, pairs))
    made = management_lists(policy_set, due, args.as_of, args.by)
    if args.format == "xlsx":
        rows = max((len(g.items) for g in made.groups), default=0)
        if rows > XLSX_MAX_ROWS:
            found = {"path": str(args.output), "rows": f"{rows:,}", "limit": f"{XLSX_MAX_ROWS:,}"}
            print_problems([Diagnostic("output/too-many-rows", None, found)], lang, sys.stderr)
            return EXIT_PROBLEMS
        return _written(lambda path: write_xlsx(made, path, lang), args.output, lang)
    text = render_csv(made, lang) if args.format == "csv" else render_table(made, lang)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    return _written(lambda path: path.write_text(text, encoding="utf-8", newline=""), args.output, lang)


def _written(write: Callable[[Path], object], output: Path, lang: Lang) -> int:
    """Write through `write(temp)` to a temporary file beside `output`, then move it into place:
    never a partial file."""
    handle, name = tempfile.mkstemp(
        dir=output.parent if str(output.parent) else None, prefix=f".{output.name}.", suffix=".tmp"
    )
    os.close(handle)
    temp = Path(name)
    try:
        write(temp)
        os.replace(temp, output)
    except OSError as err:
        problem = Diagnostic(
            "output/cannot-write", None, {"path": str(output), "reason": err.strerror or str(err)}
        )
        print_problems([problem], lang, sys.stderr)
        return EXIT_PROBLEMS
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return EXIT_OK


def render_table(made: ManagementLists, lang: Lang) -> str:
    """The lists as aligned text: a heading per group (its title, households and items), then its
    rows under the layout's headers."""
    out: list[str] = []
    head = made.headers(lang)
    for group in made.groups:
        rows = made.rows(group, lang)
        count = (
            f"{group.households} 户，{len(group.items)} 项"
            if lang == "zh"
            else f"{group.households} households, {len(group.items)} items"
        )
        key = f" ({group.key})" if group.key and group.key != group.title.get(lang) else ""
        out.append(f"== {group.title.get(lang)}{key} — {count} ==")
        widths = [max(_width(c) for c in col) for col in zip(head, *rows, strict=True)]
        for line in (head, *rows):
            out.append(
                "  ".join(c + " " * (w - _width(c)) for c, w in zip(line, widths, strict=True)).rstrip()
            )
        out.append("")
    if not made.groups:
        out.append("（无待落实的措施）" if lang == "zh" else "(no measures due)")
    return "\n".join(out) + "\n"


def _width(text: str) -> int:
    """Display width: a CJK character takes two columns."""
    return sum(2 if ord(ch) >= 0x1100 and not 0xFF61 <= ord(ch) <= 0xFFDC else 1 for ch in text)


def render_csv(made: ManagementLists, lang: Lang) -> str:
    """The lists as one CSV text: the batch or department (its title) first, then the layout."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([made.group_header(lang), *made.headers(lang)])
    for group in made.groups:
        title = group.title.get(lang)
        writer.writerows([title, *row] for row in made.rows(group, lang))
    return buffer.getvalue()


_SHEET_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


def sheet_names(made: ManagementLists, lang: Lang) -> list[str]:
    """A sheet name per group: its title in `lang` without the characters Excel refuses, at most
    31 characters, made unique by a number where two would be the same (Excel ignores case)."""
    names: list[str] = []
    taken: set[str] = set()
    for group in made.groups:
        base = (group.title.get(lang).translate(_SHEET_FORBIDDEN).strip("'") or group.key or "-")[:31]
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            suffix = f" ({n})"
            name = base[: 31 - len(suffix)] + suffix
        taken.add(name.casefold())
        names.append(name)
    return names


def write_xlsx(made: ManagementLists, path: Path, lang: Lang) -> None:
    """The lists as an Excel workbook at `path`: a sheet per group, the layout's headers on the
    first row, every cell text."""
    import xlsxwriter  # type: ignore[import-untyped]  # noqa: PLC0415  # only when Excel is written

    workbook = xlsxwriter.Workbook(str(path))
    try:
        head = made.headers(lang)
        sheets = zip(sheet_names(made, lang), made.groups, strict=True)
        for name, group in sheets:
            sheet = workbook.add_worksheet(name)
            for row, line in enumerate((head, *made.rows(group, lang))):
                for col, cell in enumerate(line):
                    sheet.write_string(row, col, cell)
        if not made.groups:
            sheet = workbook.add_worksheet("-")
            for col, cell in enumerate(head):
                sheet.write_string(0, col, cell)
    finally:
        workbook.close()
