"""Validating household records from JSON, JSONL and YAML against the tiny schema.

Every `record/*` code of the catalogue is produced here (a test checks the table is complete),
each with its file, line, column and data path.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from gspolicy._location import DataPath, RecordLocation, Source
from gspolicy._messages import CATALOGUE
from gspolicy.errors import Diagnostic, HouseholdError
from gspolicy.schema.model import Record, Schema
from gspolicy.schema.records import load_record_file, load_records, load_records_from, validate_record

from support.records import dump_records, tiny_schema

SCHEMA: Schema = tiny_schema()


def load(
    text: str, fmt: str = "json", name: str | None = None
) -> tuple[tuple[Record, ...], list[Diagnostic]]:
    return load_records(Source(name or f"h.{fmt}", text), SCHEMA, fmt=fmt)


def load_ok(text: str, fmt: str = "json") -> tuple[Record, ...]:
    records, diagnostics = load(text, fmt)
    assert diagnostics == [], [d.render() for d in diagnostics]
    return records


def load_bad(text: str, fmt: str = "json") -> list[Diagnostic]:
    records, diagnostics = load(text, fmt)
    assert records == (), "nothing is half-loaded"
    assert diagnostics
    return diagnostics


def one(diagnostics: list[Diagnostic], code: str | None = None) -> Diagnostic:
    found = [d for d in diagnostics if code is None or d.code == code]
    assert len(found) == 1, [d.render() for d in diagnostics]
    return found[0]


def where(d: Diagnostic) -> tuple[int | None, int | None, str]:
    """(line, col, data path) of a record diagnostic."""
    loc = d.location
    assert isinstance(loc, RecordLocation)
    col = loc.span.col if loc.span is not None else None
    line = loc.span.line if loc.span is not None else loc.line
    return line, col, str(loc.path)


def underlined(d: Diagnostic) -> str:
    loc = d.location
    assert isinstance(loc, RecordLocation)
    assert loc.span is not None
    return loc.span.text


def household(**fields: object) -> str:
    return json.dumps({"id": "H0001", **fields}, ensure_ascii=False)


# -- one producer per code of the catalogue ---------------------------------------------------

# code -> (format, text, expected (line, col, path), underlined text or None, en message)
PRODUCERS: dict[str, tuple[str, str, tuple[int | None, int | None, str], str | None, str]] = {
    "record/json-syntax": (
        "json",
        '[\n  {"id": "H0001",\n   "size": 3,,\n  }\n]\n',
        (3, 14, "(record)"),
        ",",
        "invalid JSON: expecting property name enclosed in double quotes",
    ),
    "record/not-a-record": (
        "json",
        '[{"id": "H0001"},\n "H0002"]',
        (2, 2, "(record)"),
        '"H0002"',
        "expected a record of type Household (a mapping), found the text `H0002`",
    ),
    "record/not-a-list": (
        "yaml",
        "just some text\n",
        (1, None, "(record)"),
        None,
        "expected a list of records, found the text `just some text`",
    ),
    "record/unknown-field": (
        "json",
        household(sise=3),
        (1, 17, "sise"),
        '"sise"',
        "sise: unknown field `sise` in a Household record",
    ),
    "record/missing-field": (
        "json",
        '{"size": 3}',
        (1, 1, "(record)"),
        '{"size": 3}',
        "missing required field `id` in a Household record",
    ),
    "record/wrong-type": (
        "jsonl",
        household() + "\n" + household(id="H0002", dibao=7) + "\n",
        (2, 26, "dibao"),
        "7",
        "dibao: expected `true` or `false` (是 / 否), found the number `7`",
    ),
    "record/out-of-range": (
        "yaml",
        "- id: H0001\n  members:\n    - id: M01\n      age: 130\n      age_recorded_on: 2018-09-30\n",
        (4, 12, "members[0].age"),
        "130",
        "members[0].age: 130 is out of range: from 0 to 120",
    ),
    "record/unknown-enum-value": (
        "json",
        household(category="低保户"),
        (1, 29, "category"),
        '"低保户"',
        "category: `低保户` is not a value of Household category (`category`)",
    ),
    "record/bad-date": (
        "json",
        household(registered_on="2018-02-30"),
        (1, 34, "registered_on"),
        '"2018-02-30"',
        "registered_on: `2018-02-30` is not a date",
    ),
    "record/inexact-number": (
        "json",
        '{"id": "H0001", "income": {"net_per_capita": 3650.555}}',
        (1, 46, "income.net_per_capita"),
        "3650.555",
        "income.net_per_capita: `3650.555` has more than 2 decimal places",
    ),
    "record/missing-companion": (
        "json",
        '{"id": "H0001", "members": [{"id": "M01", "age": 45}]}',
        (1, 43, "members[0].age"),
        '"age"',
        "members[0].age: `age` is given without `age_recorded_on`",
    ),
    "record/duplicate-key": (
        "json",
        '{"id": "H0001",\n "size": 3,\n "size": 4}',
        (3, 2, "size"),
        '"size"',
        "size: duplicate key `size`",
    ),
    "record/duplicate-id": (
        "json",
        '{"id": "H0001", "members": [{"id": "M01"}, {"id": "M01"}]}',
        (1, 51, "members[1].id"),
        '"M01"',
        "members[1].id: duplicate Member id `M01` (first at members[0])",
    ),
    "record/implied-birth": (
        "yaml",
        "- id: H0001\n  members:\n    - id: M01\n      age: 30\n      age_recorded_on: 0003-01-01\n",
        (4, 12, "members[0].age"),
        "30",
        "members[0].age: an age of 30 recorded on 0003-01-01 means a birth before 0001-01-01, "
        "the earliest birth date allowed",
    ),
    "record/bad-text": (
        "json",
        '{"id": "H0001", "village": "a\\u0000b"}',
        (1, 28, "village"),
        '"a\\u0000b"',
        "village: this text cannot be used: it holds the control character U+0000",
    ),
    "record/date-order": (
        "yaml",
        "id: H0001\nregistered_on: 2018-06-01\nexited_on: 2018-05-31\n",
        (3, 12, "exited_on"),
        "2018-05-31",
        "exited_on: `exited_on` (2018-05-31) is before `registered_on` (2018-06-01)",
    ),
}


# codes produced by a test of their own (they need a patched limit)
PRODUCED_ELSEWHERE = {
    "record/too-many": "test_too_many_records_in_one_file",
    "record/not-decided": "test_duplicate_household_id_across_files",
    "record/gathered-field": "test_a_data_file_may_not_give_a_gathered_list",
}


def test_every_record_code_has_a_producer() -> None:
    codes = {code for code in CATALOGUE if code.startswith("record/")}
    assert codes - set(PRODUCERS) - set(PRODUCED_ELSEWHERE) == set(), "a record/* code no test produces"
    assert all(name in globals() for name in PRODUCED_ELSEWHERE.values())


def test_too_many_records_in_one_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import gspolicy.schema.records as records_module

    monkeypatch.setattr(records_module, "MAX_RECORDS", 2)
    text = "\n".join(f'{{"id": "H{i}"}}' for i in range(3))
    loaded, diagnostics = records_module.load_records(Source("h.jsonl", text), tiny_schema(), fmt="jsonl")
    assert loaded == ()
    assert [d.code for d in diagnostics] == ["record/too-many"]
    assert "more than 2 records" in diagnostics[0].message("en")


@pytest.mark.parametrize("code", sorted(PRODUCERS))
def test_each_record_code_is_produced_and_located(code: str) -> None:
    fmt, text, expected, marked, message = PRODUCERS[code]
    d = one(load_bad(text, fmt))
    assert d.code == code
    assert where(d) == expected
    if marked is not None:
        assert underlined(d) == marked
    assert d.message("en") == message
    assert d.render("zh")
    assert d.render("en").startswith(f"h.{fmt}:{expected[0]}")


# -- unknown fields ---------------------------------------------------------------------------


def test_unknown_field_did_you_mean() -> None:
    d = one(load_bad(household(registerd_on="2015-06-01")))
    assert d.suggestions[0] == "registered_on"
    assert d.help() == "did you mean `registered_on`, `exited_on`?"
    assert d.help("zh") == "您是否想写 `registered_on`, `exited_on`？"
    assert d.message("zh") == "registerd_on: 农户记录中有未知字段 `registerd_on`"


@pytest.mark.parametrize(
    ("text", "path", "suggestion"),
    [
        (household(户编号="H0002"), "户编号", "id"),
        (household(家庭人口数=3), "家庭人口数", "size"),
        (household(**{"Household size": 3}), "Household size", "size"),
        ('{"id": "H0001", "members": [{"id": "M01", "姓名": "张三"}]}', "members[0].姓名", "name"),
        ('{"id": "H0001", "income": {"人均纯收入": 3000}}', "income.人均纯收入", "net_per_capita"),
    ],
)
def test_unknown_field_named_by_its_title_suggests_the_field(text: str, path: str, suggestion: str) -> None:
    d = one(load_bad(text), "record/unknown-field")
    assert where(d)[2] == path
    assert d.suggestions == (suggestion,)


def test_unknown_field_without_any_close_name() -> None:
    d = one(load_bad(household(qqqqqqqq=1)))
    assert d.suggestions == ()
    assert d.help() is None


# -- required and missing ---------------------------------------------------------------------


def test_explicit_null_is_missing_not_a_default() -> None:
    (record,) = load_ok(household(size=None, dibao=None, income=None, members=None))
    assert "size" not in record
    assert dict(record) == {"id": "H0001"}
    assert record.get("dibao") is None


def test_explicit_null_on_a_required_field_is_missing() -> None:
    d = one(load_bad('{"id": null}'))
    assert d.code == "record/missing-field"
    assert dict(d.args)["field"] == "id"


def test_missing_required_field_in_a_member() -> None:
    d = one(load_bad('{"id": "H0001", "members": [{"name": "张三"}]}'))
    assert (d.code, where(d)[2]) == ("record/missing-field", "members[0]")
    assert d.message() == "members[0]: missing required field `id` in a Member record"
    assert d.message("zh") == "members[0]: 家庭成员记录缺少必填字段 `id`"


def test_companion_given_as_null_is_missing() -> None:
    d = one(load_bad('{"id": "H0001", "members": [{"id": "M01", "age": 3, "age_recorded_on": null}]}'))
    assert d.code == "record/missing-companion"
    assert d.help() == "give `age_recorded_on` too, or remove `age`"


def test_companion_without_the_field_is_fine() -> None:
    (record,) = load_ok('{"id": "H0001", "members": [{"id": "M01", "age_recorded_on": "2018-09-30"}]}')
    assert record["members"][0]["age_recorded_on"] == dt.date(2018, 9, 30)  # type: ignore[index]


# -- types and values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("size", "four", "size: expected a whole number, found the text `four`"),
        ("size", 2.5, "size: expected a whole number, found the number `2.5`"),
        ("size", True, "size: expected a whole number, found the boolean `true`"),
        ("dibao", "maybe", "dibao: expected `true` or `false` (是 / 否), found the text `maybe`"),
        ("housing_share", "half", "housing_share: expected a ratio, found the text `half`"),
        ("land_area", [1], "land_area: expected a number, found a list"),
        (
            "registered_on",
            20180930,
            "registered_on: expected a date (YYYY-MM-DD), found the number `20180930`",
        ),
        ("village", {"name": "x"}, "village: expected a text, found a mapping"),
        ("county_code", "62010", "county_code: expected a text matching `[0-9]{6}`, found the text `62010`"),
        ("members", {"id": "M01"}, "members: expected a list, found a mapping"),
        ("income", "3000", "record of type Income (a mapping), found the text `3000`"),
    ],
)
def test_wrong_types(field: str, value: object, message: str) -> None:
    d = one(load_bad(household(**{field: value})))
    assert d.message().endswith(message)
    assert where(d)[2] == field


def test_wrong_type_in_chinese() -> None:
    d = one(load_bad(household(size="four")))
    assert d.message("zh") == "size: 应为整数，实际为文本 `four`"


@pytest.mark.parametrize(
    ("text", "path", "en", "zh"),
    [
        (household(size=0), "size", "0 is out of range: from 1 to 20", "0 超出范围：应在 1 到 20 之间"),
        (household(size=21), "size", "21 is out of range: from 1 to 20", "21 超出范围：应在 1 到 20 之间"),
        (
            household(land_area=1000.5),
            "land_area",
            "1000.5 is out of range: from 0 to 1000 mu",
            "1000.5 超出范围：应在 0 到 1000 mu 之间",
        ),
        (
            household(housing_share=-0.1),
            "housing_share",
            "-0.1 is out of range: from 0 to 1",
            "-0.1 超出范围：应在 0 到 1 之间",
        ),
        (
            household(registered_on="2012-12-31"),
            "registered_on",
            "2012-12-31 is out of range: from 2013-01-01 to 2030-12-31",
            "2012-12-31 超出范围：应在 2013-01-01 到 2030-12-31 之间",
        ),
        (
            '{"id": "H0001", "income": {"net_per_capita": -1}}',
            "income.net_per_capita",
            "-1 is out of range: from 0 to 1000000 yuan",
            "-1 超出范围：应在 0 到 1000000 yuan 之间",
        ),
    ],
)
def test_out_of_range(text: str, path: str, en: str, zh: str) -> None:
    d = one(load_bad(text), "record/out-of-range")
    assert d.message("en") == f"{path}: {en}"
    assert d.message("zh") == f"{path}: {zh}"


def test_bounds_are_inclusive() -> None:
    (record,) = load_ok(household(size=20, housing_share=1, land_area=0, registered_on="2013-01-01"))
    assert record["size"] == 20


def test_unknown_enum_value_with_suggestions() -> None:
    d = one(load_bad(household(category="genral")))
    assert d.suggestions == ("general",)
    assert d.help() == (
        "did you mean `general`? the values are: "
        "`general` (一般贫困户), `dibao` (低保贫困户), `tekun` (特困供养贫困户)"
    )
    assert d.message("zh") == "category: `genral` 不是贫困户属性（`category`）的取值"


def test_unknown_enum_value_suggests_codes_for_chinese_labels() -> None:
    d = one(load_bad('{"id": "H0001", "members": [{"id": "M01", "health": "长期慢行病"}]}'))
    assert d.suggestions == ("chronic",)


def test_enum_value_that_is_not_text() -> None:
    d = one(load_bad(household(category=3)))
    assert d.code == "record/unknown-enum-value"
    assert d.message().startswith("category: ")
    assert "the number `3`" in d.message()
    assert "``" not in d.message(), "a described value is not wrapped in backticks a second time"


@pytest.mark.parametrize("value", ["2018-02-30", "2018/09/30", "30.09.2018", "yesterday", ""])
def test_bad_dates(value: str) -> None:
    d = one(load_bad(household(registered_on=value)))
    assert d.code == "record/bad-date"
    assert d.help() == "write dates as YYYY-MM-DD, e.g. `2018-09-30`"


def test_money_with_more_than_two_decimals() -> None:
    d = one(load_bad('{"id": "H0001", "income": {"transfers": 0.001}}'))
    assert d.code == "record/inexact-number"
    assert d.message("zh") == "income.transfers: `0.001` 的小数位数超过 2 位"
    assert d.help("zh") == "金额精确到分（0.01 元）"


def test_money_is_exact() -> None:
    (record,) = load_ok('{"id": "H0001", "income": {"net_per_capita": 3650.10, "transfers": 1200}}')
    income = record["income"]
    assert isinstance(income, Record)
    assert income["net_per_capita"] == Decimal("3650.10")
    assert isinstance(income["net_per_capita"], Decimal)
    assert income["transfers"] == Decimal(1200)


def test_ratio_and_decimal_keep_all_places() -> None:
    (record,) = load_ok(household(housing_share=0.12345, land_area=2.125))
    assert record["housing_share"] == Decimal("0.12345")
    assert record["land_area"] == Decimal("2.125")


def test_date_order_equal_dates_are_fine() -> None:
    load_ok(household(registered_on="2018-06-01", exited_on="2018-06-01"))


def test_date_order_in_chinese() -> None:
    d = one(load_bad(household(registered_on="2018-06-01", exited_on="2018-05-31")))
    assert d.message("zh") == "exited_on: `exited_on`（2018-05-31）早于 `registered_on`（2018-06-01）"


# -- canonical forms --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("dibao", "dibao"),
        ("低保贫困户", "dibao"),
        ("低保", "dibao"),
        ("Dibao household", "dibao"),
        (" 五保户 ", "tekun"),
    ],
)
def test_enum_labels_canonicalise(label: str, code: str) -> None:
    (record,) = load_ok(household(category=label))
    assert record["category"] == code


@pytest.mark.parametrize(
    ("value", "expected"),
    [("是", True), ("否", False), (True, True), (False, False), ("yes", True), ("N", False), (" 是 ", True)],
)
def test_booleans_canonicalise(value: object, expected: bool) -> None:
    (record,) = load_ok(household(dibao=value))
    assert record["dibao"] is expected


def test_yaml_values_canonicalise() -> None:
    text = (
        "id: H0001\n"
        "county_code: 062010\n"  # a code written as a YAML number keeps its digits (no octal)
        "dibao: 是\n"
        "category: 一般户\n"
        "registered_on: 2014-03-01\n"
        "members:\n"
        "  - {id: M01, disabled: no, health: 慢性病, birth_date: 1970-05-01}\n"
    )
    (record,) = load_ok(text, "yaml")
    assert record["county_code"] == "062010"
    assert record["dibao"] is True
    assert record["category"] == "general"
    assert record["registered_on"] == dt.date(2014, 3, 1)
    member = record["members"][0]  # type: ignore[index]
    assert dict(member) == {
        "id": "M01",
        "disabled": False,
        "health": "chronic",
        "birth_date": dt.date(1970, 5, 1),
    }


# -- lists and ids ----------------------------------------------------------------------------


def test_duplicate_member_id() -> None:
    d = one(load_bad('{"id": "H0001", "members": [{"id": "M01"}, {"id": "M02"}, {"id": "M01"}]}'))
    assert d.code == "record/duplicate-id"
    assert where(d)[2] == "members[2].id"
    assert d.message("zh") == "members[2].id: 重复的家庭成员编号 `M01`（首次出现在 members[0]）"


@pytest.mark.parametrize(
    ("fmt", "text", "line", "first"),
    [
        ("json", '[\n  {"id": "H0001"},\n  {"id": "H0002"},\n  {"id": "H0001"}\n]\n', 4, "h.json:2"),
        ("jsonl", '{"id": "H0001"}\n{"id": "H0002"}\n\n{"id": "H0001"}\n', 4, "h.jsonl:1"),
        ("yaml", "- id: H0001\n- id: H0002\n- id: H0001\n", 3, "h.yaml:1"),
    ],
)
def test_duplicate_household_id_across_a_file(fmt: str, text: str, line: int, first: str) -> None:
    d = one(load_bad(text, fmt))
    assert d.code == "record/duplicate-id"
    assert where(d)[0] == line
    assert where(d)[2] == "id"
    assert d.message() == f"id: duplicate Household id `H0001` (first at {first})"


def test_duplicate_household_id_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": "H0001"}\n', encoding="utf-8")
    (tmp_path / "b.yaml").write_text("- id: H0002\n- id: H0001\n", encoding="utf-8")
    records, diagnostics = load_records_from([tmp_path / "a.jsonl", tmp_path / "b.yaml"], SCHEMA)
    assert records == ()
    assert [d.code for d in diagnostics] == ["record/duplicate-id", "record/not-decided"]
    d = one(diagnostics, "record/duplicate-id")
    assert d.message().endswith(f"(first at {tmp_path / 'a.jsonl'}:1)")
    summary = one(diagnostics, "record/not-decided")
    assert summary.message() == "no record was decided: 1 of the 3 records read have problems"


@pytest.mark.parametrize(
    ("fmt", "text", "found"),
    [
        ("json", "42", "the number `42`"),
        ("json", '"households"', "the text `households`"),
        ("yaml", "true\n", "the boolean `true`"),
        ("json", "null", "an empty value"),
    ],
)
def test_not_a_list(fmt: str, text: str, found: str) -> None:
    d = one(load_bad(text, fmt))
    assert d.code == "record/not-a-list"
    assert d.message() == f"expected a list of records, found {found}"
    assert d.render().startswith(f"h.{fmt}:1: record/not-a-list")


def test_not_a_record_for_list_items_and_nested_records() -> None:
    diagnostics = load_bad('{"id": "H0001", "members": ["M01", 2], "income": [1]}')
    assert sorted((d.code, where(d)[2]) for d in diagnostics) == [
        ("record/not-a-record", "income"),
        ("record/not-a-record", "members[0]"),
        ("record/not-a-record", "members[1]"),
    ]


def test_empty_list_file_has_no_records() -> None:
    assert load_ok("[]") == ()
    assert load_ok("", "jsonl") == ()
    assert load_ok("[]\n", "yaml") == ()


# -- JSON syntax ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "text", "line", "col", "problem"),
    [
        ("json", '[\n  {"id": "H0001"}\n  {"id": "H0002"}\n]', 3, 3, "expecting ',' delimiter"),
        ("json", '{"id": "H0001",\n "size": }', 2, 10, "expecting value"),
        ("json", '{"id": "H0001"} extra', 1, 17, "extra data"),
        ("json", '{"id": "H0001", "village": "a', 1, 28, "unterminated string starting at"),
        ("jsonl", '{"id": "H0001"}\n{"id": "H0002"}\n{"id": "H0003" 1}\n', 3, 16, "expecting ',' delimiter"),
        ("jsonl", '{"id": "H0001"}\n  {"id" "H0002"}\n', 2, 9, "expecting ':' delimiter"),
    ],
)
def test_json_syntax_is_located(fmt: str, text: str, line: int, col: int, problem: str) -> None:
    d = one(load_bad(text, fmt))
    assert d.code == "record/json-syntax"
    assert where(d)[:2] == (line, col)
    assert d.message() == f"invalid JSON: {problem}"
    assert d.render().startswith(f"h.{fmt}:{line}:{col}: record/json-syntax: invalid JSON: {problem}")


def test_every_bad_jsonl_line_is_reported() -> None:
    diagnostics = load_bad('{"id": "H0001",}\n{"id": "H0002"}\n[\n', "jsonl")
    assert [(d.code, where(d)[0]) for d in diagnostics] == [
        ("record/json-syntax", 1),
        ("record/json-syntax", 3),
    ]


def test_json_constants_are_refused_and_located() -> None:
    d = one(load_bad('{"id": "H0001",\n "land_area": NaN}'))
    assert d.code == "record/json-syntax"
    assert d.message() == "invalid JSON: `NaN` is not a number gspolicy accepts"
    assert where(d)[:2] == (2, 15)


def test_duplicate_json_key_points_at_the_second_key() -> None:
    d = one(load_bad('{"id": "H0001",\n "members": [{"id": "M01",\n   "name": "a",\n   "name": "b"}]}'))
    assert d.code == "record/duplicate-key"
    assert where(d) == (4, 4, "members[0].name")
    assert d.help() == "keep one of the two entries"


# -- nothing half-loaded ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("json", '[{"id": "H0001"}, {"id": "H0002", "size": 99}, {"id": "H0003"}]'),
        ("jsonl", '{"id": "H0001"}\n{"id": "H0002", "size": 99}\n{"id": "H0003"}\n'),
        ("jsonl", '{"id": "H0001"}\n{"id": "H0002"\n{"id": "H0003"}\n'),
        ("yaml", "- id: H0001\n- id: H0002\n  size: 99\n- id: H0003\n"),
        ("yaml", "- id: H0001\n- id: !!python/object:os.system H0002\n"),
    ],
)
def test_one_bad_record_means_no_records(fmt: str, text: str) -> None:
    assert len(load_bad(text, fmt)) == 1


def test_good_file_loads_every_record_with_its_origin() -> None:
    records = load_ok('{"id": "H0001"}\n\n{"id": "H0002", "size": 2}\n', "jsonl")
    assert [r["id"] for r in records] == ["H0001", "H0002"]
    assert [r.origin for r in records] == [RecordLocation("h.jsonl", 1), RecordLocation("h.jsonl", 3)]
    records = load_ok("- id: H0001\n\n- id: H0002\n", "yaml")
    assert [r.origin.line for r in records] == [1, 3]  # type: ignore[union-attr]


def test_a_single_record_file() -> None:
    (record,) = load_ok('{\n  "id": "H0001"\n}\n')
    assert record.type_name == "household"
    (record,) = load_ok("id: H0001\n", "yaml")
    assert record["id"] == "H0001"


def test_yaml_problems_stop_a_yaml_record_file() -> None:
    d = one(load_bad("- id: H0001\n- id: H0002\n- id: H0001\n  id: H0003\n", "yaml"))
    assert d.code == "yaml/duplicate-key"


def test_many_problems_in_one_file_are_all_reported() -> None:
    text = '{"id": "H0001", "size": 0}\n{"id": "H0002", "dibao": 3}\n{"id": "H0003", "sise": 1}\n'
    assert [(d.code, where(d)[0]) for d in load_bad(text, "jsonl")] == [
        ("record/out-of-range", 1),
        ("record/wrong-type", 2),
        ("record/unknown-field", 3),
    ]


def test_household_error_holds_the_diagnostics() -> None:
    diagnostics = load_bad(household(size=99))
    error = HouseholdError(diagnostics)
    assert error.render("en").startswith("h.json:1:25: record/out-of-range: size: 99 is out of range")


# -- files ---------------------------------------------------------------------------------


def test_load_record_file_formats_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "h.ndjson"
    good.write_bytes('\ufeff{"id": "H0001"}\r\n{"id": "H0002"}\r\n'.encode())
    records, diagnostics = load_record_file(good, SCHEMA)
    assert diagnostics == []
    assert [r["id"] for r in records] == ["H0001", "H0002"]
    txt = tmp_path / "h.txt"
    txt.write_text("id\nH0001\n", encoding="utf-8")
    assert [d.code for d in load_record_file(txt, SCHEMA)[1]] == ["io/unknown-format"]
    csv = tmp_path / "h.csv"  # a registry table
    csv.write_text("id\nH0001\n", encoding="utf-8")
    records, diagnostics = load_record_file(csv, SCHEMA)
    assert diagnostics == []
    assert [r["id"] for r in records] == ["H0001"]
    assert [d.code for d in load_record_file(tmp_path / "none.json", SCHEMA)[1]] == ["io/not-found"]
    latin = tmp_path / "h.yml"
    latin.write_bytes("id: H0001\nvillage: caf\xe9\n".encode("latin-1"))
    assert [d.code for d in load_record_file(latin, SCHEMA)[1]] == ["io/not-utf8"]


def test_load_record_file_uses_the_shown_name(tmp_path: Path) -> None:
    path = tmp_path / "households.json"
    path.write_text(household(size=0), encoding="utf-8")
    _, diagnostics = load_record_file(path, SCHEMA, name="data/households.json")
    assert one(diagnostics).render().startswith("data/households.json:1:25: ")


# -- validate_record and Record -------------------------------------------------------------


def test_validate_record_from_python_data() -> None:
    record, diagnostics = validate_record(
        {"id": "H0001", "income": {"net_per_capita": 12.5}, "dibao": "否"}, SCHEMA, file="api", line=7
    )
    assert diagnostics == []
    assert record is not None
    assert record.origin == RecordLocation("api", 7)
    assert record["income"] == Record("income", {"net_per_capita": Decimal("12.5")})
    assert record["dibao"] is False


def test_validate_record_locates_by_data_path() -> None:
    record, diagnostics = validate_record(
        {"id": "H0001", "members": [{"id": "M01", "age": -1}]}, SCHEMA, file="api", line=3
    )
    assert record is None
    d = one(diagnostics, "record/out-of-range")
    assert d.location == RecordLocation("api", 3, DataPath(["members", 0, "age"]))
    assert d.render() == "api:3: record/out-of-range: members[0].age: -1 is out of range: from 0 to 120"


def test_validate_a_nested_record_type() -> None:
    record, diagnostics = validate_record({"id": "M01", "health": "健康"}, SCHEMA, record="member")
    assert diagnostics == []
    assert record == Record("member", {"id": "M01", "health": "healthy"})


def test_record_mapping_behaviour() -> None:
    (record,) = load_ok(household(size=3, members=[{"id": "M01"}]))
    same = Record("household", {"id": "H0001", "size": 3, "members": (Record("member", {"id": "M01"}),)})
    assert record == same
    assert hash(record) == hash(same)
    assert record != Record("member", dict(record))
    assert len(record) == 3
    assert list(record) == ["id", "size", "members"]
    assert repr(Record("member", {"id": "M01"})) == "member(id='M01')"
    smaller = record.replace(size=None, dibao=True)
    assert dict(smaller) == {"id": "H0001", "members": record["members"], "dibao": True}
    assert record.to_data() == {"id": "H0001", "size": 3, "members": [{"id": "M01"}]}


# -- hostile input -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_deeply_nested_json_is_a_diagnostic_not_a_crash(fmt: str) -> None:
    diagnostics = load_bad('{"id": "H0001", "village": ' + "[" * 100_000 + "\n", fmt)
    assert all(d.code.startswith(("record/", "yaml/")) for d in diagnostics)


@pytest.mark.parametrize("value", ["20180930", "2018-W39-7", "2018W397"])
def test_only_calendar_dates_written_yyyy_mm_dd_are_dates(value: str) -> None:
    # the help line promises YYYY-MM-DD; Python's fromisoformat also reads basic and week dates
    d = one(load_bad(household(registered_on=value)))
    assert d.code == "record/bad-date"


@pytest.mark.parametrize("fmt", ["json", "jsonl", "yaml"])
def test_to_data_round_trips_decimals_a_float_cannot_hold(fmt: str) -> None:
    (record,) = load_ok('{"id": "H0001", "size": 3, "land_area": 0.12345678901234567891}')
    assert record["land_area"] == Decimal("0.12345678901234567891")
    again = load_ok(dump_records([record.to_data()], fmt), fmt)
    assert again == (record,)


def test_a_data_file_may_not_give_a_gathered_list() -> None:
    from gspolicy._resources import bundled_schema_path
    from gspolicy.schema.load import read_schema
    from gspolicy.schema.records import load_records

    schema = read_schema(bundled_schema_path())[0]
    assert schema is not None
    text = '{"code": "621126104208", "households": []}\n'
    loaded, problems = load_records(Source("v.jsonl", text), schema, fmt="jsonl", record="village")
    assert loaded == ()
    assert [d.code for d in problems] == ["record/gathered-field"]
    assert problems[0].location is not None
    assert "gathered by the evaluator" in problems[0].message("en")
