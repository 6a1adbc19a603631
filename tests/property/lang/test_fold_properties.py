"""Constant folding (`gspolicy.analysis.fold`, which `gspolicy check` uses to find conditions that
never vary) states part of the language's meaning a second time, with Python's operators; it is
pinned to the interpreter, the one statement of that meaning: whenever `fold(e)` gives a constant
`c`, evaluating `e` on any household gives `c` — never an unknown, never another value."""

from __future__ import annotations

import operator

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gspolicy.analysis import fold as fold_module
from gspolicy.analysis.fold import fold
from gspolicy.lang import Unknown, evaluate, print_expr
from gspolicy.lang.ast import Expr
from gspolicy.schema.model import Record

from support.expressions import KINDS, checked, context, expressions, households

_DRAWN = st.sampled_from(KINDS).flatmap(expressions)


def _agrees(expr: Expr, household: Record) -> bool:
    """Whether the interpreter gives `expr` its folded value on `household` (True when it does not
    fold); an AssertionError names the expression when it gives another."""
    typed = checked(expr)
    constant = fold(typed)
    if constant is None:
        return True
    value = evaluate(typed, context(household))
    assert not isinstance(value, Unknown), (print_expr(expr), constant, value)
    assert value == constant, (print_expr(expr), constant, value)
    assert type(value) is bool or type(constant) is not bool, (print_expr(expr), constant, value)
    return True


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DRAWN, households())
def test_a_folded_expression_evaluates_to_its_constant_on_every_household(
    expr: Expr, household: Record
) -> None:
    assert _agrees(expr, household)


def test_folding_finds_constants_among_the_drawn_expressions() -> None:
    """The property above is not vacuous: the generator draws expressions that fold."""
    folded: list[object] = []

    @settings(database=None, max_examples=300, derandomize=True, deadline=None)
    @given(_DRAWN)
    def collect(expr: Expr) -> None:
        value = fold(checked(expr))
        if value is not None:
            folded.append(value)

    collect()
    assert len(folded) >= 20
    assert {type(v) for v in folded} >= {bool, str}


@pytest.mark.slow  # a search of up to 400 examples: full suite
@pytest.mark.parametrize(
    ("op", "wrong"),
    [("<", operator.le), ("==", operator.ne)],
)
def test_planted_bug_a_wrong_folded_comparison_is_caught(
    monkeypatch: pytest.MonkeyPatch, op: str, wrong: object
) -> None:
    """The twin: a folder that compares with the wrong operator is found by the same property."""
    monkeypatch.setitem(fold_module._ORDER, op, wrong)

    # found is enough: no shrinking (it took most of the time, and the twin needs no smallest example)
    @settings(database=None, max_examples=400, derandomize=True, deadline=None, phases=[Phase.generate])
    @given(_DRAWN, households())
    def search(expr: Expr, household: Record) -> None:
        _agrees(expr, household)

    with pytest.raises(AssertionError):
        search()
