"""``gspolicy report``: the wall chart (挂图作战) of a registry in one quarter, one self-contained
HTML file (inline CSS and SVG; no network, no other file), printable on A3 landscape."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from gspolicy._i18n import Lang, Text
from gspolicy.cli._options import FILES, POLICIES, REPORT_SHEET, TOLERANCE
from gspolicy.cli._run import policies, records
from gspolicy.cli._support import EXIT_OK, EXIT_PROBLEMS, PATH, Parsed, command, option, print_problems
from gspolicy.errors import PolicyError
from gspolicy.schema.model import Record
from gspolicy.stats.quarter import Quarter, parse_quarter
from gspolicy.stats.reconcile import indicators_in_force, read_report
from gspolicy.stats.report import render_report, wall_chart

__all__ = ["report"]


def _quarter(text: str) -> Quarter | Text:
    try:
        return parse_quarter(text)
    except PolicyError:
        return Text(
            zh=f"`{text}` 不是季度，应写作 2020Q4 这样", en=f"`{text}` is not a quarter: write it as 2020Q4"
        )


@command(
    "report",
    help=Text(
        zh="把登记户在一个季度的进度写成一个自包含的 HTML 文件（挂图作战）：各县、各村按计划脱贫年度的进度、"
        "各批次户数、未达标指标、缓冲期到期和统计数字；图为内嵌 SVG，可离线打开、邮寄，按 A3 横向每县一页打印。"
        "给出 --reconcile 时，像 gspolicy reconcile 一样核对部门报表，逐项列出差异及其所含农户。",
        en="Write a registry's progress in one quarter as one self-contained HTML file (the wall chart): "
        "per county and village, progress against the planned exit year, households by batch, failing "
        "criteria, buffer periods ending and the statistics figures; inline SVG charts, opened offline or "
        "mailed, printed one county per A3 landscape page.  With --reconcile, a department's report is "
        "reconciled with the figures as `gspolicy reconcile` does, and every difference is shown with "
        "the households behind it.",
    ),
    short=Text(
        zh="挂图作战：一个季度的进度写成自包含的 HTML",
        en="the wall chart: a quarter's progress as one self-contained HTML file",
    ),
)
@FILES
@option(
    "--quarter",
    type=Parsed("quarter", _quarter),
    required=True,
    help=Text(
        zh="季度，例如 2020Q4（按其最后一天判定）", en="the quarter, e.g. 2020Q4 (decided as of its last day)"
    ),
)
@option(
    "--output",
    type=PATH,
    required=True,
    help=Text(
        zh="写入的 HTML 文件（整体写入，不留半个文件）",
        en="the HTML file to write (written whole, never in part)",
    ),
)
@option(
    "--villages",
    type=PATH,
    multiple=True,
    help=Text(
        zh="村记录文件：给出则判定各村退出（可重复）",
        en="village records: villages are decided too (repeatable)",
    ),
)
@option(
    "--counties",
    type=PATH,
    multiple=True,
    help=Text(
        zh="县记录文件：给出则判定各县摘帽（可重复）",
        en="county records: counties are decided too (repeatable)",
    ),
)
@option(
    "--reconcile",
    "reconcile_report",
    type=PATH,
    default=None,
    metavar="REPORT",
    help=Text(
        zh="部门报表（CSV 或 Excel）：与算出的统计数字核对，差异写在挂图上",
        en="a department's report (CSV or Excel): reconciled with the computed figures, the "
        "differences shown on the chart",
    ),
)
@REPORT_SHEET
@TOLERANCE
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
def report(args: argparse.Namespace, lang: Lang) -> int:
    """Write the wall chart."""
    policy_set = policies(args.policies, lang)
    if policy_set is None:
        return EXIT_PROBLEMS
    areas: dict[str, tuple[Record, ...]] = {}
    for kind, files in (("village", args.villages), ("county", args.counties)):
        if files:
            found = records(files, policy_set, lang, kind=kind)
            if found is None:
                return EXIT_PROBLEMS
            areas[kind] = found
    try:
        report = None
        if args.reconcile_report is not None:
            indicators = indicators_in_force(policy_set, args.quarter)
            report = read_report(
                args.reconcile_report, indicators, args.quarter, sheet=args.sheet, encoding=args.encoding
            )
        chart = wall_chart(
            policy_set,
            args.files,
            args.quarter,
            areas=areas,
            report=report,
            tolerance=args.tolerance,
            encoding=args.encoding,
        )
    except PolicyError as err:
        print_problems(err.diagnostics, lang, sys.stderr)
        return EXIT_PROBLEMS
    _write_whole(args.output, render_report(chart, lang))
    sys.stderr.write(
        (
            f"已写入 {args.output}（{len(chart.counties)} 个县）"
            if lang == "zh"
            else f"wrote {args.output} ({len(chart.counties)} counties)"
        )
        + "\n"
    )
    if chart.reconciled is not None:
        n = len(chart.differences)
        sys.stderr.write(
            (f"对账差异 {n} 处" if lang == "zh" else f"{n} reconciliation difference{'s' * (n != 1)}") + "\n"
        )
    return EXIT_OK


def _write_whole(path: Path, text: str) -> None:
    """Write `text` to a file beside `path`, then put it in `path`'s place."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path())
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as an ordinary new file (not mkstemp's 0600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
