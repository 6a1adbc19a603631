"""Schema roles and ``changeable``: the bundled schema declares them, the typed API reads them, and
every mistake in declaring them is reported at its place, in Chinese and English."""

from __future__ import annotations

import pytest

from gspolicy._location import Source
from gspolicy.api import Policies
from gspolicy.errors import Diagnostic
from gspolicy.schema import roles
from gspolicy.schema.load import schema_from_source
from gspolicy.schema.model import Schema

from support.records import TINY_SCHEMA, tiny_schema


def load_bad(text: str) -> list[Diagnostic]:
    schema, diagnostics = schema_from_source(Source("bad.yaml", text))
    assert schema is None, "a schema with errors must not load"
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


# -- the bundled schema ----------------------------------------------------------------------------


def test_the_bundled_schema_says_who_can_change_every_field(bundled: Policies) -> None:
    schema = bundled.policy_set.schema
    undeclared = [
        f"{record.name}.{name}"
        for record in schema.records.values()
        for name, field in record.fields.items()
        if field.changeable is None
    ]
    assert undeclared == []
    assert schema.changeable("members[2].birth_date") == "no"
    assert schema.changeable("members.schooling") == "household"
    assert schema.changeable("income.per_capita") == "household"
    assert schema.changeable("support[0].amount") == "department"
    assert schema.changeable("registration.status") == "department"
    assert schema.changeable("county_code") == "no"
    assert schema.changeable("no_such_field") is None
    assert schema.changeable("income.no_such_field") is None


def test_the_bundled_schema_gives_every_role_a_field(bundled: Policies) -> None:
    schema = bundled.policy_set.schema
    assert set(schema.roles) == set(roles.ROLES)
    assert schema.role(roles.BIRTH_DATE) == "members.birth_date"
    assert schema.role(roles.RECORDED_AGE) == "members.age"
    assert schema.role(roles.SUPPORT_END) == "support.end"
    assert schema.role(roles.REGISTRATION_STATUS) == "registration.status"
    assert schema.role_name(roles.SUPPORT_MEASURE) == "measure"
    assert schema.records["member"].roles[roles.AGE_RECORDED_ON] == "age_recorded_on"
    for name, path in schema.roles.items():
        field = schema.field_at(schema.root_record, path.split(".")) if "." not in path else None
        if field is not None:
            assert field.role == name


def test_a_role_the_library_does_not_know_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="birthday"):
        tiny_schema().role("birthday")


def test_a_schema_without_a_role_gives_none() -> None:
    schema = tiny_schema()
    assert schema.role(roles.SUPPORT) is None
    assert schema.role(roles.BIRTH_DATE) == "members.birth_date"
    assert schema.changeable("members.health") is None  # the tiny schema does not say


# -- mistakes ---------------------------------------------------------------------------------------


def test_an_unknown_role_is_reported_with_a_suggestion() -> None:
    text = edit("en: Birth date}, role: birth_date}", "en: Birth date}, role: birthdate}")
    d = one(load_bad(text), "schema/unknown-role")
    assert d.location is not None
    assert d.location.line == line_of(text, "role: birthdate")
    assert "unknown role `birthdate`" in d.render("en")
    assert "未知角色 `birthdate`" in d.render("zh")
    assert "birth_date" in d.suggestions


def test_a_role_given_twice_names_both_fields_and_where_the_first_is() -> None:
    text = edit("en: Household size}}", "en: Household size}, role: village_code}").replace(
        "village: {type: string,", "village: {type: string, role: village_code,"
    )
    d = one(load_bad(text), "schema/duplicate-role")
    assert d.location is not None
    assert d.location.line == line_of(text, "      size:")
    first = f"bad.yaml:{line_of(text, '      village:')}:7"
    assert d.message("en").endswith(
        f"role `village_code` is given to two fields: `household.village` ({first}) and `household.size`"
    )
    assert first in d.message("zh")
    assert "角色 `village_code` 同时赋给了两个字段" in d.message("zh")


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        # a kind that cannot play the role
        ("en: Household size}}", "en: Household size}, role: county_code}", "it is a `int` field"),
        # a member's role on the household
        ("en: Land area}}", "en: Land area}, role: birth_date}", "it is a `decimal` field"),
        (
            "en: Exited on}",
            "en: Exited on}\n        role: birth_date",
            "items of the list with role `members`",
        ),
        # a household's role inside a list
        ("en: Name}}", "en: Name}, role: county_code}", "a field of the root record"),
    ],
)
def test_a_field_that_cannot_play_its_role_is_reported(old: str, new: str, problem: str) -> None:
    text = edit(old, new)
    found = [d for d in load_bad(text) if d.code in ("schema/bad-role", "schema/duplicate-role")]
    assert any(problem in d.render("en") for d in found), [d.render("en") for d in found]


def test_a_role_without_the_roles_it_needs_is_reported() -> None:
    text = edit("        role: age_recorded_on\n", "")
    d = one(load_bad(text), "schema/missing-role")
    assert d.location is not None
    assert d.location.line == line_of(text, "      age:")
    assert "no field plays role `age_recorded_on`" in d.render("en")
    assert "role `recorded_age` of field `member.age`" in d.render("en")
    assert "没有字段承担角色 `age_recorded_on`" in d.render("zh")
    assert "role: age_recorded_on" in (d.help("en") or "")


@pytest.mark.parametrize("value", ["maybe", "yes", "'No'", "[household]"])
def test_a_bad_changeable_is_reported(value: str) -> None:
    text = edit("en: Household size}}", f"en: Household size}}, changeable: {value}}}")
    d = one(load_bad(text), "schema/bad-changeable")
    assert d.location is not None
    assert d.location.line == line_of(text, "      size:")
    assert "`changeable` must be `household`, `department` or `no`" in d.render("en")
    assert "`changeable` 应为" in d.render("zh")


@pytest.mark.parametrize("value", ["household", "department", "no"])
def test_changeable_reads_its_three_values_no_written_bare(value: str) -> None:
    text = edit("en: Household size}}", f"en: Household size}}, changeable: {value}}}")
    schema, problems = schema_from_source(Source("ok.yaml", text))
    assert isinstance(schema, Schema), [p.render() for p in problems]
    assert schema.changeable("size") == value
