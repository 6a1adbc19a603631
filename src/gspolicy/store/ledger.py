"""The household work ledger ("one household, one policy"): plans, items, progress.

A **plan** is made from one entry of the decision log: one **item** per measure the decision
grants the household — every measure of every rule that applies for sure (``applies == "yes"``),
plus every measure the buffer retains when the buffer is active (for a measure both granted and
retained, the one the decision's support counts: the buffer pack's ``combine`` rule chose it).
Each item fixes the responsible department, the content (the batch — the rule or buffer basis —
that grants it), the amount and the deadline: the one given for the measure when planning, else the
decision's as-of date plus the period given when planning, else **none**.  No source fixes a
deadline for a household's measures, so the ledger invents none: an item without a deadline is
never overdue and is shown as having no deadline.

A household has one current plan.  Planning again from a later entry supersedes it: its items
not yet done become ``superseded``, done items stay done.  **Progress updates** (status, date,
who, evidence) are appended, never changed; an item's status is its latest update's.

An item is **overdue** when it has a deadline, the deadline is before today and it is not done.  Quarterly counts
group the items (superseded ones left out) by the quarter of the plan date, batch, measure and
county.

Every change runs in one transaction: bad input (an unknown household, a measure the household
does not hold, a future date, a malformed update) raises `PolicyError` and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import attrs

from gspolicy._i18n import Lang, Text
from gspolicy.errors import Diagnostic, PolicyError, suggest
from gspolicy.pack.load import PolicySet
from gspolicy.store.db import write
from gspolicy.store.log import DecisionLog, Entry

__all__ = [
    "NO_DEADLINE",
    "STATUSES",
    "CountRow",
    "Item",
    "Ledger",
    "Plan",
    "Update",
    "quarter_of",
]

NO_DEADLINE = Text(zh="无期限", en="no deadline")
"""How an item without a deadline is shown (the ledger sets no deadline nobody gave)."""

STATUSES = ("in_progress", "done")
"""The statuses a progress update may set (an item starts ``open``)."""

STATUS_TEXT = {
    "open": Text(zh="未开始", en="not started"),
    "in_progress": Text(zh="进行中", en="in progress"),
    "done": Text(zh="已完成", en="done"),
    "superseded": Text(zh="已被新计划取代", en="superseded"),
}


def quarter_of(day: dt.date) -> str:
    """``2018Q4`` for a day in October–December 2018."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


@attrs.frozen
class Update:
    status: str
    on: dt.date
    by: str
    evidence: str | None
    recorded_at: str


@attrs.frozen
class Item:
    """One measure in a household's plan, with its current state."""

    id: int
    household: str
    measure: str
    title: Text
    department: str
    department_title: Text
    batch: str
    content: Text
    amount: str | None
    unit: str | None
    deadline: dt.date | None  # None: none was given when planning
    status: str
    done_on: dt.date | None
    county: str | None
    planned_on: dt.date

    def overdue(self, today: dt.date) -> bool:
        return self.status in ("open", "in_progress") and self.deadline is not None and self.deadline < today

    def days_overdue(self, today: dt.date) -> int:
        """How many days past its deadline the item is on `today` (0 when it is not overdue)."""
        if self.deadline is None or not self.overdue(today):
            return 0
        return (today - self.deadline).days

    def deadline_text(self, lang: Lang = "en") -> str:
        """The deadline as ``YYYY-MM-DD``, or `NO_DEADLINE` in `lang`."""
        return self.deadline.isoformat() if self.deadline is not None else NO_DEADLINE.get(lang)


@attrs.frozen
class Plan:
    """A household's plan: the log entry it comes from and its items."""

    id: int
    household: str
    entry: int
    entry_hash: str
    county: str | None
    planned_on: dt.date
    created_at: str
    actor: str
    items: tuple[Item, ...]


@attrs.frozen
class CountRow:
    quarter: str
    batch: str
    measure: str
    county: str
    items: int
    households: int
    done: int


def _fail(code: str, **args: object) -> PolicyError:
    return PolicyError([Diagnostic(code, None, args)])


def _text(data: object) -> Text:
    if isinstance(data, Mapping):
        return Text(zh=str(data.get("zh", "")), en=str(data.get("en", "")))
    return Text(zh=str(data), en=str(data))


@attrs.frozen
class _Planned:
    measure: str
    title: Text
    department: str
    department_title: Text
    batch: str
    content: Text
    amount: str | None
    unit: str | None


def _measures(entry: Entry, policy_set: PolicySet) -> list[_Planned]:
    """The measures the entry's decision grants, in a stable order."""
    decision = entry.decision_data()
    as_of = dt.date.fromisoformat(entry.as_of)
    packs = {p.pack.key: p.pack for p in policy_set.packs}
    out: dict[str, _Planned] = {}
    for m in decision.get("memberships", []):
        if m.get("applies") != "yes":
            continue
        pack = packs.get(str(m.get("pack")))
        for g in m.get("measures", []):
            dept = str(g["department"])
            dept_title = pack.departments.get(dept) if pack is not None else None
            out.setdefault(
                str(g["id"]),
                _Planned(
                    str(g["id"]),
                    _text(g["title"]),
                    dept,
                    dept_title or Text(dept, dept),
                    str(m["rule"]),
                    _text(m["title"]),
                    g.get("amount"),
                    g.get("unit"),
                ),
            )
    # what the decision pays: for a measure both granted and retained, its support names the one
    # the buffer pack's `combine` rule kept (the rule or the basis)
    paid = {(str(s.get("measure")), str(s.get("why"))) for s in decision.get("support", [])}
    buffer: dict[str, Any] | None = decision.get("buffer")
    if buffer is not None and buffer.get("status") == "active":
        buffer_pack = packs.get(str(buffer.get("pack")))
        basis_title = _text(buffer.get("basis_title") or buffer.get("basis"))
        for r in buffer.get("retained", []):
            measure = str(r["measure"])
            basis = str(r.get("basis") or buffer.get("basis"))
            current = out.get(measure)
            if current is not None and (current.batch == basis or (measure, basis) not in paid):
                continue  # the granted item counts, or the basis retains the measure twice: one item
            kept, kept_title, title = _measure_department(policy_set, measure, as_of)
            if kept is None and buffer_pack is not None:
                kept = buffer_pack.department
                kept_title = buffer_pack.departments.get(kept)
            until = r.get("until") or "?"
            out[measure] = _Planned(
                measure,
                title or _text(r["title"]),
                kept or "?",
                kept_title or Text(kept or "?", kept or "?"),
                basis,
                Text(
                    zh=f"{basis_title.zh}，保留至 {until}",
                    en=f"{basis_title.en}, kept until {until}",
                ),
                r.get("amount"),
                r.get("unit"),
            )
    return [out[k] for k in sorted(out)]


def _measure_department(
    policy_set: PolicySet, measure: str, as_of: dt.date
) -> tuple[str | None, Text | None, Text | None]:
    """The department and title of `measure` in the packs in force on `as_of` (else any version)."""
    in_force = policy_set.all_in_force(as_of)
    for pack in (*in_force, *reversed(policy_set.packs)):
        found = pack.pack.measures.get(measure)
        if found is not None:
            return found.department, pack.pack.departments.get(found.department), found.title
    return None, None, None


_ITEM_SELECT = """
SELECT items.id, items.household, measure, title_zh, title_en, department, department_zh, department_en,
       batch, content_zh, content_en, amount, unit, deadline, status, done_on, plans.county, plans.planned_on
FROM items JOIN plans ON plans.id = items.plan_id
"""


def _item(row: tuple[Any, ...]) -> Item:
    (
        iid,
        hh,
        measure,
        tzh,
        ten,
        dept,
        dzh,
        den,
        batch,
        czh,
        cen,
        amount,
        unit,
        deadline,
        status,
        done,
        county,
        on,
    ) = row
    return Item(
        id=iid,
        household=hh,
        measure=measure,
        title=Text(tzh, ten),
        department=dept,
        department_title=Text(dzh, den),
        batch=batch,
        content=Text(czh, cen),
        amount=amount,
        unit=unit,
        deadline=dt.date.fromisoformat(deadline) if deadline is not None else None,
        status=status,
        done_on=dt.date.fromisoformat(done) if done else None,
        county=county,
        planned_on=dt.date.fromisoformat(on),
    )


class Ledger:
    """The work ledger kept in the same file as the decision log."""

    def __init__(self, log: DecisionLog) -> None:
        self.log = log
        self._conn = log.connection

    # --- planning ---------------------------------------------------------------------------

    def plan(
        self,
        entry_id: int,
        *,
        actor: str,
        deadlines: Mapping[str, dt.date] | None = None,
        period_days: int | None = None,
        now: dt.datetime | None = None,
    ) -> Plan:
        """Make the household's plan from log entry `entry_id` (see the module docstring).

        `deadlines` gives the deadline of single measures; `period_days`, when given, the deadline
        of the others as the decision's as-of date plus that many days.  A measure given neither
        has no deadline."""
        if not actor.strip():
            raise _fail("ledger/missing-actor")
        entry = self.log.entry(entry_id)
        planned = _measures(entry, self.log.policy_set_of(entry))
        planned_on = dt.date.fromisoformat(entry.as_of)
        held = ", ".join(f"`{p.measure}`" for p in planned) or "-"
        problems: list[Diagnostic] = []
        if not planned:
            problems.append(
                Diagnostic("ledger/nothing-to-plan", None, {"entry": entry_id, "household": entry.household})
            )
        measures = {p.measure for p in planned}
        for measure, day in sorted((deadlines or {}).items()):
            if measure not in measures:
                problems.append(
                    Diagnostic(
                        "ledger/unknown-deadline-measure",
                        None,
                        {"measure": measure, "held": held},
                        suggestions=suggest(measure, measures),
                    )
                )
            elif day < planned_on:
                problems.append(
                    Diagnostic(
                        "ledger/bad-deadline",
                        None,
                        {"measure": measure, "day": day.isoformat(), "planned": planned_on.isoformat()},
                    )
                )
        if problems:
            raise PolicyError(problems)
        county = entry.record_data().get("county_code")
        created = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        conn = self._conn
        with write(conn):
            current = conn.execute(
                "SELECT id, entry_id FROM plans WHERE household = ? AND superseded_by IS NULL",
                (entry.household,),
            ).fetchone()
            if current is not None and int(current[1]) >= entry_id:
                raise _fail("ledger/already-planned", household=entry.household, entry=current[1])
            plan_id = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM plans").fetchone()[0])
            if current is not None:
                conn.execute("UPDATE plans SET superseded_by = ? WHERE id = ?", (plan_id, current[0]))
                conn.execute(
                    "UPDATE items SET status = 'superseded' WHERE plan_id = ? AND status != 'done'",
                    (current[0],),
                )
            conn.execute(
                "INSERT INTO plans (id, household, entry_id, county, planned_on, created_at, actor)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (plan_id, entry.household, entry_id, county, entry.as_of, created, actor),
            )
            for p in planned:
                deadline = (deadlines or {}).get(p.measure)
                if deadline is None and period_days is not None:
                    deadline = planned_on + dt.timedelta(days=period_days)
                conn.execute(
                    "INSERT INTO items (plan_id, household, measure, title_zh, title_en, department,"
                    " department_zh, department_en, batch, content_zh, content_en, amount, unit, deadline,"
                    " status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')",
                    (
                        plan_id,
                        entry.household,
                        p.measure,
                        p.title.zh,
                        p.title.en,
                        p.department,
                        p.department_title.zh,
                        p.department_title.en,
                        p.batch,
                        p.content.zh,
                        p.content.en,
                        p.amount,
                        p.unit,
                        deadline.isoformat() if deadline is not None else None,
                    ),
                )
        found = self.current_plan(entry.household)
        if found is None:  # pragma: no cover - the plan was just committed
            raise _fail("ledger/unknown-household", household=entry.household)
        return found

    # --- progress ---------------------------------------------------------------------------

    def update(
        self,
        household: str,
        measure: str,
        *,
        status: str,
        on: dt.date,
        by: str,
        evidence: str | None = None,
        today: dt.date | None = None,
        now: dt.datetime | None = None,
    ) -> Item:
        """Record progress on one measure of a household's current plan; returns the item."""
        today = today or dt.date.today()
        evidence = (evidence or "").strip() or None
        problems: list[Diagnostic] = []
        if status not in STATUSES:
            problems.append(
                Diagnostic(
                    "ledger/bad-status", None, {"status": status}, suggestions=suggest(status, STATUSES)
                )
            )
        if not by.strip():
            problems.append(Diagnostic("ledger/missing-actor"))
        if on > today:
            problems.append(
                Diagnostic("ledger/future-date", None, {"day": on.isoformat(), "today": today.isoformat()})
            )
        if status == "done" and evidence is None:
            problems.append(Diagnostic("ledger/missing-evidence", None, {"measure": measure}))
        recorded = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        conn = self._conn
        with write(conn):
            try:
                item = self._held(household, measure)
            except PolicyError as err:
                raise PolicyError([*err.diagnostics, *problems]) from None
            if problems:
                raise PolicyError(problems)
            if item.status == "done":
                raise _fail(
                    "ledger/already-done",
                    household=household,
                    measure=measure,
                    day=item.done_on.isoformat() if item.done_on else "?",
                )
            if on < item.planned_on:
                raise _fail(
                    "ledger/before-plan",
                    day=on.isoformat(),
                    household=household,
                    planned=item.planned_on.isoformat(),
                )
            conn.execute(
                "INSERT INTO updates (item_id, status, on_date, by, evidence, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (item.id, status, on.isoformat(), by.strip(), evidence, recorded),
            )
            conn.execute(
                "UPDATE items SET status = ?, done_on = ? WHERE id = ?",
                (status, on.isoformat() if status == "done" else None, item.id),
            )
        return attrs.evolve(item, status=status, done_on=on if status == "done" else None)

    def _held(self, household: str, measure: str) -> Item:
        """The item for `measure` in the household's current plan, or a `PolicyError`."""
        rows = self._conn.execute(
            _ITEM_SELECT + " WHERE items.household = ? AND plans.superseded_by IS NULL ORDER BY measure",
            (household,),
        ).fetchall()
        if not rows:
            known = [r[0] for r in self._conn.execute("SELECT DISTINCT household FROM plans")]
            raise PolicyError(
                [
                    Diagnostic(
                        "ledger/unknown-household",
                        None,
                        {"household": household},
                        suggestions=suggest(household, known),
                    )
                ]
            )
        items = [_item(r) for r in rows]
        for item in items:
            if item.measure == measure:
                return item
        held = ", ".join(f"`{i.measure}`" for i in items)
        raise PolicyError(
            [
                Diagnostic(
                    "ledger/unknown-measure",
                    None,
                    {"household": household, "measure": measure, "held": held},
                    suggestions=suggest(measure, [i.measure for i in items]),
                )
            ]
        )

    # --- reading ----------------------------------------------------------------------------

    def current_plan(self, household: str) -> Plan | None:
        row = self._conn.execute(
            "SELECT plans.id, plans.entry_id, entries.hash, plans.county, plans.planned_on, plans.created_at,"
            " plans.actor FROM plans JOIN entries ON entries.id = plans.entry_id"
            " WHERE plans.household = ? AND plans.superseded_by IS NULL",
            (household,),
        ).fetchone()
        if row is None:
            return None
        items = tuple(
            _item(r)
            for r in self._conn.execute(_ITEM_SELECT + " WHERE plan_id = ? ORDER BY measure", (row[0],))
        )
        return Plan(
            int(row[0]),
            household,
            int(row[1]),
            str(row[2]),
            row[3],
            dt.date.fromisoformat(row[4]),
            str(row[5]),
            str(row[6]),
            items,
        )

    def require_plan(self, household: str) -> Plan:
        """The household's current plan, or `PolicyError` (``ledger/unknown-household``)."""
        plan = self.current_plan(household)
        if plan is None:
            known = [r[0] for r in self._conn.execute("SELECT DISTINCT household FROM plans")]
            raise PolicyError(
                [
                    Diagnostic(
                        "ledger/unknown-household",
                        None,
                        {"household": household},
                        suggestions=suggest(household, known),
                    )
                ]
            )
        return plan

    def updates(self, item_id: int) -> list[Update]:
        rows = self._conn.execute(
            "SELECT status, on_date, by, evidence, recorded_at FROM updates WHERE item_id = ? ORDER BY id",
            (item_id,),
        )
        return [Update(s, dt.date.fromisoformat(d), b, e, r) for s, d, b, e, r in rows]

    def overdue(self, today: dt.date | None = None) -> list[Item]:
        """Items not done whose deadline is before `today`, by department, county, deadline
        (an item without a deadline is never overdue)."""
        day = (today or dt.date.today()).isoformat()
        rows = self._conn.execute(
            _ITEM_SELECT + " WHERE plans.superseded_by IS NULL AND status IN ('open', 'in_progress')"
            " AND deadline IS NOT NULL AND deadline < ? ORDER BY department, plans.county, deadline, items.household, measure",
            (day,),
        )
        return [_item(r) for r in rows]

    def counts(self, quarter: str | None = None) -> list[CountRow]:
        """Items planned per quarter (of the plan date), batch, measure and county: how many,
        for how many households, how many done.  Superseded items are left out."""
        if quarter is not None and not _QUARTER.match(quarter):
            raise _fail("ledger/bad-quarter", text=quarter)
        rows = self._conn.execute(
            "SELECT plans.planned_on, batch, measure, coalesce(plans.county, ''), items.household, status"
            " FROM items JOIN plans ON plans.id = items.plan_id WHERE status != 'superseded'"
        )
        groups: dict[tuple[str, str, str, str], tuple[int, set[str], int]] = {}
        for on, batch, measure, county, household, status in rows:
            q = quarter_of(dt.date.fromisoformat(on))
            if quarter is not None and q != quarter:
                continue
            n, households, done = groups.get((q, batch, measure, county), (0, set(), 0))
            households.add(household)
            groups[(q, batch, measure, county)] = (n + 1, households, done + (status == "done"))
        return [CountRow(q, b, m, c, n, len(h), d) for (q, b, m, c), (n, h, d) in sorted(groups.items())]
