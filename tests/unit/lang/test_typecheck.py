"""Checking: types, the scoping rule, enum labels, and every `type/…` diagnostic with its rendering."""

from __future__ import annotations

import pytest

from gspolicy._location import Source, Span
from gspolicy.lang import BOOL, DATE, NUMBER, STRING, EnumT, Env, check, parse_expression, references
from gspolicy.lang.typed import TAge, TAggregate, TCompare, TConst, TField, TParam, TSet

from support.expressions import ENV, TINY_SCHEMA


def checked(text: str, env: Env = ENV, **kw: object) -> tuple[object, list[str]]:
    source = Source("rule.yaml", text)
    expr, problems = parse_expression(text, lambda s, e: Span(source, s, e))
    assert expr is not None, [p.render("en") for p in problems]
    typed, diags = check(expr, env, **kw)  # type: ignore[arg-type]
    return typed, [d.render("en") for d in diags]


def error(text: str, env: Env = ENV, **kw: object) -> str:
    typed, rendered = checked(text, env, **kw)
    assert typed is None
    assert len(rendered) == 1, rendered
    return rendered[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("size + 1", NUMBER),
        ("income.per_capita > line", BOOL),
        ("registered_on", DATE),
        ("village", STRING),
        ("main_cause", EnumT("cause")),
        ("years_between(registered_on, as_of)", NUMBER),
        ("count(members)", NUMBER),
        ("min(members, birth_date)", DATE),
        ("size if dibao else 0", NUMBER),
        ('within(registered_on, date("2014-01-01"), cutoff)', BOOL),
        ("stable > 0 and all_insured", BOOL),
    ],
)
def test_types(text: str, expected: object) -> None:
    typed, rendered = checked(text)
    assert not rendered
    assert typed is not None
    assert typed.type == expected  # type: ignore[attr-defined]


def test_chinese_enum_labels_canonicalise_to_codes() -> None:
    typed, rendered = checked('main_cause in ["因病", "Disability"] and main_cause != "其他"')
    assert not rendered
    first = typed.operands[0]  # type: ignore[attr-defined]
    assert isinstance(first, TCompare)
    tset = first.operands[1]
    assert isinstance(tset, TSet)
    assert [i.value for i in tset.items] == ["illness", "disability"]  # type: ignore[union-attr]
    second = typed.operands[1]  # type: ignore[attr-defined]
    assert second.operands[1] == TConst(EnumT("cause"), second.operands[1].span, "other")


def test_label_on_the_left_also_canonicalises() -> None:
    typed, rendered = checked('"因病" == main_cause')
    assert not rendered
    assert typed.operands[0].value == "illness"  # type: ignore[attr-defined]


def test_scoping_rule_item_fields_first_then_household_prefix() -> None:
    typed, rendered = checked("any(members, income > household.income.per_capita and age >= 60 and size > 2)")
    assert not rendered
    assert isinstance(typed, TAggregate)
    assert typed.scope == 1
    body = typed.body
    member_income, household_income = body.operands[0].operands  # type: ignore[union-attr]
    assert member_income == TField(NUMBER, member_income.span, 1, ("income",))
    assert household_income == TField(NUMBER, household_income.span, 0, ("income", "per_capita"))
    age = body.operands[1].operands[0]  # type: ignore[union-attr]
    assert isinstance(age, TAge)
    size = body.operands[2].operands[0]  # type: ignore[union-attr]
    assert size == TField(NUMBER, size.span, 0, ("size",))


def test_parameters_come_before_subject_fields_with_a_warning() -> None:
    env = Env(TINY_SCHEMA, parameters={"size": NUMBER})
    typed, rendered = checked("size > 1", env)
    assert typed is not None
    assert isinstance(typed.operands[0], TParam)  # type: ignore[attr-defined]
    assert len(rendered) == 1
    assert rendered[0].splitlines()[0] == (
        "rule.yaml:1:1: type/ambiguous-name (warning): `size` names both a parameter and a field of the subject; "
        "a parameter is used"
    )
    assert "help: rename one of them, or write `household.size` for the household's field" in rendered[0]
    typed, rendered = checked("household.size > 1", env)
    assert not rendered


def test_unknown_name_with_did_you_mean() -> None:
    rendered = error("sizee > 1")
    assert rendered.splitlines() == [
        "rule.yaml:1:1: type/unknown-name: unknown name `sizee`",
        "   1 | sizee > 1",
        "     | ^^^^^",
        "  help: did you mean `size`? a name is a field of `household`, a parameter, a fact or `as_of`",
    ]


def test_unknown_chinese_name_maps_to_the_field_by_its_title() -> None:
    rendered = error("人均纯收入 > 3500")
    assert rendered.splitlines() == [
        "rule.yaml:1:1: type/unknown-name: unknown name `人均纯收入`",
        "   1 | 人均纯收入 > 3500",
        "     | ^^^^^^^^^^",
        "  help: did you mean `income.per_capita`? a name is a field of `household`, a parameter, a fact or `as_of`",
    ]
    source = Source("rule.yaml", "人均纯收入 > 3500")
    expr, _ = parse_expression(source.text, lambda s, e: Span(source, s, e))
    assert expr is not None
    _, diags = check(expr, ENV)
    assert diags[0].message("zh") == "未知名称 `人均纯收入`"
    assert diags[0].help("zh") == (
        "您是否想写 `income.per_capita`？名称可以是`household` 的字段、参数、派生事实或 `as_of`"
    )


def test_unknown_name_inside_an_aggregate_mentions_the_item() -> None:
    rendered = error('any(members, helth == "sick")')
    assert "type/unknown-name: unknown name `helth`" in rendered
    assert "help: did you mean `health`? a name is a field of the item (`member`)" in rendered


def test_age_outside_a_member_predicate_is_unknown() -> None:
    assert "unknown name `age`" in error("age > 3")


def test_unknown_field() -> None:
    rendered = error("income.per_capital > 1")
    assert rendered.splitlines() == [
        "rule.yaml:1:8: type/unknown-field: record type `income` has no field `per_capital`",
        "   1 | income.per_capital > 1",
        "     |        ^^^^^^^^^^^",
        "  help: did you mean `per_capita`?",
    ]


def test_mismatch_underlines_the_operand() -> None:
    rendered = error("size + registered_on > 1")
    assert rendered.splitlines() == [
        "rule.yaml:1:8: type/mismatch: `+` expects a number, found a date",
        "   1 | size + registered_on > 1",
        "     |        ^^^^^^^^^^^^^",
    ]


def test_mismatch_with_expected_type() -> None:
    rendered = error("size + 1", expect=BOOL)
    assert "type/mismatch: this expression expects true or false, found a number" in rendered


def test_mismatch_in_and() -> None:
    rendered = error("dibao and size")
    assert "rule.yaml:1:11: type/mismatch: `and` expects true or false, found a number" in rendered


def test_incomparable() -> None:
    rendered = error("registered_on < 3")
    assert rendered.splitlines() == [
        "rule.yaml:1:1: type/incomparable: cannot compare a date with a number using `<`",
        "   1 | registered_on < 3",
        "     | ^^^^^^^^^^^^^^^^^",
        "  help: `<`, `<=`, `>` and `>=` compare two numbers or two dates",
    ]
    assert "cannot compare a value of `cause` with a number using `==`" in error("main_cause == 3")


def test_unknown_enum_value() -> None:
    rendered = error('main_cause in ["因病", "因穷"]')
    assert rendered.splitlines()[:3] == [
        "rule.yaml:1:22: type/unknown-enum-value: `因穷` is not a value of `cause`",
        '   1 | main_cause in ["因病", "因穷"]',
        "     | " + " " * 23 + "^" * 6,  # `"因病", ` is 8 columns wide
    ]
    assert "the values are: `illness` (因病), `disability` (因残), `other` (其他)" in rendered
    assert "did you mean `illness`?" in error('main_cause == "ilness"')


def test_not_a_list() -> None:
    rendered = error("any(size, dibao)")
    assert rendered.splitlines()[:3] == [
        "rule.yaml:1:5: type/not-a-list: `any` needs a list field as its first argument, found a number",
        "   1 | any(size, dibao)",
        "     |     ^^^^",
    ]


def test_bad_arity() -> None:
    assert "type/bad-arity: `any` takes 2 arguments, found 1" in error("any(members)")
    assert "type/bad-arity: `count` takes 1 or 2 arguments, found 3" in error("count(members, insured, 1)")


def test_unknown_function() -> None:
    rendered = error("avg(members, income) > 1")
    assert rendered.splitlines()[:3] == [
        "rule.yaml:1:1: type/unknown-function: unknown function `avg`",
        "   1 | avg(members, income) > 1",
        "     | ^^^",
    ]


def test_not_a_field() -> None:
    assert "type/not-a-field: `present` needs a field path, found a number" in error("present(line)")


def test_list_outside_in() -> None:
    assert "type/list-outside-in: a list `[...]` is only allowed after `in` or `not in`" in error(
        '["a"] == village'
    )


def test_several_errors_are_collected() -> None:
    typed, rendered = checked("sizee > 1 and income.x > 2")
    assert typed is None
    assert len(rendered) == 2


def test_references() -> None:
    expr, _ = parse_expression(
        "stable > line and any(members, insured) and all_insured", lambda s, e: Span(Source("x", ""), s, e)
    )
    assert expr is not None
    facts, params = references(expr, ENV)
    assert facts == {"stable", "all_insured"}
    assert params == {"line"}
    typed, _ = check(expr, ENV)
    assert typed is not None
    assert references(typed) == (facts, params)
    loose_facts, _ = references(expr)
    assert loose_facts >= {"stable", "all_insured", "line", "members", "insured"}
