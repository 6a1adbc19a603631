"""Options several commands share, declared once (zh and en help).  A shared option added
later (``--detail``) is declared here and placed above each command that takes it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import click

from gspolicy._i18n import Text
from gspolicy.cli._support import DATE, PATH, Parsed, argument, option

__all__ = ["AS_OF", "DETAIL", "FILES", "POLICIES", "REPORT_SHEET", "TOLERANCE"]

POLICIES = option(
    "--policies",
    type=PATH,
    multiple=True,
    metavar="PATH",
    help=Text(
        zh="政策根目录或政策包路径（可重复；默认：GSPOLICY_POLICIES、当前文件夹的 policies/，否则随软件安装的政策集）",
        en="policy root or pack paths (repeatable; default: GSPOLICY_POLICIES, a local policies/, "
        "else the bundled policies)",
    ),
)
AS_OF = option(
    "--as-of",
    type=DATE,
    default=None,
    help=Text(zh="判定日期（默认：今天）", en="the assessment date (default: today)"),
)
FILES = argument(
    "files",
    nargs=-1,
    required=True,
    type=PATH,
    metavar="FILE...",
    help=Text(
        zh="农户记录文件：JSON、JSONL、YAML，或登记表（CSV、Parquet、xlsx）",
        en="household record files: JSON, JSONL, YAML, or registry tables (CSV, Parquet, xlsx)",
    ),
)
DETAIL = option(
    "--detail",
    type=click.Choice(["fails", "brief", "full"]),
    default="brief",
    help=Text(
        zh="解释的详细程度：fails（只列未通过与待定的指标及其依据）、brief（默认：另加每个通过的指标一行）、"
        "full（全部理由）；文本与 JSON 均适用",
        en="how much an explanation says: fails (only failing and undetermined criteria, with what "
        "lies behind them), brief (default: also one line per passing criterion) or full (every "
        "reason); for text and JSON alike",
    ),
)


def _tolerance(text: str) -> Decimal | Text:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        return Text(zh=f"`{text}` 不是不小于 0 的数", en=f"`{text}` is not a number ≥ 0")
    return value


TOLERANCE = option(
    "--tolerance",
    type=Parsed("N", _tolerance),
    default=None,
    help=Text(
        zh="对所有指标接受的差额（默认：各指标在统计包中的 tolerance，未写为 0）",
        en="the difference accepted for every indicator (default: each indicator's tolerance in "
        "the statistics pack, else 0)",
    ),
)
REPORT_SHEET = option(
    "--sheet",
    default=None,
    metavar="NAME",
    help=Text(
        zh="Excel 报表的工作表（默认：第一个）", en="the sheet of an Excel report (default: the first)"
    ),
)
