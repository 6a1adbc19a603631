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
import json
import logging
import re
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from gspolicy._i18n import Lang, Text
from gspolicy.engine.outcome import support_parts
from gspolicy.errors import Diagnostic, PolicyError, suggest
from gspolicy.pack.model import Basis, Rule
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.store.db import BUSY_TIMEOUT_MS, damaged, write
from gspolicy.store.log import DecisionLog

_log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "NO_DEADLINE",
    "OUTCOME_FORMATS",
    "PLANNED_COLUMNS",
    "STATUSES",
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

OUTCOME_FORMATS = {".parquet": "parquet", ".jsonl": "jsonl", ".csv": "csv"}
"""The outcome tables a plan can be made from, by suffix (those ``gspolicy evaluate --output``
writes, Excel left out)."""

PLANNED_COLUMNS = ("id", "as_of", "support", "rules", "buffer", "buffer_until")
"""The columns of an outcome row a plan reads (``county``, when the table has it, too)."""

TABLE_BATCH = 4_096
"""Households planned per transaction from an outcome table."""

_MANIFEST_KEY = "gspolicy.manifest"  # the Parquet metadata key of a run's manifest (gspolicy.tables)


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
    """A household's plan: the decision it comes from — a log entry (`entry`, `entry_hash`) or an
    outcome table (`source`: ``<file> sha256:<hex>``) — and its items."""

    id: int
    household: str
    entry: int | None
    entry_hash: str | None
    county: str | None
    planned_on: dt.date
    created_at: str
    actor: str
    items: tuple[Item, ...]
    source: str | None = None


@attrs.frozen
class CountRow:
    quarter: str
    batch: str
    measure: str
    county: str
    items: int
    households: int
    done: int


class OverdueRow(NamedTuple):
    """An overdue item as a report shows it (`Ledger.overdue_rows`)."""

    department: str
    department_zh: str
    department_en: str
    county: str | None
    household: str
    measure: str
    deadline: str  # YYYY-MM-DD
    status: str
    days_overdue: int


@attrs.frozen
class TablePlanned:
    """What planning from an outcome table did."""

    source: str  # ``<file> sha256:<hex>``
    rows: int  # households read
    planned: int  # households planned
    items: int
    superseded: int  # of the households planned, those whose earlier plan was replaced
    skipped: int  # already planned from a later or equal decision (or twice in the table)
    nothing: int  # their support is empty: nothing to plan (a current plan is kept)


def _fail(code: str, **args: object) -> PolicyError:
    return PolicyError([Diagnostic(code, None, args)])


# --- planning from an outcome row -------------------------------------------------------------------


@attrs.frozen
class PlannedItem:
    """An item as a plan fixes it, before it is stored."""

    measure: str
    title: Text
    department: str
    department_title: Text
    batch: str  # the rule that grants the measure, or the buffer basis that retains it
    content: Text
    amount: str | None
    unit: str | None
    deadline: dt.date | None


def _day(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _packs_of(row: Mapping[str, Any], policy_set: PolicySet, as_of: dt.date) -> tuple[CheckedPack, ...]:
    """The packs that decided the row: its ``packs`` (``id@version``) when the set holds them all,
    else the set's packs in force on its date."""
    keys = row.get("packs")
    if isinstance(keys, Mapping) and keys:
        by_key = {p.key: p for p in policy_set.packs}
        found = [by_key.get(str(k)) for k in keys]
        if all(p is not None for p in found):
            return tuple(p for p in found if p is not None)
    return policy_set.all_in_force(as_of)


def _granting_rule(
    packs: Sequence[CheckedPack], rules: Sequence[str], measure: str, why: str
) -> tuple[CheckedPack, Rule] | None:
    """The rule `why` that grants `measure`: first in the packs whose rule of that id holds for the
    row (``pack:rule`` in its `rules`), then in any of `packs`."""
    by_id = {p.id: p for p in packs}
    holding = [by_id[p] for p, _, rule in (r.partition(":") for r in rules) if rule == why and p in by_id]
    for pack in (*holding, *packs):
        for rule in pack.pack.rules:
            if rule.id == why and measure in rule.grant:
                return pack, rule
    return None


def _retaining_basis(packs: Sequence[CheckedPack], why: str) -> tuple[CheckedPack, Basis] | None:
    for pack in packs:
        buffer = pack.pack.buffer
        if buffer is not None:
            for basis in buffer.bases:
                if basis.id == why:
                    return pack, basis
    return None


def _measure_department(
    policy_set: PolicySet, measure: str, as_of: dt.date
) -> tuple[str | None, Text | None, Text | None, str | None]:
    """The department, its title, the measure's title and unit in the packs in force on `as_of`
    (else any version, the latest first)."""
    in_force = policy_set.all_in_force(as_of)
    for pack in (*in_force, *reversed(policy_set.packs)):
        found = pack.pack.measures.get(measure)
        if found is not None:
            dept = found.department
            return dept, pack.pack.departments.get(dept), found.title, found.amount.unit
    return None, None, None, None


def plan_items(
    row: Mapping[str, Any],
    policy_set: PolicySet,
    *,
    packs: Sequence[CheckedPack] | None = None,
    deadlines: Mapping[str, dt.date] | None = None,
    period_days: int | None = None,
    where: str = "-",
) -> tuple[PlannedItem, ...]:
    """The items of a household's plan from its outcome row (the columns of `Outcome.to_row()`:
    ``as_of``, ``support``, ``rules``, ``buffer``, ``buffer_until``, ``packs``), by measure; see
    the module docstring.  `packs` are the pack versions that decided the row (default: its
    ``packs``, else those in force on its date); `deadlines` and `period_days` give deadlines;
    `where` names the row's source in messages (a log entry, a file).

    Raises `PolicyError` (``ledger/unknown-grant``) for a support text whose `why` is neither a
    rule of those packs granting the measure nor a basis of their buffer while it is active, and
    (``ledger/bad-support``) for a text that is not ``measure=amount (why)``."""
    as_of = _day(row.get("as_of"))
    if as_of is None:
        raise _fail("ledger/bad-row", where=where, household=row.get("id"), column="as_of")
    chosen = tuple(packs) if packs is not None else _packs_of(row, policy_set, as_of)
    rules = [str(r) for r in row.get("rules") or ()]
    until = _day(row.get("buffer_until"))
    kept_until = until.isoformat() if until is not None else "?"
    period = dt.timedelta(days=period_days) if period_days is not None else None
    out: dict[str, PlannedItem] = {}
    for text in row.get("support") or ():
        try:
            measure, amount, why = support_parts(str(text))
        except ValueError:
            raise _fail("ledger/bad-support", where=where, household=row.get("id"), text=text) from None
        if measure in out:
            continue  # a basis retains the measure twice (two history items): one item, the first
        deadline = (deadlines or {}).get(measure) or (as_of + period if period is not None else None)
        granted = _granting_rule(chosen, rules, measure, why)
        if granted is not None:
            pack, rule = granted
            declared = pack.pack.measures[measure]
            dept = declared.department
            out[measure] = PlannedItem(
                measure,
                declared.title,
                dept,
                pack.pack.departments.get(dept) or Text(dept, dept),
                why,
                rule.title,
                amount,
                declared.amount.unit,
                deadline,
            )
            continue
        kept = _retaining_basis(chosen, why) if row.get("buffer") == "active" else None
        if kept is None:
            raise _fail(
                "ledger/unknown-grant", where=where, household=row.get("id"), measure=measure, why=why
            )
        buffer_pack, basis = kept
        found_dept, dept_title, title, unit = _measure_department(policy_set, measure, as_of)
        dept = found_dept or buffer_pack.pack.department
        if found_dept is None:
            dept_title = buffer_pack.pack.departments.get(dept)
        out[measure] = PlannedItem(
            measure,
            title or Text(measure, measure),
            dept,
            dept_title or Text(dept, dept),
            why,
            Text(
                zh=f"{basis.title.zh}，保留至 {kept_until}", en=f"{basis.title.en}, kept until {kept_until}"
            ),
            amount,
            unit,
            deadline,
        )
    return tuple(out[m] for m in sorted(out))


# --- storing ---------------------------------------------------------------------------------------

_PLAN_INSERT = (
    "INSERT INTO plans (id, household, entry_id, source, county, planned_on, created_at, actor)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_ITEM_COLUMNS = (
    "plan_id",
    "household",
    "measure",
    "title_zh",
    "title_en",
    "department",
    "department_zh",
    "department_en",
    "batch",
    "content_zh",
    "content_en",
    "amount",
    "unit",
    "deadline",
)
_ITEM_INSERT = (
    f"INSERT INTO items ({', '.join(_ITEM_COLUMNS)}, status)"
    f" VALUES ({', '.join('?' for _ in _ITEM_COLUMNS)}, 'open')"
)
# the item's own columns, as `_item_values` gives them after the plan and the household
_ITEM_VALUES = _ITEM_COLUMNS[2:]


def _item_values(p: PlannedItem) -> tuple[str | None, ...]:
    return (
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
        p.deadline.isoformat() if p.deadline is not None else None,
    )


def _supersede(conn: sqlite3.Connection, pairs: Sequence[tuple[int, int]]) -> None:
    """Replace plans: each ``(new plan, old plan)``; the old plan's items not done are superseded."""
    conn.executemany("UPDATE plans SET superseded_by = ? WHERE id = ?", pairs)
    conn.executemany(
        "UPDATE items SET status = 'superseded' WHERE plan_id = ? AND status != 'done'",
        [(old,) for _new, old in pairs],
    )


def _next_plan(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM plans").fetchone()[0])


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


def _origin(entry: int | None, source: str | None, planned_on: str) -> Text:
    """Where a current plan comes from, in words (for ``ledger/already-planned``)."""
    if entry is not None:
        return Text(zh=f"条目 `{entry}`", en=f"entry `{entry}`")
    return Text(
        zh=f"结果表 `{source}`（判定日期 {planned_on}）",
        en=f"the outcome table `{source}` (as of {planned_on})",
    )


# the quarter of a plan date `YYYY-MM-DD`, as `quarter_of` gives it
_QUARTER_SQL = (
    "substr(plans.planned_on, 1, 4) || 'Q' || ((CAST(substr(plans.planned_on, 6, 2) AS INTEGER) + 2) / 3)"
)

# an item open or in progress is one of a current plan (superseding a plan supersedes its items
# not done), so the overdue items are found in the partial index `items_open_deadline` alone
_OVERDUE_WHERE = " WHERE status IN ('open', 'in_progress') AND deadline IS NOT NULL AND deadline < ?"
_OVERDUE_ORDER = " ORDER BY department, plans.county, deadline, items.household, measure"


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
            raise _fail("ledger/missing-actor")
        entry = self.log.entry(entry_id)
        household = entry.household
        if household is None:  # a run's manifest: no household decided
            raise _fail("store/not-a-decision", id=entry_id, kind=entry.kind)
        row = entry.outcome_data()
        planned = plan_items(
            row,
            self.log.policy_set_of(entry),
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
        county = entry.record_data().get("county_code")
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
                    raise _fail(
                        "ledger/already-planned",
                        household=household,
                        origin=_origin(old_entry, old_source, old_on),
                    )
            plan_id = _next_plan(conn)
            if current is not None:
                _supersede(conn, [(plan_id, int(current[0]))])
            conn.execute(
                _PLAN_INSERT,
                (plan_id, household, entry_id, None, county, entry.as_of, created, actor),
            )
            conn.executemany(_ITEM_INSERT, [(plan_id, household, *_item_values(p)) for p in planned])
        found = self.current_plan(household)
        if found is None:  # pragma: no cover - the plan was just committed
            raise _fail("ledger/unknown-household", household=household)
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
            raise _fail("ledger/missing-actor")
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
            _ITEM_SELECT + " WHERE items.household = ? AND plans.superseded_by IS NULL ORDER BY measure",
            (household,),
        ).fetchall()
        if not rows:
            raise self._unknown_household(household)
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
            " plans.actor, plans.source FROM plans LEFT JOIN entries ON entries.id = plans.entry_id"
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
        rows = self._conn.execute(_ITEM_SELECT + _OVERDUE_WHERE + _OVERDUE_ORDER, (day,))
        return [_item(r) for r in rows]

    def count_overdue(self, today: dt.date | None = None) -> int:
        """How many items `overdue` gives (counted in the partial index of open items)."""
        day = (today or dt.date.today()).isoformat()
        query = "SELECT count(*) FROM items" + _OVERDUE_WHERE
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
                " FROM items JOIN plans ON plans.id = items.plan_id" + _OVERDUE_WHERE + _OVERDUE_ORDER,
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
            found = _QUARTER.match(quarter)
            if found is None:
                raise _fail("ledger/bad-quarter", text=quarter)
            year, number = int(found[1]), int(found[2])
            first = dt.date(year, 3 * number - 2, 1)
            after = dt.date(year + 1, 1, 1) if number == 4 else dt.date(year, 3 * number + 1, 1)
            where = " AND plans.planned_on >= ? AND plans.planned_on < ?"
            args = (first.isoformat(), after.isoformat())
        rows = self._conn.execute(
            f"SELECT {_QUARTER_SQL} AS quarter, batch, measure, coalesce(plans.county, '') AS county,"
            " count(*), count(DISTINCT items.household), sum(status = 'done')"
            " FROM items JOIN plans ON plans.id = items.plan_id"
            f" WHERE status != 'superseded'{where}"
            " GROUP BY quarter, batch, measure, county ORDER BY quarter, batch, measure, county",
            args,
        )
        return [CountRow(q, b, m, c, int(n), int(h), int(d)) for q, b, m, c, n, h, d in rows]


# --- planning from an outcome table ----------------------------------------------------------------


def _table_fail(code: str, path: Path, **args: object) -> PolicyError:
    return PolicyError([Diagnostic(code, None, {"path": str(path), **args})])


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def read_outcome_table(
    path: Path,
    policy_set: PolicySet,
    *,
    deadlines: Mapping[str, dt.date] | None = None,
    period_days: int | None = None,
) -> OutcomeTable:
    """The outcome table at `path` (Parquet, JSON Lines or CSV, as ``gspolicy evaluate --output``
    writes it, with its run manifest), checked and planned before anything is written: every
    distinct plan its rows make (`plan_items`, with the pack versions its manifest names).

    Raises `PolicyError` for a file that is missing, of another format, without the columns a plan
    reads (`PLANNED_COLUMNS`) or a manifest, not the file its manifest describes, decided with a
    pack version `policy_set` does not hold, with a row that cannot be planned, or a deadline for
    a measure no row holds or before the table's date."""
    table = OutcomeTable.open(path, policy_set)
    return attrs.evolve(table, catalogue=table.plan_all(deadlines or {}, period_days))


@attrs.frozen
class OutcomeTable:
    """An outcome table checked for planning (`read_outcome_table`): its format, its manifest and
    the pack versions that manifest names (all held by the policy set), its SHA-256, and once
    planned its `catalogue` — one row per item of each distinct plan of its rows."""

    path: Path
    kind: str
    policy_set: PolicySet
    packs: tuple[CheckedPack, ...]
    source: str  # `<file> sha256:<hex>`
    has_county: bool
    empty: bool = False  # a table of no household (written without columns)
    catalogue: pl.DataFrame | None = attrs.field(default=None, eq=False)

    @classmethod
    def open(cls, path: Path, policy_set: PolicySet) -> OutcomeTable:
        """Check the table before its rows are read (see `read_outcome_table`)."""
        from gspolicy.tables import file_digest  # noqa: PLC0415  # Polars when used

        kind = OUTCOME_FORMATS.get(path.suffix.lower())
        if not path.exists():
            raise PolicyError([Diagnostic("io/not-found", None, {"path": str(path)})])
        if not path.is_file():
            raise PolicyError([Diagnostic("io/not-a-file", None, {"path": str(path)})])
        if kind is None:
            raise _table_fail("ledger/table-format", path, suffix=path.suffix or "-")
        try:
            digest = file_digest(path)
        except OSError as err:
            raise PolicyError(
                [Diagnostic("io/unreadable", None, {"path": str(path), "reason": err.strerror or str(err)})]
            ) from None
        columns = _columns(path, kind)
        missing = [c for c in PLANNED_COLUMNS if c not in columns]
        manifest, where = ({}, "") if missing and columns else _manifest(path, kind)
        empty = not columns and manifest.get("records") == 0
        if missing and not empty:
            raise _table_fail(
                "ledger/not-an-outcome-table",
                path,
                missing=", ".join(f"`{c}`" for c in missing),
                columns=", ".join(f"`{c}`" for c in columns) or "-",
            )
        output = manifest.get("output")
        if isinstance(output, Mapping) and output.get("sha256") not in (None, digest):
            raise _table_fail(
                "ledger/manifest-mismatch", path, manifest=where, expected=output.get("sha256"), found=digest
            )
        return cls(
            path,
            kind,
            policy_set,
            _manifest_packs(path, where, manifest, policy_set),
            f"{path} {digest}",
            "county" in columns,
            empty,
        )

    def scan(self) -> pl.LazyFrame:
        """The rows, with the columns a plan reads typed alike whatever the format: ``id``,
        ``county`` (null when the table has none) and ``buffer`` as text, ``as_of`` and
        ``buffer_until`` as dates, ``support`` and ``rules`` as lists of texts."""
        import polars as pl  # noqa: PLC0415  # Polars when used

        texts = pl.List(pl.String())
        if self.kind == "parquet":
            frame = pl.scan_parquet(self.path)
        elif self.kind == "jsonl":
            frame = pl.scan_ndjson(
                self.path,
                schema_overrides={
                    "id": pl.String(),
                    "as_of": pl.String(),
                    "support": texts,
                    "rules": texts,
                    "buffer": pl.String(),
                    "buffer_until": pl.String(),
                    **({"county": pl.String()} if self.has_county else {}),
                },
            )
        else:
            frame = pl.scan_csv(self.path, infer_schema=False)

        def day(name: str) -> pl.Expr:
            column = pl.col(name)
            if self.kind == "parquet":
                return column.cast(pl.Date())
            return column.str.strip_chars().replace("", None).str.to_date("%Y-%m-%d", strict=True).alias(name)

        def listed(name: str) -> pl.Expr:
            column = pl.col(name)
            if self.kind != "csv":
                return column.cast(texts).fill_null(pl.lit([], dtype=texts))
            return (
                pl.when(column.is_null() | (column == ""))
                .then(pl.lit([], dtype=texts))
                .otherwise(column.str.split(";"))
                .alias(name)
            )

        return frame.select(
            pl.col("id").cast(pl.String()),
            day("as_of"),
            listed("support"),
            listed("rules"),
            pl.col("buffer").cast(pl.String()).replace("", None),
            day("buffer_until"),
            (
                pl.col("county").cast(pl.String()).replace("", None)
                if self.has_county
                else pl.lit(None, pl.String())
            ).alias("county"),
        )

    def _ambiguous(self) -> bool:
        """Whether two of the packs have a rule of one id (then a row's plan reads its `rules`)."""
        seen: set[str] = set()
        for pack in self.packs:
            for rule in pack.pack.rules:
                if rule.id in seen:
                    return True
                seen.add(rule.id)
        return False

    def _key(self) -> pl.Expr:
        """What a row's plan depends on, as one text (rows with one key have one plan)."""
        import polars as pl  # noqa: PLC0415

        parts = [
            pl.col("as_of").cast(pl.String()).fill_null("\x00"),
            pl.col("buffer").fill_null("\x00"),
            pl.col("buffer_until").cast(pl.String()).fill_null("\x00"),
            pl.col("support").list.join("\x1e"),
        ]
        if self._ambiguous():
            parts.append(pl.col("rules").list.join("\x1e"))
        return pl.concat_str(parts, separator="\x1f").alias("__key")

    def _read(self, run: Any) -> Any:
        """`run()`, a reading of the table: Polars' errors (a file that is not of its format, a
        date that is not one) as ``ledger/unreadable-table``."""
        import polars as pl  # noqa: PLC0415

        try:
            return run()
        except (pl.exceptions.PolarsError, OSError, ValueError) as err:
            raise _table_fail("ledger/unreadable-table", self.path, reason=_reason(err)) from None

    def plan_all(self, deadlines: Mapping[str, dt.date], period_days: int | None) -> pl.DataFrame:
        """Every distinct plan of the table, before anything is written: one row per item
        (``__key`` and the item's columns; a key whose support is empty has none), `PolicyError`
        for any row that cannot be planned."""
        import polars as pl  # noqa: PLC0415

        schema = {"__key": pl.String(), **{c: pl.String() for c in _ITEM_VALUES}}
        if self.empty:
            return pl.DataFrame(schema=schema)
        frame = self.scan()
        checks = self._read(
            lambda: frame.select(
                pl.col("id").is_null().sum().alias("id"),
                pl.col("as_of").is_null().sum().alias("as_of"),
                pl.col("as_of").min().alias("first"),
            ).collect(engine="streaming"),
        )
        for column in ("id", "as_of"):
            if checks[column][0]:
                raise _table_fail("ledger/empty-cells", self.path, column=column, count=checks[column][0])
        distinct = self._read(
            lambda: (
                frame.select(self._key(), "as_of", "support", "rules", "buffer", "buffer_until", "id")
                .group_by("__key")
                .agg(pl.all().first())
                .sort("__key")
                .collect(engine="streaming")
            ),
        )
        held: set[str] = set()
        rows: list[tuple[Any, ...]] = []
        for row in distinct.iter_rows(named=True):
            items = plan_items(
                row,
                self.policy_set,
                packs=self.packs,
                deadlines=deadlines,
                period_days=period_days,
                where=str(self.path),
            )
            held.update(p.measure for p in items)
            rows.extend((row["__key"], *_item_values(p)) for p in items)
        first = checks["first"][0]
        problems: list[Diagnostic] = []
        shown = ", ".join(f"`{m}`" for m in sorted(held)) or "-"
        for measure, day in sorted(deadlines.items()):
            if measure not in held:
                problems.append(
                    Diagnostic(
                        "ledger/unknown-deadline-measure",
                        None,
                        {"measure": measure, "held": shown},
                        suggestions=suggest(measure, held),
                    )
                )
            elif first is not None and day < first:
                problems.append(
                    Diagnostic(
                        "ledger/bad-deadline",
                        None,
                        {"measure": measure, "day": day.isoformat(), "planned": first.isoformat()},
                    )
                )
        if problems:
            raise PolicyError(problems)
        return pl.DataFrame(rows, schema=schema, orient="row")

    def write(self, conn: sqlite3.Connection, *, actor: str, created: str, batch_size: int) -> TablePlanned:
        """Plan the table's households, `batch_size` to a transaction (see `Ledger.plan_table`)."""
        import polars as pl  # noqa: PLC0415

        catalogue = self.catalogue
        if catalogue is None:
            raise ValueError("an outcome table is planned by `read_outcome_table` before it is written")
        if self.empty:
            return TablePlanned(self.source, 0, 0, 0, 0, 0, 0)
        sizes = catalogue.group_by("__key").agg(pl.len().alias("__items"))
        frame = self.scan().with_columns(self._key())
        counts = {"rows": 0, "planned": 0, "items": 0, "superseded": 0, "skipped": 0, "nothing": 0}
        from gspolicy.schema.tabular import row_batches  # noqa: PLC0415  # Polars only when used

        batches = row_batches(frame, batch_size)
        while True:
            batch = self._read(lambda: next(batches, None))
            if batch is None:
                break
            try:
                with write(conn):
                    done = _write_batch(conn, batch, sizes, catalogue, self.source, actor, created)
            except (sqlite3.Error, PolicyError) as err:
                reason = (
                    _reason(err)
                    if isinstance(err, sqlite3.Error)
                    else "; ".join(d.code for d in err.diagnostics)
                )
                if not counts["rows"]:
                    raise _table_fail("ledger/not-planned", self.path, reason=reason) from None
                raise _table_fail(
                    "ledger/partly-planned",
                    self.path,
                    rows=counts["rows"],
                    planned=counts["planned"],
                    reason=reason,
                ) from None
            for name, value in done.items():
                counts[name] += value
        return TablePlanned(self.source, **counts)


def _write_batch(
    conn: sqlite3.Connection,
    batch: pl.DataFrame,
    sizes: pl.DataFrame,
    catalogue: pl.DataFrame,
    source: str,
    actor: str,
    created: str,
) -> dict[str, int]:
    """Plan one batch of an outcome table's rows, in the caller's transaction."""
    import polars as pl  # noqa: PLC0415

    ids = batch["id"].unique().to_list()
    current = conn.execute(
        "SELECT household, id, planned_on FROM plans"
        " WHERE superseded_by IS NULL AND household IN (SELECT value FROM json_each(?))",
        (json.dumps(ids, ensure_ascii=False),),
    ).fetchall()
    plans = pl.DataFrame(
        current, schema={"id": pl.String(), "__old": pl.Int64(), "__old_on": pl.String()}, orient="row"
    )
    rows = (
        batch.with_columns(
            pl.col("as_of").cast(pl.String()).alias("__on"), pl.col("id").is_first_distinct().alias("__first")
        )
        .join(plans, on="id", how="left", maintain_order="left")
        .join(sizes, on="__key", how="left", maintain_order="left")
        .with_columns(pl.col("__items").fill_null(0))
    )
    nothing = rows.filter(pl.col("__items") == 0).height
    rows = rows.filter(pl.col("__items") > 0)
    later = pl.col("__first") & (pl.col("__old_on").is_null() | (pl.col("__old_on") < pl.col("__on")))
    skipped = rows.filter(~later).height
    rows = rows.filter(later)
    start = _next_plan(conn)
    rows = rows.with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + start).alias("__plan"))
    pairs = rows.filter(pl.col("__old").is_not_null()).select("__plan", "__old").rows()
    _supersede(conn, pairs)
    conn.executemany(
        _PLAN_INSERT,
        rows.select(
            "__plan",
            "id",
            pl.lit(None, pl.Int64()).alias("__entry"),
            pl.lit(source).alias("__source"),
            "county",
            "__on",
            pl.lit(created).alias("__created"),
            pl.lit(actor).alias("__actor"),
        ).iter_rows(),
    )
    items = rows.select("__plan", "id", "__key").join(
        catalogue, on="__key", how="inner", maintain_order="left_right"
    )
    conn.executemany(_ITEM_INSERT, items.select("__plan", "id", *_ITEM_VALUES).iter_rows())
    return {
        "rows": batch.height,
        "planned": rows.height,
        "items": items.height,
        "superseded": len(pairs),
        "skipped": skipped,
        "nothing": nothing,
    }


def _columns(path: Path, kind: str) -> list[str]:
    """The column names of an outcome table (`ledger/unreadable-table` when it cannot be read)."""
    import polars as pl  # noqa: PLC0415

    try:
        if kind == "parquet":
            return list(pl.read_parquet_schema(path))
        if kind == "jsonl":
            with path.open(encoding="utf-8") as handle:
                first = next((line for line in handle if line.strip()), "")
            data = json.loads(first) if first else {}
            if not isinstance(data, dict):
                raise ValueError("its first line is not a JSON object")
            return list(data)
        return list(pl.scan_csv(path, infer_schema=False, n_rows=0).collect_schema())
    except (pl.exceptions.PolarsError, OSError, ValueError) as err:
        raise _table_fail("ledger/unreadable-table", path, reason=_reason(err)) from None


def _manifest(path: Path, kind: str) -> tuple[dict[str, Any], str]:
    """The run manifest of an outcome table and where it was read: ``<file>.manifest.json`` beside
    it, else (Parquet) the file's metadata."""
    import polars as pl  # noqa: PLC0415

    beside = path.with_name(path.name + ".manifest.json")
    text: str | None = None
    where = str(beside)
    if beside.is_file():
        try:
            text = beside.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise _table_fail("ledger/bad-manifest", path, manifest=where, reason=_reason(err)) from None
    elif kind == "parquet":
        try:
            text = pl.read_parquet_metadata(path).get(_MANIFEST_KEY)
        except (pl.exceptions.PolarsError, OSError) as err:
            raise _table_fail("ledger/unreadable-table", path, reason=_reason(err)) from None
        where = f"{path} ({_MANIFEST_KEY})"
    if text is None:
        raise _table_fail("ledger/no-manifest", path, manifest=str(beside))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise _table_fail("ledger/bad-manifest", path, manifest=where, reason=_reason(err)) from None
    if not isinstance(data, dict) or not isinstance(data.get("packs"), list):
        raise _table_fail("ledger/bad-manifest", path, manifest=where, reason="it lists no `packs`")
    from gspolicy.tables import TABLE_FORMAT  # noqa: PLC0415  # Polars, imported with the table

    found = data.get("format", 1)  # manifests written before the format was recorded are of format 1
    if not isinstance(found, int) or isinstance(found, bool) or not 1 <= found <= TABLE_FORMAT:
        reason = Text(
            zh=f"其格式为 `{found}`，而本版 gspolicy 能读取的格式为 1 至 {TABLE_FORMAT}（请用写出它的 gspolicy 版本）",
            en=f"it is of format `{found}`, and this gspolicy reads formats 1 up to {TABLE_FORMAT} "
            "(use the gspolicy version that wrote it)",
        )
        raise _table_fail("ledger/bad-manifest", path, manifest=where, reason=reason)
    return data, where


def _manifest_packs(
    path: Path, where: str, manifest: Mapping[str, Any], policy_set: PolicySet
) -> tuple[CheckedPack, ...]:
    """The pack versions a manifest names, as the policy set holds them: `PolicyError` naming each
    one it does not hold (by key and content hash)."""
    by_key = {p.key: p for p in policy_set.packs}
    found: list[CheckedPack] = []
    problems: list[Diagnostic] = []
    for item in manifest["packs"]:
        key = str(item.get("pack")) if isinstance(item, Mapping) else "?"
        digest = str(item.get("content_hash")) if isinstance(item, Mapping) else "?"
        held = by_key.get(key)
        if held is not None and held.content_hash == digest:
            found.append(held)
            continue
        problems.append(
            Diagnostic(
                "ledger/policy-mismatch",
                None,
                {
                    "path": str(path),
                    "pack": key,
                    "hash": digest,
                    "held": Text(
                        zh=f"中该版本的内容哈希为 {held.content_hash}",
                        en=f"holds that version with content hash {held.content_hash}",
                    )
                    if held is not None
                    else Text(zh="中没有该版本", en="has no such version"),
                },
                suggestions=() if held is not None else suggest(key, by_key),
            )
        )
    if problems:
        raise PolicyError(problems)
    if not found:
        raise _table_fail("ledger/bad-manifest", path, manifest=where, reason="it lists no `packs`")
    return tuple(found)
