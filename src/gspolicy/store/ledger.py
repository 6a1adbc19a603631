"""The household work ledger ("one household, one policy"): plans, items, progress.

A **plan** is made from a household's **outcome row** — the columns of `Outcome.to_row()`, as an
entry of the decision log holds it (`Ledger.plan`) or as a row of an outcome table written by
``gspolicy evaluate --output`` (`Ledger.plan_table`); `plan_items` makes the items of both.  One
**item** per measure of the row's support (``measure=amount (why)``, `support_texts`): what the
rules grant for sure and what the buffer retains while it is active — for a measure both granted
and retained, the one the buffer pack's ``combine`` rule chose, as the support counts it.  Each
item fixes the responsible department and the measure's title (from the measure's declaration:
the granting rule's pack, else the pack in force on the row's as-of date that declares it, else
any version that does, else the buffer pack's department), the batch (`why`: the rule or the
buffer basis), the content (the rule's title, or the basis's title and the day it keeps the
measure until), the amount and the deadline: the one given for the measure when planning, else
the decision's as-of date plus the period given when planning, else **none**.  No source fixes a
deadline for a household's measures, so the ledger invents none: an item without a deadline is
never overdue and is shown as having no deadline.

A household has one current plan.  Planning again from a later decision supersedes it: its items
not yet done become ``superseded``, done items stay done.  Later means a later log entry between
two entries, a later as-of date otherwise (an outcome table's row against any plan); a decision
that is not later is refused (`Ledger.plan`) or skipped and counted (`Ledger.plan_table`).
**Progress updates** (status, date, who, evidence) are appended, never changed; an item's status
is its latest update's.

An item is **overdue** when it has a deadline, the deadline is before today and it is not done.
Quarterly counts group the items (superseded ones left out) by the quarter of the plan date,
batch, measure and county; both are queries on the ledger's rows, in SQL.

Every change runs in one transaction: bad input (an unknown household, a measure the household
does not hold, a future date, a malformed update) raises `PolicyError` and changes nothing.  An
outcome table is checked whole before anything is written (its format, columns, manifest, the
packs it was decided with, every distinct row's support) and planned in transactions of a few
thousand households; a failure part way (a disk full, a lock held too long) keeps the batches
committed before it and says so.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Iterator, Mapping

import attrs

from gspolicy.errors import Diagnostic, PolicyError, suggest
from gspolicy.schema import roles
from gspolicy.store.db import BUSY_TIMEOUT_MS, damaged, write
from gspolicy.store.ledger_rows import (
    NO_DEADLINE,
    QUARTER,
    STATUS_TEXT,
    STATUSES,
    CountRow,
    Item,
    OverdueRow,
    Plan,
    PlannedItem,
    TablePlanned,
    Update,
    ledger_error,
    quarter_of,
)
from gspolicy.store.ledger_tables import (
    ITEM_INSERT,
    ITEM_SELECT,
    OVERDUE_ORDER,
    OVERDUE_WHERE,
    PLAN_INSERT,
    QUARTER_SQL,
    item_of,
    item_values,
    next_plan,
    origin_text,
    supersede,
)
from gspolicy.store.log import DecisionLog
from gspolicy.store.outcome_table import (
    OUTCOME_FORMATS,
    PLANNED_COLUMNS,
    TABLE_BATCH,
    OutcomeTable,
    read_outcome_table,
)
from gspolicy.store.planning import plan_items

_log = logging.getLogger(__name__)


__all__ = [
    "NO_DEADLINE",
    "OUTCOME_FORMATS",
    "PLANNED_COLUMNS",
    "STATUSES",
    "STATUS_TEXT",
    "CountRow",
    "Item",
    "Ledger",
    "OutcomeTable",
    "OverdueRow",
    "Plan",
    "PlannedItem",
    "TablePlanned",
    "Update",
    "plan_items",
    "quarter_of",
    "read_outcome_table",
]


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
        """Make the household's plan from log entry `entry_id`: from its outcome row and the
        packs stored with it (`plan_items`; see the module docstring).

        `deadlines` gives the deadline of single measures; `period_days`, when given, the deadline
        of the others as the decision's as-of date plus that many days.  A measure given neither
        has no deadline."""
        if not actor.strip():
            raise ledger_error("ledger/missing-actor")
        entry = self.log.entry(entry_id)
        household = entry.household
        if household is None:  # a run's manifest: no household decided
            raise ledger_error("store/not-a-decision", id=entry_id, kind=entry.kind)
        row = entry.outcome_data()
        policy_set = self.log.policy_set_of(entry)
        planned = plan_items(
            row,
            policy_set,
            deadlines=deadlines,
            period_days=period_days,
            where=f"entry {entry_id}",
        )
        planned_on = dt.date.fromisoformat(entry.as_of)
        held = ", ".join(f"`{p.measure}`" for p in planned) or "-"
        problems: list[Diagnostic] = []
        if not planned:
            problems.append(
                Diagnostic("ledger/nothing-to-plan", None, {"entry": entry_id, "household": household})
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
        county = entry.record_data().get(policy_set.schema.role(roles.COUNTY_CODE) or "")
        created = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        conn = self._conn
        with write(conn):
            current = conn.execute(
                "SELECT id, entry_id, source, planned_on FROM plans WHERE household = ? AND superseded_by IS NULL",
                (household,),
            ).fetchone()
            if current is not None:
                _old, old_entry, old_source, old_on = current
                later = entry_id > old_entry if old_entry is not None else entry.as_of > old_on
                if not later:
                    raise ledger_error(
                        "ledger/already-planned",
                        household=household,
                        origin=origin_text(old_entry, old_source, old_on),
                    )
            plan_id = next_plan(conn)
            if current is not None:
                supersede(conn, [(plan_id, int(current[0]))])
            conn.execute(
                PLAN_INSERT,
                (plan_id, household, entry_id, None, county, entry.as_of, created, actor),
            )
            conn.executemany(ITEM_INSERT, [(plan_id, household, *item_values(p)) for p in planned])
        found = self.current_plan(household)
        if found is None:  # pragma: no cover - the plan was just committed
            raise ledger_error("ledger/unknown-household", household=household)
        return found

    def plan_table(
        self,
        table: OutcomeTable,
        *,
        actor: str,
        batch_size: int = TABLE_BATCH,
        now: dt.datetime | None = None,
    ) -> TablePlanned:
        """Plan every household of an outcome table checked and planned by `read_outcome_table`,
        `batch_size` households to a transaction (see the module docstring)."""
        if not actor.strip():
            raise ledger_error("ledger/missing-actor")
        created = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        started = time.perf_counter()
        done = table.write(self._conn, actor=actor, created=created, batch_size=batch_size)
        _log.info(
            "ledger planned from %s: %d households read, %d planned (%d replacing a plan), %d items, "
            "%d skipped, %d with nothing to plan; %.3f s",
            done.source,
            done.rows,
            done.planned,
            done.superseded,
            done.items,
            done.skipped,
            done.nothing,
            time.perf_counter() - started,
        )
        return done

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
                raise ledger_error(
                    "ledger/already-done",
                    household=household,
                    measure=measure,
                    day=item.done_on.isoformat() if item.done_on else "?",
                )
            if on < item.planned_on:
                raise ledger_error(
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

    def _unknown_household(self, household: str) -> PolicyError:
        """``ledger/unknown-household``, with the households of the same county code (the first six
        characters) as candidates — a ledger of a province holds millions."""
        prefix = household[:6]
        known = [
            r[0]
            for r in self._conn.execute(
                "SELECT household FROM plans WHERE superseded_by IS NULL AND household >= ? AND household < ?"
                " LIMIT 20000",
                (prefix, prefix + "\U0010ffff"),
            )
        ]
        return PolicyError(
            [
                Diagnostic(
                    "ledger/unknown-household",
                    None,
                    {"household": household},
                    suggestions=suggest(household, known),
                )
            ]
        )

    def _held(self, household: str, measure: str) -> Item:
        """The item for `measure` in the household's current plan, or a `PolicyError`."""
        rows = self._conn.execute(
            ITEM_SELECT + " WHERE items.household = ? AND plans.superseded_by IS NULL ORDER BY measure",
            (household,),
        ).fetchall()
        if not rows:
            raise self._unknown_household(household)
        items = [item_of(r) for r in rows]
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
            " plans.actor, plans.source FROM plans LEFT JOIN entries ON entries.id = plans.entry_id"
            " WHERE plans.household = ? AND plans.superseded_by IS NULL",
            (household,),
        ).fetchone()
        if row is None:
            return None
        items = tuple(
            item_of(r)
            for r in self._conn.execute(ITEM_SELECT + " WHERE plan_id = ? ORDER BY measure", (row[0],))
        )
        return Plan(
            int(row[0]),
            household,
            int(row[1]) if row[1] is not None else None,
            str(row[2]) if row[2] is not None else None,
            row[3],
            dt.date.fromisoformat(row[4]),
            str(row[5]),
            str(row[6]),
            items,
            row[7],
        )

    def require_plan(self, household: str) -> Plan:
        """The household's current plan, or `PolicyError` (``ledger/unknown-household``)."""
        plan = self.current_plan(household)
        if plan is None:
            raise self._unknown_household(household)
        return plan

    def updates(self, item_id: int) -> list[Update]:
        rows = self._conn.execute(
            "SELECT status, on_date, by, evidence, recorded_at FROM updates WHERE item_id = ? ORDER BY id",
            (item_id,),
        )
        return [Update(s, dt.date.fromisoformat(d), b, e, r) for s, d, b, e, r in rows]

    def overdue(self, today: dt.date | None = None) -> list[Item]:
        """Items not done whose deadline is before `today`, by department, county, deadline,
        household and measure (an item without a deadline is never overdue)."""
        day = (today or dt.date.today()).isoformat()
        rows = self._conn.execute(ITEM_SELECT + OVERDUE_WHERE + OVERDUE_ORDER, (day,))
        return [item_of(r) for r in rows]

    def count_overdue(self, today: dt.date | None = None) -> int:
        """How many items `overdue` gives (counted in the partial index of open items)."""
        day = (today or dt.date.today()).isoformat()
        query = "SELECT count(*) FROM items" + OVERDUE_WHERE
        return int(self._conn.execute(query, (day,)).fetchone()[0])

    def overdue_rows(self, today: dt.date | None = None) -> Iterator[OverdueRow]:
        """`overdue` as a report reads it, a row at a time as SQLite gives them: only the columns
        a report shows, the days overdue counted by SQLite, read through a read-only connection
        of its own (its texts decoded by SQLite's driver, not the log's lenient decoder) — for a
        province's ledger of millions of items."""
        day = (today or dt.date.today()).isoformat()
        uri = f"{self.log.path.resolve().as_uri()}?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True)
        except sqlite3.Error as err:
            raise damaged(self.log.path, err) from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor = conn.execute(
                "SELECT department, department_zh, department_en, plans.county, items.household, measure,"
                " deadline, status, CAST(julianday(?) - julianday(deadline) AS INTEGER)"
                " FROM items JOIN plans ON plans.id = items.plan_id" + OVERDUE_WHERE + OVERDUE_ORDER,
                (day, day),
            )
            while rows := cursor.fetchmany(4096):
                yield from map(OverdueRow._make, rows)
        except (sqlite3.Error, UnicodeDecodeError) as err:
            raise damaged(self.log.path, err) from None
        finally:
            conn.close()

    def counts(self, quarter: str | None = None) -> list[CountRow]:
        """Items planned per quarter (of the plan date), batch, measure and county: how many,
        for how many households, how many done.  Superseded items are left out.  Grouped by
        SQLite (the quarter computed there as `quarter_of` does); one quarter read through the
        plans' dates."""
        where = ""
        args: tuple[str, ...] = ()
        if quarter is not None:
            found = QUARTER.match(quarter)
            if found is None:
                raise ledger_error("ledger/bad-quarter", text=quarter)
            year, number = int(found[1]), int(found[2])
            first = dt.date(year, 3 * number - 2, 1)
            after = dt.date(year + 1, 1, 1) if number == 4 else dt.date(year, 3 * number + 1, 1)
            where = " AND plans.planned_on >= ? AND plans.planned_on < ?"
            args = (first.isoformat(), after.isoformat())
        rows = self._conn.execute(
            f"SELECT {QUARTER_SQL} AS quarter, batch, measure, coalesce(plans.county, '') AS county,"
            " count(*), count(DISTINCT items.household), sum(status = 'done')"
            " FROM items JOIN plans ON plans.id = items.plan_id"
            f" WHERE status != 'superseded'{where}"
            " GROUP BY quarter, batch, measure, county ORDER BY quarter, batch, measure, county",
            args,
        )
        return [CountRow(q, b, m, c, int(n), int(h), int(d)) for q, b, m, c, n, h, d in rows]
