"""The diagnostics catalogue (``diagnostics.yaml``, read once) and the words messages are made of.

Every stable code has its severity, message and help in zh and en in the data file shipped in the
package; `CATALOGUE` reads it on first use and nothing adds codes at import time.  Messages follow
one grammar: a lowercase sentence without a final period, user names in backticks, the fix in the
help line.  Templates name their arguments (``{field}``).  The codes are stable: tools and tests
may match on them.  ``docs/reference/diagnostics.md`` is generated from the catalogue
(``python -m gspolicy.cli docs-diagnostics``) and a test keeps it in step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources

import attrs
import yaml

from gspolicy._i18n import Text

__all__ = [
    "CATALOGUE",
    "CONTEXT_KINDS",
    "FILE",
    "SEVERITY_WORDS",
    "Entry",
    "entry",
    "noun",
    "read_catalogue",
]

FILE = "diagnostics.yaml"
_SEVERITIES = ("error", "warning", "info")
_KEYS = {"severity", "en", "zh", "help_en", "help_zh"}


@attrs.frozen
class Entry:
    severity: str
    message: Text
    help: Text | None = None


def entry(severity: str, en: str, zh: str, help_en: str | None = None, help_zh: str | None = None) -> Entry:
    """One catalogue entry (``help_zh`` defaults to ``help_en``)."""
    helptext = None if help_en is None else Text(zh=help_zh or help_en, en=help_en)
    return Entry(severity, Text(zh=zh, en=en), helptext)


@cache
def _read() -> dict[str, Entry]:
    """The catalogue file, read and checked once."""
    return read_catalogue(resources.files("gspolicy").joinpath(FILE).read_text(encoding="utf-8"))


def read_catalogue(raw: str) -> dict[str, Entry]:
    """A catalogue's text read and checked: code → entry, in the file's order (a `ValueError`
    names the first entry that is not well formed)."""
    data = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict):
        raise ValueError(f"{FILE}: a mapping of codes expected")
    out: dict[str, Entry] = {}
    for code, fields in data.items():
        if not isinstance(fields, dict) or not {"severity", "en", "zh"} <= set(fields) <= _KEYS:
            raise ValueError(
                f"{FILE}: `{code}` needs `severity`, `en` and `zh` (and may have `help_en`, `help_zh`)"
            )
        if fields["severity"] not in _SEVERITIES or not all(
            isinstance(v, str) and v for v in fields.values()
        ):
            raise ValueError(f"{FILE}: `{code}` has an unknown severity or an empty or non-text message")
        if "help_zh" in fields and "help_en" not in fields:
            raise ValueError(f"{FILE}: `{code}` has `help_zh` without `help_en`")
        out[str(code)] = entry(
            fields["severity"], fields["en"], fields["zh"], fields.get("help_en"), fields.get("help_zh")
        )
    return out


class _Catalogue(Mapping[str, Entry]):
    """The catalogue as a read-only mapping, read from its file on first use."""

    def __getitem__(self, code: str) -> Entry:
        return _read()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(_read())

    def __len__(self) -> int:
        return len(_read())

    def __contains__(self, code: object) -> bool:
        return code in _read()


CATALOGUE: Mapping[str, Entry] = _Catalogue()
"""Every diagnostic code → its entry (``diagnostics.yaml``)."""


SEVERITY_WORDS = {
    "error": Text(zh="错误", en="error"),
    "warning": Text(zh="警告", en="warning"),
    "info": Text(zh="提示", en="note"),
}

CONTEXT_KINDS = {
    "pack": Text(zh="政策包", en="pack"),
    "rule": Text(zh="规则", en="rule"),
    "criterion": Text(zh="指标", en="criterion"),
    "parameter": Text(zh="参数", en="parameter"),
    "fact": Text(zh="派生事实", en="fact"),
    "measure": Text(zh="措施", en="measure"),
    "schema": Text(zh="数据结构", en="schema"),
    "record": Text(zh="记录类型", en="record type"),
    "field": Text(zh="字段", en="field"),
    "enum": Text(zh="枚举", en="enum"),
    "household": Text(zh="农户", en="household"),
    "case": Text(zh="测试用例", en="test case"),
    "option": Text(zh="选项", en="option"),
    "source": Text(zh="来源", en="source"),
    "basis": Text(zh="缓冲依据", en="basis"),
    "invariant": Text(zh="不变式", en="invariant"),
    "indicator": Text(zh="统计指标", en="indicator"),
    "key": Text(zh="分组键", en="group-by key"),
    "list column": Text(zh="名单列", en="list column"),
}

_NOUNS = {
    "a mapping": "映射",
    "a list": "列表",
    "a name": "名称",
    "a text": "文本",
    "a version": "版本号",
    "a whole number": "整数",
    "a number": "数字",
    "a date": "日期",
    "a date (YYYY-MM-DD)": "日期（YYYY-MM-DD）",
    "an amount of money": "金额",
    "a ratio": "比率",
    "`true` or `false`": "`true` 或 `false`",
    "`true` or `false` (是 / 否)": "`true` 或 `false`（是 / 否）",
    "date": "日期",
    "choice": "选项",
    "pattern": "正则表达式",
    "format version": "格式版本",
    "an expression": "表达式",
    "the schema file": "数据结构文件",
    "the pack file": "政策包文件",
    "the pack manifest": "政策包清单",
    "the test file": "测试文件",
    "a test case": "测试用例",
    "an indicator": "统计指标",
    "a list column": "名单列",
}
_PREFIXES = {
    "field": "字段",
    "enum": "枚举",
    "value": "取值",
    "record type": "记录类型",
    "parameter": "参数",
    "rule": "规则",
    "criterion": "指标",
    "fact": "派生事实",
    "measure": "措施",
    "invariant": "不变式",
    "indicator": "统计指标",
    "source": "来源",
    "case": "测试用例",
    "value at": "取值",
    "`": "",
}


def noun(en: str) -> Text:
    """The zh and en forms of a noun phrase used in messages (``a whole number``, ``field `x```)."""
    if en in _NOUNS:
        return Text(zh=_NOUNS[en], en=en)
    for prefix, zh in _PREFIXES.items():
        if en.startswith(prefix + " `") or (prefix == "`" and en.startswith("`")):
            rest = en[len(prefix) :].lstrip() if prefix != "`" else en
            return Text(zh=f"{zh} {rest}".strip(), en=en)
    if en.startswith("a text matching "):
        return Text(zh="符合 " + en[len("a text matching ") :] + " 的文本", en=en)
    return Text(zh=en, en=en)
