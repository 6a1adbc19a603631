"""gspolicy.strategies: valid households reaching every schema kind, boundary households hitting every
threshold, well-typed expressions reaching every construct, small packs; eager validation and reprs."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from gspolicy.lang import BOOL, DATE, NUMBER, STRING, EnumT, Env, check
from gspolicy.lang.ast import FUNCTIONS, BinOp, BoolOp, Call, Compare, Expr, Unary, children
from gspolicy.lang.typed import TypedExpr, typed_children
from gspolicy.schema.model import KINDS, Record, Schema
from gspolicy.schema.records import validate_record
from gspolicy.strategies import boundary_households, expressions, from_schema, packs, thresholds

from support.bundled import shared_policies

POLICIES = shared_policies()
SCHEMA = POLICIES.schema
DAY = dt.date(2018, 12, 31)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def _collect(strategy: st.SearchStrategy[Any], n: int = 300) -> list[Any]:
    """`n` draws of `strategy`, the same draws every run: the tests below say what a fixed number
    of draws reaches, which must not depend on the luck of the run (the `ci` profile derandomizes
    too; here it holds for the quick loop as well)."""
    out: list[Any] = []

    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(x: Any) -> None:
        out.append(x)

    run()
    return out


@SETTINGS
@given(from_schema(SCHEMA))
def test_from_schema_draws_valid_households(household: Record) -> None:
    record, problems = validate_record(household.to_data(), SCHEMA)
    assert record == household, [d.render("en") for d in problems]


def _walk(record: Record, schema: Schema, seen: dict[str, set[object]]) -> None:
    spec = schema.records[record.type_name]
    for name, field in spec.fields.items():
        value = record.get(name)
        seen.setdefault(f"kind:{field.kind}", set()).add(value is not None)
        seen.setdefault(f"{spec.name}.{name}", set()).add(
            "missing" if value is None else "empty" if value == () else "present"
        )
        if isinstance(value, Record):
            _walk(value, schema, seen)
        elif isinstance(value, tuple):
            for item in value:
                _walk(item, schema, seen)
        if field.kind == "enum" and value is not None:
            seen.setdefault(f"enum:{field.enum}", set()).add(value)
        if value is not None and value in (field.min, field.max):
            seen.setdefault("bounds", set()).add(f"{spec.name}.{name}={value}")


@pytest.mark.slow  # a search until every construct is reached
def test_from_schema_reaches_every_kind_enum_code_bound_and_missing_value() -> None:
    seen: dict[str, set[object]] = {}
    for household in _collect(from_schema(SCHEMA), 400):
        _walk(household, SCHEMA, seen)
    for kind in KINDS:
        assert seen.get(f"kind:{kind}") == {True, False}, kind  # present and missing
    for spec in SCHEMA.records.values():
        for field in spec.fields.values():
            if field.enum is not None and field.kind == "enum":
                assert (
                    seen[f"enum:{field.enum}"] >= set(SCHEMA.enums[field.enum].codes)
                    or len(seen[f"enum:{field.enum}"]) >= 2
                )
    assert "empty" in seen["household.members"]
    assert "empty" in seen["household.support"]
    assert "missing" in seen["household.members"]
    assert any(b.startswith("member.age=") for b in seen["bounds"])
    assert any(b.startswith("household.size=") for b in seen["bounds"])


def test_overrides_replace_parts_and_none_leaves_a_field_missing() -> None:
    fixed = from_schema(
        SCHEMA,
        overrides={
            "income.per_capita": st.just(Decimal("5200")),
            "members.health": st.none(),
            "size": st.just(3),
        },
    )
    for household in _collect(fixed, 30):
        assert household["size"] == 3
        assert household["income"]["per_capita"] == Decimal("5200")  # type: ignore[index]
        assert all("health" not in m for m in household.get("members", ()))  # type: ignore[attr-defined]


@pytest.mark.slow
def test_boundary_households_are_valid_and_hit_every_numeric_threshold() -> None:
    found = thresholds(POLICIES, as_of=DAY, pack="exit_criteria.household")
    paths = {t.path for t in found}
    assert {
        "water.litres_per_person_day",
        "water.guarantee_rate",
        "members.age",
        "income.per_capita",
    } <= paths
    seen: set[tuple[str, object]] = set()
    # each field apart: among every threshold they were hit or missed by the luck of the draw
    drawn = [
        household
        for fields, n in ((["members.age"], 130), (["water"], 140), (["income"], 130))
        for household in _collect(
            boundary_households(POLICIES, as_of=DAY, pack="exit_criteria.household", fields=fields), n
        )
    ]
    for household in drawn:
        assert validate_record(household.to_data(), SCHEMA)[0] is not None
        water = household.get("water")
        if isinstance(water, Record):
            seen.add(("litres", water.get("litres_per_person_day")))
            seen.add(("rate", water.get("guarantee_rate")))
        for m in household.get("members", ()):  # type: ignore[attr-defined]
            born = m.get("birth_date")
            if isinstance(born, dt.date):
                age = DAY.year - born.year - ((DAY.month, DAY.day) < (born.month, born.day))
                seen.add(("age", age))
        income = household.get("income")
        if isinstance(income, Record) and "per_capita" in income and "non_counting_transfers" in income:
            seen.add(("stable", income["per_capita"] - income["non_counting_transfers"]))  # type: ignore[operator]
    for value in (19, 20, 21):
        assert ("litres", Decimal(value)) in seen
    for value in ("0.89", "0.90", "0.91"):
        assert ("rate", Decimal(value)) in seen
    for age in (5, 6, 7, 14, 15, 16):
        assert ("age", age) in seen
    assert {("stable", Decimal(v)) for v in ("3499.99", "3500", "3500.01")} & seen


def _kinds(expr: Expr, found: set[str]) -> None:
    found.add(type(expr).__name__)
    if isinstance(expr, Call):
        found.add(f"call:{expr.func}")
    if isinstance(expr, Compare):
        found.update(f"op:{op}" for op in expr.ops)
        found.add(f"chain:{len(expr.ops)}")
    if isinstance(expr, BinOp | BoolOp | Unary):
        found.add(f"op:{expr.op}")
    for child in children(expr):
        _kinds(child, found)


def _typed(node: TypedExpr, found: set[str]) -> None:
    found.add(type(node).__name__)
    for child in typed_children(node):
        _typed(child, found)


ENV = Env(
    SCHEMA,
    parameters={
        "line": NUMBER,
        "cutoff": DATE,
        "causes": __import__("gspolicy.lang", fromlist=["SetT"]).SetT(EnumT("poverty_cause")),
    },
    facts={"stable": NUMBER, "covered": BOOL},
    missing_day="last_day_of_month",  # date arithmetic is drawn where a pack declares its rule
)


@pytest.mark.slow
def test_expressions_are_well_typed_and_reach_every_construct() -> None:
    syntax: set[str] = set()
    typed: set[str] = set()
    for kind in (BOOL, NUMBER, DATE, STRING, EnumT("housing_grade")):
        for expr in _collect(
            expressions(ENV, type=kind), 800 if kind == BOOL else 1000 if kind == NUMBER else 100
        ):
            checked, problems = check(expr, ENV)
            assert checked is not None, [d.render("en") for d in problems]
            assert checked.type == kind
            _kinds(expr, syntax)
            _typed(checked, typed)
    expected_syntax = {
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
        *(f"call:{f}" for f in FUNCTIONS),
        *(
            f"op:{op}"
            for op in (
                "<",
                "<=",
                ">",
                ">=",
                "==",
                "!=",
                "in",
                "not in",
                "+",
                "-",
                "*",
                "/",
                "and",
                "or",
                "not",
            )
        ),
        "chain:2",
    }
    assert expected_syntax <= syntax, expected_syntax - syntax
    expected_typed = {
        "TConst",
        "TSet",
        "TField",
        "TParam",
        "TFact",
        "TAsOf",
        "TAge",
        "TNot",
        "TNeg",
        "TArith",
        "TBool",
        "TCompare",
        "TAggregate",
        "TCall",
        "TPresent",
        "TIf",
    }
    assert expected_typed <= typed, expected_typed - typed


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(packs(SCHEMA, max_criteria=2, max_rules=1))
def test_packs_are_checked_packs_that_evaluate(pack: Any) -> None:
    from gspolicy.engine.run import run_pack

    assert pack.criteria or pack.rules
    household = Record("household", {"id": "H-1"})
    run_pack(pack, household, DAY)


@pytest.mark.slow  # a few hundred packs drawn: full suite
def test_packs_draw_every_measure_form_loans_with_terms_and_lapses() -> None:
    """The pack strategy grows with the format: its measure takes every form (a loan with its
    ceiling and term), sometimes with a `lapses_when` that evaluates."""
    from hypothesis import find

    from gspolicy.engine.compiled import lower

    def shape(pack: Any) -> tuple[str, bool, bool]:
        measure = pack.pack.measures["grant"]
        if pack.lapses:  # a drawn lapse condition evaluates on a record
            lower(pack, DAY).lapse("grant", Record("household", {"id": "H-1"}))
        return measure.form, measure.term is not None, bool(pack.lapses)

    drawn = packs(SCHEMA, max_criteria=0, max_rules=1).map(shape)
    hunt = settings(
        max_examples=1000, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    seen: set[tuple[str, bool, bool]] = set()

    def everything_seen(s: tuple[str, bool, bool]) -> bool:
        seen.add(s)
        return {form for form, _, _ in seen} == {"grant", "subsidy", "waiver", "loan", "service"} and any(
            lapses for _, _, lapses in seen
        )

    find(drawn, everything_seen, settings=hunt)  # one search: every form, and a lapse
    assert all(
        has_term == (form == "loan") for form, has_term, _ in seen
    )  # a loan, and only a loan, has a term


INVALID: list[tuple[Callable[[], object], str]] = [
    (lambda: from_schema("household"), "schema='household' must be a gspolicy Schema"),  # type: ignore[arg-type]
    (lambda: from_schema(SCHEMA, record="houshold"), "did you mean 'household'"),
    (lambda: from_schema(SCHEMA, overrides={"income.per_capta": st.just(1)}), "did you mean 'per_capita'"),
    (lambda: from_schema(SCHEMA, overrides={"size.x": st.just(1)}), "'size' is not a record or a list"),
    (lambda: from_schema(SCHEMA, overrides={"size": 3}), "must be a hypothesis strategy"),  # type: ignore[dict-item]
    (lambda: from_schema(SCHEMA, max_items=-1), "max_items=-1 must be an integer from 0 to 50"),
    (lambda: from_schema(SCHEMA, missing="yes"), "missing='yes' must be True or False"),  # type: ignore[arg-type]
    (lambda: boundary_households(POLICIES, as_of="2018-12-31"), "as_of='2018-12-31' must be a datetime.date"),  # type: ignore[arg-type]
    (lambda: boundary_households(object(), as_of=DAY), "must be a PolicySet or gspolicy.Policies"),  # type: ignore[arg-type]
    (lambda: boundary_households(POLICIES, as_of=DAY, pack="exit"), "pack='exit' is not in the policy set"),
    (lambda: boundary_households(POLICIES, as_of=dt.date(1990, 1, 1)), "no pack in force on 1990-01-01"),
    (lambda: expressions(SCHEMA, type=EnumT("nope")), "must be one of BOOL, NUMBER"),
    (lambda: expressions(SCHEMA, max_depth=99), "max_depth=99 must be an integer from 0 to 8"),
    (lambda: packs(SCHEMA, ident="Bad Id"), "ident='Bad Id' must be a dotted pack id"),
    (lambda: packs(SCHEMA, max_criteria=0, max_rules=0), "a pack needs a condition"),
]


@pytest.mark.parametrize(("build", "message"), INVALID)
def test_bad_arguments_fail_when_the_strategy_is_built(build: Callable[[], object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=__import__("re").escape(message)):
        build()


def test_reprs_read_like_the_call() -> None:
    assert repr(from_schema(SCHEMA)) == "from_schema(<schema household@2018.1>)"
    assert repr(from_schema(SCHEMA, record="member", missing=False, max_items=2)) == (
        "from_schema(<schema household@2018.1>, record='member', missing=False, max_items=2)"
    )
    assert repr(from_schema(SCHEMA, overrides={"size": st.just(3)})) == (
        "from_schema(<schema household@2018.1>, overrides={'size': just(3)})"
    )
    assert repr(expressions(SCHEMA, type=NUMBER, max_depth=2)) == (
        "expressions(<schema household@2018.1>, type=NUMBER, max_depth=2)"
    )
    assert repr(packs(SCHEMA)) == "packs(<schema household@2018.1>)"
    shown = repr(boundary_households(POLICIES, as_of=DAY, pack="exit_criteria.household"))
    assert shown.startswith("boundary_households(<")
    assert shown.endswith("as_of=datetime.date(2018, 12, 31), pack='exit_criteria.household')")


def test_the_core_import_does_not_import_hypothesis() -> None:
    code = "import sys, gspolicy, gspolicy.cli, gspolicy.testing.pytest_plugin; print('hypothesis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
