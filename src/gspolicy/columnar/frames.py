"""Records as Polars frames with an explicit schema: one frame of subjects and one of the items of
each list, holding only the columns a run's plans read.

Every column's type comes from the household schema, never from inference: truth values
`Boolean`, dates `Date`, texts and codes `String`, sets of codes `List(String)`, numbers exact
`Decimal(38, scale)` with a declared scale per numeric kind (`SCALES`).  A record whose numbers
do not fit their scale or 38 digits, or with a list of more than `MAX_ITEMS` items, is marked in
the column ``__unfit``: the runner decides it record by record, never rounding it.

An item frame holds ``__row`` (the subject's row), ``__idx`` (the item's position in its list)
and ``__bit`` (``2 ** __idx``, the item's bit in what-would-settle bitsets).  A nested field is
the column of its dotted path (``income.per_capita``); a list's or nested record's presence is the column of
its path, true when the record gives it and null when not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import polars as pl

from gspolicy.columnar.plan import (
    WORD_BITS,
    Age,
    Aggregate,
    FactRef,
    Field,
    ListSource,
    ListValue,
    Node,
    PackPlan,
    Present,
)
from gspolicy.schema.model import FieldSpec, Record, Schema

__all__ = ["MAX_ITEMS", "SCALES", "Columns", "Frames", "build_frames", "children", "columns_of"]

SCALES: Mapping[str, int] = {"int": 0, "money": 2, "ratio": 6, "decimal": 6}
"""Decimal places each numeric kind is held with in a frame (money is validated to two)."""

MAX_ITEMS = WORD_BITS
"""Items of one list a record may have in a frame: an item is one bit of a 64-bit set."""

_DIGITS = 38


@attrs.frozen
class Columns:
    """What a run reads: subject columns by path, and for each list its item columns by path."""

    subject: frozenset[tuple[str, ...]]
    lists: Mapping[tuple[str, ...], frozenset[tuple[str, ...]]]


def children(node: Node) -> Iterable[Node]:
    """The nodes `node` reads directly (a list source's day of `held_on` among them)."""
    for field in attrs.fields(type(node)):
        value = getattr(node, field.name)
        if isinstance(value, tuple):
            yield from (v for v in value if attrs.has(type(v)))
        elif isinstance(value, ListSource):
            if value.held_on is not None:
                yield value.held_on
        elif attrs.has(type(value)):
            yield value


def columns_of(plans: Sequence[PackPlan]) -> Columns:
    """Every column the plans read."""
    subject: set[tuple[str, ...]] = set()
    lists: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for plan in plans:
        if plan.fallback is not None:
            continue
        roots: list[Node] = [*plan.facts.values(), *plan.givens.values(), *plan.criteria.values()]
        roots += [*plan.rules.values(), *([plan.applies] if plan.applies is not None else [])]
        if plan.buffer is not None:
            retained, active, until = plan.buffer
            roots += [retained, *active.values(), *until.values()]
        stack = list(roots)
        current: list[tuple[tuple[str, ...], Node]] = []
        while stack:
            node = stack.pop()
            if isinstance(node, (Aggregate, ListValue)):
                source = node.source
                subject.add(source.path)
                items = lists.setdefault(source.path, set())
                if source.held_on is not None:
                    items.update((name,) for name in source.held_fields)
                if isinstance(node, Aggregate) and node.body is not None:
                    current.append((source.path, node.body))
            elif isinstance(node, (Field, Present)) and node.scope == 0:
                subject.add(node.path)
            elif isinstance(node, Age) and node.scope == 0:
                subject.update((name,) for name in node.fields)
            if not isinstance(node, FactRef):
                stack.extend(children(node))
        while current:
            path, body = current.pop()
            items = lists[path]
            inner = [body]
            while inner:
                node = inner.pop()
                if isinstance(node, (Field, Present)):
                    (items if node.scope == 1 else subject).add(node.path)
                elif isinstance(node, Age):
                    (items if node.scope == 1 else subject).update((name,) for name in node.fields)
                if not isinstance(node, FactRef):
                    inner.extend(children(node))
    return Columns(frozenset(subject), {k: frozenset(v) for k, v in lists.items()})


def _spec(schema: Schema, record: str, path: Sequence[str]) -> FieldSpec | None:
    spec = schema.records.get(record)
    return schema.field_at(spec, path) if spec is not None else None


def dtype_of(spec: FieldSpec) -> pl.DataType:
    kind = spec.kind
    if kind == "bool":
        return pl.Boolean()
    if kind in SCALES:
        return pl.Decimal(_DIGITS, SCALES[kind])
    if kind == "date":
        return pl.Date()
    if kind in ("string", "enum"):
        return pl.String()
    if kind == "set":
        return pl.List(pl.String())
    if kind in ("list", "record"):
        return pl.Boolean()  # the list's or nested record's presence: true, or null when absent
    raise ValueError(f"no column for a field of kind {kind}")


def _fits(value: object, kind: str) -> bool:
    """Whether a number is held exactly by its kind's column."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return True
    number = Decimal(value)
    _sign, digits, exponent = number.as_tuple()
    if not isinstance(exponent, int):
        return False
    scale = SCALES[kind]
    if -exponent > scale and number != number.quantize(Decimal(1).scaleb(-scale)):
        return False
    whole = len(digits) + exponent
    return max(whole, 0) + scale <= _DIGITS


_UNFIT = object()
"""A cell whose number its column cannot hold exactly (the record is then decided by record)."""


def _reader(path: Sequence[str]) -> Callable[[Mapping[str, object]], object]:
    """Reads `path` from a record's values (None when absent anywhere on the way)."""
    head, rest = path[0], tuple(path[1:])
    if not rest:
        return lambda values: values.get(head)

    def read(values: Mapping[str, object]) -> object:
        current = values.get(head)
        for part in rest:
            if not isinstance(current, Record):
                return None
            current = current.values_dict().get(part)
        return current

    return read


def _converter(spec: FieldSpec) -> Callable[[object], object]:
    """A present value as its column holds it (`_UNFIT` for a number its scale cannot hold)."""
    kind = spec.kind
    if kind in ("list", "record"):
        return lambda value: True
    if kind == "set":
        return lambda value: sorted(str(v) for v in value)  # type: ignore[attr-defined]
    if kind in SCALES:
        scale = SCALES[kind]
        whole_limit = 10 ** (_DIGITS - scale)

        def number(value: object) -> object:
            if type(value) is int:
                return Decimal(value) if -whole_limit < value < whole_limit else _UNFIT
            return Decimal(value) if _fits(value, kind) else _UNFIT  # type: ignore[arg-type]

        return number
    return lambda value: value


_Cell = tuple[Callable[[Mapping[str, object]], object], Callable[[object], object], list[Any]]


def _fill(values: Mapping[str, object], cells: Sequence[_Cell]) -> bool:
    """Append each column's cell of one record (or item); whether every number fits its column."""
    fits = True
    for read, convert, out in cells:
        value = read(values)
        if value is None:
            out.append(None)
            continue
        cell = convert(value)
        if cell is _UNFIT:
            fits, cell = False, None
        out.append(cell)
    return fits


def _cells(path: Sequence[str], spec: FieldSpec, out: list[Any]) -> _Cell:
    return _reader(path), _converter(spec), out


@attrs.frozen
class Frames:
    """The subject frame and the item frame of each list (keyed by the list's path)."""

    subjects: pl.DataFrame
    items: Mapping[tuple[str, ...], pl.DataFrame]

    @property
    def height(self) -> int:
        return self.subjects.height


def build_frames(schema: Schema, record_type: str, records: Sequence[Record], columns: Columns) -> Frames:
    """The frames of `records` (all of type `record_type`) holding `columns`."""
    subject_paths = sorted(columns.subject)
    specs: dict[tuple[str, ...], FieldSpec] = {}
    for path in subject_paths:
        spec = _spec(schema, record_type, path)
        if spec is None:
            raise ValueError(f"the schema has no field {'.'.join(path)} in {record_type}")
        specs[path] = spec
    data: dict[str, list[Any]] = {".".join(p): [] for p in subject_paths}
    unfit: list[bool] = []
    list_specs: dict[tuple[str, ...], dict[tuple[str, ...], FieldSpec]] = {}
    item_data: dict[tuple[str, ...], dict[str, list[Any]]] = {}
    for list_path, item_paths in columns.lists.items():
        item_type = specs[list_path].record or ""
        found: dict[tuple[str, ...], FieldSpec] = {}
        for path in sorted(item_paths):
            spec = _spec(schema, item_type, path)
            if spec is not None:
                found[path] = spec
        list_specs[list_path] = found
        item_data[list_path] = {"__row": [], "__idx": [], "__bit": [], **{".".join(p): [] for p in found}}
    subject_cells = [_cells(path, specs[path], data[".".join(path)]) for path in subject_paths]
    list_cells = [
        (
            _reader(list_path),
            item_data[list_path],
            [_cells(path, spec, item_data[list_path][".".join(path)]) for path, spec in found.items()],
        )
        for list_path, found in list_specs.items()
    ]
    for row, record in enumerate(records):
        values = record.values_dict()
        fits = _fill(values, subject_cells)
        for read_list, columns_out, cells in list_cells:
            items = read_list(values)
            if not isinstance(items, tuple):
                continue
            if len(items) > MAX_ITEMS:
                fits = False
                continue
            rows, idxs, bits = columns_out["__row"], columns_out["__idx"], columns_out["__bit"]
            for index, item in enumerate(items):
                rows.append(row)
                idxs.append(index)
                bits.append(1 << index)
                item_values = item.values_dict() if isinstance(item, Record) else {}
                fits = _fill(item_values, cells) and fits
        unfit.append(not fits)
    schema_out: dict[str, pl.DataType] = {".".join(p): dtype_of(specs[p]) for p in subject_paths}
    subjects = pl.DataFrame(
        {"__row": list(range(len(unfit))), "__unfit": unfit, **data},
        schema={"__row": pl.UInt32(), "__unfit": pl.Boolean(), **schema_out},
    )
    items_out: dict[tuple[str, ...], pl.DataFrame] = {}
    for list_path, found in list_specs.items():
        item_schema: dict[str, pl.DataType] = {
            "__row": pl.UInt32(),
            "__idx": pl.UInt32(),
            "__bit": pl.UInt64(),
        }
        item_schema.update({".".join(p): dtype_of(s) for p, s in found.items()})
        items_out[list_path] = pl.DataFrame(item_data[list_path], schema=item_schema)
    return Frames(subjects, items_out)
