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
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from gspolicy._files import read_bytes
from gspolicy._location import DataPath, RecordLocation
from gspolicy._messages import entry, register
from gspolicy.errors import Diagnostic
from gspolicy.schema.model import FieldSpec, RecordSpec, Schema

__all__ = [
    "BLOCK",
    "KEY",
    "TABLE_SUFFIXES",
    "RegistryWriter",
    "read_tables",
    "registry_tables",
    "table_blocks",
    "write_registry",
]

TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}
KEY = "household_id"
"""The column of a list's table naming the household an item belongs to."""

register(
    {
        "table/unreadable": entry(
            "error",
            "cannot read the table `{path}`: {reason}",
            "无法读取表格 `{path}`：{reason}",
        ),
        "table/needs-extra": entry(
            "error",
            "reading `{path}` needs the `excel` extra, which is not installed",
            "读取 `{path}` 需要安装 `excel` 扩展",
            "install it with `pip install 'gspolicy[excel]'`, or save the workbook as CSV",
            "请用 `pip install 'gspolicy[excel]'` 安装，或把工作簿另存为 CSV",
        ),
        "table/no-key": entry(
            "error",
            "the table `{path}` has no column `{key}` naming each row's household",
            "表格 `{path}` 没有标明每行所属农户的 `{key}` 列",
        ),
        "table/unknown-household": entry(
            "error",
            "`{path}` row {row}: no household `{id}` in `{households}`",
            "`{path}` 第 {row} 行：`{households}` 中没有农户 `{id}`",
        ),
        "table/not-text": entry(
            "error",
            "`{path}` is not {encoding} text: {reason}",
            "`{path}` 不是 {encoding} 编码的文本：{reason}",
            "give the file's encoding with `--encoding`, e.g. `--encoding gb18030`",
            "请用 `--encoding` 指定文件编码，例如 `--encoding gb18030`",
        ),
    }
)

_Item = tuple[object, int | None, Callable[[DataPath], RecordLocation], Callable[[DataPath], RecordLocation]]


def read_tables(
    path: Path, schema: Schema, *, record: str | None = None, name: str | None = None, encoding: str = "utf-8"
) -> tuple[list[_Item] | None, list[Diagnostic]]:
    """The records of the registry tables starting at `path`, as items for the record loader
    (the data, the row, and how to locate a problem), or None and the problems that stop it."""
    blocks, problems = table_blocks(path, schema, record=record, name=name, encoding=encoding)
    if blocks is None:
        return None, problems
    return [item for block in blocks for item in block], problems


BLOCK = 4_096
"""Households nested into records at a time (`table_blocks`)."""


def table_blocks(
    path: Path,
    schema: Schema,
    *,
    record: str | None = None,
    name: str | None = None,
    encoding: str = "utf-8",
    size: int | None = None,
) -> tuple[Iterator[list[_Item]] | None, list[Diagnostic]]:
    """The records of the registry tables starting at `path`, `size` households at a time (the
    tables are held as Polars frames; only a block's records are built at once), or None and
    the problems that stop them — a table that cannot be read, a list's table without
    `household_id`, an item whose household is not in the households' table — found before any
    block."""
    spec = schema.records[record or schema.root]
    kind = TABLE_SUFFIXES[path.suffix.lower()]
    shown = name or str(path)
    if kind == "xlsx" and importlib.util.find_spec("fastexcel") is None:
        return None, [Diagnostic("table/needs-extra", None, {"path": shown})]
    lists = [f for f, s in spec.fields.items() if s.kind == "list" and s.gather is None]
    try:
        tables = _read(path, kind, lists, encoding, shown)
    except _Refused as err:
        return None, [err.diagnostic]
    main_name, main = tables.pop("")
    first_row = 1 if kind == "parquet" else 2  # a CSV file's or a sheet's header is its row 1
    headers = _headers(schema, spec)
    key = spec.key or "id"
    key_columns = [
        c for c in main.columns if headers.get(str(c).strip(), tuple(str(c).strip().split("."))) == (key,)
    ]
    index_of: dict[str, int] = {}
    if key_columns:
        for i, raw in enumerate(main[key_columns[0]].to_list()):
            ident = _cell(raw)
            if ident is not None:
                index_of.setdefault(str(ident), i)
    problems: list[Diagnostic] = []
    prepared: list[tuple[str, str, pl.DataFrame, pl.Series, pl.Series, RecordSpec]] = []
    for field, (file_name, table) in tables.items():
        if table.height == 0:
            continue  # an empty table (or only its header): no items
        if KEY not in table.columns:
            problems.append(Diagnostic("table/no-key", None, {"path": file_name, "key": KEY}))
            continue
        owners: list[int | None] = []
        for number, raw in enumerate(table[KEY].to_list(), start=first_row):
            ident = _cell(raw)
            owner = index_of.get(str(ident)) if ident is not None else None
            if owner is None:
                problems.append(
                    Diagnostic(
                        "table/unknown-household",
                        RecordLocation(file_name, number),
                        {"path": file_name, "row": number, "id": str(raw), "households": main_name},
                    )
                )
            owners.append(owner)
        # the items by household, each household's in the order of their rows
        by_owner = pl.DataFrame(
            {"owner": owners, "row": range(len(owners))}, schema={"owner": pl.Int64(), "row": pl.Int64()}
        ).sort(["owner", "row"], nulls_last=True)
        item_spec = schema.records[spec.fields[field].record or ""]
        prepared.append((field, file_name, table.drop(KEY), by_owner["row"], by_owner["owner"], item_spec))
    if any(d.is_error for d in problems):
        return None, problems
    step = size or BLOCK

    def blocks() -> Iterator[list[_Item]]:
        item_headers = {field: _headers(schema, item_spec) for field, _f, _t, _o, _s, item_spec in prepared}
        for start in range(0, main.height, step):
            stop = min(main.height, start + step)
            rows = [
                _nest(row, headers, schema, spec)
                for row in main.slice(start, stop - start).iter_rows(named=True)
            ]
            item_rows: dict[tuple[int, str, int], tuple[str, int]] = {}
            for field, file_name, table, order, owners, item_spec in prepared:
                low = int(owners.search_sorted(start, "left"))
                high = int(owners.search_sorted(stop, "left"))
                picked = order.slice(low, high - low)
                part = table[picked.to_list()]
                for index, owner, raw in zip(
                    picked.to_list(),
                    owners.slice(low, high - low).to_list(),
                    part.iter_rows(named=True),
                    strict=True,
                ):
                    target = owner - start
                    items = rows[target].setdefault(field, [])
                    item_rows[(target, field, len(items))] = (file_name, index + first_row)
                    items.append(_nest(raw, item_headers[field], schema, item_spec))
            out: list[_Item] = []
            for i, data in enumerate(rows):
                line = start + i + first_row

                def locate(
                    path: DataPath,
                    i: int = i,
                    line: int = line,
                    item_rows: dict[tuple[int, str, int], tuple[str, int]] = item_rows,
                ) -> RecordLocation:
                    if len(path) >= 2 and isinstance(path[1], int):
                        found = item_rows.get((i, str(path[0]), path[1]))
                        if found is not None:
                            return RecordLocation(found[0], found[1], path)
                    return RecordLocation(main_name, line, path)

                out.append((data, line, locate, locate))
            yield out

    return blocks(), problems


class _Refused(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.code)
        self.diagnostic = diagnostic


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

    Used as a context manager: the files are complete when it exits without an error.  A
    household with a field outside the schema, or more rows than an Excel sheet holds, raises
    `ValueError` naming it."""

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


def _read(
    path: Path, kind: str, lists: list[str], encoding: str, shown: str
) -> dict[str, tuple[str, pl.DataFrame]]:
    """The households' table (key ``""``) and each list's table found, with the names to show."""
    out: dict[str, tuple[str, pl.DataFrame]] = {}
    if kind == "xlsx":
        try:
            sheets = pl.read_excel(path, sheet_id=0, raise_if_empty=False)
        except Exception as err:  # the reader's own errors: a damaged or foreign file
            raise _Refused(
                Diagnostic("table/unreadable", None, {"path": shown, "reason": _reason(err)})
            ) from None
        names = list(sheets)
        first = "households" if "households" in sheets else names[0]
        out[""] = (f"{shown}[{first}]", sheets[first])
        for field in lists:
            if field in sheets and field != first:
                out[field] = (f"{shown}[{field}]", sheets[field])
        return out
    out[""] = (shown, _read_one(path, kind, encoding, shown))
    for field in lists:
        for candidate in _companions(path, field):
            if candidate.is_file():
                out[field] = (str(candidate), _read_one(candidate, kind, encoding, str(candidate)))
                break
    return out


def _companions(path: Path, field: str) -> list[Path]:
    """Where a list's table may be: ``NAME.members.csv``; beside ``households.csv`` also ``members.csv``."""
    found = [path.with_name(f"{path.stem}.{field}{path.suffix}")]
    if path.stem == "households":
        found.append(path.with_name(f"{field}{path.suffix}"))
    return found


def _read_one(path: Path, kind: str, encoding: str, shown: str) -> pl.DataFrame:
    if kind == "parquet":
        try:
            return pl.read_parquet(path)
        except Exception as err:  # the reader's own errors: a damaged or foreign file
            raise _Refused(
                Diagnostic("table/unreadable", None, {"path": shown, "reason": _reason(err)})
            ) from None
    data, problems = read_bytes(path, name=shown)
    if data is None:
        raise _Refused(problems[0])
    try:
        text = data.decode(
            "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        )
    except (UnicodeDecodeError, LookupError) as err:
        raise _Refused(
            Diagnostic("table/not-text", None, {"path": shown, "encoding": encoding, "reason": _reason(err)})
        ) from None
    if not text.strip():
        return pl.DataFrame()  # an empty file: no rows
    try:
        return pl.read_csv(text.encode("utf-8"), infer_schema=False)
    except Exception as err:  # the reader's own errors: ragged rows, bad quoting
        raise _Refused(
            Diagnostic("table/unreadable", None, {"path": shown, "reason": _reason(err)})
        ) from None


def _reason(err: Exception) -> str:
    return str(err).splitlines()[0][:200] if str(err) else type(err).__name__


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


def _field(schema: Schema, spec: RecordSpec, path: tuple[str, ...]) -> FieldSpec | None:
    record: RecordSpec | None = spec
    found: FieldSpec | None = None
    for part in path:
        if record is None:
            return None
        found = record.fields.get(part)
        if found is None:
            return None
        record = schema.records.get(found.record or "") if found.kind == "record" else None
    return found


def _nest(
    row: Mapping[str, Any], headers: Mapping[str, tuple[str, ...]], schema: Schema, spec: RecordSpec
) -> dict[str, Any]:
    """A table row as a nested record: dotted headers into nested fields, empty cells left out,
    a set's codes split at ``;``."""
    out: dict[str, Any] = {}
    for header, raw in row.items():
        value = _cell(raw)
        if value is None:
            continue
        name = str(header).strip()
        path = headers.get(name, tuple(name.split(".")))
        field = _field(schema, spec, path)
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


def _cell(raw: object) -> object:
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
        return {k: v for k, v in ((str(k), _cell(v)) for k, v in raw.items()) if v is not None}
    if isinstance(raw, list | tuple):
        return [_cell(v) for v in raw]
    return str(raw)
