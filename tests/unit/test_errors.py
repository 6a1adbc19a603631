"""Diagnostics: messages in zh and en, context prefixes, rendering, sorting and capping, suggestions."""

from __future__ import annotations

import re
import string

import pytest

from gspolicy._i18n import Text
from gspolicy._location import DataPath, RecordLocation, Source, Span
from gspolicy._messages import CATALOGUE, CONTEXT_KINDS, noun
from gspolicy.errors import (
    DIAGNOSTIC_LIMIT,
    Diagnostic,
    GspolicyError,
    HouseholdError,
    PolicyError,
    Severity,
    render_diagnostics,
    sort_and_cap,
    suggest,
)

SOURCE = Source("pack.yaml", "rules:\n  exit.income:\n    when: 人均纯收入 >= 门槛\n")


def span_of(needle: str, source: Source = SOURCE) -> Span:
    start = source.text.index(needle)
    return Span(source, start, start + len(needle))


def unknown_key(where: Span | RecordLocation | None = None, **kw: object) -> Diagnostic:
    return Diagnostic(
        "shape/unknown-key",
        where,
        {"key": "wen", "where": noun("rule `exit.income`"), "allowed": "`when`, `then`"},
        **kw,  # type: ignore[arg-type]
    )


# -- the diagnostic itself -----------------------------------------------------------------------


def test_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown diagnostic code 'no/such-code'"):
        Diagnostic("no/such-code")


def test_level_comes_from_the_catalogue_unless_given() -> None:
    d = Diagnostic("yaml/empty")
    assert d.level is Severity.ERROR
    assert d.is_error
    warning = Diagnostic("yaml/empty", severity=Severity.WARNING)
    assert warning.level is Severity.WARNING
    assert not warning.is_error


def test_args_are_frozen_sorted_and_stringified() -> None:
    d = Diagnostic("yaml/duplicate-key", None, {"key": "a", "first_line": 3})
    assert d.args == (("first_line", "3"), ("key", "a"))
    assert d == Diagnostic("yaml/duplicate-key", None, [("key", "a"), ("first_line", "3")])
    assert hash(d) == hash(Diagnostic("yaml/duplicate-key", None, {"first_line": "3", "key": "a"}))


def test_message_in_both_languages_with_text_arguments() -> None:
    d = unknown_key()
    assert d.message("en") == "unknown key `wen` in rule `exit.income`"
    assert d.message("zh") == "规则 `exit.income` 中有未知的键 `wen`"


def test_context_prefix_grammar() -> None:
    d = unknown_key(context=(("rule", "exit.income"), ("pack", "exit_criteria.household@2018.1")))
    assert d.message("en") == (
        "in rule `exit.income` of pack `exit_criteria.household@2018.1`: "
        "unknown key `wen` in rule `exit.income`"
    )
    assert d.message("zh") == (
        "在政策包 `exit_criteria.household@2018.1` 的规则 `exit.income`中："
        "规则 `exit.income` 中有未知的键 `wen`"
    )


def test_context_prefix_with_one_level() -> None:
    d = Diagnostic("schema/unknown-enum", None, {"name": "helth"}, context=(("schema", "tiny"),))
    assert d.message("en") == "in schema `tiny`: unknown enum `helth`"
    assert d.message("zh") == "在数据结构 `tiny`中：未知枚举 `helth`"


def test_every_context_kind_has_both_languages() -> None:
    for kind, text in CONTEXT_KINDS.items():
        d = Diagnostic("yaml/empty", context=((kind, "x"),))
        assert d.message("en") == f"in {text.en} `x`: the file is empty"
        assert d.message("zh") == f"在{text.zh} `x`中：文件为空"


def test_record_location_puts_the_data_path_before_the_message() -> None:
    where = RecordLocation("h.jsonl", 17, DataPath(["members", 2, "age"]))
    d = Diagnostic(
        "record/out-of-range", where, {"value": "130", "bounds": Text(zh="应不大于 120", en="at most 120")}
    )
    assert d.message() == "members[2].age: 130 is out of range: at most 120"
    assert d.message("zh") == "members[2].age: 130 超出范围：应不大于 120"
    assert d.render() == "h.jsonl:17: record/out-of-range: members[2].age: 130 is out of range: at most 120"


def test_help_combines_suggestions_and_catalogue_help() -> None:
    d = unknown_key(span_of("when"), suggestions=("when",))
    assert d.help("en") == "did you mean `when`? the keys allowed here are: `when`, `then`"
    assert d.help("zh") == "您是否想写 `when`？此处允许的键为：`when`, `then`"
    several = Diagnostic("schema/unknown-enum", None, {"name": "x"}, suggestions=("a", "b"))
    assert several.help() == "did you mean `a`, `b`?"
    assert Diagnostic("schema/unknown-enum", None, {"name": "x"}).help() is None


def test_render_with_span_underline_and_help() -> None:
    d = Diagnostic(
        "schema/unknown-type",
        span_of("人均纯收入"),
        {"type": "integer", "types": "`int`, `money`"},
        suggestions=("int",),
    )
    assert d.render("en") == (
        "pack.yaml:3:11: schema/unknown-type: unknown type `integer`\n"
        "   3 |     when: 人均纯收入 >= 门槛\n"
        "     |           ^^^^^^^^^^\n"
        "  help: did you mean `int`? the types are: `int`, `money`"
    )
    assert d.render("zh") == (
        "pack.yaml:3:11: schema/unknown-type: 未知类型 `integer`\n"
        "   3 |     when: 人均纯收入 >= 门槛\n"
        "     |           ^^^^^^^^^^\n"
        "  帮助：您是否想写 `int`？可用的类型为：`int`, `money`"
    )


def test_render_warning_names_its_severity() -> None:
    d = Diagnostic("yaml/empty", span_of("rules"), severity=Severity.WARNING)
    assert d.render("en").splitlines()[0] == "pack.yaml:1:1: yaml/empty (warning): the file is empty"
    assert d.render("zh").splitlines()[0] == "pack.yaml:1:1: yaml/empty (警告): 文件为空"
    note = Diagnostic("yaml/empty", None, severity=Severity.INFO)
    assert note.render("en") == "yaml/empty (note): the file is empty"
    assert note.render("zh") == "yaml/empty (提示): 文件为空"


def test_render_without_location() -> None:
    d = Diagnostic("io/not-found", None, {"path": "missing.yaml"})
    assert d.render() == "io/not-found: no such file or folder `missing.yaml`"
    assert d.render("zh") == "io/not-found: 找不到文件或文件夹 `missing.yaml`"


def test_render_record_location_with_span_underlines_the_value() -> None:
    source = Source("h.json", '{\n  "age": 130\n}\n')
    where = RecordLocation("h.json", 2, DataPath(["age"]), span_of("130", source))
    d = Diagnostic("record/out-of-range", where, {"value": "130", "bounds": "from 0 to 120"})
    assert d.render() == (
        "h.json:2:10: record/out-of-range: age: 130 is out of range: from 0 to 120\n"
        '   2 |   "age": 130\n'
        "     |          ^^^"
    )


def test_to_json() -> None:
    d = unknown_key(span_of("when"), suggestions=("when",), context=(("rule", "exit.income"),))
    assert d.to_json() == {
        "code": "shape/unknown-key",
        "severity": "error",
        "message": "in rule `exit.income`: unknown key `wen` in rule `exit.income`",
        "file": "pack.yaml",
        "line": 3,
        "col": 5,
        "help": "did you mean `when`? the keys allowed here are: `when`, `then`",
    }
    where = RecordLocation("h.jsonl", 4, DataPath(["size"]))
    out = Diagnostic("record/wrong-type", where, {"expected": "a number", "found": "x"}).to_json("zh")
    assert out == {
        "code": "record/wrong-type",
        "severity": "error",
        "message": "size: 应为a number，实际为x",
        "file": "h.jsonl",
        "line": 4,
        "path": "size",
    }
    assert Diagnostic("yaml/empty").to_json() == {
        "code": "yaml/empty",
        "severity": "error",
        "message": "the file is empty",
    }


# -- sorting, capping, rendering many ----------------------------------------------------------


def at(line: int, col: int = 1, file: str = "a.yaml") -> Span:
    source = Source(file, "x" * 50 + "\n" + "\n".join("y" * 50 for _ in range(200)))
    return Span(source, source.offset(line, col), source.offset(line, col) + 1)


def test_sort_by_file_line_col_then_code() -> None:
    ds = [
        Diagnostic("yaml/tag", at(3, 5), {"tag": "!x"}),
        Diagnostic("yaml/empty", at(1, 1, "b.yaml")),
        Diagnostic("yaml/tag", at(3, 2), {"tag": "!x"}),
        Diagnostic("yaml/complex-key", at(3, 2)),
        Diagnostic("io/not-found", None, {"path": "p"}),
        Diagnostic("record/missing-field", RecordLocation("a.yaml", 2), {"field": "id", "record": "r"}),
    ]
    kept, cut = sort_and_cap(ds)
    assert cut == 0
    assert [(d.code, d.sort_key()[:3]) for d in kept] == [
        ("io/not-found", ("", 0, 0)),
        ("record/missing-field", ("a.yaml", 2, 0)),
        ("yaml/complex-key", ("a.yaml", 3, 2)),
        ("yaml/tag", ("a.yaml", 3, 2)),
        ("yaml/tag", ("a.yaml", 3, 5)),
        ("yaml/empty", ("b.yaml", 1, 1)),
    ]


def test_sort_drops_exact_duplicates() -> None:
    span = at(3)
    d = Diagnostic("yaml/tag", span, {"tag": "!x"})
    kept, cut = sort_and_cap([d, d, Diagnostic("yaml/tag", span, {"tag": "!x"})])
    assert kept == (d,)
    assert cut == 0


def test_sort_and_cap_counts_what_it_cuts() -> None:
    ds = [Diagnostic("yaml/tag", at(line), {"tag": "!x"}) for line in range(150, 0, -1)]
    kept, cut = sort_and_cap(ds, limit=10)
    assert cut == 140
    assert [d.location.line for d in kept] == list(range(1, 11))  # type: ignore[union-attr]


def test_policy_error_keeps_the_limit_and_counts_the_rest() -> None:
    ds = [Diagnostic("yaml/tag", at(line), {"tag": "!x"}) for line in range(1, DIAGNOSTIC_LIMIT + 31)]
    error = PolicyError(reversed(ds))
    assert len(error.diagnostics) == DIAGNOSTIC_LIMIT
    assert error.omitted == 30
    assert error.diagnostics[0].location.line == 1  # type: ignore[union-attr]
    assert error.render("en").endswith(f"\n{DIAGNOSTIC_LIMIT} errors, 0 warnings (30 more not shown)")
    assert error.render("zh").endswith(f"\n{DIAGNOSTIC_LIMIT} 个错误，0 个警告（另有 30 条未显示）")


def test_policy_error_is_a_value_error_and_renders_as_its_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GSPOLICY_LANG", "zh")
    error = HouseholdError([Diagnostic("io/not-found", None, {"path": "h.json"})])
    assert isinstance(error, PolicyError)
    assert isinstance(error, ValueError)
    assert isinstance(error, GspolicyError)
    assert str(error) == "io/not-found: 找不到文件或文件夹 `h.json`\n1 个错误，0 个警告"
    with pytest.raises(ValueError, match=r"h\.json"):
        raise error


def test_render_diagnostics_summary_counts_errors_and_warnings() -> None:
    ds = [
        Diagnostic("yaml/empty", at(1)),
        Diagnostic("yaml/empty", at(2), severity=Severity.WARNING),
        Diagnostic("yaml/empty", at(3), severity=Severity.WARNING),
        Diagnostic("yaml/empty", at(4), severity=Severity.INFO),
    ]
    assert render_diagnostics(ds, "en").splitlines()[-1] == "1 error, 2 warnings"
    assert render_diagnostics(ds[1:2], "en").splitlines()[-1] == "0 errors, 1 warning"
    assert render_diagnostics([], "en") == "0 errors, 0 warnings"
    assert render_diagnostics([], "zh") == "0 个错误，0 个警告"
    assert render_diagnostics(ds[:1], "en", omitted=5).endswith("1 error, 0 warnings (5 more not shown)")


def test_render_diagnostics_blocks_are_sorted() -> None:
    text = render_diagnostics([Diagnostic("yaml/empty", at(9)), Diagnostic("yaml/empty", at(2))], "en")
    headers = [line for line in text.splitlines() if line.startswith("a.yaml:")]
    assert headers == [
        "a.yaml:2:1: yaml/empty: the file is empty",
        "a.yaml:9:1: yaml/empty: the file is empty",
    ]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"GSPOLICY_LANG": "zh"}, "1 个错误，0 个警告"),
        ({"GSPOLICY_LANG": "en", "LANG": "zh_CN.UTF-8"}, "1 error, 0 warnings"),
        ({"LANG": "zh_CN.UTF-8"}, "1 个错误，0 个警告"),
        ({"LC_ALL": "C"}, "1 error, 0 warnings"),
        ({}, "1 error, 0 warnings"),
    ],
)
def test_default_language_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name in ("GSPOLICY_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert render_diagnostics([Diagnostic("yaml/empty")]).splitlines()[-1] == expected


# -- did you mean ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "candidates", "expected"),
    [
        ("sise", ["size", "dibao", "income"], ("size",)),
        ("registerd_on", ["registered_on", "exited_on", "id"], ("registered_on", "exited_on")),
        ("integer", ["int", "money", "date"], ("int",)),
        ("SIZE", ["size", "dibao"], ("size",)),  # case is ignored when nothing else matches
        ("zzz", ["size", "dibao"], ()),
        ("人均收入", ["人均纯收入", "家庭人口数"], ("人均纯收入",)),
        ("size", [], ()),
    ],
)
def test_suggest(name: str, candidates: list[str], expected: tuple[str, ...]) -> None:
    assert suggest(name, candidates) == expected


def test_suggest_limit_and_best_first() -> None:
    candidates = ["aaaa", "aaab", "aabb", "abbb", "aaaa"]
    assert suggest("aaaa", candidates, limit=2) == ("aaaa", "aaab")


# -- the catalogue -----------------------------------------------------------------------------


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_catalogue_entry_is_well_formed(code: str) -> None:
    entry = CATALOGUE[code]
    assert re.fullmatch(r"[a-z]+/[a-z0-9-]+", code)
    assert entry.severity in {s.value for s in Severity}
    assert _fields(entry.message.zh) == _fields(entry.message.en)
    if entry.help is not None:
        assert _fields(entry.help.zh) == _fields(entry.help.en)
    en = entry.message.en
    assert not en.endswith("."), "messages have no final period"
    assert not en[:1].isupper(), "messages are lowercase sentences"


def test_nouns() -> None:
    assert noun("a whole number") == Text(zh="整数", en="a whole number")
    assert noun("field `size`") == Text(zh="字段 `size`", en="field `size`")
    assert noun("record type `member`").zh == "记录类型 `member`"
    assert noun("`title`").zh == "`title`"
    assert noun("a text matching `H[0-9]{4}`").zh == "符合 `H[0-9]{4}` 的文本"
    assert noun("something else") == Text(zh="something else", en="something else")
