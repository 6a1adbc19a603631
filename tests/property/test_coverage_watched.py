"""Coverage observations from the watched evaluator equal those read from the traced
interpreter's events (`support.traced_coverage`, the way coverage was measured before).

Each decision's evaluations — the outcome and every condition's value, "-" where an and/or
stopped before it — are compared on the bundled packs with households of the example registry
and boundary households, and on generated packs (every construct of the language).  The trace's
events name the node they report on, so every condition is read by identity; only a conditional
has no event of its own, and the trace can then only say that it was evaluated ("?"): there the
watched value is the interpreter's own and the test asks only that an evaluated conditional is not
reported unevaluated by the watcher.  A root the trace cannot split into evaluations (a constant
predicate) gives the trace no observation.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gspolicy.lang.typed import TConst, TIf, TypedExpr
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record
from gspolicy.strategies import boundary_households, from_schema, packs
from gspolicy.testing.coverage import Observation, decision_points, observe
from gspolicy.testing.coverage.measure import runs_of

from support.bundled import shared_policies, shared_registry
from support.traced_coverage import observe_traced, traced_runs

POLICIES = shared_policies()
SCHEMA = POLICIES.schema
DAYS = st.sampled_from([dt.date(2017, 6, 30), dt.date(2018, 12, 31), dt.date(2021, 3, 1)])
UNREAD = (TIf,)  # the kind the trace has no event of its own for


def _readable(node: TypedExpr) -> bool:
    """Whether the trace reading finds `node`'s value (see the module doc)."""
    return not isinstance(node, UNREAD)


def _agree(leaf: TypedExpr, watched: str, traced: str) -> bool:
    if _readable(leaf):
        return watched == traced
    return traced == "-" or watched != "-"


def _same(pack: CheckedPack, record: Record, day: dt.date) -> int:
    """Compare every decision of `pack` on `record`; the number of evaluations compared."""
    watched = runs_of(pack, record, day)
    traced = traced_runs(pack, record, day)
    compared = 0
    for point in decision_points(pack):
        new = observe(point, watched, "case")
        old = observe_traced(point, traced, "case")
        if not old and (isinstance(point.root, TConst) or not _readable(point.root)):
            continue  # the trace cannot split the evaluations of such a root
        assert len(new) == len(old), (point.key, new, old)
        for a, b in zip(new, old, strict=True):
            assert a.outcome == b.outcome or not _readable(point.root), (point.key, a, b)
            assert all(_agree(*t) for t in zip(point.leaves, a.values, b.values, strict=True)), (
                point.key,
                a,
                b,
            )
        compared += len(new)
    return compared


def _in_force(day: dt.date) -> list[CheckedPack]:
    return [p for p in POLICIES.policy_set.all_in_force(day) if p.subject == "household"]


@pytest.mark.slow
def test_the_example_registry_is_observed_alike_on_every_bundled_pack() -> None:
    compared = 0
    for day in (dt.date(2016, 6, 30), dt.date(2018, 12, 31), dt.date(2020, 12, 31)):
        for record in shared_registry()[::40]:
            for pack in _in_force(day):
                compared += _same(pack, record, day)
    assert compared > 1_000


@pytest.mark.slow  # 40 boundary households traced: full suite
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), day=DAYS)
def test_boundary_households_are_observed_alike(data: st.DataObject, day: dt.date) -> None:
    pack = data.draw(st.sampled_from(_in_force(day)))
    record = data.draw(boundary_households(POLICIES.policy_set, as_of=day, pack=pack.id))
    _same(pack, record, day)


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(pack=packs(SCHEMA, max_criteria=4, max_rules=2, max_depth=3), household=from_schema(SCHEMA), day=DAYS)
def test_generated_packs_are_observed_alike(pack: CheckedPack, household: Record, day: dt.date) -> None:
    _same(pack, household, day)


def test_a_condition_an_or_stops_before_is_not_evaluated() -> None:
    """A golden example: the registry's first household lives in a grade-b house, so the
    housing criterion's `or` is true at its first condition and the others are not evaluated;
    it has exited, so it is not registered poor and the repair rule's `and` stops at its first
    condition."""
    day = dt.date(2018, 12, 31)
    record = shared_registry()[0]
    assert record.get("id") == "621126-0001"
    found: dict[str, list[Observation]] = {}
    for pack in _in_force(day):
        runs = runs_of(pack, record, day)
        found.update((p.key, observe(p, runs, "h")) for p in decision_points(pack))
    housing = found["exit_criteria.household@2018.1 criterion exit.housing"]
    assert housing == [Observation("h", "T", ("T", "-", "-", "-", "-", "-"))]
    repair = found["seven_batches.housing@2016.1 rule housing.repair"]
    assert repair == [Observation("h", "F", ("F", "-", "-"))]
