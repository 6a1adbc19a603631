"""Properties of the expression language: round trip, well-typed ⇒ evaluates, Kleene laws,
aggregate identities on empty lists, intervals decide only what their bounds decide."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gspolicy.lang import Interval, Unknown, evaluate, print_expr
from gspolicy.lang import interpret as interpret_module
from gspolicy.lang.typed import typed_children
from gspolicy.lang.types import BoolT, DateT, EnumT, ListT, NumberT, RecordT, SetT, StringT
from gspolicy.lang.values import add, compare, divide, multiply, subtract
from gspolicy.schema.model import Record

from support.expressions import (
    ENV,
    KINDS,
    checked,
    context,
    expressions,
    households,
    node_kinds,
    parse_text,
)

_FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- parse ∘ print -------------------------------------------------------------------------------


@_FAST
@given(st.sampled_from(KINDS[:4]).flatmap(expressions))
def test_parse_print_round_trip(expr: object) -> None:
    text = print_expr(expr)  # type: ignore[arg-type]
    back, problems = parse_text(text)
    assert not problems, (text, problems)
    assert back == expr, text
    assert print_expr(back) == text  # type: ignore[arg-type]


# --- well-typed expressions never fail -------------------------------------------------------------

_PY_TYPES = {
    BoolT: (bool,),
    NumberT: (int, Decimal, Interval),
    DateT: (dt.date,),
    StringT: (str,),
    EnumT: (str,),
}


@_FAST
@given(st.sampled_from(KINDS[:5]).flatmap(expressions), households())
def test_a_well_typed_expression_never_fails_at_evaluation(expr: object, household: Record) -> None:
    typed = checked(expr)  # type: ignore[arg-type]
    value = evaluate(typed, context(household))
    allowed = (*_PY_TYPES[type(typed.type)], Unknown)
    assert isinstance(value, allowed), (print_expr(expr), value)  # type: ignore[arg-type]
    if isinstance(typed.type, BoolT):
        assert value is True or value is False or isinstance(value, Unknown)
    if isinstance(typed.type, EnumT):
        assert isinstance(value, Unknown) or value in ENV.schema.enums[typed.type.name].codes


def _types_in(typed: object) -> set[type]:
    found = {type(typed.type)}  # type: ignore[attr-defined]
    for child in typed_children(typed):  # type: ignore[arg-type]
        found |= _types_in(child)
    return found


_NODE_KINDS = {
    "Literal",
    "DateLit",
    "Name",
    "Attribute",
    "ListLit",
    "Unary",
    "BinOp",
    "BoolOp",
    "Compare",
    "Call",
    "IfExp",
}
_ALL_TYPES = {BoolT, NumberT, DateT, StringT, EnumT, ListT, RecordT, SetT}


@pytest.mark.slow  # a search until every construct is reached
def test_the_generator_reaches_every_node_kind_and_every_type() -> None:
    kinds: set[str] = set()
    types: set[type] = set()
    enums: set[str] = set()

    @settings(database=None, max_examples=1000, derandomize=True, deadline=None)
    @given(st.sampled_from(KINDS[:5]).flatmap(expressions))
    def collect(expr: object) -> None:
        kinds.update(node_kinds(expr))  # type: ignore[arg-type]
        typed = checked(expr)  # type: ignore[arg-type]
        types.update(_types_in(typed))
        enums.update(_enums_in(typed))

    collect()
    assert kinds == _NODE_KINDS
    assert types == _ALL_TYPES
    assert enums == {"cause", "health"}


def _enums_in(typed: object) -> set[str]:
    t = typed.type  # type: ignore[attr-defined]
    found = {t.name} if isinstance(t, EnumT) else set()
    for child in typed_children(typed):  # type: ignore[arg-type]
        found |= _enums_in(child)
    return found


# --- Kleene logic, through the interpreter --------------------------------------------------------

U = "unknown"
TRUTHS = (True, False, U)
AND = {(a, b): (False if False in (a, b) else U if U in (a, b) else True) for a in TRUTHS for b in TRUTHS}
OR = {(a, b): (True if True in (a, b) else U if U in (a, b) else False) for a in TRUTHS for b in TRUTHS}
NOT = {True: False, False: True, U: U}


def _household(a: object, b: object, c: object = U) -> Record:
    values = {name: v for name, v in (("dibao", a), ("relocated", b), ("insured_all", c)) if v != U}
    members = (
        (Record("member", {"insured": values.pop("insured_all")}),)
        if "insured_all" in values
        else (Record("member", {}),)
    )
    return Record("household", {**values, "members": members})


def _truth(text: str, household: Record) -> object:
    expr, problems = parse_text(text)
    assert expr is not None, problems
    value = evaluate(checked(expr), context(household))
    if isinstance(value, Unknown):
        return U
    return value


truths = st.sampled_from(TRUTHS)


def check_truth_tables(a: Any, b: Any) -> None:
    household = _household(a, b)
    assert _truth("dibao and relocated", household) == AND[a, b]
    assert _truth("dibao or relocated", household) == OR[a, b]
    assert _truth("not dibao", household) == NOT[a]


def _every_row() -> None:
    for a, b in itertools.product(TRUTHS, TRUTHS):
        check_truth_tables(a, b)


def test_every_row_of_the_truth_tables() -> None:
    _every_row()


@given(truths, truths)
def test_kleene_truth_tables(a: object, b: object) -> None:
    check_truth_tables(a, b)


@given(truths, truths, truths)
def test_kleene_laws(a: object, b: object, c: object) -> None:
    h = _household(a, b, c)
    x, y, z = "dibao", "relocated", "all(members, insured)"
    # De Morgan
    assert _truth(f"not ({x} and {y})", h) == _truth(f"not {x} or not {y}", h)
    assert _truth(f"not ({x} or {y})", h) == _truth(f"not {x} and not {y}", h)
    # absorption
    assert _truth(f"{x} and ({x} or {y})", h) == _truth(x, h)
    assert _truth(f"{x} or ({x} and {y})", h) == _truth(x, h)
    # distributivity and commutativity
    assert _truth(f"{x} and ({y} or {z})", h) == _truth(f"({x} and {y}) or ({x} and {z})", h)
    assert _truth(f"{x} or {y}", h) == _truth(f"{y} or {x}", h)
    # double negation
    assert _truth(f"not not {z}", h) == _truth(z, h)


def test_unknown_names_the_missing_fields() -> None:
    expr, _ = parse_text("dibao or relocated")
    assert expr is not None
    value = evaluate(checked(expr), context(Record("household", {"relocated": False})))
    assert value == Unknown(frozenset({"dibao"}))


def test_planted_bug_unknown_as_false_in_or_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    def buggy_or(values: object) -> bool:
        return any(v is True for v in values)  # type: ignore[attr-defined]

    monkeypatch.setattr(interpret_module, "kleene_or", buggy_or)
    with pytest.raises(AssertionError):
        _every_row()
    with pytest.raises(AssertionError):
        test_kleene_truth_tables()


# --- aggregates over empty and missing lists ------------------------------------------------------


@_FAST
@given(
    expressions("bool", depth=2, in_member=True), expressions("number", depth=2, in_member=True), households()
)
def test_aggregate_identities_on_empty_lists(pred: object, number: object, household: Record) -> None:
    p, n = print_expr(pred), print_expr(number)  # type: ignore[arg-type]
    empty = Record("household", {**household, "members": ()})
    missing = Record("household", {k: v for k, v in household.items() if k != "members"})

    def value(text: str, subject: Record) -> object:
        expr, problems = parse_text(text)
        assert expr is not None, problems
        return evaluate(checked(expr), context(subject))

    assert value(f"any(members, {p})", empty) is False
    assert value(f"all(members, {p})", empty) is True
    assert value(f"count(members, {p})", empty) == 0
    assert value("count(members)", empty) == 0
    assert value(f"sum(members, {n})", empty) == 0
    assert value(f"min(members, {n})", empty) == Unknown(frozenset({"members"}))
    assert value(f"max(members, {n})", empty) == Unknown(frozenset({"members"}))
    for func in ("any", "all", "count", "sum", "min", "max"):
        body = p if func in ("any", "all", "count") else n
        assert value(f"{func}(members, {body})", missing) == Unknown(frozenset({"members"})), func


# --- intervals -------------------------------------------------------------------------------------

numbers = st.integers(-50, 50).map(Decimal) | st.decimals(
    -50, 50, places=1, allow_nan=False, allow_infinity=False
)


@st.composite
def intervals(draw: st.DrawFn) -> Interval:
    a, b = draw(numbers), draw(numbers)
    if a == b:
        b = a + 1
    return Interval(min(a, b), max(a, b), frozenset({"param:range"}))


_OPS = ("<", "<=", ">", ">=", "==", "!=")


def _exact(op: str, a: Decimal, b: Decimal) -> bool:
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]


@given(intervals(), numbers, st.sampled_from(_OPS), st.booleans())
def test_interval_comparisons_decide_only_what_the_bounds_decide(
    interval: Interval, x: Decimal, op: str, flip: bool
) -> None:
    # witnesses inside the interval: both ends and the point nearest to x
    nearest = min(max(x, interval.low), interval.high)
    witnesses = {interval.low, interval.high, nearest}
    outcomes = {(_exact(op, x, w) if flip else _exact(op, w, x)) for w in witnesses}  # type: ignore[arg-type]
    result = compare(op, x, interval) if flip else compare(op, interval, x)
    if len(outcomes) == 1:
        assert result == outcomes.pop()
    else:
        assert result == Unknown(frozenset({"param:range"}))


@given(intervals(), intervals(), st.sampled_from(_OPS))
def test_interval_against_interval(a: Interval, b: Interval, op: str) -> None:
    result = compare(op, a, b)
    corners = {_exact(op, x, y) for x in (a.low, a.high) for y in (b.low, b.high)}  # type: ignore[arg-type]
    if result is True or result is False:
        assert corners == {result}
    elif op not in ("==", "!="):
        assert corners == {True, False}


@given(intervals(), intervals(), st.sampled_from("+-*/"), st.floats(0, 1), st.floats(0, 1))
def test_interval_arithmetic_contains_every_result(
    a: Interval, b: Interval, op: str, s: float, t: float
) -> None:
    x = a.low + (a.high - a.low) * Decimal(s)
    y = b.low + (b.high - b.low) * Decimal(t)
    fn = {"+": add, "-": subtract, "*": multiply, "/": divide}[op]
    result = fn(a, b)
    if op == "/" and (b.low <= 0 <= b.high):
        assert isinstance(result, Unknown)
        return
    exact = fn(x, y)
    assert result is not None
    assert exact is not None
    low, high = (result.low, result.high) if isinstance(result, Interval) else (result, result)
    assert low - Decimal("1e-20") <= exact <= high + Decimal("1e-20")  # type: ignore[operator]


def test_a_range_parameter_through_the_interpreter() -> None:
    def value(per_capita: str) -> object:
        expr, _ = parse_text("income.per_capita > range_line")
        assert expr is not None
        subject = Record("household", {"income": Record("income", {"per_capita": Decimal(per_capita)})})
        return evaluate(checked(expr), context(subject))

    assert value("4000") is True
    assert value("3000") is False
    assert value("3500") is False
    assert value("3815") == Unknown(frozenset({"param:range_line"}))  # 3815 > 3500 but not > 3815
    assert value("3600") == Unknown(frozenset({"param:range_line"}))
