"""``gspolicy fmt [--check|--write] PATH...``: lay packs, test cases and the household schema out in
the one canonical layout (`gspolicy.pack.fmt`; docs/reference/packs.md, "Layout")."""

from __future__ import annotations

import argparse
import sys

from gspolicy._i18n import Lang, Text
from gspolicy.cli._support import PATH, argument, command, option, print_problems

__all__ = ["fmt"]


@command(
    "fmt",
    help=Text(
        zh="把政策包、测试用例文件和农户数据结构排成统一格式（键的顺序、两格缩进、短值写在一行、保留注释），"
        "不改变任何取值。--check（默认）只检查：有文件需要重排时列出差异并以 1 退出；--write 写回文件。"
        "任一文件有问题时不写入任何文件（以 2 退出）。",
        en="Lay packs, test-case files and the household schema out in the one canonical layout (key "
        "order, two-space indent, short values on one line, comments kept) without changing any "
        "value. --check (the default) only checks: it shows the diff and exits 1 when a file would "
        "change; --write rewrites the files. A file with a problem means nothing is written (exit 2).",
    ),
)
@argument(
    "paths",
    nargs=-1,
    required=True,
    type=PATH,
    metavar="PATH...",
    help=Text(
        zh="YAML 文件或文件夹（文件夹中的 *.yaml、*.yml，隐藏文件夹除外）",
        en="YAML files or folders (the *.yaml and *.yml in them, hidden folders left out)",
    ),
)
@option(
    "--check/--write",
    "check",
    default=True,
    help=Text(
        zh="--check：只检查并列出差异（默认）；--write：写回需要重排的文件",
        en="--check: only check and show the diff (default); --write: rewrite the files that differ",
    ),
)
def fmt(args: argparse.Namespace, lang: Lang) -> int:
    """Check or write the canonical layout."""
    from gspolicy.pack.fmt_files import format_paths  # noqa: PLC0415

    result = format_paths(list(args.paths), write=not args.check)
    print_problems(list(result.diagnostics), lang, sys.stderr)
    if args.check and result.diff:
        sys.stdout.write(result.diff)
    sys.stdout.write(result.summary(lang) + "\n")
    return result.exit_code
