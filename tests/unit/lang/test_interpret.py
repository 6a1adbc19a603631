"""The reference interpreter: values, unknowns with their reasons, intervals, trace events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from gspolicy.lang import Interval, TraceEvent, Unknown, evaluate, years_between
from gspolicy.schema.model import Record

from support.expressions import checked, context, parse_text


def run(text: str, subject: Record, trace: list[TraceEvent] | None = None) -> object:
    expr, problems = parse_text(text)
    assert expr is not None, problems
    return evaluate(checked(expr), context(subject, None if trace is None else trace.append))


def member(**values: object) -> Record:
    return Record("member", values)


def household(**values: object) -> Record:
    return Record("household", values)


def test_arithmetic_is_exact() -> None:
    subject = household(
        income=Record("income", {"per_capita": Decimal("0.10"), "transfers": Decimal("0.20")})
    )
    assert run("income.per_capita + income.transfers", subject) == Decimal("0.30")
    assert run("stable", subject) == Decimal("-0.10")
    assert run("1 / 3 * 3", subject) == Decimal("0.9999999999999999999999999999999999")


def test_missing_nested_field_names_the_leaf_path() -> None:
    assert run("income.per_capita > 1", household()) == Unknown(frozenset({"income.per_capita"}))


def test_missing_item_field_names_the_concrete_item() -> None:
    subject = household(members=(member(insured=True), member(), member(insured=False)))
    assert run("all(members, insured)", subject) is False
    subject = household(members=(member(insured=True), member()))
    assert run("all(members, insured)", subject) == Unknown(frozenset({"members[1].insured"}))
    assert run("any(members, insured)", subject) is True


def test_a_missing_list_is_unknown_never_empty() -> None:
    assert run("any(members, insured)", household()) == Unknown(frozenset({"members"}))
    assert run("count(members)", household()) == Unknown(frozenset({"members"}))


def test_count_with_unknown_predicates_is_an_interval() -> None:
    subject = household(members=(member(insured=True), member(), member(), member(insured=False)))
    assert run("count(members, insured)", subject) == Interval(
        1, 3, frozenset({"members[1].insured", "members[2].insured"})
    )
    assert run("count(members, insured) >= 1", subject) is True
    assert run("count(members, insured) >= 2", subject) == Unknown(
        frozenset({"members[1].insured", "members[2].insured"})
    )


def test_sum_min_max() -> None:
    subject = household(members=(member(income=Decimal(5)), member(income=Decimal(7))))
    assert run("sum(members, income)", subject) == Decimal(12)
    assert run("min(members, income)", subject) == Decimal(5)
    assert run("max(members, income)", subject) == Decimal(7)
    partial = household(members=(member(income=Decimal(5)), member()))
    assert run("sum(members, income)", partial) == Unknown(frozenset({"members[1].income"}))
    assert run("max(members, income)", partial) == Unknown(frozenset({"members[1].income"}))


def test_age_from_the_birth_date() -> None:
    # the as-of date is 2019-06-30
    subject = household(
        members=(member(birth_date=dt.date(2003, 6, 30)), member(birth_date=dt.date(2003, 7, 1)))
    )
    assert run("max(members, age)", subject) == 16
    assert run("min(members, age)", subject) == 15


def test_age_from_a_recorded_age_is_an_interval() -> None:
    subject = household(members=(member(age=10, age_recorded_on=dt.date(2018, 1, 1)),))
    assert run("sum(members, age)", subject) == Interval(11, 12, frozenset({"members[0].birth_date"}))
    assert run("any(members, age >= 11)", subject) is True
    assert run("any(members, age >= 12)", subject) == Unknown(frozenset({"members[0].birth_date"}))
    assert run("any(members, age > 15)", subject) is False


def test_age_without_data_is_unknown() -> None:
    assert run("any(members, age < 16)", household(members=(member(),))) == Unknown(
        frozenset({"members[0].birth_date"})
    )


def test_years_between_and_within() -> None:
    assert years_between(dt.date(2000, 2, 29), dt.date(2001, 2, 28)) == 0
    assert years_between(dt.date(2000, 2, 29), dt.date(2001, 3, 1)) == 1
    assert years_between(dt.date(2010, 5, 1), dt.date(2000, 5, 2)) == -9
    subject = household(registered_on=dt.date(2014, 3, 1))
    assert run("years_between(registered_on, as_of)", subject) == 5
    assert run('within(registered_on, date("2014-03-01"), date("2014-12-31"))', subject) is True
    assert run('within(registered_on, date("2014-03-02"), cutoff)', subject) is False
    assert run('within(registered_on, date("2014-01-01"), cutoff)', subject) == Unknown(
        frozenset({"param:cutoff"})
    )


def test_membership() -> None:
    assert run('main_cause in ["因病", "因残"]', household(main_cause="illness")) is True
    assert run("main_cause in causes", household(main_cause="other")) is False
    assert run("main_cause not in causes", household()) == Unknown(frozenset({"main_cause"}))
    assert run("main_cause in []", household()) is False


def test_present_is_never_unknown() -> None:
    assert run("present(income.per_capita)", household()) is False
    assert run("present(income)", household(income=Record("income", {}))) is True


def test_division_by_zero_is_unknown_with_a_diagnostic() -> None:
    value = run("size / (size - size) > 1", household(size=3))
    assert isinstance(value, Unknown)
    (problem,) = value.problems
    assert problem.code == "eval/division-by-zero"
    assert problem.render("en").splitlines()[:3] == [
        "expr:1:9: eval/division-by-zero: division by zero",
        "   1 | size / (size - size) > 1",
        "     |         ^^^^^^^^^^^",  # the divisor (Python's spans leave out the parentheses)
    ]
    assert run("size / (size - size) > 1 or True", household(size=3)) is True


def test_conditional_with_an_unknown_condition() -> None:
    assert run("1 if dibao else 1", household()) == 1
    assert run("1 if dibao else 3", household()) == Interval(1, 3, frozenset({"dibao"}))
    assert run("size if dibao else 0", household(dibao=False, size=4)) == 0


def test_trace_events() -> None:
    events: list[TraceEvent] = []
    subject = household(income=Record("income", {"per_capita": Decimal(4000)}), dibao=True)
    assert run("income.per_capita > line and dibao", subject, events) is True
    kinds = [(e.kind, e.name, e.value) for e in events]
    assert kinds == [
        ("field", "income.per_capita", Decimal(4000)),
        ("parameter", "line", Decimal(3500)),
        ("compare", ">", True),
        ("field", "dibao", True),
        ("bool", "and", True),
    ]
    compare = events[2]
    assert compare.operands == (Decimal(4000), Decimal(3500))
    assert compare.span.text == "income.per_capita > line"


def _checked_and_events(text: str, subject: Record) -> tuple[object, list[TraceEvent]]:
    expr, problems = parse_text(text)
    assert expr is not None, problems
    root = checked(expr)
    events: list[TraceEvent] = []
    evaluate(root, context(subject, events.append))
    return root, events


def test_every_event_carries_the_node_it_reports_on() -> None:
    subject = household(income=Record("income", {"per_capita": Decimal(4000)}), dibao=True)
    root, events = _checked_and_events("income.per_capita > line and dibao", subject)
    compare, dibao = root.operands  # type: ignore[attr-defined]
    by_kind = {e.kind: e for e in events}
    assert by_kind["bool"].node is root
    assert by_kind["compare"].node is compare
    assert by_kind["parameter"].node is compare.operands[1]
    assert [e.node for e in events if e.kind == "field"] == [compare.operands[0], dibao]
    assert all(e.span == e.node.span for e in events if e.node is not None)


def test_a_chain_gives_its_links_and_then_its_value() -> None:
    def chain(per_capita: object) -> list[tuple[str, object, bool]]:
        fields = {} if per_capita is None else {"per_capita": per_capita}
        root, events = _checked_and_events(
            "1 < income.per_capita <= 10", household(income=Record("income", fields))
        )
        steps = [e for e in events if e.kind in ("compare", "chain")]
        return [(e.kind, e.value, e.node is root) for e in steps]

    assert chain(Decimal(5)) == [("compare", True, True), ("compare", True, True), ("chain", True, True)]
    # a false link ends the chain: the chain's event still comes, with the chain's value
    assert chain(Decimal(0)) == [("compare", False, True), ("chain", False, True)]
    assert chain(Decimal(11)) == [("compare", True, True), ("compare", False, True), ("chain", False, True)]
    unknown = Unknown(frozenset({"income.per_capita"}))
    assert chain(None) == [("compare", unknown, True), ("compare", unknown, True), ("chain", unknown, True)]


def test_facts_are_evaluated_once_and_traced() -> None:
    events: list[TraceEvent] = []
    subject = household(income=Record("income", {"per_capita": Decimal(10), "transfers": Decimal(4)}))
    assert run("stable > 1 and stable < 10", subject, events) is True
    facts = [e for e in events if e.kind == "fact"]
    assert [(e.name, e.value) for e in facts] == [("stable", Decimal(6))]


def test_facts_are_about_the_subject_even_inside_an_aggregate() -> None:
    subject = household(members=(member(insured=False), member(insured=True)))
    assert run("any(members, insured and not all_insured)", subject) is True
