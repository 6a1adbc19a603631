"""The buffer's property: support held on the exit date is not reduced while the buffer lasts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import settings
from hypothesis.strategies import SearchStrategy

from gspolicy.explain.build import decide, exit_pack_of
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
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

    def test(household: Record, day: dt.date) -> None:
        decision = decide(policy_set, household, day)
        buffer = decision.buffer
        if buffer is None or buffer.status != "active":
            return
        registration = household.get("registration")
        exited = registration.get("exited_on") if isinstance(registration, Record) else None
        if not isinstance(exited, dt.date):
            return
        items = household.get("support")
        held = [
            item
            for item in (items if isinstance(items, tuple) else ())
            if isinstance(item.get("start"), dt.date)
            and item["start"] <= exited
            and (not isinstance(item.get("end"), dt.date) or day <= item["end"])
        ]
        kept = list(buffer.retained)
        lapsed = {(r.measure, r.held_from) for r in buffer.ended if r.lapsed == "yes"}
        held = [item for item in held if (item.get("measure"), item["start"]) not in lapsed]
        for item in held:
            match = next(
                (r for r in kept if r.measure == item.get("measure") and r.held_from == item["start"]), None
            )
            problem = None
            if match is None:
                problem = f"measure `{item.get('measure')}` held on the exit date {exited} is not retained"
            elif buffer.amount_rule == "at_exit" and item.get("amount") is not None:
                amount = Decimal(str(item["amount"]))
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
