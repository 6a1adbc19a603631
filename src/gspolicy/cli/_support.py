"""Shared plumbing of the command line: click classes that speak zh and en, argument types, exit
codes, problem output (coloured on a terminal) and the guard every command runs under.

A command is a function ``run(args, lang) -> exit code`` declared with `command`, `option` and
`argument` (each help a `Text`, zh and en).  ``args`` is a namespace of the parameters' values
(a repeatable option absent is None, a variadic argument a list).  Importing this module costs
only click: the features a command drives are imported by the command's own module, which the
root group loads when the command is run (``gspolicy --help`` loads none of them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from gspolicy._i18n import Lang, Text, parse_lang
from gspolicy.cli._click_zh import language, translate, translate_plural

if TYPE_CHECKING:
    from gspolicy.errors import Diagnostic

    _ParamType = click.ParamType[Any]
else:  # click 8.1 to 8.4: not generic
    _ParamType = click.ParamType

__all__ = [
    "DATE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "LANG",
    "PATH",
    "Argument",
    "Command",
    "Group",
    "Option",
    "Run",
    "WholeNumber",
    "argument",
    "coloured",
    "command",
    "group",
    "option",
    "print_problems",
    "run_guarded",
    "wrap_wide",
    "write_table",
]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

Run = Callable[[argparse.Namespace, Lang], int]


# --- parameters ------------------------------------------------------------------------------------


class Option(click.Option):
    """An option whose help is a `Text` (`help_text`), shown in the run's language; a repeatable
    option absent gives `empty` (None unless told)."""

    def __init__(
        self, param_decls: Sequence[str], *, help_text: Text, empty: object = None, **attrs: Any
    ) -> None:
        super().__init__(list(param_decls), **attrs)
        self.help_text = help_text
        self.empty = empty

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self.help = self.help_text.get(language())
        return super().get_help_record(ctx)


class Argument(click.Argument):
    """A positional argument with help (`help_text`), listed under "Arguments" in the help."""

    def __init__(self, param_decls: Sequence[str], *, help_text: Text, **attrs: Any) -> None:
        super().__init__(list(param_decls), **attrs)
        self.help_text = help_text

    def help_record(self, ctx: click.Context) -> tuple[str, str]:
        try:  # click 8.2 gave `make_metavar` the context
            metavar = self.make_metavar(ctx)  # type: ignore[call-arg,unused-ignore]
        except TypeError:
            metavar = self.make_metavar()  # type: ignore[call-arg,unused-ignore]
        return metavar, self.help_text.get(language())


_LANG_HELP = Text(
    zh="消息语言：zh 或 en（默认取自 GSPOLICY_LANG 或区域设置）；可写在命令前或命令后",
    en="language of messages: zh or en (default: GSPOLICY_LANG, else the locale); before or after the command",
)
_HELP_HELP = Text(zh="显示此帮助并退出。", en="Show this message and exit.")
ARGUMENTS = Text(zh="参数", en="Arguments")


class _Language(_ParamType):
    name = "zh|en"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Lang:
        found = parse_lang(str(value))
        if found is None:
            self.fail(
                Text(
                    zh=f"`{value}` 不是语言：请用 `zh` 或 `en`",
                    en=f"`{value}` is not a language: use `zh` or `en`",
                ).get(language()),
                param,
                ctx,
            )
        return found

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem  # noqa: PLC0415

        return [CompletionItem(lang) for lang in ("zh", "en") if lang.startswith(incomplete)]


LANG = _Language()


def _lang_option() -> Option:
    # read before parsing (`lang_of`), so that usage errors speak it too; declared so that click accepts it
    return Option(["--lang"], type=LANG, expose_value=False, help_text=_LANG_HELP, metavar="zh|en")


_NO_LINE_START = set("，。、；：？！）》」』”’")


def wrap_wide(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` terminal columns, a Chinese character counting two:
    a line breaks between words or beside a Chinese character (never before closing
    punctuation, which may run one character over)."""
    from gspolicy._location import display_width  # noqa: PLC0415

    tokens: list[str] = []
    for char in " ".join(text.split()):
        wide = display_width(char) == 2
        if char == " " or wide or not tokens or tokens[-1] == " " or display_width(tokens[-1][-1]) == 2:
            tokens.append(char)
        else:
            tokens[-1] += char
    lines: list[str] = []
    line, used = "", 0
    for token in tokens:
        size = display_width(token)
        if line and used + size > width and token != " " and token not in _NO_LINE_START:
            lines.append(line.rstrip())
            line, used = "", 0
        if not line and token == " ":
            continue
        line += token
        used += size
    if line.strip():
        lines.append(line.rstrip())
    return lines


class _Formatter(click.HelpFormatter):
    """Click's help formatter; in Chinese a full-width colon after a heading, and texts wrapped
    by terminal columns (a Chinese character takes two)."""

    def write_heading(self, heading: str) -> None:
        mark = "：" if language() == "zh" else ":"
        self.write(f"{'':>{self.current_indent}}{heading}{mark}\n")

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None and language() == "zh":
            prefix = "用法："  # click would add a space after the full-width colon
        super().write_usage(prog, args, prefix)

    def write_text(self, text: str) -> None:
        if language() != "zh":
            super().write_text(text)
            return
        indent = " " * self.current_indent
        paragraphs = text.split("\n\n")
        for index, paragraph in enumerate(paragraphs):
            if index:
                self.write("\n")
            if paragraph.startswith("\b\n"):  # click's mark: the lines as they are
                lines = paragraph.split("\n")[1:]
            else:
                lines = wrap_wide(paragraph, max(self.width - self.current_indent, 20))
            self.write("".join(f"{indent}{line}\n" for line in lines))

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        if language() != "zh":
            super().write_dl(rows, col_max, col_spacing)
            return
        listed = list(rows)
        first_col = min(max((len(first) for first, _ in listed), default=0), col_max) + col_spacing
        for first, second in listed:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if len(first) <= first_col - col_spacing:
                self.write(" " * (first_col - len(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap_wide(second, max(self.width - first_col - self.current_indent, 10)) or [""]
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


class _Context(click.Context):
    formatter_class = _Formatter


class _Speaking:
    """What commands and groups share: help in the run's language and a localised help option."""

    help_text: Text | None
    epilog_text: Text | None

    def _localise(self) -> None:
        lang = language()
        self.help = self.help_text.get(lang) if self.help_text is not None else None
        self.epilog = self.epilog_text.get(lang) if self.epilog_text is not None else None


class Command(_Speaking, click.Command):
    """A command whose help and epilog are `Text`s and whose arguments have help."""

    context_class = _Context

    def __init__(
        self,
        name: str,
        *,
        help_text: Text,
        short_text: Text | None = None,
        epilog_text: Text | None = None,
        usage_exit: int = EXIT_USAGE,
        **attrs: Any,
    ) -> None:
        super().__init__(name, **attrs)
        self.help_text = help_text
        self.short_text = short_text
        self.epilog_text = epilog_text
        # bad usage's exit: a command whose own exit codes give 2 a meaning (`reconcile`: the
        # figures differ) says "nothing was done" instead
        self.usage_exit = usage_exit
        self.params.append(_lang_option())
        self._localise()

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = _HELP_HELP.get(language())
        return option

    def get_short_help_str(self, limit: int = 45) -> str:
        self._localise()
        if self.short_text is not None:
            return self.short_text.get(language())
        # the first sentence of the help, whole (a short help cut at `limit` reads badly)
        text = self.help_text.get(language()) if self.help_text is not None else ""
        first = text.replace("。", ". ").split(". ", 1)[0].strip().rstrip(".")
        return first[:1].lower() + first[1:] if language() == "en" else first

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._localise()
        self.format_usage(ctx, formatter)
        self.format_help_text(ctx, formatter)
        rows = [p.help_record(ctx) for p in self.get_params(ctx) if isinstance(p, Argument)]
        if rows:
            with formatter.section(ARGUMENTS.get(language())):
                formatter.write_dl(rows)
        self.format_options(ctx, formatter)
        self.format_epilog(ctx, formatter)


class Group(Command, click.Group):
    """A group of commands that suggests the command meant when a name is mistyped; run with no
    command, it prints its help (on stderr for a nested group) and exits 2."""

    def __init__(self, name: str, **attrs: Any) -> None:
        super().__init__(
            name,
            invoke_without_command=True,
            no_args_is_help=False,
            subcommand_metavar="COMMAND [ARGS]...",
            **attrs,
        )

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        if not name.startswith("-") and self.get_command(ctx, name) is None and not ctx.resilient_parsing:
            message = translate("No such command {name!r}.").format(name=name)
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=3, cutoff=0.5)
            if close:
                shown = ", ".join(repr(c) for c in close)
                hint = translate_plural(
                    "Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", len(close)
                ).format(possibility=shown, possibilities=shown)
                message = f"{message} {hint}"
            raise click.UsageError(message, ctx)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        # click 8.1 keeps the command's name in `protected_args`, later versions in `_protected_args`
        words = ctx._protected_args if hasattr(ctx, "_protected_args") else ctx.protected_args
        if not words and not ctx.args:
            click.echo(ctx.get_help(), err=ctx.parent is not None)
            return EXIT_USAGE
        return super().invoke(ctx)


# --- declaring commands ----------------------------------------------------------------------------


def option(*decls: str, help: Text, empty: object = None, **attrs: Any) -> Callable[[Any], Any]:
    """A click option whose help is a `Text` (zh and en)."""
    return click.option(*decls, cls=Option, help_text=help, empty=empty, **attrs)


def argument(*decls: str, help: Text, **attrs: Any) -> Callable[[Any], Any]:
    """A click argument with help (a `Text`)."""
    return click.argument(*decls, cls=Argument, help_text=help, **attrs)


def _namespace(ctx: click.Context, values: dict[str, Any]) -> argparse.Namespace:
    """The parameters' values as the commands read them: lists, and None for an absent repeatable
    option (a variadic argument absent is an empty list)."""
    out: dict[str, Any] = {}
    params = {p.name: p for p in ctx.command.params}
    for key, value in values.items():
        param = params.get(key)
        if isinstance(value, tuple) and param is not None and (param.multiple or param.nargs == -1):
            if value:
                out[key] = list(value)
            elif isinstance(param, click.Argument):
                out[key] = []
            else:
                empty = getattr(param, "empty", None)
                out[key] = list(empty) if isinstance(empty, list) else empty  # a list of its own
        else:
            out[key] = value
    return argparse.Namespace(**out)


def command(
    name: str,
    *,
    help: Text,
    short: Text | None = None,
    epilog: Text | None = None,
    usage_exit: int = EXIT_USAGE,
) -> Callable[[Run], Command]:
    """Declare `run(args, lang) -> int` as a command (its parameters declared above it with
    `option` and `argument`); bad usage exits `usage_exit` (2 unless the command's own exit
    codes give 2 another meaning)."""

    def decorate(run: Run) -> Command:
        def callback(**values: Any) -> int:
            ctx = click.get_current_context()
            return run_guarded(run, _namespace(ctx, values), language())

        callback.__click_params__ = getattr(run, "__click_params__", [])  # type: ignore[attr-defined]
        made = click.command(
            name, cls=Command, help_text=help, short_text=short, epilog_text=epilog, usage_exit=usage_exit
        )(callback)
        assert isinstance(made, Command)
        made.run = run  # type: ignore[attr-defined]  # the function behind it, for tests and the lead
        return made

    return decorate


def group(name: str, *, help: Text, short: Text | None = None) -> Group:
    """A group of sub-commands (``gspolicy log …``)."""
    return Group(name, help_text=help, short_text=short)


def run_guarded(run: Run, args: argparse.Namespace, lang: Lang) -> int:
    """Run a command: Ctrl-C exits 130, a closed pipe 0, an unexpected error says it is a bug and
    exits 70 (GSPOLICY_DEBUG=1 shows the traceback); never a traceback for bad input."""
    try:
        return run(args, lang)
    except click.ClickException:  # a usage error found by the command itself: click shows it
        raise
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
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


# --- argument types --------------------------------------------------------------------------------


class _Path(_ParamType):
    """A path this system can name (a lone surrogate or a NUL cannot be one)."""

    name = "path"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        if isinstance(value, Path):
            return value
        text = str(value)
        try:
            usable = "\x00" not in text and bool(os.fsencode(text))
        except UnicodeEncodeError:
            usable = False
        if not usable:
            shown = text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
            shown = shown.replace("\x00", "\\x00")
            self.fail(
                Text(
                    zh=f"`{shown}` 不是本系统可用的文件名",
                    en=f"`{shown}` is not a file name this system can use",
                ).get(language()),
                param,
                ctx,
            )
        return Path(text)

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem  # noqa: PLC0415

        return [CompletionItem(incomplete, type="file")]


PATH = _Path()


class _Date(_ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(
                Text(
                    zh=f"`{value}` 不是日期：请写作 YYYY-MM-DD，例如 2018-12-31",
                    en=f"`{value}` is not a date: write YYYY-MM-DD, e.g. 2018-12-31",
                ).get(language()),
                param,
                ctx,
            )


DATE = _Date()


class WholeNumber(_ParamType):
    """A whole number from `low` to `high` (never an overflow further on)."""

    name = "N"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        ok = text.isascii() and text.lstrip("-").isdigit() and len(text) <= len(str(self.high)) + 1
        if ok and self.low <= int(text) <= self.high:
            return int(text)
        self.fail(
            Text(
                zh=f"`{value}` 不是 {self.low} 至 {self.high} 之间的整数",
                en=f"`{value}` is not a whole number from {self.low} to {self.high}",
            ).get(language()),
            param,
            ctx,
        )


class Parsed(_ParamType):
    """An argument type from a function that returns the value or a `Text` saying what is wrong."""

    def __init__(self, name: str, parse: Callable[[str], object]) -> None:
        self.name = name
        self.parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        found = self.parse(value)
        if isinstance(found, Text):
            self.fail(found.get(language()), param, ctx)
        return found


# --- output ----------------------------------------------------------------------------------------


def coloured(stream: TextIO) -> bool:
    """Whether to colour what goes to `stream`: a terminal, and NO_COLOR not set (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


_STYLES = {"error": "bold red", "warning": "yellow", "note": "cyan"}


def print_problems(diagnostics: Sequence[Diagnostic], lang: Lang, out: TextIO) -> None:
    """Render diagnostics (sorted, with a count) when there are any; on a terminal each one's
    first line is coloured by its severity (rich, imported only then)."""
    if not diagnostics:
        return
    from gspolicy.errors import render_diagnostics  # noqa: PLC0415

    text = render_diagnostics(diagnostics, lang)
    if not coloured(out):
        out.write(text + "\n")
        return
    from rich.console import Console  # noqa: PLC0415  # only when shown on a terminal
    from rich.text import Text as RichText  # noqa: PLC0415

    heads = {d.render(lang).split("\n", 1)[0]: d.level.value for d in diagnostics}
    console = Console(file=out, force_terminal=True, highlight=False, soft_wrap=True)
    for line in text.split("\n"):
        style = _STYLES.get(heads.get(line, ""), "")
        console.print(RichText(line, style=style))


def write_table(out: TextIO, head: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A table: on a terminal drawn by rich (coloured unless NO_COLOR), elsewhere (a pipe, a file)
    one line per row, the cells separated by tabs, as scripts read it."""
    isatty = getattr(out, "isatty", None)
    if not (isatty and isatty()):
        out.write("\t".join(head) + "\n")
        out.writelines("\t".join(str(c) for c in row) + "\n" for row in rows)
        return
    from rich.console import Console  # noqa: PLC0415  # only when shown on a terminal
    from rich.table import Table  # noqa: PLC0415

    table = Table(*head, header_style="" if os.environ.get("NO_COLOR") else "bold")
    for row in rows:
        table.add_row(*(str(c) for c in row))
    Console(file=out, force_terminal=True, no_color=bool(os.environ.get("NO_COLOR"))).print(table)


def lang_of(argv: Sequence[str]) -> Lang | None:
    """The language a command line asks for (`--lang X` or `--lang=X`, before or after the
    command; the last one), read before click parses it so that usage errors speak it too."""
    found: Lang | None = None
    words = list(argv)
    for index, word in enumerate(words):
        if word == "--":
            break
        value = None
        if word == "--lang" and index + 1 < len(words):
            value = words[index + 1]
        elif word.startswith("--lang="):
            value = word.partition("=")[2]
        if value is not None:
            found = parse_lang(value) or found
    return found
