"""``gspolicy schema [NAME]``: print one of the JSON Schemas shipped with gspolicy (or list them)."""

from __future__ import annotations

import argparse
import sys

from gspolicy._i18n import Lang, Text
from gspolicy.cli._support import EXIT_OK, EXIT_USAGE, argument, command, print_problems
from gspolicy.errors import PolicyError

__all__ = ["schema"]

_WHAT = {
    "case": Text(zh="政策包测试用例文件（tests/*.yaml）", en="a file of pack test cases (tests/*.yaml)"),
    "decision": Text(
        zh="判定的 JSON（explain / evaluate --format json）",
        en="a decision as JSON (explain / evaluate --format json)",
    ),
    "household": Text(zh="农户记录（JSON）", en="a household record as JSON"),
    "manifest": Text(
        zh="结果表的运行清单（OUT.manifest.json）", en="an outcome table's run manifest (OUT.manifest.json)"
    ),
    "outcome": Text(
        zh="结果表的一行（evaluate --output）", en="one row of an outcome table (evaluate --output)"
    ),
    "pack": Text(zh="政策包文件", en="a policy pack file"),
    "stats": Text(zh="季度统计数字（stats --format json）", en="a quarter's figures (stats --format json)"),
}


@command(
    "schema",
    help=Text(
        zh="打印随软件安装的 JSON Schema（编辑器与应用程序用它校验政策包、测试用例、农户记录与输出）；"
        "不给 NAME 时列出全部名称。",
        en="Print a JSON Schema shipped with gspolicy (editors and applications check packs, test "
        "cases, household records and outputs with them); without NAME, list their names.",
    ),
)
@argument(
    "name",
    required=False,
    default=None,
    metavar="[NAME]",
    help=Text(zh="Schema 名称，如 pack、case、decision", en="the schema's name, e.g. pack, case, decision"),
)
def schema(args: argparse.Namespace, lang: Lang) -> int:
    """Print a shipped JSON Schema, or list them."""
    from gspolicy.schemas import schema_names, schema_path, schema_text  # noqa: PLC0415

    if args.name is None:
        for name in schema_names():
            what = _WHAT.get(name)
            sys.stdout.write(f"{name}\t{what.get(lang) if what else ''}\t{schema_path(name)}\n")
        return EXIT_OK
    try:
        text = schema_text(args.name)
    except PolicyError as err:
        print_problems(err.diagnostics, lang, sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK
