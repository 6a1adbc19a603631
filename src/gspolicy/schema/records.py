"""Loading record files (JSON, JSONL, YAML, registry tables) into typed, immutable `Record`s.

Every problem in a file is reported at once, each with the file, the line and the data path
(``households.jsonl:17: members[2].age: ...``); a file with any error yields no records at all.
Enum fields accept the stable code, the Chinese or English label or a listed alias, and
canonicalise to the code; money is exact (`Decimal`, at most two decimal places).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import attrs

from gspolicy._files import read_bytes, read_source
from gspolicy._gc import collector_paused
from gspolicy._i18n import Text
from gspolicy._location import DataPath, RecordLocation, Source
from gspolicy._yaml import YMap, YNode, YSeq, describe_value, load_yaml
from gspolicy.errors import Diagnostic
from gspolicy.schema.id_ledger import IdLedger
from gspolicy.schema.model import Record, Schema
from gspolicy.schema.record_text import (
    JSON_DECODER,
    Locate,
    json_error,
    json_loads,
    json_locator,
    plain_data,
    skip_space,
    tree_locator,
    yaml_plain,
)
from gspolicy.schema.validate import MAX_TEXT, Checker, validate_record

__all__ = [
    "MAX_TEXT",
    "RECORD_SUFFIXES",
    "IdLedger",
    "Loaded",
    "Refused",
    "file_blocks",
    "jsonl_sources",
    "load_items",
    "load_jsonl_source",
    "load_record_file",
    "load_records",
    "load_records_skipping",
    "stream_records",
    "validate_record",
]

RECORD_SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".yaml": "yaml", ".yml": "yaml"}
TABLE_SUFFIXES = (".csv", ".parquet", ".xlsx")
"""Registry tables (households, members, support items; `gspolicy.schema.tabular`)."""
MAX_RECORDS = 5_000_000
"""The most records one file may hold."""


def load_record_file(
    path: Path, schema: Schema, *, record: str | None = None, name: str | None = None
) -> tuple[tuple[Record, ...], list[Diagnostic]]:
    """Load every record of one file; on any error, return no records and all the diagnostics."""
    loaded = _load_file(path, schema, record=record, name=name)
    return loaded.records, loaded.diagnostics


def _load_file(
    path: Path,
    schema: Schema,
    *,
    record: str | None = None,
    name: str | None = None,
    keep_refused: bool = False,
    encoding: str = "utf-8",
) -> Loaded:
    suffix = path.suffix.lower()
    fmt = RECORD_SUFFIXES.get(suffix) or ("table" if suffix in TABLE_SUFFIXES else None)
    shown = name or str(path)
    if fmt is None:
        return Loaded((), [Diagnostic("io/unknown-format", None, {"path": shown})], 0, 0, True)
    if fmt == "table":
        # Polars reads registry tables; imported only when one is given
        from gspolicy.schema.tabular import read_tables  # noqa: PLC0415

        items, problems = read_tables(path, schema, record=record, name=shown, encoding=encoding)
        if items is None:
            return Loaded((), problems, 0, 0, True)
        with collector_paused():
            loaded = _load(
                Source(shown, ""),
                schema,
                fmt=fmt,
                record=record,
                keep_refused=keep_refused,
                items=iter(items),
            )
        return attrs.evolve(loaded, diagnostics=[*problems, *loaded.diagnostics])
    source, problems = read_source(path, name=shown)
    if source is None:
        return Loaded((), problems, 0, 0, True)
    with collector_paused():  # records are acyclic: see gspolicy._gc
        return _load(source, schema, fmt=fmt, record=record, keep_refused=keep_refused)


_Item = tuple[object, int | None, Locate, Locate]


def _jsonl_items(source: Source, diagnostics: list[Diagnostic]) -> Iterator[_Item]:
    text = source.text
    pos = 0
    number = source.first_line - 1
    while pos < len(text):
        newline = text.find("\n", pos)
        stop = len(text) if newline == -1 else newline
        number += 1
        line = text[pos:stop]
        if line.strip():
            try:
                data = json_loads(line)
            except (ValueError, RecursionError) as err:
                diagnostics.append(json_error(source, err, pos, number, line))
            else:
                loc, key_loc = json_locator(source, pos, number)
                yield data, number, loc, key_loc
        pos = stop + 1


def _json_items(source: Source, diagnostics: list[Diagnostic]) -> Iterator[_Item]:
    """The records of a JSON document — a list of records, or one record — decoded item by item,
    so that each knows where its text starts (for its line and for locating its problems)."""
    text = source.text
    pos = skip_space(text, 0)
    try:
        if pos < len(text) and text[pos] == "[":
            pos = skip_space(text, pos + 1)
            if pos < len(text) and text[pos] == "]":
                pos = skip_space(text, pos + 1)
            else:
                while True:
                    data, end = JSON_DECODER.raw_decode(text, pos)
                    loc, key_loc = json_locator(source, pos, None)
                    yield data, source.line_col(pos)[0], loc, key_loc
                    pos = skip_space(text, end)
                    if pos < len(text) and text[pos] == ",":
                        pos = skip_space(text, pos + 1)
                    elif pos < len(text) and text[pos] == "]":
                        pos = skip_space(text, pos + 1)
                        break
                    else:
                        raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        else:
            data, end = JSON_DECODER.raw_decode(text, pos)
            if not isinstance(data, dict):
                diagnostics.append(
                    Diagnostic(
                        "record/not-a-list", RecordLocation(source.name, 1), {"found": describe_value(data)}
                    )
                )
                return
            loc, key_loc = json_locator(source, pos, None)
            yield data, source.line_col(pos)[0], loc, key_loc
            pos = skip_space(text, end)
        if pos < len(text):
            raise json.JSONDecodeError("Extra data", text, pos)
    except (ValueError, RecursionError) as err:
        diagnostics.append(json_error(source, err, 0, None, text))


def _yaml_items(source: Source, diagnostics: list[Diagnostic]) -> Iterator[_Item]:
    whole, problems = load_yaml(source)
    diagnostics.extend(problems)
    if whole is None or any(d.is_error for d in problems):
        return

    def tree_of() -> YNode | None:
        return whole

    if isinstance(whole, YSeq):
        # each record converted to plain data only when it is validated, then let go
        for index, node in enumerate(whole.items):
            loc, key_loc = tree_locator(source, tree_of, None, DataPath([index]))
            yield yaml_plain(node), node.span.line, loc, key_loc
    elif isinstance(whole, YMap):
        loc, key_loc = tree_locator(source, tree_of, None, DataPath())
        yield yaml_plain(whole), whole.span.line, loc, key_loc
    else:
        found = describe_value(yaml_plain(whole))
        diagnostics.append(Diagnostic("record/not-a-list", RecordLocation(source.name, 1), {"found": found}))


_NON_BLANK_LINE = re.compile(r"^[ \t\r\f\v]*[^\s]", re.MULTILINE)


def _too_many(source: Source, fmt: str) -> bool:
    """Whether a JSONL text holds more than `MAX_RECORDS` records, counted before any is read."""
    if fmt != "jsonl" or source.text.count("\n") < MAX_RECORDS:
        return False
    return any(count > MAX_RECORDS for count, _ in enumerate(_NON_BLANK_LINE.finditer(source.text), start=1))


def load_records(
    source: Source, schema: Schema, *, fmt: str, record: str | None = None
) -> tuple[tuple[Record, ...], list[Diagnostic]]:
    """Load the records in a text of format ``json``, ``jsonl`` or ``yaml``.

    Each record is decoded, validated and let go before the next (nothing but the validated
    records is kept); more than `MAX_RECORDS` records are refused as soon as they are counted.
    """
    with collector_paused():  # records are acyclic: see gspolicy._gc
        loaded = _load(source, schema, fmt=fmt, record=record)
    return loaded.records, loaded.diagnostics


@attrs.frozen
class Refused:
    """A record left out by `load_records_skipping`: where it was, what was read (the decoded
    record, or the line's text when it is not JSON) and its problems."""

    file: str
    line: int | None
    data: object
    problems: tuple[Diagnostic, ...]


@attrs.frozen
class Loaded:
    """The records of a file, or of a block of it, as the validator read them."""

    records: tuple[Record, ...]
    diagnostics: list[Diagnostic]
    read: int  # records read from the file
    invalid: int  # records among them with a problem
    unreadable: bool  # the file could not be read as a whole (not found, bad JSON or YAML, too many)
    refused: tuple[Refused, ...] = ()  # with `keep_refused`: the records left out, each with its problems


def _load(
    source: Source,
    schema: Schema,
    *,
    fmt: str,
    record: str | None,
    keep_refused: bool = False,
    items: Iterator[_Item] | None = None,
    streamed: bool = False,
) -> Loaded:
    spec = schema.records[record or schema.root]
    diagnostics: list[Diagnostic] = []
    too_many = Diagnostic("record/too-many", RecordLocation(source.name, None), {"limit": MAX_RECORDS})
    if not streamed and _too_many(source, fmt):
        return Loaded((), [too_many], 0, 0, True)
    readers = {"jsonl": _jsonl_items, "json": _json_items, "yaml": _yaml_items}
    out: list[Record] = []
    refused: list[Refused] = []
    key = spec.key
    first_seen: dict[object, Locate] = {}
    count = invalid = 0
    for data, line, loc, key_loc in items if items is not None else readers[fmt](source, diagnostics):
        count += 1
        if count > MAX_RECORDS and not streamed:
            return Loaded((), [too_many], 0, 0, True)
        checker = Checker(schema, loc, key_loc, refuse_gathered=True)
        result = checker.record(data, spec, DataPath())
        diagnostics.extend(checker.diagnostics)
        if result is None:
            invalid += 1
            if keep_refused:
                refused.append(Refused(source.name, line, plain_data(data), tuple(checker.diagnostics)))
            continue
        result.origin = RecordLocation(source.name, line)
        if key is not None and key in result:
            ident = result[key]
            if ident in first_seen:
                duplicate = Diagnostic(
                    "record/duplicate-id",
                    loc(DataPath([key])),
                    {"what": spec.title, "id": ident, "first": _file_line(first_seen[ident](DataPath()))},
                )
                diagnostics.append(duplicate)
                invalid += 1
                if keep_refused:
                    refused.append(Refused(source.name, line, plain_data(data), (duplicate,)))
                continue
            first_seen[ident] = loc
        out.append(result)
    if any(d.is_error for d in diagnostics):
        # a syntax problem in JSONL spoils its line; in JSON or YAML the whole document
        if fmt == "jsonl":
            bad = {d.location.line: d for d in diagnostics if d.code == "record/json-syntax" and d.location}
            if keep_refused:
                refused.extend(
                    Refused(source.name, n, source.line_text(n), (d,))
                    for n, d in bad.items()
                    if n is not None
                )
                refused.sort(key=lambda r: r.line or 0)
                return Loaded(
                    tuple(out), diagnostics, count + len(bad), invalid + len(bad), False, tuple(refused)
                )
            return Loaded((), diagnostics, count + len(bad), invalid + len(bad), False)
        broken = any(
            d.code in ("record/json-syntax", "record/not-a-list") or d.code.startswith("yaml/")
            for d in diagnostics
        )
        if keep_refused and not broken:
            return Loaded(tuple(out), diagnostics, count, invalid, False, tuple(refused))
        return Loaded((), diagnostics, count, invalid, broken)
    return Loaded(tuple(out), diagnostics, count, 0, False)


STREAM_LINES = 4_096
"""Lines of a JSON Lines file read, checked and decided at a time (`stream_records`)."""


def stream_records(
    paths: Sequence[Path],
    schema: Schema,
    *,
    record: str | None = None,
    keep_refused: bool = False,
    encoding: str = "utf-8",
    lines: int | None = None,
) -> Iterator[tuple[tuple[Record, ...], tuple[Refused, ...], list[Diagnostic], bool]]:
    """The records of several files, a block at a time: (valid records, refused records — with
    `keep_refused` —, problems, whether a file could not be read as a whole).  A JSON Lines file
    is read `lines` lines at a time and registry tables a block of households at a time, so
    memory stays flat however long they are (they have no size or record limit); other files are
    read whole.  Ids must be unique across all files.  Without `keep_refused`, a block with a
    problem yields no records and its problems: the caller decides nothing when any block had one."""
    spec = schema.records[record or schema.root]
    ledger = IdLedger(spec)
    for path in paths:
        for loaded in file_blocks(
            path, schema, record=record, keep_refused=keep_refused, encoding=encoding, lines=lines
        ):
            records: list[Record] = []
            refused = list(loaded.refused)
            problems = list(loaded.diagnostics)
            for rec, duplicate in zip(
                loaded.records, ledger.admit_records(loaded.records, str(path)), strict=True
            ):
                if duplicate is not None:
                    problems.append(duplicate)
                    if keep_refused:
                        line = rec.origin.line if rec.origin else None
                        refused.append(Refused(str(path), line or None, rec.to_data(), (duplicate,)))
                    continue
                records.append(rec)
            if not keep_refused and any(d.is_error for d in problems):
                records = []
            yield tuple(records), tuple(refused), problems, loaded.unreadable


def file_blocks(
    path: Path,
    schema: Schema,
    *,
    record: str | None = None,
    keep_refused: bool = False,
    encoding: str = "utf-8",
    lines: int | None = None,
) -> Iterator[Loaded]:
    """The records of one file a block at a time (ids unique within a block only; see
    `stream_records`)."""
    if RECORD_SUFFIXES.get(path.suffix.lower()) == "jsonl":
        return _jsonl_blocks(path, schema, record, keep_refused, lines or STREAM_LINES)
    if path.suffix.lower() in TABLE_SUFFIXES:
        return _table_blocks(path, schema, record, keep_refused, encoding, lines or STREAM_LINES)
    return iter([_load_file(path, schema, record=record, keep_refused=keep_refused, encoding=encoding)])


def load_items(
    name: str, schema: Schema, items: Iterable[_Item], *, record: str | None = None
) -> tuple[tuple[Record, ...], tuple[Refused, ...], list[Diagnostic]]:
    """Validate records given as items (plain data and how to locate a problem in it, as the
    table reader nests them): the valid ones, the refused ones with their problems, and every
    problem (ids unique among these only)."""
    loaded = _load_items(name, schema, items, record=record, keep_refused=True)
    return loaded.records, loaded.refused, loaded.diagnostics


def _load_items(
    name: str, schema: Schema, items: Iterable[_Item], *, record: str | None, keep_refused: bool
) -> Loaded:
    with collector_paused():
        return _load(
            Source(name, ""),
            schema,
            fmt="table",
            record=record,
            keep_refused=keep_refused,
            items=iter(items),
            streamed=True,
        )


def _table_blocks(
    path: Path, schema: Schema, record: str | None, keep_refused: bool, encoding: str, size: int
) -> Iterator[Loaded]:
    """Registry tables a block of households at a time (`gspolicy.schema.tabular.table_blocks`)."""
    from gspolicy.schema.table_files import TableError  # noqa: PLC0415  # Polars only for tables
    from gspolicy.schema.tabular import table_blocks  # noqa: PLC0415

    shown = str(path)
    blocks, problems = table_blocks(path, schema, record=record, name=shown, encoding=encoding, size=size)
    if blocks is None:
        yield Loaded((), problems, 0, 0, True)
        return
    while True:
        try:
            items = next(blocks, None)
        except TableError as err:  # a row that cannot be read, met on the way
            yield Loaded((), [*problems, err.diagnostic], 0, 0, True)
            return
        if items is None:
            break
        loaded = _load_items(shown, schema, items, record=record, keep_refused=keep_refused)
        yield attrs.evolve(loaded, diagnostics=[*problems, *loaded.diagnostics])
        problems = []  # the tables' own notes once, with the first block


def _jsonl_blocks(
    path: Path, schema: Schema, record: str | None, keep_refused: bool, lines: int
) -> Iterator[Loaded]:
    """A JSON Lines file read `lines` lines at a time, each block checked as a text of its own
    that knows the file's line number of its first line."""
    for found in jsonl_sources(path, lines):
        if isinstance(found, Source):
            yield load_jsonl_source(found, schema, record=record, keep_refused=keep_refused)
        else:
            yield Loaded((), found, 0, 0, True)
            return


def jsonl_sources(path: Path, lines: int | None = None) -> Iterator[Source | list[Diagnostic]]:
    """A JSON Lines file as texts of `lines` lines (each a `Source` knowing the line number of
    its first line), or, last, the problems that stop reading it (not found, not UTF-8)."""
    shown = str(path)
    size = lines or STREAM_LINES
    if not path.is_file():  # not found, a folder, a device: `read_bytes` says which, opening nothing
        _data, problems = read_bytes(path, name=shown)
        yield problems or [Diagnostic("io/not-a-file", None, {"path": shown})]
        return
    first = 1
    try:
        handle = path.open("rb")
    except OSError as err:
        yield [Diagnostic("io/unreadable", None, {"path": shown, "reason": err.strerror or str(err)})]
        return
    with handle:
        while True:
            block = [line for _, line in zip(range(size), handle, strict=False)]
            if not block:
                return
            raw = b"".join(block)
            if first == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                bad_line = first + raw[: err.start].count(b"\n")
                yield [
                    Diagnostic(
                        "io/not-utf8", RecordLocation(shown, bad_line), {"path": shown, "line": bad_line}
                    )
                ]
                return
            yield Source(shown, text, first_line=first)
            first += len(block)


def load_jsonl_source(
    source: Source, schema: Schema, *, record: str | None = None, keep_refused: bool = True
) -> Loaded:
    """The records of a block of JSON Lines (`jsonl_sources`), each problem at its line."""
    with collector_paused():
        return _load(source, schema, fmt="jsonl", record=record, keep_refused=keep_refused, streamed=True)


def load_records_skipping(
    paths: Sequence[Path], schema: Schema, *, record: str | None = None, encoding: str = "utf-8"
) -> tuple[tuple[Record, ...], tuple[Refused, ...], list[Diagnostic]]:
    """Load several files of records, leaving out the records with problems instead of refusing
    the files: the valid records, the refused ones (each with its problems; a later record with
    an id seen before among them), and the problems that stop the run — a file that cannot be read
    as a whole (not found, a broken JSON or YAML document, too many records) gives no record.
    Read + refused = every record of the files: nothing is dropped silently."""
    records: list[Record] = []
    refused: list[Refused] = []
    fatal: list[Diagnostic] = []
    spec = schema.records[record or schema.root]
    seen: dict[object, str] = {}
    for path in paths:
        loaded = _load_file(path, schema, record=record, keep_refused=True, encoding=encoding)
        if loaded.unreadable:
            fatal.extend(loaded.diagnostics)
            continue
        fatal.extend(d for d in loaded.diagnostics if not d.is_error)
        refused.extend(loaded.refused)
        for rec in loaded.records:
            if spec.key is not None and spec.key in rec:
                ident = rec[spec.key]
                where = rec.origin.header() if rec.origin else str(path)
                if ident in seen:
                    duplicate = Diagnostic(
                        "record/duplicate-id",
                        rec.origin,
                        {"what": spec.title, "id": ident, "first": seen[ident]},
                    )
                    line = rec.origin.line if rec.origin else None
                    refused.append(Refused(str(path), line, rec.to_data(), (duplicate,)))
                    continue
                seen[ident] = where
            records.append(rec)
    return tuple(records), tuple(refused), fatal


def _file_line(where: RecordLocation) -> str:
    return where.file if where.line is None else f"{where.file}:{where.line}"


def load_records_from(
    paths: Sequence[Path], schema: Schema, *, record: str | None = None, encoding: str = "utf-8"
) -> tuple[tuple[Record, ...], list[Diagnostic]]:
    """Load several files of records of type `record` (default: the root, households); ids must
    be unique across all of them.  On any error no record is returned, and a last diagnostic
    says how many records were read and how many of them have problems (none is decided)."""
    records: list[Record] = []
    diagnostics: list[Diagnostic] = []
    spec = schema.records[record or schema.root]
    seen: dict[object, str] = {}
    read = invalid = unreadable = 0
    for path in paths:
        loaded = _load_file(path, schema, record=record, encoding=encoding)
        diagnostics.extend(loaded.diagnostics)
        read += loaded.read
        invalid += loaded.invalid
        unreadable += loaded.unreadable
        for rec in loaded.records:
            if spec.key is not None and spec.key in rec:
                ident = rec[spec.key]
                where = rec.origin.header() if rec.origin else str(path)
                if ident in seen:
                    diagnostics.append(
                        Diagnostic(
                            "record/duplicate-id",
                            rec.origin,
                            {"what": spec.title, "id": ident, "first": seen[ident]},
                        )
                    )
                    invalid += 1
                    continue
                seen[ident] = where
            records.append(rec)
    if any(d.is_error for d in diagnostics):
        files = (
            Text(zh=f"，另有 {unreadable} 个文件无法读取", en=f", and {unreadable} file(s) could not be read")
            if unreadable
            else Text(zh="", en="")
        )
        diagnostics.append(
            Diagnostic("record/not-decided", None, {"count": read, "invalid": invalid, "files": files})
        )
        return (), diagnostics
    return tuple(records), diagnostics
