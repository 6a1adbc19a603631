"""Running a property: the households and dates it draws, its settings, and the `PropertyFailed` it raises."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from gspolicy.explain.decision import Decision
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.strategies.households import from_schema
from gspolicy.testing.case_yaml import write_case


@attrs.frozen
class Counterexample:
    """A (shrunk) household on which a property fails, ready to be written as a test case.

    `expect` is what the property demands, in the grammar of a test case's ``expect``.
    """

    property: str
    household: Record
    as_of: dt.date
    pack: str
    expect: Mapping[str, Any]
    message: str

    def write(self, path: Path | str, *, name: str | None = None) -> Path:
        """Add this counterexample as a case to the test file at `path` (see `write_case`)."""
        return write_case(
            path,
            self.household,
            as_of=self.as_of,
            pack=self.pack,
            expect=self.expect,
            name=name or f"{self.property}: {self.message}",
        )


class PropertyFailed(AssertionError):
    """A property does not hold; `counterexample` holds the shrunk household."""

    def __init__(self, counterexample: Counterexample) -> None:
        super().__init__(
            f"{counterexample.property} does not hold: {counterexample.message}\n"
            f"  as of {counterexample.as_of.isoformat()}, household: "
            f"{json.dumps(counterexample.household.to_data(), ensure_ascii=False, sort_keys=True)}"
        )
        self.counterexample = counterexample


def run_settings(value: settings | None) -> settings:
    """The settings a property runs with: `value`, checked, or the default (no deadline)."""
    if value is None:
        # no `explain` phase: it re-runs a failing example many times over, slow for whole decisions
        return settings(
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        )
    if not isinstance(value, settings):
        raise InvalidArgument(f"settings={value!r} must be a hypothesis.settings")
    return value


def dates_of(as_of: dt.date | SearchStrategy[dt.date]) -> SearchStrategy[dt.date]:
    """The dates a property draws: `as_of` when it is a strategy, else that one date."""
    if isinstance(as_of, SearchStrategy):
        return as_of
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise InvalidArgument(f"as_of={as_of!r} must be a datetime.date or a strategy of dates")
    return st.just(as_of)


def households_of(policy_set: PolicySet, households: SearchStrategy[Record] | None) -> SearchStrategy[Record]:
    """The households a property draws: `households`, checked, or every valid household of the schema."""
    if households is None:
        return from_schema(policy_set.schema)
    if not isinstance(households, SearchStrategy):
        raise InvalidArgument(f"households={households!r} must be a hypothesis strategy of households")
    return households


def run_property(
    test: Callable[[Record, dt.date], None],
    households: SearchStrategy[Record],
    dates: SearchStrategy[dt.date],
    config: settings,
) -> None:
    """Run `test` on every household and date drawn, under `config`."""

    @config
    @given(household=households, as_of=dates)
    def run(household: Record, as_of: dt.date) -> None:
        test(household, as_of)

    run()


def judged_by(policy_set: PolicySet, pack: str | None) -> dict[str, str]:
    """The verdict pack a property judges by: `pack` when the set has it, else the set's own."""
    return {"exit_pack": pack} if pack is not None and pack in policy_set.ids else {}


def verdicts_of(decision: Decision) -> dict[str, object]:
    """Every verdict of a decision by name (``verdict``, ``criteria.<id>``, ``rules.<id>``, …)."""
    out: dict[str, object] = {"verdict": decision.verdict}
    out["applicability"] = decision.applicability.status if decision.applicability else None
    out["buffer"] = decision.buffer.status if decision.buffer else None
    out.update({f"criteria.{c.id}": c.verdict for c in decision.criteria})
    out.update({f"rules.{m.rule}": m.applies for m in decision.memberships})
    return out


def expect_of(decision: Decision) -> dict[str, Any]:
    """A decision's verdicts in the grammar of a test case's ``expect``."""
    out: dict[str, Any] = {"verdict": decision.verdict}
    out["criteria"] = {c.id: c.verdict for c in decision.criteria}
    return out
