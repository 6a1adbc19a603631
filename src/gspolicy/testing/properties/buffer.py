"""The buffer's property: support held on the exit date is not reduced while the buffer lasts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import settings
from hypothesis.strategies import SearchStrategy

from gspolicy.explain.build import decide, exit_pack_of
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema import roles
from gspolicy.schema.model import Record
from gspolicy.schema.paths import value_at
from gspolicy.strategies.arguments import HasPolicySet, policy_set_from
from gspolicy.testing.properties.harness import (
    Counterexample,
    PropertyFailed,
    dates_of,
    households_of,
    run_property,
    run_settings,
)


def assert_buffer_not_reduced(
    policies: PolicySet | HasPolicySet,
    *,
    as_of: dt.date | SearchStrategy[dt.date],
    households: SearchStrategy[Record] | None = None,
    settings: settings | None = None,
) -> None:
    """While the buffer is active, every support item held on the exit date and not past its own
    end date (both worked out here from the record, not by the packs) is retained unless its
    measure has lapsed (`lapses_when`, listed under `BufferState.ended`); under a basis that keeps
    amounts at exit, at no less than the amount held, and `Decision.support` pays it no less."""
    policy_set = policy_set_from(policies)
    schema = policy_set.schema
    # the fields by their roles: the exit date, the support list and its items' fields
    exited_path = (schema.role(roles.EXITED_ON) or "").split(".")
    support_path = (schema.role(roles.SUPPORT) or "").split(".")
    fields = schema.support_fields

    def test(household: Record, day: dt.date) -> None:
        decision = decide(policy_set, household, day)
        buffer = decision.buffer
        if buffer is None or buffer.status != "active":
            return
        exited = value_at(household, exited_path)
        if not isinstance(exited, dt.date):
            return
        items = value_at(household, support_path)
        held = []
        for item in items if isinstance(items, tuple) else ():
            start, end = item.get(fields.start), item.get(fields.end)
            if (
                isinstance(start, dt.date)
                and start <= exited
                and (not isinstance(end, dt.date) or day <= end)
            ):
                held.append((item.get(fields.measure), start, item.get(fields.amount)))
        kept = list(buffer.retained)
        lapsed = {(r.measure, r.held_from) for r in buffer.ended if r.lapsed == "yes"}
        held = [
            (measure, start, held_at) for measure, start, held_at in held if (measure, start) not in lapsed
        ]
        for measure, start, held_at in held:
            match = next((r for r in kept if r.measure == measure and r.held_from == start), None)
            problem = None
            if match is None:
                problem = f"measure `{measure}` held on the exit date {exited} is not retained"
            elif buffer.amount_rule == "at_exit" and held_at is not None:
                amount = Decimal(str(held_at))
                if match.amount is None or Decimal(match.amount) < amount:
                    problem = f"measure `{match.measure}` is retained at {match.amount}, less than {amount} held at exit"
                paid = [Decimal(a) for m, a, _ in decision.support if m == match.measure and a is not None]
                if paid and max(paid) < amount:
                    problem = (
                        f"the support pays `{match.measure}` {max(paid)}, less than {amount} held at exit"
                    )
            if problem is not None:
                retained = [
                    {"measure": r.measure, **({"amount": r.amount} if r.amount else {})} for r in kept
                ]
                expect = {"buffer": "active", "retained": retained}
                raise PropertyFailed(
                    Counterexample(
                        "support not reduced during the buffer",
                        household,
                        day,
                        exit_pack_of(policy_set),
                        expect,
                        problem,
                    )
                )
            kept.remove(match)  # type: ignore[arg-type]

    run_property(test, households_of(policy_set, households), dates_of(as_of), run_settings(settings))
