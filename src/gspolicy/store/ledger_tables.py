"""The ledger's tables in SQL: writing plans and items, reading items, counting, overdue items.

The statements that write plans and items and supersede a plan, those that read items (an `Item`
from its row) and count them by quarter, and what makes an item overdue."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from typing import Any

from gspolicy._i18n import Text
from gspolicy.store.ledger_rows import Item, PlannedItem

__all__ = [
    "ITEM_COLUMNS",
    "ITEM_INSERT",
    "ITEM_SELECT",
    "ITEM_VALUES",
    "OVERDUE_ORDER",
    "OVERDUE_WHERE",
    "PLAN_INSERT",
    "QUARTER_SQL",
    "item_of",
    "item_values",
    "next_plan",
    "origin_text",
    "supersede",
]

PLAN_INSERT = (
    "INSERT INTO plans (id, household, entry_id, source, county, planned_on, created_at, actor)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
ITEM_COLUMNS = (
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
ITEM_INSERT = (
    f"INSERT INTO items ({', '.join(ITEM_COLUMNS)}, status)"
    f" VALUES ({', '.join('?' for _ in ITEM_COLUMNS)}, 'open')"
)
# the item's own columns, as `item_values` gives them after the plan and the household
ITEM_VALUES = ITEM_COLUMNS[2:]


def item_values(p: PlannedItem) -> tuple[str | None, ...]:
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


def supersede(conn: sqlite3.Connection, pairs: Sequence[tuple[int, int]]) -> None:
    """Replace plans: each ``(new plan, old plan)``; the old plan's items not done are superseded."""
    conn.executemany("UPDATE plans SET superseded_by = ? WHERE id = ?", pairs)
    conn.executemany(
        "UPDATE items SET status = 'superseded' WHERE plan_id = ? AND status != 'done'",
        [(old,) for _new, old in pairs],
    )


def next_plan(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM plans").fetchone()[0])


ITEM_SELECT = """
SELECT items.id, items.household, measure, title_zh, title_en, department, department_zh, department_en,
       batch, content_zh, content_en, amount, unit, deadline, status, done_on, plans.county, plans.planned_on
FROM items JOIN plans ON plans.id = items.plan_id
"""


def item_of(row: tuple[Any, ...]) -> Item:
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


def origin_text(entry: int | None, source: str | None, planned_on: str) -> Text:
    """Where a current plan comes from, in words (for ``ledger/already-planned``)."""
    if entry is not None:
        return Text(zh=f"条目 `{entry}`", en=f"entry `{entry}`")
    return Text(
        zh=f"结果表 `{source}`（判定日期 {planned_on}）",
        en=f"the outcome table `{source}` (as of {planned_on})",
    )


# the quarter of a plan date `YYYY-MM-DD`, as `quarter_of` gives it
QUARTER_SQL = (
    "substr(plans.planned_on, 1, 4) || 'Q' || ((CAST(substr(plans.planned_on, 6, 2) AS INTEGER) + 2) / 3)"
)

# an item open or in progress is one of a current plan (superseding a plan supersedes its items
# not done), so the overdue items are found in the partial index `items_open_deadline` alone
OVERDUE_WHERE = " WHERE status IN ('open', 'in_progress') AND deadline IS NOT NULL AND deadline < ?"
OVERDUE_ORDER = " ORDER BY department, plans.county, deadline, items.household, measure"
