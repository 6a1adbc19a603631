"""The YAML parsers' syntax problems in one bilingual wording: the `yaml/syntax` diagnostic.

PyYAML's pure-Python parser and libyaml word the same problem differently; both are read here
into one message in zh and en, located where the parser points.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from gspolicy._i18n import Text
from gspolicy._location import Source, Span
from gspolicy.errors import Diagnostic

__all__ = ["syntax_diagnostic"]


# The problems the two parsers report, in their own words (PyYAML's pure-Python parser first,
# libyaml's second), read into one bilingual wording, so a message does not depend on which
# parser ran.  A problem not listed is shown as the parser says it.
_PROBLEMS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), en, zh)
    for pattern, en, zh in (
        (
            r"expected ',' or '([\]}])'|did not find expected ',' or '([\]}])'",
            "expected `,` or `{0}`: a list `[…]` or mapping `{{…}}` written on one line is not closed",
            "缺少 `,` 或 `{0}`：写在一行中的列表 `[…]` 或映射 `{{…}}` 没有闭合",
        ),
        (
            r"mapping values are not allowed",
            "a `key: value` pair is not allowed here: check the indentation, or quote a value holding `: `",
            "此处不能出现“键: 值”：请检查缩进，或为含有“: ”的值加引号",
        ),
        (
            r"found character '\\t' that cannot start any token|tab character",
            "a tab cannot indent YAML: indent with spaces",
            "YAML 不能用制表符缩进：请使用空格",
        ),
        (
            r"found character (?:'(.)' )?that cannot start any token",
            "a value cannot start with this character: put the value in quotes",
            "值不能以此字符开头：请为该值加引号",
        ),
        (
            r"found unexpected end of stream",
            "the file ends inside a quoted text: close the quotes",
            "文件在引号内结束：请补上结束引号",
        ),
        (
            r"found unknown escape character",
            "unknown escape sequence in a double-quoted text: write `\\\\` for a backslash",
            "双引号文本中有未知的转义序列：反斜杠请写作 `\\\\`",
        ),
        (
            r"expected <block end>|did not find expected '-' indicator|did not find expected key",
            "this line does not fit the structure above it: check the indentation",
            "此行与上方的结构不符：请检查缩进",
        ),
        (
            r"sequence entries are not allowed",
            "a list item `- ` is not allowed here: start the list on its own line",
            "此处不能出现列表项 `- `：请另起一行开始列表",
        ),
        (
            r"<document start>",
            "more content after the document: check the indentation",
            "文档之后还有内容：请检查缩进",
        ),
        (
            r"could not find expected ':'",
            "a key without `:` after it",
            "键后缺少 `:`",
        ),
        (
            r"alphabetic or numeric character",
            "an anchor `&`, alias `*` or tag `!` needs a name after it",
            "锚点 `&`、别名 `*` 或标签 `!` 后面需要名称",
        ),
        (
            r"found undefined alias '(.*)'",
            "the alias `*{0}` names no anchor `&{0}` before it",
            "别名 `*{0}` 前面没有对应的锚点 `&{0}`",
        ),
        (
            r"found duplicate anchor '(.*)'",
            "the anchor `&{0}` is defined twice",
            "锚点 `&{0}` 定义了两次",
        ),
        (
            r"undefined tag handle|expected '>'|did not find the expected '>'",
            "a tag that cannot be read",
            "无法读取的标签",
        ),
        (
            r"directive",
            "a `%` directive that cannot be read: remove it",
            "无法读取的 `%` 指令：请删除",
        ),
        (
            r"hexadecimal|hexdecimal",
            "an escape `\\x`, `\\u` or `\\U` needs 2, 4 or 8 hexadecimal digits",
            "转义 `\\x`、`\\u` 或 `\\U` 后需要 2、4 或 8 位十六进制数字",
        ),
        (
            r"comment or line break",
            "unexpected text here: end the line, or put the value in quotes",
            "此处有多余的文本：请在此换行，或为该值加引号",
        ),
        (
            r"indentation indicator|chomping",
            "the header of a `|` or `>` block cannot be read",
            "无法读取 `|` 或 `>` 文本块的开头",
        ),
    )
)


def _problem_text(problem: str) -> Text:
    for pattern, en, zh in _PROBLEMS:
        found = pattern.search(problem)
        if found is not None:
            groups = [g for g in found.groups() if g is not None]
            return Text(zh=zh.format(*groups), en=en.format(*groups))
    return Text(zh=problem, en=problem)


def syntax_diagnostic(source: Source, err: yaml.YAMLError | str, mark: Any = None) -> Diagnostic:
    """The `yaml/syntax` diagnostic of a parser error (or a problem in its words at `mark`),
    located at the character it names."""
    if isinstance(err, str):
        problem = err
    else:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    start = mark.index if mark is not None else 0
    if "escape" in problem and 0 < start <= len(source.text) and source.text[start - 1] == "\\":
        start -= 1  # point at the backslash, as libyaml does
    span = Span(source, start, min(start + 1, len(source.text)))
    return Diagnostic("yaml/syntax", span, {"problem": _problem_text(problem)})
