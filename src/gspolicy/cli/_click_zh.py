"""Chinese for click's own messages ("Usage:", "No such option", "Did you mean", ...).

Click looks each of its texts up through ``gettext`` when it shows it (``_("Usage:")`` in each of
its modules).  `install()` puts `translate` in place of those functions in the click modules
loaded; `translate` answers from `CATALOGUE` while the command line runs in Chinese
(`speaking("zh")`) and passes every text through unchanged otherwise — other users of click in
the same process see click as it is.  Keys cover the texts of click 8.1 to 8.3 and later (a key
a version does not use is simply never asked for); a text missing here is shown in English.
"""

from __future__ import annotations

import gettext
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from gspolicy._i18n import Lang

__all__ = ["CATALOGUE", "PLURALS", "install", "language", "speaking", "translate", "translate_plural"]

CATALOGUE: dict[str, str] = {
    "Usage:": "用法：",
    "Usage: ": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "位置参数",
    "Show this message and exit.": "显示此帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "No such option: {name}": "没有选项：{name}",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "No such command '{name}'.": "没有命令 '{name}'。",
    "Missing command.": "缺少命令。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不接受值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Aborted!": "已中止！",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的布尔值。可用的值：{states}",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必需",
    "(Deprecated)": "（已弃用）",
    "deprecated": "已弃用",
    "unknown error": "未知错误",
    "Shell completion is not supported for Bash versions older than 4.4.": "Bash 4.4 以前的版本不支持命令补全。",
    "Couldn't detect Bash version, shell completion is not supported.": "无法确定 Bash 版本，不支持命令补全。",
}
"""Click's texts (the msgid, as click passes it to gettext) and their Chinese."""

PLURALS: dict[str, tuple[str, str]] = {
    # msgid (singular): (Chinese of the singular, Chinese of the plural)
    "Did you mean {possibility}?": ("是否指 {possibility}？", "（是否指以下之一：{possibilities}？）"),
    "Got unexpected extra argument ({args})": ("多余的参数（{args}）", "多余的参数（{args}）"),
    "Option {name!r} requires an argument.": (
        "选项 {name!r} 需要一个值。",
        "选项 {name!r} 需要 {nargs} 个值。",
    ),
    "Takes {nargs} values but 1 was given.": (
        "需要 {nargs} 个值，但只给了 1 个。",
        "需要 {nargs} 个值，但给了 {len} 个。",
    ),
    "{value!r} is not {choice}.": ("{value!r} 不是 {choice}。", "{value!r} 不是 {choices} 之一。"),
    "{value!r} does not match the format {format}.": (
        "{value!r} 不符合格式 {format}。",
        "{value!r} 不符合格式 {formats} 中的任何一种。",
    ),
}
"""Click's texts with a plural form (the singular msgid): their Chinese, singular and plural."""

_LANG: ContextVar[Lang] = ContextVar("gspolicy_cli_lang", default="en")


def language() -> Lang:
    """The language the command line speaks in this run."""
    return _LANG.get()


@contextmanager
def speaking(lang: Lang) -> Iterator[None]:
    """Within the block, the command line (and click's own messages) speak `lang`."""
    token = _LANG.set(lang)
    try:
        yield
    finally:
        _LANG.reset(token)


def translate(message: str) -> str:
    """`message` in the language of the run (a text not in the catalogue as it is)."""
    if _LANG.get() == "zh":
        return CATALOGUE.get(message, message)
    return gettext.gettext(message)


def translate_plural(singular: str, plural: str, n: int) -> str:
    """The plural-aware form of `translate`."""
    if _LANG.get() == "zh" and singular in PLURALS:
        one, many = PLURALS[singular]
        return one if n == 1 else many
    return gettext.ngettext(singular, plural, n)


def install() -> None:
    """Put `translate` in place of gettext in every click module loaded (idempotent; cheap)."""
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "click" or name.startswith("click.")):
            continue
        if getattr(module, "_", None) is gettext.gettext:
            module._ = translate  # type: ignore[attr-defined]
        if getattr(module, "ngettext", None) is gettext.ngettext:
            module.ngettext = translate_plural  # type: ignore[attr-defined]
