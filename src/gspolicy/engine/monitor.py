"""The monitor: events update each household's state; durable_rules decides the pack's rules; an
alert is raised when a rule becomes definitely true for a household.

State per household: its record (kept valid against the household schema after every event), the
income reports and shocks (serious illness, disaster) of its recent past, the facts last asserted
and the last verdict of every rule.  Time is **event time**: a logical clock, moved forward by
event dates (a ``clock`` event moves it without touching a household).  When it moves, only the
households for which something can change on the new date are prepared again (each keeps the next
date on which a prepared value of it can change: a year's start, a parameter's effective date, a
date of its record or of the pack and their anniversaries, the end of an event window).  Nothing
runs on wall-clock timers.

Event-derived values (prepared, see docs/explanation/monitoring.md): the pack reads them as
parameters named ``event_…``, whose value per household the monitor computes from its log with
windows by event date.  ``event_shock_after_low_income`` is true when a serious illness or a
disaster happened within ``shock_window_days`` after an income report under ``watch_line`` and is
itself recent (within the window of the clock); every step is three-valued, so a window or line
known only as a range gives unknown, never true, where the range does not settle it.

Why this rule is code and not an expression of the pack: the expression language counts no days.
Nested aggregates could pair a shock with an earlier report (an inner ``any`` reads the outer
item's fields), but "at most ``shock_window_days`` days after" needs the days between two dates,
and the language has only whole years (``years_between``) and ``years_after`` / ``months_after``
by a number written out — not a parameter, not days.  So the window stays here, and the pack says
so in the notes of ``event_shock_after_low_income`` and of its rule (shown in the policy book).
The numbers are not: the window and the watch line are read from the pack in force (their names
are the pack's parameters), and which events count as a shock is `_is_shock`.

The conditions are decided by durable_rules (`gspolicy.engine.durable`); the reference
interpreter is used only by the tests and the explanations.
"""

from __future__ import annotations

import copy
import datetime as dt
import heapq
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs

from gspolicy._i18n import Text
from gspolicy._location import RecordLocation
from gspolicy.engine.durable import DurablePack, DurableSession, compile_pack
from gspolicy.engine.event_fields import EventFields, MissingRole
from gspolicy.engine.events import Event, read_events
from gspolicy.engine.run import parameter_values
from gspolicy.errors import Diagnostic
from gspolicy.lang.values import Interval, Truth, Unknown, Value, compare, kleene_and, kleene_or
from gspolicy.pack.load import load_policy_set
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema import roles
from gspolicy.schema.model import Record
from gspolicy.schema.validate import validate_record

__all__ = ["Alert", "Monitor", "MonitorStats", "monitoring_pack", "shock_after_low_income"]


def monitoring_pack(policy_set: PolicySet) -> str:
    """The id of the set's monitoring pack (``kind: monitoring``) for its root records; a set
    with none, or with several, raises `ValueError` (name one: ``Monitor(pack=...)``)."""
    found = policy_set.of_kind("monitoring", policy_set.schema.root)
    if len(found) != 1:
        held = ", ".join(f"`{p}`" for p in found) or "none"
        raise ValueError(
            f"the policy set has {len(found)} monitoring packs (`kind: monitoring`): {held}; name one"
        )
    return found[0]


SHOCK_FACT = "event_shock_after_low_income"
_LOG_CAP = 16  # events kept per kind when a window has no finite end (bounded memory)


@attrs.frozen
class Alert:
    """A pack rule that became definitely true for a household, decided by a durable rule."""

    household: str
    date: dt.date
    pack: str
    rule: str
    durable_rule: str
    ruleset: str
    title: Text
    line: int | None
    cause: str  # the event type, or "clock"
    record: Record = attrs.field(eq=False, repr=False)
    parameters: Mapping[str, Value] = attrs.field(eq=False, repr=False)

    @property
    def kind(self) -> str:
        """The alert kind: the rule id's first part (risk, exit_failing, batch, buffer, excluded)."""
        return self.rule.split(".", 1)[0]

    def to_json(self) -> dict[str, object]:
        return {
            "household": self.household,
            "date": self.date.isoformat(),
            "kind": self.kind,
            "pack": self.pack,
            "rule": self.rule,
            "durable_rule": self.durable_rule,
            "ruleset": self.ruleset,
            "title": {"zh": self.title.zh, "en": self.title.en},
            "line": self.line,
            "cause": self.cause,
        }


@attrs.define
class MonitorStats:
    events: int = 0
    bad_events: int = 0
    alerts: int = 0
    refreshes: int = 0
    asserts: int = 0
    imprecise: int = 0


@attrs.define
class _House:
    data: dict[str, Any]
    record: Record
    reports: list[tuple[dt.date, Value]] = attrs.field(factory=list)
    shocks: list[dt.date] = attrs.field(factory=list)
    facts: dict[str, dict[str, object]] = attrs.field(factory=dict)
    fired: set[tuple[str, str]] = attrs.field(factory=set)
    verdicts: dict[str, Truth] = attrs.field(factory=dict)
    next_check: dt.date | None = None


def shock_after_low_income(
    reports: Iterable[tuple[dt.date, Value]],
    shocks: Iterable[dt.date],
    as_of: dt.date,
    watch_line: Value,
    window: Value,
) -> Truth:
    """A recent shock within the window after an income report under the watch line (Kleene):
    some shock at most `window` days before `as_of`, on or after a report under `watch_line` and
    at most `window` days after it.  `window` and `watch_line` come from the monitoring pack (a
    range decides only where its bounds agree).  The pack cannot state this rule itself: its
    language has no arithmetic in days (see the module docstring)."""
    found: list[Truth] = []
    report_list = list(reports)
    for shock in shocks:
        recent = compare("<=", (as_of - shock).days, window)
        if recent is False:
            continue
        for day, per_capita in report_list:
            if day > shock:
                continue
            low = compare("<", per_capita, watch_line)
            soon = compare("<=", (shock - day).days, window)
            found.append(kleene_and([recent, low, soon]))
    return kleene_or(found)


def _is_shock(event: Event) -> bool:
    """A shock of `shock_after_low_income`: a serious illness (an illness event without a severity
    is serious, as the event format says) or a disaster."""
    if event.type == "illness":
        return bool(event.data.get("severity", "serious") == "serious")
    return event.type == "disaster"


def _finite_days(value: Value, *, high: bool) -> int | None:
    bound: object = value
    if isinstance(value, Interval):
        bound = value.high if high else value.low
    if isinstance(bound, bool) or not isinstance(bound, int | Decimal):
        return None
    if isinstance(bound, Decimal) and not bound.is_finite():
        return None
    return int(bound)


def _anniversaries(day: dt.date, after: dt.date) -> Iterator[dt.date]:
    """`day`, the day after it, and their next anniversaries after `after` (29 February: 28
    February and 1 March too)."""
    for base in (day, day + dt.timedelta(days=1)):
        yield base
        month_days = [(base.month, base.day)]
        if (base.month, base.day) == (2, 29):
            month_days = [(2, 28), (3, 1)]
        for month, mday in month_days:
            for year in (after.year, after.year + 1):
                try:
                    yield dt.date(year, month, mday)
                except ValueError:
                    continue


def _dates(value: object) -> Iterator[dt.date]:
    if isinstance(value, dt.date):
        yield value
    elif isinstance(value, Record):
        for item in value.values():
            yield from _dates(item)
    elif isinstance(value, tuple):
        for item in value:
            yield from _dates(item)


class Monitor:
    """Watches households through events; raises alerts decided by durable_rules.

    `feed(event)` applies one event and returns the alerts it raised (those of households whose
    state changed because the clock moved come first) and the diagnostics of a bad event (which
    leaves every state unchanged).  `run(lines)` reads JSONL events and yields alerts and
    diagnostics in order, continuing past bad lines.
    """

    def __init__(
        self,
        policy_set: PolicySet | None = None,
        *,
        pack: str | None = None,
        start: dt.date | None = None,
    ) -> None:
        self.policy_set = policy_set or load_policy_set()
        self._fields = EventFields(self.policy_set.schema)
        pack = pack or monitoring_pack(self.policy_set)
        self.pack_id = pack
        if not self.policy_set.versions(pack):
            raise ValueError(f"no pack `{pack}` in the policy set")
        self.clock = start or dt.date.min
        self.stats = MonitorStats()
        self.houses: dict[str, _House] = {}
        self._compiled: dict[str, DurablePack] = {}
        self._checked: CheckedPack | None = None
        self._session: DurableSession | None = None
        self._params: dict[str, Value] = {}
        self._queue: list[tuple[dt.date, str]] = []
        self._global_breaks: list[dt.date] = []
        self._select_version()

    # --- public surface --------------------------------------------------------------------
    @property
    def pack(self) -> CheckedPack | None:
        """The version of the monitoring pack in force on the clock's date."""
        return self._checked

    def compiled(self, as_of: dt.date | None = None) -> DurablePack | None:
        pack = self.policy_set.in_force(self.pack_id, as_of or self.clock)
        return None if pack is None else self._compile(pack)

    def record(self, household: str) -> Record:
        return self.houses[household].record

    def verdicts(self, household: str) -> dict[str, Truth]:
        """The last verdict of every rule for a household, as durable_rules decided it."""
        return dict(self.houses[household].verdicts)

    def parameters(self, household: str) -> dict[str, Value]:
        """The parameters the household's rules read now: the pack's in force and the event values."""
        house = self.houses[household]
        return {**self._params, **self._event_values(house)}

    def run(self, lines: Iterable[str], *, file: str = "<events>") -> Iterator[Alert | Diagnostic]:
        bad_line = None
        for item in read_events(lines, file=file):
            if isinstance(item, Diagnostic):
                line = item.location.line if isinstance(item.location, RecordLocation) else None
                if line != bad_line:  # one bad line may have several problems
                    bad_line = line
                    self.stats.events += 1
                    self.stats.bad_events += 1
                yield item
                continue
            alerts, problems = self.feed(item)
            yield from problems
            yield from alerts

    def feed(self, event: Event) -> tuple[list[Alert], list[Diagnostic]]:
        """Apply one event; return the alerts raised and, for a bad event, its diagnostics."""
        self.stats.events += 1
        if event.date < self.clock:
            self.stats.bad_events += 1
            where = RecordLocation(event.file, event.line)
            args = {"date": event.date.isoformat(), "clock": self.clock.isoformat()}
            return [], [Diagnostic("monitor/out-of-order", where, args)]
        problems: list[Diagnostic] = []
        house: _House | None = None
        data: dict[str, Any] | None = None
        household = event.household
        if household is not None:
            house = self.houses.get(household)
            if event.type == "new_identification":
                if house is not None:
                    problems.append(
                        Diagnostic(
                            "monitor/known-household", event.where("household"), {"household": household}
                        )
                    )
            elif house is None:
                problems.append(
                    Diagnostic(
                        "monitor/unknown-household", event.where("household"), {"household": household}
                    )
                )
            if not problems:
                data, problems = self._apply(house, event)
        if problems:
            self.stats.bad_events += 1
            return [], problems
        record: Record | None = None
        if data is not None:
            record, checks = validate_record(data, self.policy_set.schema, file=event.file, line=event.line)
            errors = [d for d in checks if d.is_error]
            if record is None or errors:
                self.stats.bad_events += 1
                problem = errors[0].message() if errors else "?"
                return [], [Diagnostic("monitor/invalid-record", event.where(), {"problem": problem})]
        alerts = self._advance(event)
        if household is None or record is None or data is None:
            return alerts, []
        if house is None:
            house = _House(data, record)
            self.houses[household] = house
        else:
            house.data, house.record = data, record
        self._log(house, event, record)
        alerts.extend(self._refresh(household, event.line, event.type))
        return alerts, []

    def close(self) -> None:
        """Retract every fact (the durable host is dropped with the monitor)."""
        if self._session is not None:
            for household in self.houses:
                self._session.retract(household)

    def facts_held(self) -> int:
        return 0 if self._session is None else self._session.facts()

    # --- events ------------------------------------------------------------------------------
    def _apply(self, house: _House | None, event: Event) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
        """The household's data after the event (plain data, validated by the caller); an event
        that needs a field the schema gives no role to is refused."""
        try:
            return self._write(house, event)
        except MissingRole as missing:
            needed_by = Text(zh=f"监测事件 `{event.type}`", en=f"the monitoring event `{event.type}`")
            args = {"role": missing.role, "title": roles.ROLES[missing.role].title, "needed_by": needed_by}
            return None, [Diagnostic("schema/missing-role", event.where(), args)]

    def _write(self, house: _House | None, event: Event) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
        e = event.data
        day = event.date.isoformat()
        fields = self._fields
        if event.type == "new_identification":
            data: dict[str, Any] = copy.deepcopy(dict(e["record"]))
            key = self.policy_set.schema.root_record.key
            if key is not None:
                data[key] = event.household
            fields.put(data, roles.REGISTRATION_STATUS, "newly_identified")
            fields.put(data, roles.IDENTIFIED_ON, day, keep=True)
            return data, []
        assert house is not None
        data = copy.deepcopy(house.data)
        member: dict[str, Any] | None = None
        if "member" in e and event.type != "member_added":
            member = fields.find_member(data, str(e["member"]))
            if member is None:
                args = {"household": str(event.household), "member": str(e["member"])}
                return None, [Diagnostic("monitor/unknown-member", event.where("member"), args)]
        t = event.type
        of = fields.member_field
        if t == "income_report":
            fields.put(data, roles.INCOME_PER_CAPITA, e["per_capita"])
            if "non_counting_transfers" in e:
                fields.put(data, roles.NON_COUNTING_TRANSFERS, e["non_counting_transfers"])
            if "rigid_spending" in e:
                fields.put(data, roles.RIGID_SPENDING, e["rigid_spending"])
        elif t == "illness":
            assert member is not None
            member[of(roles.HEALTH)] = e.get("severity", "serious")
        elif t == "disability":
            assert member is not None
            member[of(roles.HEALTH)] = "disabled"
            if "grade" in e:
                member[of(roles.DISABILITY_GRADE)] = e["grade"]
        elif t == "disaster":
            if "housing_grade" in e:
                fields.put(data, roles.HOUSING_GRADE, e["housing_grade"])
        elif t == "member_added":
            new = copy.deepcopy(dict(e["member"]))
            key = fields.member_key()
            if fields.find_member(data, str(new.get(key))) is not None:
                return None, [
                    Diagnostic(
                        "monitor/bad-value",
                        event.where("member"),
                        {"field": f"member.{key}", "expected": "a new member id", "found": str(new.get(key))},
                    )
                ]
            fields.set_members(data, [*fields.members(data), new])
        elif t == "member_removed":
            fields.set_members(data, [m for m in fields.members(data) if m is not member])
        elif t == "enrolment":
            assert member is not None
            member.update({of(roles.ENROLLED): True, of(roles.DROPPED_OUT): False})
            member.pop(of(roles.DROPOUT_REASON), None)
            if "stage" in e:
                member[of(roles.SCHOOLING)] = e["stage"]
        elif t == "dropout":
            assert member is not None
            member.update({of(roles.ENROLLED): False, of(roles.DROPPED_OUT): True})
            if "reason" in e:
                member[of(roles.DROPOUT_REASON)] = e["reason"]
        elif t == "relocation":
            fields.put(data, roles.RELOCATION_STAGE, e["stage"])
            if "resettlement" in e:
                fields.put(data, roles.RESETTLEMENT_TYPE, e["resettlement"])
        elif t == "insurance":
            assert member is not None
            member[of(roles.MEDICAL_INSURANCE)] = e["insured"]
        elif t == "exit":
            fields.put(data, roles.REGISTRATION_STATUS, "exited")
            fields.put(data, roles.EXITED_ON, day)
        elif t == "return":
            fields.put(data, roles.REGISTRATION_STATUS, "returned")
            fields.put(data, roles.RETURNED_ON, day)
        return data, []

    def _log(self, house: _House, event: Event, record: Record) -> None:
        if event.type == "income_report":
            try:
                value = self._fields.read(record, roles.INCOME_PER_CAPITA)
            except MissingRole:
                value = None
            house.reports.append((event.date, value if value is not None else Unknown()))  # type: ignore[arg-type]
        elif _is_shock(event):
            house.shocks.append(event.date)

    def _event_values(self, house: _House) -> dict[str, Value]:
        window = self._params.get("shock_window_days", Unknown(frozenset({"param:shock_window_days"})))
        line = self._params.get("watch_line", Unknown(frozenset({"param:watch_line"})))
        value = shock_after_low_income(house.reports, house.shocks, self.clock, line, window)
        return {SHOCK_FACT: value}

    def _prune(self, house: _House) -> None:
        window = self._params.get("shock_window_days", Unknown())
        high = _finite_days(window, high=True)
        if high is None:
            del house.shocks[:-_LOG_CAP]
            del house.reports[:-_LOG_CAP]
            return
        house.shocks = [s for s in house.shocks if (self.clock - s).days <= high]
        oldest = min([*house.shocks, self.clock])
        house.reports = [r for r in house.reports if (oldest - r[0]).days <= high]

    # --- time --------------------------------------------------------------------------------
    def _select_version(self) -> bool:
        """Take the pack version in force on the clock's date; True when it changed."""
        pack = self.policy_set.in_force(self.pack_id, self.clock)
        changed = pack is not self._checked
        self._checked = pack
        if pack is None:
            self._params = {}
        else:
            self._params = parameter_values(pack, self.clock)
        if changed:
            if self._session is not None:
                for household in self.houses:
                    self._session.retract(household)
            self._session = None if pack is None else DurableSession(self._compile(pack))
            for house in self.houses.values():
                house.facts, house.fired = {}, set()
            self._global_breaks = self._breaks_of_pack(pack)
        return changed

    def _breaks_of_pack(self, pack: CheckedPack | None) -> list[dt.date]:
        days: set[dt.date] = set()
        for checked in self.policy_set.versions(self.pack_id):
            days.add(checked.pack.valid_from)
            if checked.pack.valid_to is not None:
                days.add(checked.pack.valid_to + dt.timedelta(days=1))
        if pack is not None:
            for param in pack.pack.parameters.values():
                for value in param.values:
                    days.add(value.effective)
                    if isinstance(value.value, dt.date):
                        days.add(value.value)
        return sorted(days)

    def _compile(self, pack: CheckedPack) -> DurablePack:
        found = self._compiled.get(pack.key)
        if found is None:
            found = self._compiled[pack.key] = compile_pack(pack)
        return found

    def _advance(self, event: Event) -> list[Alert]:
        if event.date <= self.clock:
            return []
        previous = self.clock
        self.clock = event.date
        alerts: list[Alert] = []
        params_before = self._params
        if self._select_version() or self._params != params_before or previous.year != self.clock.year:
            due = list(self.houses)
            self._queue = []
        else:
            due = []
            while self._queue and self._queue[0][0] <= self.clock:
                _, household = heapq.heappop(self._queue)
                house = self.houses.get(household)
                if house is not None and house.next_check is not None and house.next_check <= self.clock:
                    due.append(household)
        for household in dict.fromkeys(due):
            alerts.extend(self._refresh(household, event.line, "clock"))
        return alerts

    def _next_check(self, house: _House) -> dt.date | None:
        after = self.clock
        candidates: list[dt.date] = [dt.date(after.year + 1, 1, 1)] if after.year < dt.MAXYEAR else []
        candidates.extend(d for d in self._global_breaks if d > after)
        compiled = self._compile(self._checked) if self._checked is not None else None
        dates = {*_dates(house.record), *self._global_breaks}
        if compiled is not None and compiled.anniversaries:
            for day in dates:
                candidates.extend(d for d in _anniversaries(day, after) if d > after)
        else:  # a comparison with the date changes on a date or the day after it
            candidates.extend(d for day in dates for d in (day, day + dt.timedelta(days=1)) if d > after)
        window = self._params.get("shock_window_days", Unknown())
        for shock in house.shocks:
            for high in (False, True):
                days = _finite_days(window, high=high)
                if days is not None:
                    candidates.append(shock + dt.timedelta(days=days + 1))
        future = [d for d in candidates if d > after]
        return min(future) if future else None

    # --- deciding ----------------------------------------------------------------------------
    def _refresh(self, household: str, line: int | None, cause: str) -> list[Alert]:
        house = self.houses[household]
        self.stats.refreshes += 1
        self._prune(house)
        house.next_check = self._next_check(house)
        if house.next_check is not None:
            heapq.heappush(self._queue, (house.next_check, household))
        pack = self._checked
        session = self._session
        if pack is None or session is None:
            house.verdicts = {}
            return []
        compiled = self._compile(pack)
        params = {**self._params, **self._event_values(house)}
        facts, imprecise = compiled.prepare(house.record, self.clock, params)
        self.stats.imprecise += imprecise
        changed = {name: fact for name, fact in facts.items() if house.facts.get(name) != fact}
        if changed:
            fired = session.replace(household, changed)
            self.stats.asserts += len(changed)
            house.fired = {f for f in house.fired if f[0] not in changed} | fired
            house.facts.update(changed)
        names = {rule for _, rule in house.fired}
        verdicts: dict[str, Truth] = {}
        for rule in compiled.rules:
            yes, no = rule.true_name in names, rule.false_name in names
            if yes and no:
                raise RuntimeError(f"durable rules `{rule.true_name}` and `{rule.false_name}` both fired")
            verdicts[rule.rule] = True if yes else False if no else Unknown()
        alerts: list[Alert] = []
        titles = {r.id: r.title for r in pack.pack.rules}
        for rule in compiled.rules:
            if verdicts[rule.rule] is True and house.verdicts.get(rule.rule) is not True:
                alerts.append(
                    Alert(
                        household=household,
                        date=self.clock,
                        pack=pack.key,
                        rule=rule.rule,
                        durable_rule=rule.true_name,
                        ruleset=session.names[rule.ruleset],
                        title=titles[rule.rule],
                        line=line,
                        cause=cause,
                        record=house.record,
                        parameters=params,
                    )
                )
        house.verdicts = verdicts
        self.stats.alerts += len(alerts)
        return alerts
