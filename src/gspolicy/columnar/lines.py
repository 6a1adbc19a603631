"""JSON Lines as registry tables: each line parsed by a fast parser and flattened into the rows
`Ingest` checks by columns, or set aside for the record validator.

A line is flattened only when nothing about it can differ from what the validator reads:
orjson parses it (a line it refuses goes to the validator), every number literal of the line is
shorter than 16 characters (orjson reads a fraction as a binary float; below 16 digits the float's
shortest form is the literal's exact value, and a longer integer becomes a float), its keys
counted in the text equal the keys parsed (so no key was given twice), every value has a type
its field accepts and a text `Ingest` reads as the validator reads the value (no empty texts, no
`;` inside a code of a set), and nothing is given that rows of cells cannot say (an empty list,
a nested record without a value).  Anything else leaves the line to the validator, which
locates its problems as it always has.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson
import polars as pl

from gspolicy.schema.model import RecordSpec, Schema
from gspolicy.schema.tabular import OWNER

__all__ = ["Flattened", "Flattener"]

# a run of 16 characters that can make a number, found by mapping every byte to `x`, `q` (a
# quote) or a blank: a number literal never follows a quote, so a run that starts just after one
# opens a text (an id such as `621226-108317-01`) and is let through; any other run (a number
# literal, or a text with a blank before its digits) leaves the line to the validator
_NUMBER_CHARS = bytes(
    0x78 if chr(i) in "0123456789.eE+-" else 0x71 if chr(i) == '"' else 0x20 for i in range(256)
)
_RUN = b"x" * 16


def _long_number(mapped: bytes) -> bool:
    """Whether a line mapped by `_NUMBER_CHARS` has a run of 16 number characters not opened by
    a quote (the first place a run of 16 is found is where its run starts)."""
    start = 0
    while True:
        at = mapped.find(_RUN, start)
        if at < 0:
            return False
        if at == 0 or mapped[at - 1] != 0x71:
            return True
        end = at + len(_RUN)
        while end < len(mapped) and mapped[end] == 0x78:
            end += 1
        start = end


_KEY = re.compile(r'"\s*:')


def _keys_in(line: str) -> int:
    """How many keys the text of a line gives (at least: a `":` inside a text counts too, which
    only ever leaves a line to the validator)."""
    if '" ' in line or '"\t' in line or '"\r' in line:
        return len(_KEY.findall(line))  # blanks after a quote: the pattern finds `"  :` too
    return line.count('":')


_NUMBER_KINDS = frozenset({"int", "money", "ratio", "decimal"})


class Flattened:
    """A block of lines flattened: the households' cells, each list's item rows (with `OWNER`),
    and for each line of the block whether it was flattened (else the validator reads it)."""

    def __init__(self, main: pl.DataFrame, items: dict[str, pl.DataFrame], flat: list[bool]) -> None:
        self.main = main
        self.items = items
        self.flat = flat


_SCALAR, _RECORD, _LIST = 0, 1, 2
_BOOL, _NUMBER, _STRING, _TEXT, _SET = 0, 1, 2, 3, 4  # what a scalar field accepts (see `_walk`)


class Flattener:
    """Flattens lines of household records into the columns of `schema`'s root record type."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.spec = schema.records[schema.root]
        self.lists = [n for n, f in self.spec.fields.items() if f.kind == "list" and f.gather is None]
        self.main_columns = _scalar_paths(schema, self.spec)
        self.item_columns = {
            name: _scalar_paths(schema, schema.records[self.spec.fields[name].record or ""])
            for name in self.lists
        }
        # each record type's fields as (what, detail): a scalar's accepted values, a nested
        # record's fields, a list's item fields (gathered lists are not data: not listed)
        self.fields: dict[str, dict[str, tuple[int, Any]]] = {}
        for name in schema.records:
            self._fields(name)

    def _fields(self, record: str) -> dict[str, tuple[int, Any]]:
        found = self.fields.get(record)
        if found is not None:
            return found
        out: dict[str, tuple[int, Any]] = {}
        self.fields[record] = out
        for name, field in self.schema.records[record].fields.items():
            if field.gather is not None:
                continue
            nested = field.record if field.record in self.schema.records else None
            if field.kind == "record" and nested is not None:
                out[name] = (_RECORD, self._fields(nested))
            elif field.kind == "list" and nested is not None:
                out[name] = (_LIST, self._fields(nested))
            elif field.kind == "bool":
                out[name] = (_SCALAR, _BOOL)
            elif field.kind in _NUMBER_KINDS:
                out[name] = (_SCALAR, _NUMBER)
            elif field.kind == "string":
                out[name] = (_SCALAR, _STRING)
            elif field.kind == "set":
                out[name] = (_SCALAR, _SET)
            else:  # enum, date
                out[name] = (_SCALAR, _TEXT)
        return out

    def block(self, lines: Sequence[str]) -> Flattened:
        """Flatten `lines` (each one household's JSON text)."""
        rows: list[dict[str, str]] = []
        items: dict[str, list[dict[str, Any]]] = {name: [] for name in self.lists}
        flat: list[bool] = []
        root = self.fields[self.schema.root]
        for line in lines:
            found = self._line(line, root)
            if found is None:
                flat.append(False)
                continue
            cells, listed = found
            flat.append(True)
            owner = len(rows)
            rows.append(cells)
            for name, listed_rows in listed.items():
                target = items[name]
                for item in listed_rows:
                    item[OWNER] = owner
                    target.append(item)
        main_schema = dict.fromkeys(self.main_columns, pl.String())
        main_frame = pl.from_dicts(rows, schema=main_schema) if rows else pl.DataFrame(schema=main_schema)
        item_frames = {}
        for name, found_items in items.items():
            item_schema = {OWNER: pl.UInt32(), **dict.fromkeys(self.item_columns[name], pl.String())}
            item_frames[name] = (
                pl.from_dicts(found_items, schema=item_schema)
                if found_items
                else pl.DataFrame(schema=item_schema)
            )
        return Flattened(main_frame, item_frames, flat)

    def _line(
        self, line: str, root: dict[str, tuple[int, Any]]
    ) -> tuple[dict[str, str], dict[str, list[dict[str, Any]]]] | None:
        if _long_number(line.encode().translate(_NUMBER_CHARS)):
            return None
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        if type(data) is not dict:
            return None
        cells: dict[str, str] = {}
        listed: dict[str, list[dict[str, Any]]] = {}
        keys = _walk(data, root, "", cells, listed)
        if keys is None or keys != _keys_in(line):
            return None
        return cells, listed


def _walk(
    data: dict[str, Any],
    fields: dict[str, tuple[int, Any]],
    prefix: str,
    cells: dict[str, Any],
    listed: dict[str, list[dict[str, Any]]] | None,
) -> int | None:
    """Put the cells of `data` (a record with `fields`) in `cells`; the number of keys read, or
    None when the record cannot be flattened as the validator would read it."""
    keys = len(data)
    for key, value in data.items():
        found = fields.get(key)
        if found is None:
            return None  # a key that is no field (or a gathered list): the validator says so
        if value is None:
            continue  # an explicit null is a missing value
        what, detail = found
        if what == _SCALAR:
            kind_of = type(value)
            if kind_of is str:
                if detail == _SET or not value.strip(" "):
                    return None
                text = value
            elif kind_of is bool:
                if detail != _BOOL:
                    return None
                text = "true" if value else "false"
            elif kind_of is int:
                if detail not in (_NUMBER, _STRING):
                    return None
                text = str(value)
            elif kind_of is float:
                if detail != _NUMBER:
                    return None
                text = repr(value)
            elif kind_of is list and detail == _SET:
                if not all(type(c) is str and c.strip(" ") and ";" not in c and "；" not in c for c in value):
                    return None
                text = ";".join(value) if value else ";"
            else:
                return None
            cells[prefix + key] = text
        elif what == _RECORD:
            if type(value) is not dict:
                return None
            before = len(cells)
            inner = _walk(value, detail, f"{prefix}{key}.", cells, None)
            if inner is None or len(cells) == before:
                return None  # a record given with no value: present, which no cell can say
            keys += inner
        else:
            if listed is None or prefix or type(value) is not list or not value:
                return None  # an empty list is given, which no row of items can say
            rows: list[dict[str, Any]] = []
            for item in value:
                if type(item) is not dict:
                    return None
                item_cells: dict[str, Any] = {}
                inner = _walk(item, detail, "", item_cells, None)
                if inner is None:
                    return None
                keys += inner
                rows.append(item_cells)
            listed[key] = rows
    return keys


def _scalar_paths(schema: Schema, spec: RecordSpec, prefix: str = "") -> list[str]:
    """The dotted path of every field of `spec` that holds a value (nested records walked, lists
    aside)."""
    out: list[str] = []
    for name, field in spec.fields.items():
        nested = schema.records.get(field.record or "") if field.kind == "record" else None
        if nested is not None:
            out += _scalar_paths(schema, nested, f"{prefix}{name}.")
        elif field.kind != "list":
            out.append(f"{prefix}{name}")
    return out
