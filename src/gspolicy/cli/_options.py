"""Options several commands share, declared once (zh and en help).  A shared option added
later (``--detail``) is declared here and placed above each command that takes it."""

from __future__ import annotations

import click

from gspolicy._i18n import Text
from gspolicy.cli._support import DATE, PATH, argument, option

__all__ = ["AS_OF", "DETAIL", "FILES", "POLICIES"]

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
