"""The management lists: per batch or per responsible department, the households with the measures due.

Each row is one item of a household's plan — a measure with its amount, deadline and responsible
department — as the work ledger holds it (`due_from_ledger`: the items of the current plans made
on or before the date and not done on it) or as the ledger would plan it from the decisions
(`due_from_outcomes`: each household decided as of the date and planned by the ledger's own
`plan_items`, with no deadline, since no source fixes one).  `management_lists` groups the rows
by batch — each batch pack in force declaring the item's measure, so a household shows in every
batch its measures belong to — or by department, and lays each row out in the columns a
statistics pack's ``lists:`` declares (`list_layout`): the project's own layout, since no source
gives the platform's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal

import attrs

from gspolicy._glossary import text as glossary_text
from gspolicy._i18n import Lang, Text
from gspolicy.engine.outcome import Outcome
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.explain.wording import Vocabulary, unit_text, vocabulary_for
from gspolicy.pack.model import ListColumn
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema import roles
from gspolicy.schema.model import Record
from gspolicy.schema.paths import value_at
from gspolicy.schema.records import stream_records
from gspolicy.store.ledger import NO_DEADLINE, STATUS_TEXT, Ledger, plan_items
from gspolicy.store.ledger_tables import ITEM_SELECT, item_of

__all__ = [
    "DueItem",
    "ListGroup",
    "ManagementLists",
    "due_from_ledger",
    "due_from_outcomes",
    "list_layout",
    "management_lists",
    "registry_ids",
]

By = Literal["batch", "department"]

NO_BATCH = Text(zh="（未归入批次）", en="(no batch)")
"""The group of a measure no batch pack in force declares."""

UNKNOWN_AMOUNT = Text(zh="未知", en="unknown")
"""An amount the decision cannot know (its data is missing): ``?`` in the support column."""


@attrs.frozen
class DueItem:
    """One measure due to a household: the ledger's item, or the item the ledger would plan."""

    household: str
    county: str | None
    measure: str
    title: Text
    department: str
    department_title: Text
    basis: str  # the rule that grants the measure, or the buffer basis that retains it
    content: Text
    amount: str | None  # as the decision words it; None: cannot be known
    unit: str | None
    deadline: dt.date | None
    status: str  # open, in_progress (`gspolicy.store.ledger.STATUS_TEXT`)

    def cell(
        self, column: str, lang: Lang, batch: tuple[str, Text] | None, words: Vocabulary | None = None
    ) -> str:
        """The text of `column` (`LIST_COLUMNS`) for this item in `lang`;
        `batch` is the group's batch pack (id, title) when the lists are by batch; `words` the
        schema's vocabulary, where a unit finds its words (its code without it)."""
        if column in ("batch", "batch_title"):
            if batch is None:
                return ""
            return batch[0] if column == "batch" else batch[1].get(lang)
        if column == "amount":
            if self.amount is None:
                return UNKNOWN_AMOUNT.get(lang)
            if self.amount == "not established":
                return glossary_text("amount", "not_established").get(lang)
            return self.amount
        if column == "deadline":
            return self.deadline.isoformat() if self.deadline is not None else NO_DEADLINE.get(lang)
        if column == "status":
            return STATUS_TEXT[self.status].get(lang)
        if column == "unit":
            return unit_text(words, self.unit, lang)
        texts = {
            "measure_title": self.title,
            "department_title": self.department_title,
            "content": self.content,
        }
        if column in texts:
            return texts[column].get(lang)
        plain = {
            "household": self.household,
            "county": self.county,
            "measure": self.measure,
            "basis": self.basis,
            "department": self.department,
        }
        return plain[column] or ""


@attrs.frozen
class ListGroup:
    """One list: a batch pack (its id) or a department (its code) with its title, and its items
    sorted by household and measure."""

    key: str
    title: Text
    items: tuple[DueItem, ...]

    @property
    def households(self) -> int:
        return len({i.household for i in self.items})


@attrs.frozen
class ManagementLists:
    """The lists as of a date, by batch or department, in the columns of the statistics pack
    `pack` (``id@version``)."""

    as_of: dt.date
    by: By
    pack: str
    columns: tuple[ListColumn, ...]
    groups: tuple[ListGroup, ...]
    words: Vocabulary | None = None  # the schema's vocabulary: units in the reader's language

    def headers(self, lang: Lang) -> list[str]:
        return [c.title.get(lang) for c in self.columns]

    def group_header(self, lang: Lang) -> str:
        """The header of the group's column (first in CSV)."""
        words = {"batch": Text(zh="批次", en="Batch"), "department": Text(zh="责任部门", en="Department")}
        return words[self.by].get(lang)

    def rows(self, group: ListGroup, lang: Lang) -> list[list[str]]:
        """`group`'s rows as texts in `lang`, in the layout's columns."""
        batch = (group.key, group.title) if self.by == "batch" and group.key else None
        return [[item.cell(c.column, lang, batch, self.words) for c in self.columns] for item in group.items]


def list_layout(policy_set: PolicySet, as_of: dt.date) -> tuple[str, tuple[ListColumn, ...]]:
    """The statistics pack in force on `as_of` that declares the lists' layout (``lists:``), and
    its columns; a `PolicyError` when none does (``stats/no-list-layout``) or several do
    (``stats/several-list-layouts``)."""
    found = []
    for pack_id in policy_set.of_kind("statistics"):
        pack = policy_set.in_force(pack_id, as_of)
        if pack is not None and pack.pack.lists:
            found.append(pack)
    if not found:
        raise PolicyError([Diagnostic("stats/no-list-layout", None, {"as_of": as_of.isoformat()})])
    if len(found) > 1:
        raise PolicyError(
            [
                Diagnostic(
                    "stats/several-list-layouts",
                    found[1].pack.span,
                    {"first": found[0].key, "other": found[1].key},
                )
            ]
        )
    return found[0].key, found[0].pack.lists


def registry_ids(policy_set: PolicySet, paths: Sequence[Path], *, encoding: str = "utf-8") -> frozenset[str]:
    """The ids of the households of the files (read, not decided); a `PolicyError` with every
    problem of the files, if there is any."""
    ids: set[str] = set()
    problems: list[Diagnostic] = []
    for records, _refused, found, _unreadable in stream_records(paths, policy_set.schema, encoding=encoding):
        problems.extend(d for d in found if d.is_error)
        for record in records:
            spec = policy_set.schema.records.get(record.type_name)
            key = spec.key if spec is not None and spec.key is not None else "id"
            ids.add(str(record.get(key, "?")))
    if problems:
        raise PolicyError(problems)
    return frozenset(ids)


def due_from_outcomes(policy_set: PolicySet, pairs: Iterable[tuple[Record, Outcome]]) -> Iterator[DueItem]:
    """The items the ledger would plan (`plan_items`, no deadline) from each decided household."""
    county_field = policy_set.schema.role(roles.COUNTY_CODE)
    county_path = tuple(county_field.split(".")) if county_field else None
    for record, outcome in pairs:
        county = value_at(record, county_path) if county_path is not None else None
        row = outcome.to_row()
        for p in plan_items(row, policy_set, where=f"household {outcome.record}"):
            yield DueItem(
                outcome.record,
                None if county is None else str(county),
                p.measure,
                p.title,
                p.department,
                p.department_title,
                p.batch,
                p.content,
                p.amount,
                p.unit,
                p.deadline,
                "open",
            )


_DUE = (
    ITEM_SELECT.replace(
        "SELECT ",
        "SELECT coalesce((SELECT u.status FROM updates u WHERE u.item_id = items.id"
        " AND u.on_date <= :day ORDER BY u.id DESC LIMIT 1), 'open') AS then_status, ",
        1,
    )
    + " WHERE plans.superseded_by IS NULL AND plans.planned_on <= :day"
    " ORDER BY items.household, measure"
)


def due_from_ledger(
    ledger: Ledger, as_of: dt.date, households: frozenset[str] | None = None
) -> Iterator[DueItem]:
    """The items of the current plans made on or before `as_of` that were not done on it, with
    their status on that day (the latest progress update dated on or before it); only those of
    `households` when given."""
    for then_status, *rest in ledger.log.connection.execute(_DUE, {"day": as_of.isoformat()}):
        if then_status == "done" or (households is not None and rest[1] not in households):
            continue
        item = item_of(tuple(rest))
        yield DueItem(
            item.household,
            item.county,
            item.measure,
            item.title,
            item.department,
            item.department_title,
            item.batch,
            item.content,
            item.amount,
            item.unit,
            item.deadline,
            then_status,
        )


def management_lists(
    policy_set: PolicySet, due: Iterable[DueItem], as_of: dt.date, by: By
) -> ManagementLists:
    """`due` grouped by batch — every batch pack in force on `as_of` declaring the measure, or
    `NO_BATCH` — or by responsible department, in the layout `list_layout` gives."""
    pack, columns = list_layout(policy_set, as_of)
    batches = [p for p in policy_set.all_in_force(as_of) if p.kind == "batch"]
    groups: dict[str, tuple[Text, list[DueItem]]] = {}
    for item in due:
        if by == "department":
            keys = [(item.department, item.department_title)]
        else:
            keys = [(p.id, p.pack.title) for p in batches if item.measure in p.pack.measures] or [
                ("", NO_BATCH)
            ]
        for key, title in keys:
            groups.setdefault(key, (title, []))[1].append(item)
    made = tuple(
        ListGroup(key, title, tuple(sorted(items, key=lambda i: (i.household, i.measure))))
        for key, (title, items) in sorted(groups.items(), key=lambda kv: (kv[0] == "", kv[0]))
    )
    words = vocabulary_for(policy_set.schema, policy_set.schema.root, ())
    return ManagementLists(as_of, by, pack, columns, made, words)
