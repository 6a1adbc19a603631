"""Reading a schema file: the tiny schema loads, and every kind of mistake is reported, located."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gspolicy._location import Source
from gspolicy.errors import Diagnostic
from gspolicy.schema.load import schema_from_source
from gspolicy.schema.model import KINDS

from support.records import TINY_SCHEMA, tiny_schema


def load_bad(text: str) -> list[Diagnostic]:
    schema, diagnostics = schema_from_source(Source("bad.yaml", text))
    assert schema is None, "a schema with errors must not load"
    assert diagnostics
    return diagnostics


def edit(old: str, new: str) -> str:
    assert TINY_SCHEMA.count(old) == 1, old
    return TINY_SCHEMA.replace(old, new)


def one(diagnostics: list[Diagnostic], code: str) -> Diagnostic:
    found = [d for d in diagnostics if d.code == code]
    assert len(found) == 1, [d.render() for d in diagnostics]
    return found[0]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# -- the tiny schema ---------------------------------------------------------------------------


def test_tiny_schema_loads_without_diagnostics() -> None:
    schema, diagnostics = schema_from_source(Source("tiny.yaml", TINY_SCHEMA))
    assert diagnostics == []
    assert schema is not None
    assert (schema.id, schema.version, schema.root, schema.source) == (
        "tiny_records",
        "1",
        "household",
        "tiny.yaml",
    )
    assert list(schema.records) == ["household", "income", "member"]
    assert schema.root_record.key == "id"
    assert schema.records["member"].key == "id"


def test_tiny_schema_has_a_field_of_every_kind() -> None:
    schema = tiny_schema()
    kinds = {f.kind for r in schema.records.values() for f in r.fields.values()}
    assert kinds == set(KINDS)


def test_fields_are_read_with_their_options() -> None:
    fields = tiny_schema().records["household"].fields
    size = fields["size"]
    assert (size.kind, size.min, size.max) == ("int", Decimal(1), Decimal(20))
    assert size.title.zh == "家庭人口数"
    assert fields["id"].required
    assert fields["id"].pattern == "H[0-9]{4}"
    assert fields["id"].matches("H0001")
    assert not fields["id"].matches("H00011")
    assert fields["registered_on"].min == dt.date(2013, 1, 1)
    assert fields["exited_on"].not_before == ("registered_on",)
    assert fields["land_area"].unit == "mu"
    assert (fields["members"].kind, fields["members"].record) == ("list", "member")
    assert (fields["income"].kind, fields["income"].record) == ("record", "income")
    member = tiny_schema().records["member"].fields
    assert member["age"].requires == ("age_recorded_on",)


def test_enum_labels_canonicalise_to_codes() -> None:
    category = tiny_schema().enums["category"]
    assert category.codes == ("general", "dibao", "tekun")
    for label in ("dibao", "低保贫困户", "Dibao household", "低保", "  低保 ", "DIBAO HOUSEHOLD"):
        assert category.canonical(label) == "dibao", label
    assert category.canonical("低保户") is None
    assert category.value("tekun").title.zh == "特困供养贫困户"


def test_field_paths_walk_nested_records() -> None:
    paths = [p for p, _ in tiny_schema().field_paths()]
    assert "income.net_per_capita" in paths
    assert "members" in paths
    assert "members.age" not in paths  # lists are not walked into


# -- mistakes ------------------------------------------------------------------------------------


def test_unknown_type_with_suggestion() -> None:
    text = edit("type: int, min: 1", "type: integer, min: 1")
    d = one(load_bad(text), "schema/unknown-type")
    assert d.suggestions == ("int",)
    assert d.location.line == line_of(text, "integer")  # type: ignore[union-attr]
    assert d.location.text == "integer"  # type: ignore[union-attr]
    assert d.message() == (
        "in field `size` of record type `household` of schema `tiny_records`: unknown type `integer`"
    )
    assert (
        d.message("zh")
        == "在数据结构 `tiny_records` 的记录类型 `household` 的字段 `size`中：未知类型 `integer`"
    )
    assert d.help().startswith("did you mean `int`? the types are: `bool`, `int`, ")  # type: ignore[union-attr]


def test_unknown_enum() -> None:
    d = one(load_bad(edit("enum: health,", "enum: helth,")), "schema/unknown-enum")
    assert d.suggestions == ("health",)
    assert d.location.text == "helth"  # type: ignore[union-attr]
    assert d.context == (("field", "health"), ("record", "member"), ("schema", "tiny_records"))


def test_unknown_record() -> None:
    d = one(load_bad(edit("of: member", "of: membr")), "schema/unknown-record")
    assert d.suggestions == ("member",)
    assert d.message().endswith("unknown record type `membr`")


def test_unknown_nested_record() -> None:
    d = one(load_bad(edit("record: income", "record: incom")), "schema/unknown-record")
    assert d.suggestions == ("income",)


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        ("min: 1, max: 20", "min: 21, max: 20", ("21", "20")),
        ("min: 0, max: 1,", "min: 0.75, max: 0.5,", ("0.75", "0.5")),
        (
            "min: 2013-01-01\n        max: 2030-12-31",
            "min: 2031-01-01\n        max: 2030-12-31",
            ("2031-01-01", "2030-12-31"),
        ),
    ],
)
def test_bad_bounds(old: str, new: str, shown: tuple[str, str]) -> None:
    text = edit(old, new)
    d = one(load_bad(text), "schema/bad-bounds")
    assert dict(d.args) == {"min": shown[0], "max": shown[1]}
    assert d.message().endswith(f"the lower bound {shown[0]} is above the upper bound {shown[1]}")
    assert d.location.text == shown[0]  # type: ignore[union-attr]


def test_equal_bounds_are_fine() -> None:
    schema, diagnostics = schema_from_source(Source("ok.yaml", edit("min: 1, max: 20", "min: 20, max: 20")))
    assert schema is not None
    assert diagnostics == []


def test_bound_of_wrong_kind() -> None:
    d = one(load_bad(edit("min: 1, max: 20", "min: one, max: 20")), "shape/wrong-type")
    assert d.message().endswith("expected a number for `min`, found the text `one`")
    d = one(load_bad(edit("min: 2013-01-01", "min: 2013-02-30")), "shape/bad-value")
    assert d.message().endswith("`2013-02-30` is not a valid date for `min`")


def test_duplicate_enum_label() -> None:
    text = edit("aliases: [低保]", "aliases: [一般户]")
    d = one(load_bad(text), "schema/duplicate-label")
    assert dict(d.args) == {"label": "一般户", "first": "general", "second": "dibao"}
    assert d.location.line == line_of(text, "dibao: {")  # type: ignore[union-attr]
    assert (
        d.message()
        == "in enum `category` of schema `tiny_records`: label `一般户` is used by both `general` and `dibao`"
    )


def test_duplicate_enum_label_ignores_case() -> None:
    d = one(load_bad(edit("en: Dibao household,", "en: general household,")), "schema/duplicate-label")
    assert dict(d.args)["label"] == "general household"


def test_unknown_keys_at_top_and_in_a_field() -> None:
    text = edit("unit: mu,", "units: mu,").replace("root: household\n", "root: household\ncolour: red\n")
    diagnostics = load_bad(text)
    unknown = [d for d in diagnostics if d.code == "shape/unknown-key"]
    assert [(dict(d.args)["key"], d.location.line, d.suggestions) for d in unknown] == [  # type: ignore[union-attr]
        ("colour", 6, ()),
        ("units", line_of(text, "units"), ("unit",)),
    ]
    assert unknown[0].message() == "unknown key `colour` in the schema file"
    assert unknown[1].message().endswith("unknown key `units` in field `land_area`")


def test_allowed_keys_are_listed_once() -> None:
    d = one(load_bad(edit("unit: mu,", "units: mu,")), "shape/unknown-key")
    allowed = dict(d.args)["allowed"].split(", ")  # type: ignore[union-attr]
    assert len(allowed) == len(set(allowed)), allowed


@pytest.mark.parametrize(
    ("old", "new", "key", "where"),
    [
        ("root: household\n", "", "root", "the schema file"),
        ("title: {zh: 收入, en: Income}\n    fields", "fields", "title", "record type `income`"),
        (
            "type: money, title: {zh: 转移性收入, en: Transfer income}",
            "title: {zh: 转移性收入, en: Transfer income}",
            "type",
            "field `transfers`",
        ),
        ("{type: enum, enum: category, title", "{type: enum, title", "enum", "field `category`"),
        ("{type: list, of: member, title", "{type: list, title", "of", "field `members`"),
        ("healthy: {zh: 健康, en: Healthy}", "healthy: {zh: 健康}", "en", "value `healthy`"),
    ],
)
def test_missing_keys(old: str, new: str, key: str, where: str) -> None:
    d = one(load_bad(edit(old, new)), "shape/missing-key")
    assert d.message().endswith(f"missing key `{key}` in {where}")


def test_missing_root_record() -> None:
    d = one(load_bad(edit("root: household", "root: househld")), "schema/missing-root")
    assert d.suggestions == ("household",)
    assert d.message() == "in schema `tiny_records`: the schema has no record type `househld`"


def test_key_that_is_not_a_field() -> None:
    d = one(
        load_bad(
            edit(
                'key: id\n    fields:\n      id: {type: string, required: true, pattern: "H',
                'key: ident\n    fields:\n      id: {type: string, required: true, pattern: "H',
            )
        ),
        "schema/missing-root",
    )
    assert d.suggestions == ()
    assert dict(d.args) == {"name": "ident"}


def test_unknown_field_references() -> None:
    diagnostics = load_bad(edit("requires: [age_recorded_on]", "requires: [age_recorded]"))
    d = one(diagnostics, "schema/unknown-field-ref")
    assert d.suggestions == ("age_recorded_on",)
    assert d.message().endswith("no field `age_recorded` in this record type")
    d = one(
        load_bad(edit("not_before: [registered_on]", "not_before: [registerd_on]")),
        "schema/unknown-field-ref",
    )
    assert d.suggestions[0] == "registered_on"


def test_not_before_on_a_field_that_is_not_a_date() -> None:
    d = one(
        load_bad(edit("type: int, min: 1", "type: int, not_before: [registered_on], min: 1")),
        "schema/not-before-type",
    )
    assert d.message().endswith("`not_before` is given on `size`, which is not a date field")


def test_bad_names_and_bad_pattern() -> None:
    diagnostics = load_bad(
        edit("village: {type: string,", "1village: {type: string,").replace(
            'pattern: "[0-9]{6}"', 'pattern: "[0-9"'
        )
    )
    assert one(diagnostics, "schema/bad-name").message().endswith("`1village` is not a valid name")
    bad = one(diagnostics, "shape/bad-value")
    assert bad.message().endswith("`[0-9` is not a valid pattern for `pattern`")


def test_format_from_the_future() -> None:
    d = one(load_bad(edit("format: 1", "format: 2")), "shape/bad-value")
    assert "upgrade gspolicy" in d.help()  # type: ignore[operator]


def test_recursive_record_types() -> None:
    text = edit(
        "transfers: {type: money,",
        "back: {type: record, record: household, title: {zh: 回, en: Back}}\n      transfers: {type: money,",
    )
    diagnostics = load_bad(text)
    recursive = [d for d in diagnostics if d.code == "schema/recursive"]
    assert sorted(dict(d.args)["name"] for d in recursive) == ["household", "income"]
    assert recursive[0].message() == "in schema `tiny_records`: record type `household` contains itself"
    assert recursive[0].location.line == line_of(text, "  household:")  # type: ignore[union-attr]


def test_record_containing_itself_through_a_list() -> None:
    diagnostics = load_bad(edit("{type: list, of: member,", "{type: list, of: household,"))
    d = one(diagnostics, "schema/recursive")
    assert dict(d.args) == {"name": "household"}


def test_many_problems_are_all_reported_at_once() -> None:
    text = (
        edit("type: int, min: 1", "type: integer, min: 1")
        .replace("enum: health,", "enum: helth,")
        .replace("of: member", "of: membr")
    )
    codes = sorted(d.code for d in load_bad(text))
    assert codes == ["schema/unknown-enum", "schema/unknown-record", "schema/unknown-type"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "yaml/empty"),
        ("schema: [\n", "yaml/syntax"),
        ("- a\n- b\n", "shape/wrong-type"),
        (TINY_SCHEMA + "version: 2\n", "yaml/duplicate-key"),
    ],
)
def test_yaml_and_shape_problems_pass_through(text: str, code: str) -> None:
    assert code in {d.code for d in load_bad(text)}


# -- units -------------------------------------------------------------------------------------

UNITS = """\
units:
  mu: {zh: 亩, en: mu}
  yuan: {zh: 元, en: yuan}
  ratio: {zh: 比率, en: ratio, percent: true}
"""


def test_a_units_table_is_read_with_both_languages() -> None:
    schema, diagnostics = schema_from_source(
        Source("units.yaml", edit("root: household\n", "root: household\n" + UNITS))
    )
    assert diagnostics == []
    assert schema is not None
    assert [(u.code, u.title.zh, u.title.en, u.percent) for u in schema.units.values()] == [
        ("mu", "亩", "mu", False),
        ("yuan", "元", "yuan", False),
        ("ratio", "比率", "ratio", True),
    ]


def test_a_schema_without_a_units_table_names_units_freely() -> None:
    schema = tiny_schema()
    assert schema.units == {}
    assert schema.records["household"].fields["land_area"].unit == "mu"


def test_a_field_unit_the_table_lacks_is_an_error_at_the_unit() -> None:
    text = edit("root: household\n", "root: household\n" + UNITS.replace("  mu: {zh: 亩, en: mu}\n", ""))
    d = one(load_bad(text), "schema/unknown-unit")
    assert d.location is not None
    assert (d.location.line, d.location.text) == (line_of(text, "unit: mu"), "mu")  # type: ignore[union-attr]
    assert dict(d.args)["unit"] == "mu"
    assert (
        d.message()
        == "in field `land_area` of record type `household` of schema `tiny_records`: unknown unit `mu`: the schema's `units:` table does not declare it"
    )
    assert d.message("zh").endswith("未知单位 `mu`：数据结构的 `units:` 表中没有声明该单位")


def test_a_unit_code_with_a_space_is_refused() -> None:
    text = edit(
        "root: household\n", "root: household\n" + UNITS + "  yuan per year: {zh: 元/年, en: yuan/year}\n"
    )
    d = one(load_bad(text), "schema/bad-unit")
    assert dict(d.args)["unit"] == "yuan per year"
