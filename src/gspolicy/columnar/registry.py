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
(`RegistryBlock.record`: a household explained, one the columns could not hold).
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

from gspolicy._location import RecordLocation, Source
from gspolicy.columnar.ingest import Ingest, kept_dtype
from gspolicy.columnar.lines import Flattener
from gspolicy.columnar.run import ColumnarError, Run, plan_run
from gspolicy.columnar.runner import counts_text, decide_frame, decide_frames, verdict_counts
from gspolicy.errors import Diagnostic
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record, Schema
from gspolicy.schema.records import (
    RECORD_SUFFIXES,
    TABLE_SUFFIXES,
    IdLedger,
    Loaded,
    Refused,
    file_blocks,
    jsonl_sources,
    load_items,
    load_jsonl_source,
)
from gspolicy.schema.tabular import RawBlock, TableError, cell_value, open_tables

__all__ = ["COLUMN_BLOCK", "FEW_LINES", "LINE_BLOCK", "RegistryBlock", "records_of_kept", "registry_blocks"]

_log = logging.getLogger(__name__)

_COUNTY = "county_code"
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


@attrs.define
class RegistryBlock:
    """One block of a registry: its valid households (in the order of the file), its refused
    rows and problems, and whether a file could not be read as a whole."""

    valid: int
    refused: tuple[Refused, ...]
    problems: list[Diagnostic]
    broken: bool
    _decide: Callable[[], pl.DataFrame]
    _record: Callable[[int], Record]
    _counties: Callable[[], list[str]]
    _kept: Callable[[], pl.DataFrame]

    def decide(self) -> pl.DataFrame:
        """The outcome table of the valid households, one row each, in order."""
        return self._decide()

    def record(self, index: int) -> Record:
        """The record of valid household `index` (built from the file's rows when needed)."""
        return self._record(index)

    def counties(self) -> list[str]:
        """The county code of each valid household (``?`` when it has none)."""
        return self._counties()

    def kept(self) -> pl.DataFrame:
        """The fields `registry_blocks` was asked to keep, of each valid household, in order
        (a column per dotted path, typed as its field; null when absent)."""
        return self._kept()


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
) -> Iterator[RegistryBlock]:
    """Every block of the household files `paths` (see the module doc; `columns`: whether
    registry tables may be checked by columns).  Each block's outcome table also holds the
    derived fields `derive` asks for (`decide_frames`), and `RegistryBlock.kept` the fields at
    the paths `keep` (of kinds `KEPT_KINDS`).

    With logger ``gspolicy`` at INFO, the run is logged when it ends: files, blocks, households
    read (valid and refused), decided and their verdicts, and the time spent reading and
    deciding."""
    schema = policy_set.schema
    spec = schema.records[schema.root]
    ledger = IdLedger(spec)
    run = plan_run(policy_set, schema.root, as_of)
    fast = columns and not run.fallback_packs and bool(run.plans)
    reading = _Reading(policy_set, run, ledger, exit_pack, tuple(derive), tuple(keep))
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


def _blocks(paths: Sequence[Path], reading: _Reading, fast: bool, encoding: str) -> Iterator[RegistryBlock]:
    schema = reading.policy_set.schema
    for path in paths:
        if fast and path.suffix.lower() in TABLE_SUFFIXES:
            yield from _table_blocks(path, reading, encoding)
            continue
        if fast and RECORD_SUFFIXES.get(path.suffix.lower()) == "jsonl":
            yield from _line_blocks(path, reading)
            continue
        for loaded in file_blocks(path, schema, keep_refused=True, encoding=encoding):
            yield _loaded_block(reading, loaded, str(path))


@attrs.frozen
class _Reading:
    """What every block of a run shares: the policy set, the run planned for the date, the ids
    admitted so far and the exit pack."""

    policy_set: PolicySet
    run: Run
    ledger: IdLedger
    exit_pack: str
    derive: tuple[tuple[str, str], ...] = ()
    keep: tuple[tuple[str, ...], ...] = ()

    def kept_schema(self) -> dict[str, pl.DataType]:
        schema = self.policy_set.schema
        spec = schema.records[schema.root]
        out: dict[str, pl.DataType] = {}
        for path in self.keep:
            found = schema.field_at(spec, path)
            assert found is not None
            out[".".join(path)] = kept_dtype(found)
        return out

    def kept_of(self, records: Sequence[Record]) -> pl.DataFrame:
        """The kept fields of records the validator read."""
        columns: dict[str, list[object]] = {".".join(p): [] for p in self.keep}
        for record in records:
            for path in self.keep:
                value: object = record
                for part in path:
                    value = value.get(part) if isinstance(value, Record) else None
                columns[".".join(path)].append(value)
        return pl.DataFrame(columns, schema=self.kept_schema())


def _loaded_block(reading: _Reading, loaded: Loaded, path: str) -> RegistryBlock:
    """A block of records the validator read, their ids admitted."""
    records: list[Record] = []
    refused = list(loaded.refused)
    problems = list(loaded.diagnostics)
    for rec, duplicate in zip(
        loaded.records, reading.ledger.admit_records(loaded.records, path), strict=True
    ):
        if duplicate is not None:
            problems.append(duplicate)
            line = rec.origin.line if rec.origin else None
            refused.append(Refused(path, line or None, rec.to_data(), (duplicate,)))
            continue
        records.append(rec)
    return _record_block(reading, records, refused, problems, loaded.unreadable)


def _record_block(
    reading: _Reading, records: list[Record], refused: list[Refused], problems: list[Diagnostic], broken: bool
) -> RegistryBlock:
    policy_set, as_of, exit_pack = reading.policy_set, reading.run.as_of, reading.exit_pack
    return RegistryBlock(
        len(records),
        tuple(refused),
        problems,
        broken,
        lambda: decide_frame(policy_set, records, as_of, exit_pack=exit_pack, derive=reading.derive)[0],
        records.__getitem__,
        lambda: [str(r.get(_COUNTY, "?")) for r in records],
        lambda: reading.kept_of(records),
    )


def _table_blocks(path: Path, reading: _Reading, encoding: str) -> Iterator[RegistryBlock]:
    schema, run = reading.policy_set.schema, reading.run
    shown = str(path)
    reader, problems = open_tables(path, schema, name=shown, encoding=encoding)
    if reader is None:
        yield _record_block(reading, [], [], problems, True)
        return
    key = schema.records[schema.root].key or "id"
    ingest = Ingest(
        schema,
        schema.root,
        run.columns,
        reader.main_schema,
        reader.item_schemas,
        reader.headers,
        fields=(key, _COUNTY),
        keep=reading.keep,
    )
    blocks = reader.blocks(COLUMN_BLOCK)
    while True:
        try:
            raw = next(blocks, None)
        except TableError as err:  # a row that cannot be read, met on the way
            yield _record_block(reading, [], [], [*problems, err.diagnostic], True)
            return
        if raw is None:
            return
        ids = raw.main[reader.key_columns[0]] if reader.key_columns else None

        def validate(rows: list[int], alone: bool, raw: RawBlock = raw) -> _Checked:
            return load_items(shown, schema, raw.nest(rows)) if rows else ((), (), [])

        def line_of(row: int, raw: RawBlock = raw) -> int:
            return raw.start + row + raw.reader.first_row

        yield _block(reading, ingest, raw.main, raw.items, ids, validate, line_of, problems, shown)
        problems = []  # the tables' own notes once, with the first block


def _line_blocks(path: Path, reading: _Reading) -> Iterator[RegistryBlock]:
    """A JSON Lines file a block of lines at a time, the lines a fast parser can flatten checked
    by columns (`Flattener`), the others read by the validator as always."""
    schema, run = reading.policy_set.schema, reading.run
    shown = str(path)
    flattener = Flattener(schema)
    key = schema.records[schema.root].key or "id"
    ingest = Ingest(
        schema,
        schema.root,
        run.columns,
        dict.fromkeys(flattener.main_columns, pl.String()),
        {name: dict.fromkeys(columns, pl.String()) for name, columns in flattener.item_columns.items()},
        {"": {}, **{name: {} for name in flattener.lists}},
        fields=(key, _COUNTY),
        keep=reading.keep,
    )
    for found in jsonl_sources(path, LINE_BLOCK):
        if not isinstance(found, Source):
            yield _record_block(reading, [], [], found, True)
            return
        source = found
        texts = source.text.split("\n")
        numbered = [(source.first_line + i, t) for i, t in enumerate(texts) if t.strip()]
        if len(numbered) < FEW_LINES:  # a short file: the validator alone is quicker
            loaded = load_jsonl_source(source, schema)
            yield _loaded_block(reading, loaded, shown)
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
        ) -> _Checked:
            """The records of `rows` and — unless `alone` — of the lines not flattened."""
            wanted = {lines[r] for r in rows} | (set() if alone else others)
            if not wanted:
                return (), (), []
            kept = "\n".join(t if source.first_line + i in wanted else "" for i, t in enumerate(texts))
            loaded = load_jsonl_source(Source(source.name, kept, first_line=source.first_line), schema)
            return loaded.records, loaded.refused, loaded.diagnostics

        def line_of(row: int, lines: list[int] = lines) -> int:
            return lines[row]

        yield _block(
            reading, ingest, flat.main, flat.items, ids, validate, line_of, [], shown, every_row_flat=False
        )


_Checked = tuple[Sequence[Record], Sequence[Refused], list[Diagnostic]]


def _block(
    reading: _Reading,
    ingest: Ingest,
    main: pl.DataFrame,
    items: Mapping[str, pl.DataFrame],
    ids_column: pl.Series | None,
    validate: Callable[[list[int], bool], _Checked],
    line_of: Callable[[int], int],
    notes: list[Diagnostic],
    shown: str,
    *,
    every_row_flat: bool = True,
) -> RegistryBlock:
    """One block: the households proved by columns go to the runner's frames, the others (and,
    when not `every_row_flat`, the lines that could not be flattened) through the record
    validator; ids are admitted in the order of the rows."""
    policy_set, run, ledger, exit_pack = reading.policy_set, reading.run, reading.ledger, reading.exit_pack
    schema = policy_set.schema
    key = schema.records[schema.root].key
    # households of one id in the block are read by the validator, which tells the first from
    # the others as it always does; only ids of earlier blocks are admitted below
    exclude = _shared_ids(ids_column)
    while True:
        checked = ingest.block(main, items, exclude=exclude)
        certified = checked.certified.to_list()
        slow_rows = [row for row, ok in enumerate(certified) if not ok]
        slow_valid, refused_list, problems = (
            validate(slow_rows, False) if (slow_rows or not every_row_flat) else ((), (), [])
        )
        if every_row_flat or key is None:
            break
        # lines the parser left to the validator may share an id with a certified household:
        # then that household is read by the validator too
        theirs = {str(r[key]) for r in slow_valid if key in r}
        clash = [i is not None and i in theirs for i in checked.values[ingest.fields[0]].to_list()]
        if not any(clash):
            break
        rows = [row for row, ok in enumerate(certified) if ok]
        clashing = {rows[i] for i, hit in enumerate(clash) if hit}
        base = exclude.to_list() if exclude is not None else [False] * len(certified)
        exclude = pl.Series([b or row in clashing for row, b in enumerate(base)], dtype=pl.Boolean())
    refused = list(refused_list)
    problems = [*notes, *problems]
    # every valid household of the block in the order of its line: (line, row or None, record)
    row_of_line = {line_of(row): row for row in range(len(certified))}
    order: list[tuple[int, int | None, Record | None]] = []
    for row, ok in enumerate(certified):
        if ok:
            order.append((line_of(row), row, None))
    for rec in slow_valid:
        assert rec.origin is not None
        assert rec.origin.line is not None
        order.append((rec.origin.line, row_of_line.get(rec.origin.line), rec))
    order.sort(key=lambda entry: entry[0])
    ids = iter(checked.values[ingest.fields[0]].to_list())
    dropped: list[int] = []
    valid: list[tuple[int, int | None, Record | None]] = []
    entries: list[tuple[object, str, int, RecordLocation | None]] = []
    admitted: list[tuple[int, int | None, Record | None]] = []
    for line, place, given in order:
        if given is None:
            entries.append((next(ids), shown, line, None))  # located only if it is a duplicate
        elif key is not None and key in given:
            assert given.origin is not None
            entries.append((given[key], given.origin.file, given.origin.line or 0, given.origin))
        else:
            valid.append((line, place, given))
            continue
        admitted.append((line, place, given))
    for (line, place, given), duplicate in zip(admitted, ledger.admit(entries), strict=True):
        if duplicate is None:
            valid.append((line, place, given))
            continue
        problems.append(duplicate)
        if given is not None:
            found = given
        else:
            assert place is not None
            found = _one(validate, place)
            dropped.append(place)
        refused.append(Refused(shown, line, found.to_data(), (duplicate,)))
    valid.sort(key=lambda v: v[0])
    if dropped:  # a certified household refused for its id: checked again without it
        mask = pl.Series([ok and row not in dropped for row, ok in enumerate(certified)], dtype=pl.Boolean())
        checked = ingest.block(main, items, exclude=~mask)
    fast_rows = [row for _line, row, rec in valid if rec is None and row is not None]
    position = {row: i for i, row in enumerate(fast_rows)}
    records = [rec for _line, _row, rec in valid if rec is not None]
    cache: dict[int, Record] = {}

    def of_row(row: int) -> Record:
        if row not in cache:
            cache[row] = _one(validate, row)
        return cache[row]

    def record(index: int) -> Record:
        _line, row, rec = valid[index]
        if rec is not None:
            return rec
        assert row is not None
        return of_row(row)

    def decide() -> pl.DataFrame:
        parts: list[pl.DataFrame] = []
        if fast_rows:
            frame, _report = decide_frames(
                policy_set,
                run,
                checked.frames,
                checked.values[ingest.fields[0]].alias("id"),
                lambda i: of_row(fast_rows[i]),
                exit_pack=exit_pack,
                derive=reading.derive,
            )
            places = [i for i, (_line, _row, rec) in enumerate(valid) if rec is None]
            parts.append(frame.with_columns(pl.Series("__at", places, dtype=pl.Int64)))
        if records:
            frame = decide_frame(policy_set, records, run.as_of, exit_pack=exit_pack, derive=reading.derive)[
                0
            ]
            places = [i for i, (_line, _row, rec) in enumerate(valid) if rec is not None]
            parts.append(frame.with_columns(pl.Series("__at", places, dtype=pl.Int64)))
        if not parts:
            return decide_frame(policy_set, [], run.as_of, exit_pack=exit_pack, derive=reading.derive)[0]
        return pl.concat(parts).sort("__at").drop("__at")

    def kept() -> pl.DataFrame:
        if not reading.keep:
            return reading.kept_of([])
        parts: list[pl.DataFrame] = []
        if fast_rows:
            places = [i for i, (_line, _row, rec) in enumerate(valid) if rec is None]
            parts.append(checked.kept.with_columns(pl.Series("__at", places, dtype=pl.Int64)))
        if records:
            places = [i for i, (_line, _row, rec) in enumerate(valid) if rec is not None]
            parts.append(reading.kept_of(records).with_columns(pl.Series("__at", places, dtype=pl.Int64)))
        if not parts:
            return reading.kept_of([])
        return pl.concat(parts).sort("__at").drop("__at")

    def counties() -> list[str]:
        fast_counties = checked.values[ingest.fields[1]].to_list()
        out: list[str] = []
        for _line, row, rec in valid:
            if rec is None:
                assert row is not None
                county = fast_counties[position[row]]
                out.append("?" if county is None else str(county))
            else:
                out.append(str(rec.get(_COUNTY, "?")))
        return out

    return RegistryBlock(len(valid), tuple(refused), problems, False, decide, record, counties, kept)


def _shared_ids(ids: pl.Series | None) -> pl.Series | None:
    """The rows of the block whose id (as the validator reads it) another row has too."""
    if ids is None:
        return None
    texts = [None if v is None else str(v) for v in map(cell_value, ids.to_list())]
    counts = Counter(i for i in texts if i is not None)
    if all(n == 1 for n in counts.values()):
        return None
    return pl.Series([i is not None and counts[i] > 1 for i in texts], dtype=pl.Boolean())


def _one(validate: Callable[[list[int], bool], _Checked], row: int) -> Record:
    """The record of a household the columns proved valid (the validator must agree)."""
    records, _refused, problems = validate([row], True)
    if len(records) != 1:
        raise ColumnarError(
            f"a household proved valid by columns is refused by the validator: {problems[:3]}"
        )
    return records[0]


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
