"""The durable_rules backend equals the reference interpreter, step by step.

A hypothesis state machine feeds random event sequences to a `Monitor` (households identified,
income reported around the watch line, illness, disaster, members added and removed, insurance,
relocation, exit, return, and the clock jumping ahead).  After every step, for every household and
every rule, the verdict durable_rules decided equals the reference interpreter's on the same
record, date and parameters, and the alerts raised are exactly the rules that became definitely
true according to the interpreter.  The event values (``event_…``) are prepared by the monitor and
shared by both sides (docs/explanation/monitoring.md); they are tested on their own in
tests/unit/monitor.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("durable", reason="needs the durable extra (durable-rules has no build for Python 3.13+)")

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from gspolicy.engine.events import Event
from gspolicy.engine.monitor import Alert, Monitor
from gspolicy.engine.run import parameter_values
from gspolicy.lang import Context, Unknown, evaluate
from gspolicy.lang.values import Truth
from gspolicy.pack.policy_set import PolicySet

from support.bundled import shared_policies

POLICIES: PolicySet = shared_policies().policy_set
HOUSEHOLDS = ("h1", "h2", "h3")
MEMBERS = ("m1", "m2", "m3")
# incomes around the lines: under, at and inside the watch range, above it
INCOMES = st.sampled_from(
    [Decimal(v) for v in ("2000", "3499.99", "3500", "4000", "5250", "5250.01", "7000")]
)
MAYBE_BOOL = st.sampled_from([True, False, None])


def _member(member_id: str, health: str | None, insured: bool | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": member_id}
    if health is not None:
        out["health"] = health
    if insured is not None:
        out["basic_medical_insurance"] = insured
    return out


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    size = draw(st.integers(1, 2))
    members = [
        _member(
            MEMBERS[i],
            draw(st.sampled_from([None, "healthy", "chronic", "serious"])),
            draw(MAYBE_BOOL),
        )
        for i in range(size)
    ]
    data: dict[str, Any] = {"size": size, "members": members}
    grade = draw(st.sampled_from([None, "a", "b", "c", "d"]))
    if grade is not None:
        data["housing"] = {"grade": grade}
    zone = draw(MAYBE_BOOL)
    if zone is not None:
        data["location"] = {"relocation_zone": zone}
    if draw(st.booleans()):
        data["social"] = {"rigid_spending": draw(st.sampled_from([0, 5000, 9000, 20000]))}
    return data


def reference(monitor: Monitor, household: str) -> dict[str, Truth]:
    pack = monitor.pack
    assert pack is not None
    params = {
        **parameter_values(pack, monitor.clock),
        **{k: v for k, v in monitor.parameters(household).items() if k.startswith("event_")},
    }
    record = monitor.record(household)
    out: dict[str, Truth] = {}
    for rule_id, texpr in pack.rules.items():
        value = evaluate(texpr, Context(record, monitor.clock, params, pack.facts))
        assert isinstance(value, bool | Unknown)
        out[rule_id] = value
    return out


def same(a: Truth, b: Truth) -> bool:
    return (isinstance(a, Unknown) and isinstance(b, Unknown)) or a is b


class MonitorMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.monitor = Monitor(POLICIES, start=dt.date(2016, 1, 1))
        self.known: list[str] = []
        self.members: dict[str, list[str]] = {}
        self.before: dict[tuple[str, str], Truth] = {}
        self.alerts: list[Alert] = []
        self.line = 0

    def feed(self, days: int, household: str | None, kind: str, **data: Any) -> None:
        date = self.monitor.clock + dt.timedelta(days=days)
        if household is not None and days > 0:
            # move the clock first and check there: a rule may turn false when the date moves and
            # true again with the event itself, which is then rightly a new alert
            self.feed(days, None, "clock")
            self.durable_equals_the_interpreter()
        self.line += 1
        event = Event(date, household, kind, data, "random.jsonl", self.line)
        self.alerts, _problems = self.monitor.feed(event)
        if household is not None and household not in self.known and household in self.monitor.houses:
            self.known.append(household)
        if household in self.monitor.houses:
            self.members[household] = [
                str(m["id"]) for m in self.monitor.houses[household].data.get("members", [])
            ]

    @rule(household=st.sampled_from(HOUSEHOLDS), record=records(), days=st.integers(0, 60))
    def identify(self, household: str, record: dict[str, Any], days: int) -> None:
        self.feed(days, household, "new_identification", record=record)

    @precondition(lambda self: self.known)
    @rule(
        data=st.data(),
        days=st.integers(0, 120),
        per_capita=INCOMES,
        rigid=st.sampled_from([None, 1000, 30000]),
    )
    def income(self, data: st.DataObject, days: int, per_capita: Decimal, rigid: int | None) -> None:
        household = data.draw(st.sampled_from(self.known))
        extra = {} if rigid is None else {"rigid_spending": rigid}
        self.feed(days, household, "income_report", per_capita=per_capita, **extra)

    @precondition(lambda self: self.known)
    @rule(data=st.data(), days=st.integers(0, 120), kind=st.sampled_from(["exit", "return", "disaster"]))
    def status(self, data: st.DataObject, days: int, kind: str) -> None:
        household = data.draw(st.sampled_from(self.known))
        extra = (
            {"housing_grade": data.draw(st.sampled_from(["a", "c", "d"]))}
            if kind == "disaster" and data.draw(st.booleans())
            else {}
        )
        self.feed(days, household, kind, **extra)

    @precondition(lambda self: any(self.members.get(h) for h in self.known))
    @rule(data=st.data(), days=st.integers(0, 120))
    def member_event(self, data: st.DataObject, days: int) -> None:
        household = data.draw(st.sampled_from([h for h in self.known if self.members.get(h)]))
        member = data.draw(st.sampled_from(self.members[household]))
        kind = data.draw(st.sampled_from(["illness", "insurance", "member_removed"]))
        if kind == "illness":
            self.feed(
                days,
                household,
                kind,
                member=member,
                severity=data.draw(st.sampled_from(["serious", "chronic"])),
            )
        elif kind == "insurance":
            self.feed(days, household, kind, member=member, insured=data.draw(st.booleans()))
        else:
            self.feed(days, household, kind, member=member)

    @precondition(lambda self: self.known)
    @rule(data=st.data(), days=st.integers(0, 120), insured=MAYBE_BOOL)
    def add_member(self, data: st.DataObject, days: int, insured: bool | None) -> None:
        household = data.draw(st.sampled_from(self.known))
        new = f"m{len(self.members.get(household, [])) + 10}"
        self.feed(days, household, "member_added", member=_member(new, "healthy", insured))

    @precondition(lambda self: self.known)
    @rule(data=st.data(), days=st.integers(0, 120), stage=st.sampled_from(["none", "planned", "moved_in"]))
    def relocation(self, data: st.DataObject, days: int, stage: str) -> None:
        household = data.draw(st.sampled_from(self.known))
        self.feed(days, household, "relocation", stage=stage, resettlement="central")

    @rule(days=st.sampled_from([1, 30, 91, 200, 366, 700]))
    def clock(self, days: int) -> None:
        self.feed(days, None, "clock")

    @invariant()
    def durable_equals_the_interpreter(self) -> None:
        if not hasattr(self, "monitor") or self.monitor.pack is None:
            return
        expected_alerts: set[tuple[str, str]] = set()
        for household in self.known:
            want = reference(self.monitor, household)
            got = self.monitor.verdicts(household)
            for rule_id, value in want.items():
                assert same(got[rule_id], value), (
                    household,
                    rule_id,
                    self.monitor.clock,
                    got[rule_id],
                    value,
                )
                if value is True and self.before.get((household, rule_id)) is not True:
                    expected_alerts.add((household, rule_id))
                self.before[(household, rule_id)] = value
        raised = {(a.household, a.rule) for a in self.alerts}
        assert raised == expected_alerts
        self.alerts = []


MonitorMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# the monitor's state machine, step by step against the interpreter: full suite
test_monitor_equals_the_interpreter = pytest.mark.slow(MonitorMachine.TestCase)
