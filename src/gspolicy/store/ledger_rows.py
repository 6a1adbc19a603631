"""The ledger's rows as values: plans, items, progress updates, counts, overdue rows, statuses.

An item is held as planned (`PlannedItem`) and as stored (`Item`); `TablePlanned` says what
planning from a table did; `quarter_of` gives the quarter of a day.  See `gspolicy.store.ledger`."""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

import attrs

from gspolicy._i18n import Lang, Text
from gspolicy.errors import Diagnostic, PolicyError

__all__ = [
    "NO_DEADLINE",
    "QUARTER",
    "STATUSES",
    "STATUS_TEXT",
    "CountRow",
    "Item",
    "OverdueRow",
    "Plan",
    "PlannedItem",
    "TablePlanned",
    "Update",
    "ledger_error",
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


QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


@attrs.frozen
class Update:
    status: str
    on: dt.date
    by: str
    evidence: str | None
    recorded_at: str


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


def ledger_error(code: str, **args: object) -> PolicyError:
    return PolicyError([Diagnostic(code, None, args)])
