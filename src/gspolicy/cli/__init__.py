"""The ``gspolicy`` command line (click).

Every command reports problems as located diagnostics (``file:line:col: code: message``, the
line underlined, then help; a file under the working folder named relative to it) in Chinese or
English and exits 1; it never shows a traceback for bad input.  Exit codes: 0 success, 1 problems
found in the input, 2 bad command-line usage (the command's usage, what is wrong, a suggestion
for a mistyped command or option), 130 interrupted (Ctrl-C), 70 an internal error (a bug: set
``GSPOLICY_DEBUG=1`` to see the traceback).  ``--lang zh|en`` stands before or after the command
(default: ``GSPOLICY_LANG``, else the locale); help and usage errors speak it too.

Each command family is a module of this package, loaded only when one of its commands runs (or
its help is shown): ``gspolicy --help`` and ``--version`` import click and nothing heavy.  A new
command is a module declaring it (`gspolicy.cli._support.command`) and a line in `COMMANDS`.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import attrs
import click

from gspolicy._i18n import Text, default_lang
from gspolicy._location import paths_relative_to
from gspolicy.cli._click_zh import install, language, speaking, translate
from gspolicy.cli._support import EXIT_INTERRUPTED, EXIT_OK, Command, Group, Option, lang_of

__all__ = ["COMMANDS", "Entry", "entry", "main", "root"]


@attrs.frozen
class Entry:
    """A command of ``gspolicy``: its name, where it is declared (``module:attribute``) and the
    line the top-level help gives it (so that listing the commands loads none of them)."""

    name: str
    target: str
    short: Text


COMMANDS: tuple[Entry, ...] = (
    Entry("evaluate", "gspolicy.cli.evaluate:evaluate", Text(zh="判定记录文件中每户的退出结论", en="decide exit acceptance for every household in record files")),
    Entry("explain", "gspolicy.cli.explain:explain", Text(zh="解释一户的判定及全部理由", en="explain the decision on one household")),
    Entry("households", "gspolicy.cli.households:households", Text(zh="校验农户记录文件并汇总", en="validate household record files (JSON, JSONL, YAML) and summarise them")),
    Entry("validate", "gspolicy.cli.packs:validate", Text(zh="加载并检查政策包；逐一定位报告问题", en="load and check policy packs; report every problem, located")),
    Entry("check", "gspolicy.cli.packs:check", Text(zh="发布前检查政策包：每项发现均有代码和位置", en="lint packs before publishing them: every finding coded and located")),
    Entry("diff", "gspolicy.cli.packs:diff", Text(zh="两个版本的政策包有何变化、影响哪些农户", en="what changes between two versions of packs, and for whom")),
    Entry("test", "gspolicy.cli.packs:test", Text(zh="运行政策包旁的 YAML 测试用例", en="run the YAML test cases next to the packs")),
    Entry("book", "gspolicy.cli.packs:book", Text(zh="由政策包生成政策手册（Markdown，中英文）", en="write the policy book (Markdown, zh and en) generated from the packs")),
    Entry("init", "gspolicy.cli.packs:init", Text(zh="建立工作区：把随软件安装的政策集复制到 DIR/policies", en="start a workspace: copy the bundled policy set into DIR/policies")),
    Entry("monitor", "gspolicy.cli.monitor:monitor", Text(zh="以事件跟踪农户，预警写为 JSONL（需 durable 扩展）", en="watch households through events and write alerts as JSONL (needs the durable extra)")),
    Entry("log", "gspolicy.cli.log:log", Text(zh="防篡改的判定日志：记录、校验、重放", en="the tamper-evident decision log: record, verify, replay")),
    Entry("ledger", "gspolicy.cli.ledger:ledger", Text(zh="农户工作台账：计划、进度、明白卡、逾期、统计", en="the household work ledger: plans, progress, cards, overdue items, counts")),
    Entry("lists", "gspolicy.cli.lists:lists", Text(zh="按批次或责任部门列出待落实措施的管理名单", en="the management lists of measures due, per batch or responsible department")),
    Entry("stats", "gspolicy.cli.stats:stats", Text(zh="季度统计：按统计包计算登记文件的数字（表格、CSV、Excel、JSON）", en="a quarter's statistics over registry files (table, CSV, Excel, JSON)")),
    Entry("fmt", "gspolicy.cli.fmt:fmt", Text(zh="把政策包、测试用例和数据结构排成统一格式（--check 检查，--write 写回）", en="lay packs, test cases and the schema out in the canonical layout (--check, --write)")),
    Entry("report", "gspolicy.cli.report:report", Text(zh="挂图作战：一个季度的进度写成自包含的 HTML", en="the wall chart: a quarter's progress as one self-contained HTML file")),
    Entry("reconcile", "gspolicy.cli.reconcile:reconcile_command", Text(zh="核对部门报表与登记数据的统计数字，列出差异及所含农户", en="reconcile a department's reported figures with the registry: every difference, with its households")),
    Entry("serve", "gspolicy.cli.serve:serve", Text(zh="以 HTTP 提供判定服务（需 serve 扩展）", en="serve decisions over HTTP: decide, explain, areas, pack checks (needs the serve extra)")),
    Entry("schema", "gspolicy.cli.schema:schema", Text(zh="打印随软件安装的 JSON Schema（政策包、测试用例、农户记录、判定、结果）", en="print a shipped JSON Schema (pack, case, household, decision, outcome, manifest)")),
)  # fmt: skip
"""The commands, in the order the help lists them."""

_VERSION_HELP = Text(zh="显示程序版本并退出。", en="Show the version and exit.")


class _Root(Group):
    """``gspolicy``: loads a command's module only when the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [e.name for e in COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = next((e for e in COMMANDS if e.name == cmd_name), None)
        if found is None:
            return None
        module, _, attribute = found.target.partition(":")
        made = getattr(importlib.import_module(module), attribute)
        assert isinstance(made, click.Command)
        return made

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        lang = language()
        with formatter.section(translate("Commands")):
            formatter.write_dl([(e.name, e.short.get(lang)) for e in COMMANDS])


def _version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from importlib import metadata  # noqa: PLC0415

    try:
        version = metadata.version("gspolicy")
    except metadata.PackageNotFoundError:
        version = "unknown"
    click.echo(f"gspolicy 版本 {version}" if language() == "zh" else f"gspolicy {version}")
    ctx.exit(EXIT_OK)


def _make_root() -> _Root:
    made = _Root(
        "gspolicy",
        help_text=Text(
            zh="甘肃脱贫攻坚政策的可解释代码。在命令后加 --help 查看其用法，例如 gspolicy evaluate --help。",
            en="Gansu poverty-alleviation policy as explainable code. "
            "Add --help after a command for its usage, e.g. gspolicy evaluate --help.",
        ),
    )
    made.params.append(
        Option(
            ["--version"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_version,
            help_text=_VERSION_HELP,
        )
    )
    return made


root = _make_root()
"""The top-level group (for tests and tools: `root.get_command(ctx, name)`)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on `argv` (default: the process's arguments); return the exit code."""
    for stream in (sys.stdout, sys.stderr):
        # a text that cannot be encoded (a lone surrogate from a file name or an argument) is
        # written escaped, never a crash halfway through the output
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    args = list(sys.argv[1:] if argv is None else argv)
    lang = lang_of(args) or default_lang()
    install()
    with speaking(lang), paths_relative_to(os.getcwd()):
        try:
            result: Any = root.main(args=args, prog_name="gspolicy", standalone_mode=False)
        except click.ClickException as err:
            err.show()
            if (
                isinstance(err, click.UsageError)
                and err.ctx is not None
                and isinstance(err.ctx.command, Command)
            ):
                return err.ctx.command.usage_exit
            return err.exit_code
        except click.exceptions.Exit as done:  # --help, --version (click 8.1 raises it here)
            return int(done.exit_code)
        except click.Abort:
            return EXIT_INTERRUPTED
        except SystemExit as done:  # shell completion (`_GSPOLICY_COMPLETE`) ends so
            return done.code if isinstance(done.code, int) else int(done.code is not None)
    return result if isinstance(result, int) else EXIT_OK


_ALLOCATOR = ("_RJEM_MALLOC_CONF", "dirty_decay_ms:5000,muzzy_decay_ms:5000")
"""Polars' allocator keeps the pages one block frees for the next blocks for five seconds
instead of handing them back within half a second (Polars' own setting, which this one follows
and overrides), so a registry read block by block faults far fewer pages
in: a million households' statistics took 3.5 CPU-s of system time instead of 7, for 70 MB more
peak memory (713 MiB); 30 s saved one more second for 150 MB more.  Set before Polars is
loaded, and only when the environment does not set it."""


def entry() -> None:
    """The console-script entry point."""
    if "polars" not in sys.modules:
        os.environ.setdefault(*_ALLOCATOR)
    raise SystemExit(main())
