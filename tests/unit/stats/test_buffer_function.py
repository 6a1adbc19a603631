"""`buffer()`: the outcome function that reads the buffer's state, in an indicator or an
invariant — the same from an `Outcome` and from its row, and refused with an argument."""

from __future__ import annotations

import datetime as dt

import pytest

from gspolicy._location import Source, Span
from gspolicy.api import Policies
from gspolicy.engine.invariants import checks_reading, view_of_outcome, view_of_row
from gspolicy.engine.outcome import decide_outcome
from gspolicy.errors import Diagnostic
from gspolicy.lang import STRING, Env, Expr, TypedExpr, check, parse_expression
from gspolicy.schema.model import Record

DAY = dt.date(2018, 12, 31)


def _parse(text: str) -> tuple[Expr | None, list[Diagnostic]]:
    source = Source("<test>", text)
    return parse_expression(text, lambda start, end: Span(source, start, end))


def _typed(text: str, bundled: Policies) -> tuple[TypedExpr | None, list[Diagnostic]]:
    expr, problems = _parse(text)
    assert expr is not None, problems
    return check(expr, Env(schema=bundled.schema, outcome=True))


@pytest.mark.slow  # decides the example registry: full suite
def test_buffer_reads_the_state_from_an_outcome_and_from_its_row(
    bundled: Policies, registry: tuple[Record, ...]
) -> None:
    policy_set = bundled.policy_set
    typed, problems = _typed('buffer() == "active"', bundled)
    assert typed is not None, problems
    checks = checks_reading(policy_set, "household", DAY, [typed])
    exit_pack = policy_set.exit_pack()
    assert exit_pack is not None
    states = set()
    for record in registry[:40]:
        outcome = decide_outcome(policy_set, record, DAY, exit_pack=exit_pack)
        from_outcome = view_of_outcome(checks, outcome)
        from_row = view_of_row(checks, outcome.to_row(), exit_pack)
        expected = outcome.buffer.status if outcome.buffer is not None else None
        assert from_outcome.get(("buffer", "")) == expected
        assert from_row.get(("buffer", "")) == expected
        states.add(expected)
    assert {"active", "inactive"} <= states


def test_buffer_takes_no_name_and_is_text(bundled: Policies) -> None:
    typed, _problems = _typed("buffer()", bundled)
    assert typed is not None
    assert typed.type == STRING
    typed, problems = _typed('buffer("x")', bundled)
    assert typed is None
    assert [d.code for d in problems] == ["type/bad-arity"]


def test_buffer_is_an_outcome_function(bundled: Policies) -> None:
    expr, _ = _parse("buffer()")
    assert expr is not None
    typed, problems = check(expr, Env(schema=bundled.schema))
    assert typed is None
    assert [d.code for d in problems] == ["type/outcome-function"]
