"""The command line's manners (issue 26, item 3): usage errors that show the command's usage and
suggest what was meant, in zh and en; `--version`; help for every command, option and argument in
both languages; shell completion; colour only on a terminal without NO_COLOR; paths in
diagnostics relative to the working folder; exit codes."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gspolicy._i18n import Lang
from gspolicy._location import paths_relative_to, shown_path
from gspolicy.cli import COMMANDS, main, root
from gspolicy.cli._click_zh import speaking
from gspolicy.cli._support import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    Argument,
    Command,
    Option,
    lang_of,
    print_problems,
    run_guarded,
)
from gspolicy.errors import Diagnostic

ANSI = "\x1b["


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_mistyped_option_in_zh_shows_the_commands_usage_in_zh(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--lang", "zh", "evaluate", "--bogus")
    assert code == 2
    assert out == ""
    assert err.startswith("用法：gspolicy evaluate [OPTIONS] FILE...")
    # click words it as "no such option: --bogus" (8.1) or "no such option '--bogus'." (later)
    assert "错误：没有选项" in err
    assert "--bogus" in err.splitlines()[-1]
    assert "运行 'gspolicy evaluate --help' 查看帮助" in err
    assert "Usage" not in err
    assert "Traceback" not in err


def test_a_mistyped_option_in_en_suggests_the_option_meant(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "evaluate", "--as-o", "2018-12-31", "x.jsonl", "--lang", "en")
    assert code == 2
    assert out == ""
    assert err.startswith("Usage: gspolicy evaluate [OPTIONS] FILE...")
    last = err.splitlines()[-1]
    assert last.startswith("Error: No such option")
    assert "--as-o" in last
    assert "Did you mean" in last
    assert "--as-of" in last


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", ("No such command 'evalute'", "'evaluate'")), ("zh", ("没有命令 'evalute'", "是否指"))],
)
def test_a_mistyped_command_suggests_the_command_meant(
    capsys: pytest.CaptureFixture[str], lang: str, words: tuple[str, str]
) -> None:
    code, out, err = run(capsys, "--lang", lang, "evalute", "x.jsonl")
    assert code == 2
    assert out == ""
    assert all(w in err for w in words), err
    assert "gspolicy [OPTIONS] COMMAND [ARGS]..." in err


def test_a_mistyped_sub_command_is_suggested_too(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--lang", "en", "log", "verfy")
    assert code == 2
    assert "Usage: gspolicy log" in err
    assert "'verify'" in err


def test_a_bad_value_is_a_usage_error_in_the_runs_language(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "--as-of", "yesterday", "--lang", "zh")
    assert (code, out) == (2, "")
    assert (
        err.splitlines()[-1]
        == "错误：'--as-of' 的值无效：`yesterday` 不是日期：请写作 YYYY-MM-DD，例如 2018-12-31"
    )


def test_a_missing_argument_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--lang", "en", "explain", "--household", "h1")
    assert code == 2
    assert "Missing argument" in err
    assert "FILE..." in err


def test_no_command_prints_the_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--lang", "en")
    assert code == 2
    assert out.startswith("Usage: gspolicy [OPTIONS] COMMAND [ARGS]...")
    assert all(e.name in out for e in COMMANDS)


@pytest.mark.parametrize(("lang", "shown"), [("en", "gspolicy {v}\n"), ("zh", "gspolicy 版本 {v}\n")])
def test_version(capsys: pytest.CaptureFixture[str], lang: str, shown: str) -> None:
    from importlib import metadata

    code, out, err = run(capsys, "--version", "--lang", lang)
    assert (code, out, err) == (0, shown.format(v=metadata.version("gspolicy")), "")


def _every_command() -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    ctx = click.Context(root)

    def walk(prefix: str, group: click.Group) -> None:
        for name in group.list_commands(ctx):
            made = group.get_command(ctx, name)
            assert made is not None, name
            assert made.name == name, f"{prefix} {name} is declared as {made.name}"
            found.append((f"{prefix} {name}", made))
            if isinstance(made, click.Group):
                walk(f"{prefix} {name}", made)

    walk("gspolicy", root)
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_command_option_and_argument_has_help(lang: Lang) -> None:
    missing = []
    with speaking(lang):
        for path, made in [("gspolicy", root), *_every_command()]:
            assert isinstance(made, Command), path
            ctx = click.Context(made, info_name=path)
            if not (made.help_text and made.help_text.get(lang).strip()):
                missing.append(f"{path}: the command")
            if not made.get_short_help_str().strip():
                missing.append(f"{path}: the short help")
            for param in made.get_params(ctx):
                if isinstance(param, Argument):
                    text = param.help_record(ctx)[1]
                elif isinstance(param, click.Option):
                    record = param.get_help_record(ctx)
                    text = record[1] if record else ""
                    if not isinstance(param, Option) and param.name not in ("help", "_click_default_help"):
                        missing.append(f"{path} {param.name}: not declared with its help in both languages")
                else:
                    text = ""
                if not text.strip():
                    missing.append(f"{path} {param.name}")
            if lang == "zh":  # the help itself is in Chinese, click's own words included
                page = made.get_help(ctx)
                assert all(word in page for word in ("选项", "显示此帮助并退出", "用法")), path
                assert not any(word in page for word in ("Show this message", "Usage:")), path
    assert not missing, missing


def test_the_zh_help_of_a_command_is_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "evaluate", "--help", "--lang", "zh")
    assert code == 0
    assert all(word in out for word in ("参数", "农户记录文件", "判定日期（默认：今天）"))


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("gspolicy eva", "1", "evaluate"),
        ("gspolicy evaluate --as", "2", "--as-of"),
        ("gspolicy log ver", "2", "verify"),
        ("gspolicy evaluate --lang z", "3", "zh"),
    ],
)
def test_shell_completion(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, words: str, cword: str, expected: str
) -> None:
    monkeypatch.setenv("_GSPOLICY_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", cword)
    code, out, _ = run(capsys)
    assert code == 0
    assert f"plain,{expected}" in out.splitlines()


def test_the_completion_script_is_written(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("_GSPOLICY_COMPLETE", "bash_source")
    code, out, _ = run(capsys)
    assert code == 0
    assert "_GSPOLICY_COMPLETE=bash_complete" in out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


PROBLEMS = [Diagnostic("io/not-found", None, {"path": "h.jsonl"})]


def test_problems_are_coloured_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal, pipe = _Terminal(), io.StringIO()
    print_problems(PROBLEMS, "en", terminal)
    print_problems(PROBLEMS, "en", pipe)
    assert ANSI in terminal.getvalue()
    assert ANSI not in pipe.getvalue()
    assert "io/not-found" in pipe.getvalue()
    # the same words, coloured or not
    assert terminal.getvalue().replace("\x1b[1;31m", "").replace("\x1b[0m", "") == pipe.getvalue()


def test_no_color_turns_colour_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    terminal = _Terminal()
    print_problems(PROBLEMS, "zh", terminal)
    assert ANSI not in terminal.getvalue()
    assert "io/not-found" in terminal.getvalue()


def test_paths_in_diagnostics_are_relative_to_the_working_folder(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "x.yaml").write_text("pack: [\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "validate", str(tmp_path / "p"), "--lang", "en")
    assert code == 1
    assert f"p{os.sep}x.yaml:2:1: yaml/syntax" in out
    assert str(tmp_path) not in out


@given(st.lists(st.sampled_from(["a", "b", "c.yaml"]), min_size=1, max_size=4))
def test_a_path_is_shown_relative_only_under_the_folder(parts: list[str]) -> None:
    base = os.path.abspath("somewhere")
    inside = os.path.join(base, *parts)
    outside = os.path.join(os.path.abspath("elsewhere"), *parts)
    with paths_relative_to(base):
        assert shown_path(inside) == os.path.join(*parts)
        assert shown_path(outside) == outside
        assert shown_path(os.path.join(*parts)) == os.path.join(*parts)
    assert shown_path(inside) == inside  # outside the block: as read


@pytest.mark.parametrize(
    ("argv", "lang"),
    [
        (["--lang", "zh", "evaluate"], "zh"),
        (["evaluate", "--lang=en"], "en"),
        (["--lang", "zh", "evaluate", "--lang", "en"], "en"),
        (["evaluate", "--", "--lang", "zh"], None),
        (["--lang", "xx"], None),
        (["evaluate"], None),
    ],
)
def test_the_language_is_read_before_or_after_the_command(argv: list[str], lang: str | None) -> None:
    assert lang_of(argv) == lang


def test_ctrl_c_exits_130_and_a_bug_says_so_and_exits_70(capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: argparse.Namespace, lang: Lang) -> int:
        raise KeyboardInterrupt

    def broken(args: argparse.Namespace, lang: Lang) -> int:
        raise RuntimeError("boom")

    assert run_guarded(interrupted, argparse.Namespace(), "en") == EXIT_INTERRUPTED
    assert run_guarded(broken, argparse.Namespace(), "zh") == EXIT_INTERNAL
    assert "gspolicy：内部错误（程序缺陷，请报告）：RuntimeError: boom" in capsys.readouterr().err


@pytest.mark.slow  # starts another Python
def test_help_and_version_import_nothing_heavy() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from gspolicy.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help']); main(['--version'])\n"
        "print(sorted(m for m in ('polars', 'yaml', 'rich', 'gspolicy.pack.load', 'gspolicy.api') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_table_is_drawn_on_a_terminal_and_tab_separated_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    from gspolicy.cli._support import write_table

    head, rows = ("quarter", "items"), [("2018Q4", 3), ("2019Q1", 12)]
    pipe = io.StringIO()
    write_table(pipe, head, rows)
    assert pipe.getvalue() == "quarter\titems\n2018Q4\t3\n2019Q1\t12\n"
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = _Terminal()
    write_table(coloured, head, rows)
    assert ANSI in coloured.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    plain = _Terminal()
    write_table(plain, head, rows)
    assert ANSI not in plain.getvalue()
    assert all(cell in plain.getvalue() for cell in ("quarter", "2019Q1", "12"))


@given(
    st.lists(
        st.sampled_from(["政策", "包", "，", "。", "（", "）", "--as-of", "FILE", "gb18030", " "]),
        max_size=40,
    ),
    st.integers(10, 60),
)
def test_chinese_help_is_wrapped_by_terminal_columns(words: list[str], width: int) -> None:
    from gspolicy._location import display_width
    from gspolicy.cli._support import wrap_wide

    text = "".join(words)
    lines = wrap_wide(text, width)
    for line in lines:
        if display_width(line) > width:  # closing punctuation runs over, a word too long stands alone
            assert line[-1] in "，。）" or (" " not in line and display_width(line) == len(line)), line
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
