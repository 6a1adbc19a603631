"""Registry tables: households, their members and support items as CSV files, Excel sheets or
Parquet files, read into the records the validator checks (as registry exports write them).

A registry comes as three tables, each list of a household in its own table keyed by
``household_id``:

- CSV: ``NAME.csv`` with ``NAME.members.csv`` and ``NAME.support.csv`` beside it (for
  ``households.csv`` also ``members.csv`` and ``support.csv``); UTF-8 with or without a byte-order
  mark, or another encoding such as ``gb18030``;
- Excel (.xlsx, the ``excel`` extra): one workbook, the households on the sheet ``households`` (or
  the first sheet), the lists on sheets named ``members`` and ``support``;
- Parquet: the same three files as CSV, or one file whose list columns hold the items (the JSON
  shape: a list of structs).

Headers are field paths (``income.per_capita``) or the schema's Chinese or English titles of a
field; values are codes or their labels and aliases (the validator reads them), a set of codes is
written as codes joined by ``;`` (an empty set as ``;`` alone); an empty cell is a missing value.  Every problem is located: the
file (and sheet), the row — the row of the member's or item's own table for a problem inside one —
and the field path.  Polars reads the files; this module is imported only when a table is read.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import polars as pl

from gspolicy._location import DataPath, RecordLocation
from gspolicy.errors import Diagnostic
from gspolicy.schema.model import RecordSpec, Schema
from gspolicy.schema.table_files import (
    BLOCK,
    KEY,
    TABLE_SUFFIXES,
    TableError,
    Workdir,
    read_table_files,
    reason_of,
)
from gspolicy.schema.table_write import RegistryWriter, registry_tables, write_registry

__all__ = [
    "BLOCK",
    "KEY",
    "NUMBER",
    "OWNER",
    "TABLE_SUFFIXES",
    "RawBlock",
    "RegistryWriter",
    "TableError",
    "TableReader",
    "cell_value",
    "open_tables",
    "read_tables",
    "registry_tables",
    "row_batches",
    "table_blocks",
    "write_registry",
]


_Item = tuple[object, int | None, Callable[[DataPath], RecordLocation], Callable[[DataPath], RecordLocation]]


def read_tables(
    path: Path, schema: Schema, *, record: str | None = None, name: str | None = None, encoding: str = "utf-8"
) -> tuple[list[_Item] | None, list[Diagnostic]]:
    """The records of the registry tables starting at `path`, as items for the record loader
    (the data, the row, and how to locate a problem), or None and the problems that stop it."""
    blocks, problems = table_blocks(path, schema, record=record, name=name, encoding=encoding)
    if blocks is None:
        return None, problems
    try:
        return [item for block in blocks for item in block], problems
    except TableError as err:
        return None, [*problems, err.diagnostic]


def table_blocks(
    path: Path,
    schema: Schema,
    *,
    record: str | None = None,
    name: str | None = None,
    encoding: str = "utf-8",
    size: int | None = None,
) -> tuple[Iterator[list[_Item]] | None, list[Diagnostic]]:
    """The records of the registry tables starting at `path`, `size` households at a time, as
    items for the record loader, or None and the problems that stop them (`open_tables`)."""
    reader, problems = open_tables(path, schema, record=record, name=name, encoding=encoding)
    if reader is None:
        return None, problems
    return (block.nest() for block in reader.blocks(size)), problems


def open_tables(
    path: Path,
    schema: Schema,
    *,
    record: str | None = None,
    name: str | None = None,
    encoding: str = "utf-8",
) -> tuple[TableReader | None, list[Diagnostic]]:
    """The registry tables starting at `path`, ready to be read a block at a time, or None and
    the problems that stop them — a table that cannot be read, a list's table without
    `household_id`, an item whose household is not in the households' table — found before any
    block.

    CSV and Parquet files are read a batch of rows at a time: memory stays flat however long
    they are, when each list's table has its items in the order of their households (as exports
    and `RegistryWriter` write them); a list's table in another order is held whole (its rows
    found by household).  What is held for every file is its key column's households."""
    spec = schema.records[record or schema.root]
    kind = TABLE_SUFFIXES[path.suffix.lower()]
    shown = name or str(path)
    if kind == "xlsx" and importlib.util.find_spec("fastexcel") is None:
        return None, [Diagnostic("table/needs-extra", None, {"path": shown})]
    lists = [f for f, s in spec.fields.items() if s.kind == "list" and s.gather is None]
    workdir = Workdir()  # CSV in another encoding, as UTF-8
    try:
        tables = read_table_files(path, kind, lists, encoding, shown, workdir)
    except TableError as err:
        workdir.cleanup()
        return None, [err.diagnostic]
    main_name, main = tables.pop("")
    first_row = 1 if kind == "parquet" else 2  # a CSV file's or a sheet's header is its row 1
    headers = _headers(schema, spec)
    key = spec.key or "id"
    main_columns = main.collect_schema().names()
    key_columns = [
        c for c in main_columns if headers.get(str(c).strip(), tuple(str(c).strip().split("."))) == (key,)
    ]
    try:
        # each id's first row, found by the hash of the id (64 bits a household, the ids
        # themselves never held whole); each block checks its items' ids against their
        # households' as it reads them (`TableReader.blocks`), so two ids of one hash cannot
        # put an item in the wrong household unnoticed
        hashes = _key_hashes(main, key_columns[0]) if key_columns else pl.Series("h", [], dtype=pl.UInt64())
        index = (
            pl.DataFrame({"h": hashes, "row": pl.int_range(hashes.len(), eager=True, dtype=pl.UInt32)})
            .drop_nulls("h")
            .sort("h", "row")
            .filter(pl.col("h").is_first_distinct())
        )
        del hashes
        problems: list[Diagnostic] = []
        prepared: list[_Items] = []
        for field, (file_name, table) in tables.items():
            columns = table.collect_schema().names()
            if KEY not in columns:
                if table.select(pl.len()).collect().item():
                    problems.append(Diagnostic("table/no-key", None, {"path": file_name, "key": KEY}))
                continue  # an empty table (or only its header) has no items
            item_hashes = _key_hashes(table, KEY)
            if item_hashes.len() == 0:
                continue
            if index.height:
                at = index["h"].search_sorted(item_hashes, "left").clip(0, index.height - 1)
                found = (index["h"].gather(at) == item_hashes).fill_null(False)
                owners = pl.select(
                    pl.when(pl.lit(found)).then(pl.lit(index["row"].gather(at))).alias("owner")
                )["owner"]
            else:
                owners = pl.Series("owner", [None] * item_hashes.len(), dtype=pl.UInt32())
            missing = owners.is_null().arg_true()
            if missing.len():
                raw_keys = (
                    table.select(pl.col(KEY))
                    .with_row_index("__i")
                    .filter(pl.col("__i").is_in(missing))
                    .collect()
                )
                for row, raw in raw_keys.iter_rows():
                    number = row + first_row
                    problems.append(
                        Diagnostic(
                            "table/unknown-household",
                            RecordLocation(file_name, number),
                            {"path": file_name, "row": number, "id": str(raw), "households": main_name},
                        )
                    )
            item_spec = schema.records[spec.fields[field].record or ""]
            prepared.append(_Items(field, file_name, table, owners, item_spec))
        del index
    except pl.exceptions.PolarsError as err:  # a damaged or ragged file met while reading its keys
        workdir.cleanup()
        return None, [Diagnostic("table/unreadable", None, {"path": shown, "reason": reason_of(err)})]
    if any(d.is_error for d in problems):
        workdir.cleanup()
        return None, problems
    reader = TableReader(schema, spec, main, main_name, prepared, first_row, workdir, key_columns[:1])
    return reader, problems


OWNER = "__owner"
"""In a block's item rows: the row of the item's household in the block."""
NUMBER = "__number"
"""In a block's item rows: the item's row in its table (0 for the first row of data)."""


@attrs.define
class _Items:
    """A list's table: its items' columns (lazily read) and the household row of each item."""

    field: str
    name: str
    table: pl.LazyFrame
    owners: pl.Series
    spec: RecordSpec
    _order: pl.Series | None = None  # the rows by household (a table not in household order)
    _sorted_owners: pl.Series | None = None
    _held: pl.DataFrame | None = None
    _batches: Iterator[pl.DataFrame] | None = None
    _pending: pl.DataFrame | None = None
    _done: int = 0  # items taken so far, in household order

    def take(self, stop: int) -> pl.DataFrame:
        """The next items, those of the households before row `stop`, in household order (each
        household's in the order of their rows), with `OWNER` (the household's row in the
        table) and `NUMBER`."""
        if self._order is None and self._batches is None:
            if bool(self.owners.is_sorted()):
                self._batches = row_batches(self.table, BLOCK)
                self._pending = None
            else:
                rows = pl.int_range(self.owners.len(), eager=True)
                by_owner = pl.DataFrame({"owner": self.owners, "row": rows}).sort(["owner", "row"])
                self._order, self._sorted_owners = by_owner["row"], by_owner["owner"]
                self._held = self.table.collect()
        start = self._done
        if self._order is not None:
            assert self._sorted_owners is not None
            assert self._held is not None
            high = int(self._sorted_owners.search_sorted(stop, "left"))
            picked = self._order.slice(start, high - start)
            self._done = high
            return self._held[picked].with_columns(
                self.owners.gather(picked).alias(OWNER), picked.cast(pl.Int64).alias(NUMBER)
            )
        high = int(self.owners.search_sorted(stop, "left"))
        parts: list[pl.DataFrame] = []
        wanted = high - start
        assert self._batches is not None
        while wanted > 0:
            if self._pending is None or self._pending.height == 0:
                self._pending = next(self._batches)
            part = self._pending.slice(0, wanted)
            self._pending = self._pending.slice(part.height)
            parts.append(part)
            wanted -= part.height
        taken = pl.concat(parts) if len(parts) > 1 else (parts[0] if parts else self.table.clear().collect())
        self._done = high
        return taken.with_columns(
            self.owners.slice(start, high - start).alias(OWNER),
            pl.int_range(start, high, eager=True, dtype=pl.Int64).alias(NUMBER),
        )


def row_batches(table: pl.LazyFrame, size: int) -> Iterator[pl.DataFrame]:
    """The rows of `table` in order, `size` at a time (the last batch shorter), read as they go."""
    pending: list[pl.DataFrame] = []
    held = 0
    for batch in table.collect_batches(chunk_size=size, engine="streaming"):
        pending.append(batch)
        held += batch.height
        while held >= size:
            joined = pl.concat(pending) if len(pending) > 1 else pending[0]
            yield joined.slice(0, size)
            rest = joined.slice(size)
            pending, held = ([rest] if rest.height else []), rest.height
    if held:
        yield pl.concat(pending) if len(pending) > 1 else pending[0]


@attrs.frozen
class RawBlock:
    """A block of the registry tables as read: the households' rows (`start` is the first one's
    row in its table) and each list's rows of these households, in household order, with
    `OWNER` (the household's row in the block) and `NUMBER`."""

    start: int
    main: pl.DataFrame
    items: Mapping[str, pl.DataFrame]
    reader: TableReader

    def nest(self, rows: Sequence[int] | None = None) -> list[_Item]:
        """The households of `rows` (rows of the block; default all) as nested records for the
        record loader, each problem locatable in its own table and row."""
        return self.reader.nest(self, rows)


class TableReader:
    """The registry tables of one file, read a block of households at a time (`blocks`): what
    `table_blocks` nests, and what the columnar runner checks by columns."""

    def __init__(
        self,
        schema: Schema,
        spec: RecordSpec,
        main: pl.LazyFrame,
        main_name: str,
        prepared: list[_Items],
        first_row: int,
        workdir: Workdir,
        key_columns: Sequence[str] = (),
    ) -> None:
        self.schema = schema
        self.spec = spec
        self.key_columns = list(key_columns)
        self.main = main
        self.main_name = main_name
        self.prepared = prepared
        self.first_row = first_row
        self.workdir = workdir
        self.headers: dict[str, Mapping[str, tuple[str, ...]]] = {"": _headers(schema, spec)}
        for items in prepared:
            self.headers[items.field] = _headers(schema, items.spec)

    @property
    def main_schema(self) -> dict[str, pl.DataType]:
        return dict(self.main.collect_schema())

    @property
    def item_schemas(self) -> dict[str, dict[str, pl.DataType]]:
        return {
            items.field: {k: v for k, v in items.table.collect_schema().items() if k != KEY}
            for items in self.prepared
        }

    def blocks(self, size: int | None = None) -> Iterator[RawBlock]:
        """Every block of `size` households (default `BLOCK`), read as they go; a row that cannot
        be read raises `TableError`.  The temporary files are removed when the blocks end."""
        step = size or BLOCK
        start = 0
        try:
            for batch in row_batches(self.main, step):
                stop = start + batch.height
                ids = _key_texts(batch[self.key_columns[0]]) if self.key_columns else None
                items = {}
                for listed in self.prepared:
                    taken = listed.take(stop).with_columns(pl.col(OWNER) - start)
                    if ids is not None and taken.height:
                        self._check_owners(listed, taken, ids)
                    items[listed.field] = taken.drop(KEY)
                yield RawBlock(start, batch, items, self)
                start = stop
        except pl.exceptions.PolarsError as err:  # a damaged or ragged row met while reading
            raise TableError(
                Diagnostic("table/unreadable", None, {"path": self.main_name, "reason": reason_of(err)})
            ) from None
        finally:
            self.workdir.cleanup()

    def _check_owners(self, listed: _Items, taken: pl.DataFrame, ids: pl.Series) -> None:
        """Each item's id is its household's (items were placed by the hash of their id)."""
        theirs = ids.gather(taken[OWNER])
        wrong = (_key_texts(taken[KEY]) != theirs).fill_null(True).arg_true()
        if wrong.len():
            row = int(taken[NUMBER][wrong[0]]) + self.first_row
            raise TableError(
                Diagnostic(
                    "table/unknown-household",
                    RecordLocation(listed.name, row),
                    {
                        "path": listed.name,
                        "row": row,
                        "id": str(taken[KEY][wrong[0]]),
                        "households": self.main_name,
                    },
                )
            )

    def nest(self, block: RawBlock, rows: Sequence[int] | None) -> list[_Item]:
        chosen = list(range(block.main.height)) if rows is None else list(rows)
        position = {row: i for i, row in enumerate(chosen)}
        main = block.main if rows is None else block.main[chosen]
        nested = [_nest(row, self.headers[""], self.schema, self.spec) for row in main.iter_rows(named=True)]
        item_rows: dict[tuple[int, str, int], tuple[str, int]] = {}
        for listed in self.prepared:
            table = block.items[listed.field]
            if rows is not None:
                table = table.filter(pl.col(OWNER).is_in(chosen))
            cells = table.drop(OWNER, NUMBER)
            headers = self.headers[listed.field]
            for owner, number, raw in zip(
                table[OWNER].to_list(), table[NUMBER].to_list(), cells.iter_rows(named=True), strict=True
            ):
                target = position[owner]
                listed_items = nested[target].setdefault(listed.field, [])
                item_rows[(target, listed.field, len(listed_items))] = (listed.name, number + self.first_row)
                listed_items.append(_nest(raw, headers, self.schema, listed.spec))
        return [
            _located(data, block.start + row, i, self.first_row, self.main_name, item_rows)
            for i, (row, data) in enumerate(zip(chosen, nested, strict=True))
        ]


def _located(
    data: dict[str, Any],
    row: int,
    i: int,
    first_row: int,
    main_name: str,
    item_rows: dict[tuple[int, str, int], tuple[str, int]],
) -> _Item:
    line = row + first_row

    def locate(path: DataPath) -> RecordLocation:
        if len(path) >= 2 and isinstance(path[1], int):
            found = item_rows.get((i, str(path[0]), path[1]))
            if found is not None:
                return RecordLocation(found[0], found[1], path)
        return RecordLocation(main_name, line, path)

    return data, line, locate, locate


def _key_hashes(table: pl.LazyFrame, column: str) -> pl.Series:
    """The hash of each row's id in `column` as the validator reads it (`_key_texts`; null for
    no id), computed as the rows stream by."""
    if table.collect_schema()[column] == pl.String():
        text = pl.col(column).str.strip_chars()
        text = pl.when(text != "").then(text)
        return table.select(pl.when(text.is_not_null()).then(text.hash()).alias("h")).collect(
            engine="streaming"
        )["h"]
    texts = _key_texts(table.select(pl.col(column)).collect(engine="streaming").to_series())
    return pl.select(pl.when(pl.lit(texts).is_not_null()).then(pl.lit(texts).hash()).alias("h"))["h"]


def _key_texts(column: pl.Series) -> pl.Series:
    """A key column's cells as the validator reads an id (`cell_value`), as text (empty: null)."""
    if column.dtype == pl.String():
        stripped = column.str.strip_chars()
        return pl.Series("key", stripped, dtype=pl.String()).replace("", None)
    texts = [None if (cell := cell_value(raw)) is None else str(cell) for raw in column.to_list()]
    return pl.Series("key", texts, dtype=pl.String())


def _headers(schema: Schema, spec: RecordSpec) -> dict[str, tuple[str, ...]]:
    """Each header a table may use for a field of `spec` — its path, and the Chinese and English
    titles of the field when no other field has the same title — and the field's path."""
    out: dict[str, tuple[str, ...]] = {}
    titles: dict[str, list[tuple[str, ...]]] = {}

    def walk(record: RecordSpec, prefix: tuple[str, ...]) -> None:
        for name, field in record.fields.items():
            path = (*prefix, name)
            out[".".join(path)] = path
            for title in (field.title.zh, field.title.en):
                titles.setdefault(title, []).append(path)
            nested = schema.records.get(field.record or "") if field.kind == "record" else None
            if nested is not None:
                walk(nested, path)

    walk(spec, ())
    for title, paths in titles.items():
        if len(paths) == 1 and title not in out:
            out[title] = paths[0]
    return out


def _nest(
    row: Mapping[str, Any], headers: Mapping[str, tuple[str, ...]], schema: Schema, spec: RecordSpec
) -> dict[str, Any]:
    """A table row as a nested record: dotted headers into nested fields, empty cells left out,
    a set's codes split at ``;``."""
    out: dict[str, Any] = {}
    for header, raw in row.items():
        value = cell_value(raw)
        if value is None:
            continue
        name = str(header).strip()
        path = headers.get(name, tuple(name.split(".")))
        field = schema.field_at(spec, path)
        if field is not None and field.kind == "set" and isinstance(value, str):
            value = [code.strip() for code in value.replace("；", ";").split(";") if code.strip()]
        target = out
        for part in path[:-1]:
            nested = target.setdefault(part, {})
            if not isinstance(nested, dict):
                break
            target = nested
        else:
            target[path[-1]] = value
    return out


def cell_value(raw: object) -> object:
    """A cell as the validator reads it: text stripped (empty: missing), whole floats as ints,
    other floats by their shortest decimal form, dates as ISO text, nested values as plain data."""
    if raw is None:
        return None
    if isinstance(raw, str):
        text = raw.strip()
        return text or None
    if isinstance(raw, bool | int | Decimal):
        return raw
    if isinstance(raw, float):
        if math.isnan(raw) or math.isinf(raw):
            return str(raw)  # refused by the validator as a number it cannot hold
        return int(raw) if raw.is_integer() and abs(raw) < 2**53 else Decimal(repr(raw))
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat() if raw.time() == dt.time() else raw.isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, Mapping):
        return {k: v for k, v in ((str(k), cell_value(v)) for k, v in raw.items()) if v is not None}
    if isinstance(raw, list | tuple):
        return [cell_value(v) for v in raw]
    return str(raw)
