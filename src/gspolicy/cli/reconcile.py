"""The ``gspolicy reconcile`` command: a department's reported figures against the registry's.

Reads the report (CSV or Excel, aggregate or household-level), computes the same figures from
the registry's files as of the quarter's last day and lists every difference beyond the
tolerance with the households behind it.  Exit 0 when all agree, 1 when the report or the data
cannot be read (nothing is compared), 2 when figures differ (see
docs/how-to/statistics-and-reconciliation.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from gspolicy._i18n import Lang, Text
from gspolicy.cli._options import FILES, POLICIES, REPORT_SHEET, TOLERANCE
from gspolicy.cli._run import policies
from gspolicy.cli._support import (
    EXIT_OK,
    EXIT_PROBLEMS,
    PATH,
    Parsed,
    argument,
    command,
    option,
    print_problems,
    write_table,
)
from gspolicy.errors import PolicyError
from gspolicy.stats.figures import Number
from gspolicy.stats.quarter import Quarter, parse_quarter
from gspolicy.stats.reconcile import (
    Difference,
    Report,
    check_keys,
    indicators_in_force,
    known_keys,
    read_report,
    reconcile,
)
from gspolicy.stats.registry import columnar_figures, per_record_notes

__all__ = ["EXIT_DIFFERENT", "reconcile_command"]

EXIT_DIFFERENT = 2
"""The exit status when the figures differ (the report and the data were read)."""


def _quarter(text: str) -> Quarter | Text:
    try:
        return parse_quarter(text)
    except PolicyError:
        return Text(
            zh=f"`{text}` 不是有效的季度：季度写作 2020Q4（年份、Q、再加 1 至 4）",
            en=f"`{text}` is not a quarter: write it as 2020Q4 (the year, Q, then 1 to 4)",
        )


@command(
    "reconcile",
    help=Text(
        zh="把部门报送的统计数字与登记数据算出的数字逐项核对，列出每处差异及其所含农户。"
        "报表为 CSV 或 Excel：汇总报表（季度、指标、分组键、数值）或户级报表（季度、指标、户、分组键）。"
        "全部一致退出码 0；报表或数据无法读取、或命令用法有误（未作核对）1；数字有差异 2。",
        en="Reconcile a department's reported figures with the figures computed from the registry: "
        "every difference, with the households behind it.  The report is CSV or Excel: aggregate "
        "(quarter, indicator, group keys, value) or household-level (quarter, indicator, household, "
        "group keys).  Exit 0 when all agree, 1 when the report or the data cannot be read or the "
        "command is misused (nothing compared), 2 when figures differ.",
    ),
    short=Text(
        zh="核对部门报表与登记数据的统计数字（“两张皮”）",
        en='reconcile a department\'s figures with the registry (the "two skins")',
    ),
    usage_exit=EXIT_PROBLEMS,  # 2 says "figures differ": bad usage compares nothing
)
@argument(
    "report",
    type=PATH,
    metavar="REPORT",
    help=Text(zh="部门报表：CSV 或 Excel（.xlsx）", en="the department's report: CSV or Excel (.xlsx)"),
)
@FILES
@option(
    "--quarter",
    required=True,
    type=Parsed("YYYYQN", _quarter),
    help=Text(zh="核对的季度，例如 2020Q4", en="the quarter reconciled, e.g. 2020Q4"),
)
@TOLERANCE
@option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    help=Text(zh="输出格式：table（默认）或 json", en="output: table (default) or json"),
)
@REPORT_SHEET
@POLICIES
@option(
    "--encoding",
    default="utf-8",
    metavar="NAME",
    help=Text(
        zh="CSV 报表和登记表的编码（默认 UTF-8，可带字节顺序标记；例如 gb18030）",
        en="the encoding of the CSV report and registry tables (default: UTF-8, with or without a "
        "byte-order mark; e.g. gb18030)",
    ),
)
def reconcile_command(args: argparse.Namespace, lang: Lang) -> int:
    """Reconcile a report with the registry."""
    policy_set = policies(args.policies, lang)
    if policy_set is None:
        return EXIT_PROBLEMS
    quarter: Quarter = args.quarter
    indicators = indicators_in_force(policy_set, quarter)
    try:
        report = read_report(args.report, indicators, quarter, sheet=args.sheet, encoding=args.encoding)
        found = columnar_figures(policy_set, args.files, quarter, encoding=args.encoding)
        computed = found.figures
        seen = {key: set(values) for key, values in found.keys.items()}
    except PolicyError as err:
        print_problems(err.diagnostics, lang, sys.stderr)
        return EXIT_PROBLEMS
    print_problems(per_record_notes(found), lang, sys.stderr)
    problems = check_keys(report, indicators, known_keys(policy_set, computed, seen))
    if problems:
        print_problems(problems, lang, sys.stderr)
        return EXIT_PROBLEMS
    differences = reconcile(computed, report, tolerance=args.tolerance)
    if args.fmt == "json":
        sys.stdout.write(json.dumps(_json(report, quarter, differences), ensure_ascii=False, indent=2) + "\n")
    else:
        _table(report, differences, lang)
    return EXIT_DIFFERENT if differences else EXIT_OK


def _plain(value: Number | None) -> Any:
    """A number as JSON holds it exactly: an int, or a decimal as text."""
    return value if value is None or isinstance(value, int) else str(value)


def _json(report: Report, quarter: Quarter, differences: Sequence[Difference]) -> dict[str, Any]:
    return {
        "report": report.path,
        "quarter": str(quarter),
        "layout": report.layout,
        "indicators": list(report.indicators),
        "agree": not differences,
        "differences": [
            {
                "indicator": d.indicator,
                "keys": dict(d.keys),
                "reported": _plain(d.reported),
                "computed": _plain(d.computed),
                "gap": _plain(d.gap),
                "tolerance": _plain(int(d.tolerance) if d.tolerance == int(d.tolerance) else d.tolerance),
                "households": list(d.households),
                "missing": list(d.missing),
                "extra": list(d.extra),
                "location": d.location.header() if d.location is not None else None,
            }
            for d in differences
        ],
    }


_ABSENT = Text(zh="（未报）", en="(not reported)")
_NONE = Text(zh="（无）", en="(none)")


def _table(report: Report, differences: Sequence[Difference], lang: Lang) -> None:
    zh = lang == "zh"
    household = report.layout == "household"
    head = (
        ["指标", "分组", "报送", "计算", "差额"]
        if zh
        else ["indicator", "keys", "reported", "computed", "gap"]
    )
    head += (["漏报农户", "多报农户"] if zh else ["missing", "extra"]) if household else []
    head += ["报表位置", "计算所含农户"] if zh else ["where", "households"]
    rows = []
    for d in differences:
        row: list[object] = [
            d.indicator,
            " ".join(f"{k}={v}" for k, v in d.keys),
            _ABSENT.get(lang) if d.reported is None else d.reported,
            0 if d.computed is None else d.computed,
            f"{d.gap:+}",
        ]
        if household:
            row += [",".join(d.missing) or "-", ",".join(d.extra) or "-"]
        row += [d.location.header() if d.location else "-", ",".join(d.households) or _NONE.get(lang)]
        rows.append(row)
    if rows:
        write_table(sys.stdout, head, rows)
    names = ", ".join(report.indicators)
    if not differences:
        sys.stderr.write(f"全部一致：{names}\n" if zh else f"all figures agree: {names}\n")
    else:
        sys.stderr.write(
            f"{len(differences)} 处差异（核对的指标：{names}）\n"
            if zh
            else f"{len(differences)} difference(s) (indicators compared: {names})\n"
        )
