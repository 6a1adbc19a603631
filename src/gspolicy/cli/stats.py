"""``gspolicy stats``: a quarter's figures over a registry's files, as the statistics packs in force
on its last day declare them — an aligned table, CSV, an Excel workbook or JSON.

Every household is decided as of the quarter's last day (`gspolicy.stats.registry`); the writers
are `gspolicy.stats.write`.  Bad usage (a quarter that names none, ``--format xlsx`` without
``--output``) exits 2 before any work; a file with a problem, or a quarter no statistics pack
covers, is reported as located diagnostics and exits 1 — with nothing written.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import click

from gspolicy._i18n import Lang, Text
from gspolicy.cli._options import FILES, POLICIES
from gspolicy.cli._run import policies as _policies
from gspolicy.cli._support import (
    EXIT_OK,
    EXIT_PROBLEMS,
    PATH,
    Parsed,
    command,
    option,
    print_problems,
)
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.pack.policy_set import PolicySet
from gspolicy.stats.quarter import Quarter, parse_quarter

__all__ = ["stats"]

_SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".json": "json"}


def _quarter(text: str) -> Quarter | Text:
    try:
        return parse_quarter(text)
    except PolicyError as err:
        (problem,) = err.diagnostics
        return Text(
            zh=f"{problem.message('zh')}；{problem.help('zh') or ''}".rstrip("；"),
            en=f"{problem.message('en')}; {problem.help('en') or ''}".rstrip("; "),
        )


@command(
    "stats",
    help=Text(
        zh="按季度最后一天生效的统计包，计算登记文件中农户的季度统计数字（每户按该日判定），"
        "输出为对齐的表格、CSV、Excel 或 JSON。一户在其所属的每个批次或措施中都计数，"
        "故按批次或措施分组的户数之和不等于合计（输出中注明）。",
        en="Compute a quarter's figures over the households of registry files, as the statistics "
        "packs in force on its last day declare them (each household decided as of that day), and "
        "write them as an aligned table, CSV, Excel or JSON. A household counts in every batch or "
        "measure it holds, so the rows of a count by batch or measure do not add up to the total "
        "(the output says so).",
    ),
    short=Text(
        zh="季度统计：按统计包计算登记文件的数字（表格、CSV、Excel、JSON）",
        en="a quarter's statistics over registry files (table, CSV, Excel, JSON)",
    ),
)
@FILES
@option(
    "--quarter",
    type=Parsed("YYYYQN", _quarter),
    required=True,
    metavar="YYYYQN",
    help=Text(zh="统计的季度，例如 2020Q4", en="the quarter, e.g. 2020Q4"),
)
@option(
    "--format",
    type=click.Choice(["table", "csv", "xlsx", "json"]),
    default=None,
    help=Text(
        zh="输出格式：table（对齐的表格，默认）、csv（长表，每个数字一行）、xlsx（每个指标一个工作表，"
        "须给出 --output）或 json（默认取自 --output 的后缀）",
        en="output: table (aligned tables; the default), csv (long form, a line per figure), xlsx "
        "(a sheet per indicator; needs --output) or json (default: from the --output suffix)",
    ),
)
@option(
    "--output",
    type=PATH,
    default=None,
    metavar="PATH",
    help=Text(
        zh="写入 PATH（完整写入或不写入）而不是标准输出",
        en="write to PATH (whole, or not at all) instead of standard output",
    ),
)
@option(
    "--ids",
    is_flag=True,
    help=Text(
        zh="与 --format json 同用：列出每个数字背后的农户编号",
        en="with --format json: list the ids of the households behind every figure",
    ),
)
@POLICIES
@option(
    "--encoding",
    default="utf-8",
    metavar="NAME",
    help=Text(
        zh="CSV 登记表的编码（默认 UTF-8，可带字节顺序标记；例如 gb18030）",
        en="the encoding of CSV registry tables (default: UTF-8, with or without a byte-order mark; "
        "e.g. gb18030)",
    ),
)
def stats(args: argparse.Namespace, lang: Lang) -> int:
    """Compute and write a quarter's figures."""
    chosen = args.format or (_SUFFIXES.get(args.output.suffix.lower()) if args.output else None) or "table"
    usage = None
    if chosen == "xlsx" and args.output is None:
        usage = Text(
            zh="--format xlsx 须给出 --output FILE.xlsx", en="--format xlsx needs --output FILE.xlsx"
        )
    elif args.ids and chosen != "json":
        usage = Text(zh="--ids 只能与 --format json 同用", en="--ids goes with --format json only")
    if usage is not None:
        raise click.UsageError(usage.get(lang), click.get_current_context())
    problems = _output_problems(args.output, chosen)
    if problems:
        print_problems(problems, lang, sys.stderr)
        return EXIT_PROBLEMS
    policy_set = _policies(args.policies, lang)
    if policy_set is None:
        return EXIT_PROBLEMS
    try:
        data = _figures_output(policy_set, args, chosen, lang)
    except PolicyError as err:
        print_problems(err.diagnostics, lang, sys.stderr)
        return EXIT_PROBLEMS
    if args.output is None:
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
        return EXIT_OK
    from gspolicy.stats.write import write_atomic  # noqa: PLC0415

    try:
        write_atomic(args.output, data)
    except OSError as err:
        reason = err.strerror or str(err)
        print_problems(
            [Diagnostic("output/cannot-write", None, {"path": str(args.output), "reason": reason})],
            lang,
            sys.stderr,
        )
        return EXIT_PROBLEMS
    sys.stderr.write(f"已写入 {args.output}\n" if lang == "zh" else f"wrote {args.output}\n")
    return EXIT_OK


def _output_problems(output: Path | None, chosen: str) -> list[Diagnostic]:
    """What stops writing `output`, found before any work."""
    if output is None:
        return []
    problems = []
    folder = output.parent if str(output.parent) else Path()
    if not folder.is_dir():
        problems.append(Diagnostic("output/no-folder", None, {"path": str(output), "folder": str(folder)}))
    if chosen == "xlsx" and importlib.util.find_spec("xlsxwriter") is None:
        problems.append(Diagnostic("output/needs-extra", None, {"path": str(output)}))
    return problems


def _figures_output(policy_set: PolicySet, args: argparse.Namespace, chosen: str, lang: Lang) -> bytes:
    """The figures of the registry files in the chosen form; `PolicyError` when a file has a
    problem or no statistics pack is in force on the quarter's last day."""
    from gspolicy.stats import write  # noqa: PLC0415
    from gspolicy.stats.registry import columnar_figures, per_record_notes  # noqa: PLC0415

    quarter: Quarter = args.quarter
    _require_pack(policy_set, quarter)
    computed = columnar_figures(policy_set, args.files, quarter, encoding=args.encoding)
    print_problems(per_record_notes(computed), lang, sys.stderr)
    found = computed.figures
    if chosen == "csv":
        return write.csv_text(found, lang).encode("utf-8")
    if chosen == "xlsx":
        return write.xlsx_bytes(found, lang)
    if chosen == "json":
        return write.json_text(found, ids=args.ids).encode("utf-8")
    return write.table_text(found, lang).encode("utf-8")


def _require_pack(policy_set: PolicySet, quarter: Quarter) -> None:
    """A `PolicyError` (``stats/no-pack``) when no statistics pack is in force on `quarter`'s last
    day, naming the dates the statistics packs cover."""
    packs = policy_set.of_kind("statistics")
    if any(policy_set.in_force(p, quarter.last) is not None for p in packs):
        return
    covered = [
        f"{v.key} {v.pack.valid_from.isoformat()} – {v.pack.valid_to.isoformat() if v.pack.valid_to else '…'}"
        for p in packs
        for v in policy_set.versions(p)
    ]
    none = Text(zh="（政策集中没有统计包）", en="(the policy set has no statistics pack)")
    raise PolicyError(
        [
            Diagnostic(
                "stats/no-pack",
                None,
                {
                    "quarter": str(quarter),
                    "last": quarter.last.isoformat(),
                    "covered": "; ".join(covered) or none,
                },
                context=(("option", "--quarter"),),
            )
        ]
    )
