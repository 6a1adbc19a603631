"""The durable_rules backend has no interpreter of its own: the terms it asserts into its facts are
computed by the per-record evaluator, and equal the reference interpreter's values — missing sets
included — on generated packs (every construct of the language) and generated households."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gspolicy.engine.durable import DurableError, compile_pack
from gspolicy.engine.run import parameter_values
from gspolicy.lang.interpret import Context, evaluate
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record
from gspolicy.strategies import from_schema, packs

from support.bundled import shared_policies

SCHEMA = shared_policies().schema
DAYS = st.sampled_from([dt.date(2017, 6, 30), dt.date(2018, 12, 31), dt.date(2020, 2, 29)])


@pytest.mark.slow  # a property over generated households: full suite
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(pack=packs(SCHEMA, max_criteria=2, max_rules=3, max_depth=3), household=from_schema(SCHEMA), day=DAYS)
def test_the_terms_durable_asserts_equal_the_interpreter(
    pack: CheckedPack, household: Record, day: dt.date
) -> None:
    try:
        compiled = compile_pack(pack)
    except DurableError:
        return  # a rule reading more values than a durable fact holds: refused, said elsewhere
    params = parameter_values(pack, day)
    values = compiled._values(household, day, params)
    for term, value in zip(compiled.terms, values, strict=True):
        expected = evaluate(term.expr, Context(household, day, params, pack.facts))
        assert value == expected, term.text


def test_the_bundled_monitoring_pack_terms_equal_the_interpreter() -> None:
    policies = shared_policies()
    day = dt.date(2018, 12, 31)
    (pack,) = [p for p in policies.policy_set.versions("monitoring.household") if p.pack.in_force(day)]
    compiled = compile_pack(pack)
    params = parameter_values(pack, day)
    from support.bundled import shared_registry

    for household in shared_registry()[::50]:
        values = compiled._values(household, day, params)
        for term, value in zip(compiled.terms, values, strict=True):
            assert value == evaluate(term.expr, Context(household, day, params, pack.facts)), term.text
