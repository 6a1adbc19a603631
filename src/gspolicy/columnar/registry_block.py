"""A registry's blocks (`RegistryBlock`) and how one is made: from the records the validator read,
or from rows checked by columns — the households proved valid go straight into the runner's
frames, the others through the record validator — with ids admitted in the order of the rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import attrs
import polars as pl

from gspolicy._location import RecordLocation
from gspolicy.columnar.frames import Columns, Frames, build_frames
from gspolicy.columnar.ingest import Ingest, kept_dtype
from gspolicy.columnar.run import ColumnarError, Run
from gspolicy.columnar.runner import decide_frame, decide_frames
from gspolicy.errors import Diagnostic
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema import roles
from gspolicy.schema.model import Record
from gspolicy.schema.records import (
    IdLedger,
    Loaded,
    Refused,
)
from gspolicy.schema.tabular import cell_value

__all__ = ["Checked", "Reading", "RegistryBlock", "checked_block", "loaded_block", "record_block"]


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
    _frames: Callable[[], list[tuple[list[int], Frames]]]

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

    def frames(self) -> list[tuple[list[int], Frames]]:
        """The valid households as the runner's frames, holding the run's columns and those
        `registry_blocks` was asked to read too (`read`): in parts, each with the places (in
        the block's order) of its rows — the households checked by columns, and those the
        validator read."""
        return self._frames()


@attrs.frozen
class Reading:
    """What every block of a run shares: the policy set, the run planned for the date, the ids
    admitted so far and the exit pack."""

    policy_set: PolicySet
    run: Run
    ledger: IdLedger
    exit_pack: str
    derive: tuple[tuple[str, str], ...] = ()
    keep: tuple[tuple[str, ...], ...] = ()
    read: Columns | None = None  # columns the frames hold besides the run's (`RegistryBlock.frames`)

    @property
    def columns(self) -> Columns:
        """The columns of the frames: the run's, and those asked for (`read`)."""
        mine = self.run.columns
        if self.read is None:
            return mine
        lists = {k: set(v) for k, v in mine.lists.items()}
        for path, items in self.read.lists.items():
            lists.setdefault(path, set()).update(items)
        return Columns(mine.subject | self.read.subject, {k: frozenset(v) for k, v in lists.items()})

    @property
    def county(self) -> str:
        """The root field that plays the role `county_code` (empty when the schema gives none:
        every household's county is then ``?``)."""
        return self.policy_set.schema.role(roles.COUNTY_CODE) or ""

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


def loaded_block(reading: Reading, loaded: Loaded, path: str) -> RegistryBlock:
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
    return record_block(reading, records, refused, problems, loaded.unreadable)


def record_block(
    reading: Reading, records: list[Record], refused: list[Refused], problems: list[Diagnostic], broken: bool
) -> RegistryBlock:
    policy_set, as_of, exit_pack = reading.policy_set, reading.run.as_of, reading.exit_pack
    county = reading.county
    return RegistryBlock(
        len(records),
        tuple(refused),
        problems,
        broken,
        lambda: decide_frame(policy_set, records, as_of, exit_pack=exit_pack, derive=reading.derive)[0],
        records.__getitem__,
        lambda: [str(r.get(county, "?")) for r in records],
        lambda: reading.kept_of(records),
        lambda: [(list(range(len(records))), _frames_of(reading, records))],
    )


def _frames_of(reading: Reading, records: Sequence[Record]) -> Frames:
    return build_frames(reading.policy_set.schema, reading.run.record_type, records, reading.columns)


Checked = tuple[Sequence[Record], Sequence[Refused], list[Diagnostic]]


def checked_block(
    reading: Reading,
    ingest: Ingest,
    main: pl.DataFrame,
    items: Mapping[str, pl.DataFrame],
    ids_column: pl.Series | None,
    validate: Callable[[list[int], bool], Checked],
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

    def of_rows(rows: Sequence[int]) -> None:
        """The records of `rows` built together (one nesting of the block's rows, not one each)."""
        wanted = [row for row in rows if row not in cache]
        if len(wanted) < 2:
            return
        at = {line_of(row): row for row in wanted}
        for rec in validate(wanted, True)[0]:
            line = rec.origin.line if rec.origin is not None else None
            if line in at:
                cache[at[line]] = rec

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
                records_of=lambda rows: of_rows([fast_rows[i] for i in rows]),
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
        county = reading.county
        out: list[str] = []
        for _line, row, rec in valid:
            if rec is None:
                assert row is not None
                county = fast_counties[position[row]]
                out.append("?" if county is None else str(county))
            else:
                out.append(str(rec.get(county, "?")))
        return out

    def frames() -> list[tuple[list[int], Frames]]:
        parts: list[tuple[list[int], Frames]] = []
        if fast_rows:
            parts.append(([i for i, (_line, _row, rec) in enumerate(valid) if rec is None], checked.frames))
        if records:
            places = [i for i, (_line, _row, rec) in enumerate(valid) if rec is not None]
            parts.append((places, _frames_of(reading, records)))
        return parts

    return RegistryBlock(len(valid), tuple(refused), problems, False, decide, record, counties, kept, frames)


def _shared_ids(ids: pl.Series | None) -> pl.Series | None:
    """The rows of the block whose id (as the validator reads it) another row has too."""
    if ids is None:
        return None
    texts = [None if v is None else str(v) for v in map(cell_value, ids.to_list())]
    counts = Counter(i for i in texts if i is not None)
    if all(n == 1 for n in counts.values()):
        return None
    return pl.Series([i is not None and counts[i] > 1 for i in texts], dtype=pl.Boolean())


def _one(validate: Callable[[list[int], bool], Checked], row: int) -> Record:
    """The record of a household the columns proved valid (the validator must agree)."""
    records, _refused, problems = validate([row], True)
    if len(records) != 1:
        raise ColumnarError(
            f"a household proved valid by columns is refused by the validator: {problems[:3]}"
        )
    return records[0]
