"""A registry's files read and decided a block of households at a time, by the fastest way that
gives the same answer.

`registry_blocks` reads the files as `gspolicy.schema.records.stream_records` reads them (JSON
Lines a block of lines at a time, registry tables a block of households at a time, other files
whole; ids unique across every file) and gives each block as a `RegistryBlock`: its valid
households, decided on demand into the outcome table, and its refused rows and problems.

Registry tables take a shorter way when the run lowers every pack: each block's cells are
checked by columns (`Ingest`), and the households proved valid go straight into the runner's
frames, without a record; only the others are nested and validated record by record, with their
located diagnostics.  A household's record is built from its rows only when something needs it
(`RegistryBlock.record`: a household explained, one the columns could not hold).  A block and how
one is made are `gspolicy.columnar.registry_block`; here the files are read into blocks, and the
run is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import polars as pl

from gspolicy._location import Source
from gspolicy.columnar.frames import Columns
from gspolicy.columnar.ingest import Ingest
from gspolicy.columnar.lines import Flattener
from gspolicy.columnar.registry_block import (
    Checked,
    Reading,
    RegistryBlock,
    checked_block,
    loaded_block,
    record_block,
)
from gspolicy.columnar.run import plan_run
from gspolicy.columnar.runner import counts_text, verdict_counts
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.id_ledger import IdLedger
from gspolicy.schema.model import Record, Schema
from gspolicy.schema.records import (
    RECORD_SUFFIXES,
    TABLE_SUFFIXES,
    file_blocks,
    jsonl_sources,
    load_items,
    load_jsonl_source,
)
from gspolicy.schema.table_files import TableError
from gspolicy.schema.tabular import RawBlock, open_tables

__all__ = ["COLUMN_BLOCK", "FEW_LINES", "LINE_BLOCK", "RegistryBlock", "records_of_kept", "registry_blocks"]

_log = logging.getLogger(__name__)

COLUMN_BLOCK = 16_384
"""Households of registry tables checked and decided by columns at a time: four times the block
the records are read in, as a column operation costs about the same for four times the rows
(200,000 households: a third less CPU time, peak memory 560 MB instead of 310 MB)."""
FEW_LINES = 256
"""A block of fewer JSON lines is read by the validator alone: checking by columns pays for its
fixed cost per block from a few hundred households on (60 households: 90 ms against 77)."""
LINE_BLOCK = 8_192
"""Lines of JSON Lines flattened and checked by columns at a time: a household's parsed line is
larger than its table rows (100,000 households: 14.7 CPU-s and 600 MB peak, against 16.5 CPU-s and
380 MB at 4,096 lines, 13.6 CPU-s and 930 MB at 16,384)."""


def registry_blocks(
    paths: Sequence[Path],
    policy_set: PolicySet,
    as_of: dt.date,
    *,
    exit_pack: str,
    encoding: str = "utf-8",
    columns: bool = True,
    derive: Sequence[tuple[str, str]] = (),
    keep: Sequence[tuple[str, ...]] = (),
    read: Columns | None = None,
) -> Iterator[RegistryBlock]:
    """Every block of the household files `paths` (see the module doc; `columns`: whether
    registry tables may be checked by columns).  Each block's outcome table also holds the
    derived fields `derive` asks for (`decide_frames`), and `RegistryBlock.kept` the fields at
    the paths `keep` (of kinds `KEPT_KINDS`), and `RegistryBlock.frames` the columns `read`
    besides the run's.

    With logger ``gspolicy`` at INFO, the run is logged when it ends: files, blocks, households
    read (valid and refused), decided and their verdicts, and the time spent reading and
    deciding."""
    schema = policy_set.schema
    spec = schema.records[schema.root]
    ledger = IdLedger(spec)
    run = plan_run(policy_set, schema.root, as_of)
    fast = columns and not run.fallback_packs and bool(run.plans)
    reading = Reading(policy_set, run, ledger, exit_pack, tuple(derive), tuple(keep), read)
    blocks = _blocks(paths, reading, fast, encoding)
    if _log.isEnabledFor(logging.INFO):
        blocks = _logged(blocks, len(paths), as_of, by_columns=fast)
    yield from blocks


@attrs.define
class _Tally:
    """What a logged registry run read and decided."""

    blocks: int = 0
    valid: int = 0
    refused: int = 0
    decided: int = 0
    verdicts: Counter[str] = attrs.field(factory=Counter)
    reading: float = 0.0
    deciding: float = 0.0


def _logged(
    blocks: Iterator[RegistryBlock], files: int, as_of: dt.date, *, by_columns: bool
) -> Iterator[RegistryBlock]:
    """`blocks` as they come, counted and timed; the run logged when it ends (or is closed)."""
    tally = _Tally()
    started = time.perf_counter()

    def timed(decide: Callable[[], pl.DataFrame]) -> Callable[[], pl.DataFrame]:
        done = False

        def run() -> pl.DataFrame:
            nonlocal done
            begun = time.perf_counter()
            frame = decide()
            tally.deciding += time.perf_counter() - begun
            if not done:  # a block decided twice is counted once
                done = True
                tally.decided += frame.height
                tally.verdicts.update(verdict_counts(frame))
            return frame

        return run

    try:
        while True:
            begun = time.perf_counter()
            block = next(blocks, None)
            tally.reading += time.perf_counter() - begun
            if block is None:
                break
            tally.blocks += 1
            tally.valid += block.valid
            tally.refused += len(block.refused)
            block._decide = timed(block._decide)
            yield block
    finally:
        _log.info(
            "registry run as of %s (%s): %d households valid and %d refused in %d blocks of %d "
            "files; decided %d: %s; reading %.3f s, deciding %.3f s, %.3f s in all",
            as_of,
            "checked by columns" if by_columns else "read record by record",
            tally.valid,
            tally.refused,
            tally.blocks,
            files,
            tally.decided,
            counts_text(dict(sorted(tally.verdicts.items()))),
            tally.reading,
            tally.deciding,
            time.perf_counter() - started,
        )


def _blocks(paths: Sequence[Path], reading: Reading, fast: bool, encoding: str) -> Iterator[RegistryBlock]:
    schema = reading.policy_set.schema
    for path in paths:
        if fast and path.suffix.lower() in TABLE_SUFFIXES and not _nested_parquet(path):
            yield from _table_blocks(path, reading, encoding)
            continue
        if fast and RECORD_SUFFIXES.get(path.suffix.lower()) == "jsonl":
            yield from _line_blocks(path, reading)
            continue
        for loaded in file_blocks(path, schema, keep_refused=True, encoding=encoding):
            yield loaded_block(reading, loaded, str(path))


def _nested_parquet(path: Path) -> bool:
    """Whether `path` is a Parquet file of households in the nested layout (a column holding lists
    of members or support items, or records): read record by record, as the record reader reads
    it, not as a registry table (one value per cell).  A file that cannot be read is left to the
    table reader, which says why."""
    if path.suffix.lower() != ".parquet":
        return False
    try:
        return any(dtype.is_nested() for dtype in pl.read_parquet_schema(path).values())
    except Exception:  # reported, located, by the table reader
        return False


def _table_blocks(path: Path, reading: Reading, encoding: str) -> Iterator[RegistryBlock]:
    schema = reading.policy_set.schema
    shown = str(path)
    reader, problems = open_tables(path, schema, name=shown, encoding=encoding)
    if reader is None:
        yield record_block(reading, [], [], problems, True)
        return
    key = schema.records[schema.root].key or "id"
    ingest = Ingest(
        schema,
        schema.root,
        reading.columns,
        reader.main_schema,
        reader.item_schemas,
        reader.headers,
        fields=(key, reading.county),
        keep=reading.keep,
    )
    blocks = reader.blocks(COLUMN_BLOCK)
    while True:
        try:
            raw = next(blocks, None)
        except TableError as err:  # a row that cannot be read, met on the way
            yield record_block(reading, [], [], [*problems, err.diagnostic], True)
            return
        if raw is None:
            return
        ids = raw.main[reader.key_columns[0]] if reader.key_columns else None

        def validate(rows: list[int], alone: bool, raw: RawBlock = raw) -> Checked:
            return load_items(shown, schema, raw.nest(rows)) if rows else ((), (), [])

        def line_of(row: int, raw: RawBlock = raw) -> int:
            return raw.start + row + raw.reader.first_row

        yield checked_block(reading, ingest, raw.main, raw.items, ids, validate, line_of, problems, shown)
        problems = []  # the tables' own notes once, with the first block


def _line_blocks(path: Path, reading: Reading) -> Iterator[RegistryBlock]:
    """A JSON Lines file a block of lines at a time, the lines a fast parser can flatten checked
    by columns (`Flattener`), the others read by the validator as always."""
    schema = reading.policy_set.schema
    shown = str(path)
    flattener = Flattener(schema)
    key = schema.records[schema.root].key or "id"
    ingest = Ingest(
        schema,
        schema.root,
        reading.columns,
        dict.fromkeys(flattener.main_columns, pl.String()),
        {name: dict.fromkeys(columns, pl.String()) for name, columns in flattener.item_columns.items()},
        {"": {}, **{name: {} for name in flattener.lists}},
        fields=(key, reading.county),
        keep=reading.keep,
    )
    for found in jsonl_sources(path, LINE_BLOCK):
        if not isinstance(found, Source):
            yield record_block(reading, [], [], found, True)
            return
        source = found
        texts = source.text.split("\n")
        numbered = [(source.first_line + i, t) for i, t in enumerate(texts) if t.strip()]
        if len(numbered) < FEW_LINES:  # a short file: the validator alone is quicker
            loaded = load_jsonl_source(source, schema)
            yield loaded_block(reading, loaded, shown)
            continue
        flat = flattener.block([t for _n, t in numbered])
        lines = [n for (n, _t), ok in zip(numbered, flat.flat, strict=True) if ok]
        others = {n for (n, _t), ok in zip(numbered, flat.flat, strict=True) if not ok}
        ids = flat.main[key] if key in flat.main.columns else None

        def validate(
            rows: list[int],
            alone: bool,
            lines: list[int] = lines,
            others: set[int] = others,
            texts: list[str] = texts,
            source: Source = source,
        ) -> Checked:
            """The records of `rows` and — unless `alone` — of the lines not flattened."""
            wanted = {lines[r] for r in rows} | (set() if alone else others)
            if not wanted:
                return (), (), []
            kept = "\n".join(t if source.first_line + i in wanted else "" for i, t in enumerate(texts))
            loaded = load_jsonl_source(Source(source.name, kept, first_line=source.first_line), schema)
            return loaded.records, loaded.refused, loaded.diagnostics

        def line_of(row: int, lines: list[int] = lines) -> int:
            return lines[row]

        yield checked_block(
            reading, ingest, flat.main, flat.items, ids, validate, line_of, [], shown, every_row_flat=False
        )


def records_of_kept(schema: Schema, paths: Sequence[tuple[str, ...]], kept: pl.DataFrame) -> list[Record]:
    """Root records holding only the fields at `paths` (the columns of `RegistryBlock.kept`),
    nested as the schema nests them, a field absent where its cell is null: what the areas'
    packs read of a household (`area_reads`), held in a fraction of the whole record's memory.
    Equal nested records are one object, and equal texts (codes) one string."""
    root = schema.root
    names = [".".join(p) for p in paths]
    texts: dict[str, str] = {}
    shared: dict[tuple[object, ...], Record] = {}
    tree: dict[str, Any] = {}
    for index, path in enumerate(paths):
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = index

    def record_type(owner: str, field: str) -> str:
        found = schema.records[owner].fields[field].record
        assert found is not None
        return found

    def build(owner: str, node: Mapping[str, Any], row: Sequence[object], top: bool) -> Record | None:
        values: dict[str, object] = {}
        for name, sub in node.items():
            if isinstance(sub, int):
                value = row[sub]
                if value is None:
                    continue
                if isinstance(value, str):
                    value = texts.setdefault(value, value)
                values[name] = value
            else:
                inner = build(record_type(owner, name), sub, row, False)
                if inner is not None:
                    values[name] = inner
        if top:
            return Record(owner, values)
        if not values:
            return None
        signature = (owner, *((k, id(v) if isinstance(v, Record) else v) for k, v in sorted(values.items())))
        found = shared.get(signature)
        if found is None:
            found = shared[signature] = Record(owner, values)
        return found

    out: list[Record] = []
    for row in kept.select(names).iter_rows():
        built = build(root, tree, row, True)
        assert built is not None
        out.append(built)
    return out
