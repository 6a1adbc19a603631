"""Assembling the areas' gathered lists: record types in deciding order, and each list's items.

An item holds the gathered record and its derived verdicts, with what an unknown one lacks
(`Assembler`, `lacks_by_item`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from gspolicy._i18n import Text
from gspolicy._location import DataPath
from gspolicy.engine.run import PackValues
from gspolicy.engine.verdicts import derived_lacks as _outcome_missing
from gspolicy.engine.verdicts import derived_value as _bool_of
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import FieldSpec, Record, RecordSpec, Schema

__all__ = [
    "Assembler",
    "Derived",
    "DerivedOf",
    "derived_of",
    "derived_packs",
    "gathered_ids",
    "gathered_items",
    "gathering_order",
    "key_of",
    "lacks_by_item",
    "name_of",
]


def gathering_order(schema: Schema, types: Iterable[str]) -> list[str]:
    """Record types in the order they can be decided: a type after every type it gathers."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order or name in path:
            return
        for field in schema.records[name].fields.values():
            if field.gather is not None:
                visit(field.gather.records, (*path, name))
        order.append(name)

    for t in types:
        visit(t, ())
    return order


def derived_packs(schema: Schema, item_type: str) -> set[str]:
    return {
        f.derive.pack
        for f in schema.records[item_type].fields.values()
        if f.derive is not None and f.derive.pack is not None
    }


Derived = Mapping[tuple[str, str], tuple[bool | None, tuple[str, ...]]]
"""The derived fields of a gathered record's items, each ``(pack, form)`` (``derive: {form:
pack}``) with its value and, when missing, what its pack lacks (`derived_value`, `derived_lacks`)."""


DerivedOf = Callable[[tuple[str, str]], tuple[bool | None, tuple[str, ...]]]
"""What gives an item's derived field ``(pack, form)``: its value and what it lacks when missing."""


def derived_of(
    outcomes: Mapping[str, PackValues],
) -> DerivedOf:
    def get(key: tuple[str, str]) -> tuple[bool | None, tuple[str, ...]]:
        pack, form = key
        value = _bool_of(outcomes.get(pack), form)
        return value, (_outcome_missing(outcomes.get(pack), pack) if value is None else ())

    return get


def _item(
    spec: RecordSpec,
    record: Record,
    derived: DerivedOf,
) -> tuple[Record, dict[str, Any]]:
    """The item of a gathered list for `record`, and for each unknown derived field what the
    item's own decision lacks."""
    values: dict[str, object] = {}
    lacks: dict[str, Any] = {}
    for name, field in spec.fields.items():
        d = field.derive
        if d is None:
            continue
        if d.form == "record":
            values[name] = record
            continue
        assert d.pack is not None
        value, lacking = derived((d.pack, d.form))
        if value is None:
            lacks[name] = lacking
        else:
            values[name] = value
    return Record(spec.name, values), lacks


def key_of(schema: Schema, record: Record) -> str:
    """The record's key (its schema's `key` field) as text, ``?`` when it has none."""
    key = schema.records[record.type_name].key
    return str(record.get(key, "?")) if key is not None else "?"


class Assembler:
    """Decides record types in gathering order and builds the items other types gather."""

    def __init__(self, policy_set: PolicySet, as_of: dt.date) -> None:
        self.policy_set = policy_set
        self.schema = policy_set.schema
        self.as_of = as_of
        # (gathered type, item type) -> (item, what its unknown fields lack, the gathered record)
        self.items: dict[tuple[str, str], list[tuple[Record, dict[str, Any], Record]]] = {}
        self.problems: list[Text] = []
        # (gathered type, item type, field) -> the items by that field of their record; and
        # (gathered type, item type) -> what each item lacks, by the item's identity
        self._index: dict[tuple[str, str, str], dict[object, list[Record]]] = {}
        self._lacks: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}

    def _by_key(self, gathered: str, item_type: str, by: str) -> dict[object, list[Record]]:
        """The items of `gathered` records (as `item_type`) by the value of their record's field
        `by`, in the order they were added (built once, not per subject)."""
        found = self._index.get((gathered, item_type, by))
        if found is None:
            found = {}
            for item, _lacks, source in self.items.get((gathered, item_type), []):
                found.setdefault(source.get(by), []).append(item)
            self._index[(gathered, item_type, by)] = found
        return found

    def lacks_of(self, gathered: str, item_type: str) -> dict[int, dict[str, Any]]:
        """What each item of `gathered` records lacks, by the item's identity."""
        found = self._lacks.get((gathered, item_type))
        if found is None:
            found = {id(item): lacks for item, lacks, _s in self.items.get((gathered, item_type), [])}
            self._lacks[(gathered, item_type)] = found
        return found

    def gathered_fields(self, type_name: str) -> list[tuple[str, FieldSpec]]:
        return [(n, f) for n, f in self.schema.records[type_name].fields.items() if f.gather is not None]

    def needed_items(self, types: Sequence[str]) -> dict[str, set[str]]:
        """For each gathered type, the item types other types gather it into."""
        need: dict[str, set[str]] = {}
        for t in types:
            for _n, f in self.gathered_fields(t):
                assert f.gather is not None
                assert f.record is not None
                need.setdefault(f.gather.records, set()).add(f.record)
        return need

    def subject(self, record: Record) -> Record:
        """The record with its gathered lists filled (a list given in the data is replaced)."""
        key = key_of(self.schema, record)
        filled: dict[str, object] = dict(record)
        for name, f in self.gathered_fields(record.type_name):
            assert f.gather is not None
            assert f.record is not None
            filled[name] = tuple(self._by_key(f.gather.records, f.record, f.gather.by).get(key, ()))
        return Record(record.type_name, filled, record.origin)

    def add_items(
        self,
        record: Record,
        derived: DerivedOf,
        item_types: Iterable[str],
    ) -> None:
        for item_type in item_types:
            item, lacks = _item(self.schema.records[item_type], record, derived)
            self.items.setdefault((record.type_name, item_type), []).append((item, lacks, record))
            self._index = {k: v for k, v in self._index.items() if k[:2] != (record.type_name, item_type)}
            self._lacks.pop((record.type_name, item_type), None)


def name_of(subject: Record) -> str | None:
    name = subject.get("name")
    return name if isinstance(name, str) else None


def gathered_items(schema: Schema, subject: Record) -> Iterator[tuple[str, int, str, Record | None]]:
    """(gathered list, index, item id, the item's record) for every item the subject gathers;
    the id is the index when the item holds no record."""
    for name, field in schema.records[subject.type_name].fields.items():
        if field.gather is None:
            continue
        items = subject.get(name)
        if not isinstance(items, tuple):
            continue
        for index, item in enumerate(items):
            inner = next((v for v in item.values() if isinstance(v, Record)), None)
            yield name, index, (key_of(schema, inner) if inner is not None else str(index)), inner


def gathered_ids(schema: Schema, subject: Record) -> dict[str, tuple[str, ...]]:
    """Gathered list -> the ids of its items (every gathered list, empty ones too)."""
    out: dict[str, list[str]] = {
        name: []
        for name, field in schema.records[subject.type_name].fields.items()
        if field.gather is not None and isinstance(subject.get(name), tuple)
    }
    for name, _index, ident, _inner in gathered_items(schema, subject):
        out[name].append(ident)
    return {name: tuple(ids) for name, ids in out.items()}


def lacks_by_item(asm: Assembler, subject: Record) -> dict[str, tuple[str, ...]]:
    """``households[3]`` -> what that household's own decisions lack (for its unknown fields)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, field in asm.schema.records[subject.type_name].fields.items():
        if field.gather is None or field.record is None:
            continue
        by_id = asm.lacks_of(field.gather.records, field.record)
        items = subject.get(name)
        if not isinstance(items, tuple):
            continue
        for index, item in enumerate(items):
            lacks = by_id.get(id(item))
            if lacks:
                path = str(DataPath((name,)).child(index))
                out[path] = tuple(
                    sorted({f"{field_name}: {m}" for field_name, ms in lacks.items() for m in ms})
                )
    return out
