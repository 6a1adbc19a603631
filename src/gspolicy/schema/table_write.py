"""Write households as registry tables: the inverse of reading them.

Nested fields as dotted columns, each list in its own table keyed by ``household_id``, in CSV,
Parquet or Excel."""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from gspolicy.schema.model import RecordSpec, Schema
from gspolicy.schema.table_files import BLOCK, KEY, TABLE_SUFFIXES

__all__ = ["XLSX_ROWS", "RegistryWriter", "registry_tables", "write_registry"]


def registry_tables(households: Iterable[Mapping[str, Any]], schema: Schema) -> dict[str, pl.DataFrame]:
    """Households given as plain data (as the record files hold them) as the three registry
    tables, every cell as text: nested fields as dotted columns, a set's codes joined by ``;``,
    each list in its own table keyed by ``household_id`` (the inverse of `read_tables`)."""
    spec = schema.records[schema.root]
    lists = [f for f, s in spec.fields.items() if s.kind == "list" and s.gather is None]
    key = spec.key or "id"
    rows: dict[str, list[dict[str, str | None]]] = {"households": [], **{name: [] for name in lists}}
    for household in households:
        data = dict(household)
        items = {name: data.pop(name, None) for name in lists}
        rows["households"].append(_flat(data))
        for name, listed in items.items():
            for item in listed or ():
                rows[name].append({KEY: str(data.get(key)), **_flat(item)})
    out: dict[str, pl.DataFrame] = {}
    for name, found in rows.items():
        columns = sorted({c for row in found for c in row}, key=lambda c: (c != KEY, c != "id", c))
        if not columns:
            columns = [key] if name == "households" else [KEY]  # a table with no rows keeps its key
        out[name] = pl.DataFrame(
            [[row.get(c) for c in columns] for row in found],
            schema=dict.fromkeys(columns, pl.String()),
            orient="row",
        )
    return out


def write_registry(tables: Mapping[str, pl.DataFrame], path: Path) -> list[Path]:
    """Write registry tables where `read_tables` finds them: ``NAME.csv`` / ``.parquet`` with
    ``NAME.<list>.<suffix>`` beside it, or one workbook with a sheet per table; the files written."""
    kind = TABLE_SUFFIXES[path.suffix.lower()]
    if kind == "xlsx":
        xlsxwriter = importlib.import_module("xlsxwriter")  # the excel extra

        with xlsxwriter.Workbook(str(path)) as workbook:
            for name, table in tables.items():
                table.write_excel(workbook, worksheet=name)
        return [path]
    written = []
    for name, table in tables.items():
        target = _target(path, name)
        if kind == "csv":
            table.write_csv(target)
        else:
            table.write_parquet(target)
        written.append(target)
    return written


def _target(path: Path, table: str) -> Path:
    return path if table == "households" else path.with_name(f"{path.stem}.{table}{path.suffix}")


XLSX_ROWS = 1_048_576
"""Rows of an Excel sheet, its header included."""


class RegistryWriter:
    """Registry tables written a block of households at a time, in memory bounded by a block:
    CSV files appended to, Parquet as a part a block joined at the end by a streaming sink, an
    Excel workbook written row by row (xlsxwriter's constant-memory mode).  Every table has the
    columns of every field its record can hold, in the schema's order (a field nobody has is an
    empty column: missing, as an empty cell always is).

    Used as a context manager: the files are complete when it exits without an error, and
    removed when it exits with one.  A household with a field outside the schema, or more rows
    than an Excel sheet holds, raises `ValueError` naming it."""

    def __init__(self, path: Path, schema: Schema) -> None:
        self.path = path
        self.kind = TABLE_SUFFIXES[path.suffix.lower()]
        spec = schema.records[schema.root]
        self.key = spec.key or "id"
        self.lists = [f for f, s in spec.fields.items() if s.kind == "list" and s.gather is None]
        self.columns: dict[str, list[str]] = {"households": _columns(schema, spec, (self.key,))}
        for name in self.lists:
            item = schema.records[spec.fields[name].record or ""]
            self.columns[name] = _columns(schema, item, (KEY,))
        self.rows = dict.fromkeys(self.columns, 0)
        self._handles: dict[str, Any] = {}
        self._parts: dict[str, list[Path]] = {name: [] for name in self.columns}
        self._workbook: Any = None
        self._sheets: dict[str, Any] = {}
        self._temp: Path | None = None

    def __enter__(self) -> RegistryWriter:
        if self.kind == "csv":
            for name, columns in self.columns.items():
                handle = _target(self.path, name).open("wb")
                self._handles[name] = handle
                pl.DataFrame(schema=dict.fromkeys(columns, pl.String())).write_csv(handle)
        elif self.kind == "parquet":
            self._temp = Path(tempfile.mkdtemp(dir=self.path.parent, prefix=f".{self.path.name}.parts."))
        else:
            xlsxwriter = importlib.import_module("xlsxwriter")  # the excel extra
            self._workbook = xlsxwriter.Workbook(str(self.path), {"constant_memory": True})
            for name, columns in self.columns.items():
                sheet = self._workbook.add_worksheet(name)
                sheet.write_row(0, 0, columns)
                self._sheets[name] = sheet
        return self

    def write(self, households: Iterable[Mapping[str, Any]]) -> None:
        """Append a block of households (plain data, as the record files hold them)."""
        rows: dict[str, list[dict[str, str | None]]] = {name: [] for name in self.columns}
        for household in households:
            data = dict(household)
            items = {name: data.pop(name, None) for name in self.lists}
            rows["households"].append(_flat(data))
            for name, listed in items.items():
                for item in listed or ():
                    rows[name].append({KEY: str(data.get(self.key)), **_flat(item)})
        for name, found in rows.items():
            columns = self.columns[name]
            known = set(columns)
            for row in found:
                extra = sorted(set(row) - known)
                if extra:
                    raise ValueError(f"{name}: {extra[0]} is not a field of the schema")
            cells = [[row.get(c) for c in columns] for row in found]
            start = self.rows[name]
            self.rows[name] += len(cells)
            if self.kind == "xlsx":
                if self.rows[name] >= XLSX_ROWS:
                    raise ValueError(
                        f"{name}: {self.rows[name]:,} rows do not fit an Excel sheet "
                        f"({XLSX_ROWS - 1:,} and the header); write .csv or .parquet"
                    )
                sheet = self._sheets[name]
                for offset, line in enumerate(cells, start=start + 1):
                    sheet.write_row(offset, 0, line)
                continue
            frame = pl.DataFrame(cells, schema=dict.fromkeys(columns, pl.String()), orient="row")
            if self.kind == "csv":
                frame.write_csv(self._handles[name], include_header=False)
            else:
                assert self._temp is not None
                part = self._temp / f"{name}.{len(self._parts[name]):08d}.parquet"
                frame.write_parquet(part)
                self._parts[name].append(part)

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            for handle in self._handles.values():
                handle.close()
            if self._workbook is not None:
                self._workbook.close()
            if self._temp is not None and error is None:
                for name, columns in self.columns.items():
                    target = _target(self.path, name)
                    if self._parts[name]:
                        pl.scan_parquet(self._parts[name]).sink_parquet(target, row_group_size=BLOCK)
                    else:
                        pl.DataFrame(schema=dict.fromkeys(columns, pl.String())).write_parquet(target)
        finally:
            if self._temp is not None:
                shutil.rmtree(self._temp, ignore_errors=True)
            if error is not None:  # nothing half-written is left behind
                for written in self.files:
                    written.unlink(missing_ok=True)

    @property
    def files(self) -> list[Path]:
        """The files written (one workbook, or a file a table)."""
        if self.kind == "xlsx":
            return [self.path]
        return [_target(self.path, name) for name in self.columns]


def _columns(schema: Schema, spec: RecordSpec, first: tuple[str, ...]) -> list[str]:
    """The dotted path of every field a table of `spec` records can hold (lists aside), `first`
    leading, the rest in the schema's order."""
    out: list[str] = list(first)

    def walk(record: RecordSpec, prefix: tuple[str, ...]) -> None:
        for name, field in record.fields.items():
            path = (*prefix, name)
            nested = schema.records.get(field.record or "") if field.kind == "record" else None
            if nested is not None:
                walk(nested, path)
            elif field.kind != "list" and ".".join(path) not in out:
                out.append(".".join(path))

    walk(spec, ())
    return out


def _flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{prefix}{key}."))
        elif isinstance(value, list | tuple | set | frozenset):
            # a set of codes; an empty set is `;` (an empty cell is a missing value)
            out[f"{prefix}{key}"] = ";".join(str(v) for v in value) if value else ";"
        elif isinstance(value, bool):
            out[f"{prefix}{key}"] = "true" if value else "false"
        else:
            out[f"{prefix}{key}"] = None if value is None else str(value)
    return out
