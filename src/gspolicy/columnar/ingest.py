"""Registry tables straight into the runner's frames: a block of households checked by columns.

The record validator reads one household at a time (`gspolicy.schema.records`); on a registry of
a million that is most of a run.  `Ingest` checks a block of table rows by columns instead and
*certifies* each household whose every cell it can prove valid, building the frames of the
certified households (`Frames`, as `build_frames` builds them from their records) without a
record.  Certifying is conservative: a cell is proved only in the plainest spelling the
validator accepts (ASCII text a pattern matches, a code or label exactly as the schema writes
it, a number of at most 18 whole digits and its kind's places, an ISO date); anything else —
another spelling, a bad value, a typed cell of a Parquet file, a column the schema does not know
— leaves its household uncertified, and the caller reads that household the usual way: the
validator decides it, with its located diagnostics.  So every household a record check would
refuse is refused by it, and a certified household's frame rows equal its record's (the
property tests compare both on mutated tables).

The checks across fields (required fields, companions, date order, the birth an age implies),
the ids of a household's items and the items a frame can hold (`MAX_ITEMS`) are checked by
columns too.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal

import attrs
import polars as pl

from gspolicy.columnar.frames import MAX_ITEMS, SCALES, Columns, Frames, dtype_of
from gspolicy.schema import roles
from gspolicy.schema.model import FieldSpec, RecordSpec, Schema
from gspolicy.schema.tabular import OWNER
from gspolicy.schema.validate import MAX_TEXT

__all__ = ["OWNER", "TRUTH", "Ingest", "Ingested", "enum_spellings"]


_WHOLE = 18  # whole digits of a number certified (a frame holds 38 digits)

_TRUE = ("是", "true", "yes", "y")
_FALSE = ("否", "false", "no", "n")


def _truth_map() -> dict[str, bool]:
    """The spellings of yes and no certified: each as written, upper case and capitalised (the
    validator also reads other casings; those are left to it)."""
    out: dict[str, bool] = {}
    for words, truth in ((_TRUE, True), (_FALSE, False)):
        for word in words:
            for spelling in (word, word.upper(), word.capitalize()):
                out.setdefault(spelling, truth)
    return out


TRUTH = _truth_map()
"""The spellings of yes and no the column checks certify (a Spark lowering reads the same)."""


KEPT_KINDS = frozenset({"bool", "int", "date", "string", "enum"})
"""The kinds of field a caller may keep (`Ingest` `keep`): those a column gives back exactly as a
record holds them (a decimal's column has a fixed scale, so it would not)."""


def kept_dtype(spec: FieldSpec) -> pl.DataType:
    """The column a kept field is given back in: as a record holds it (a whole number as an
    integer, not the runner's decimal of scale 0)."""
    return pl.Int64() if spec.kind == "int" else dtype_of(spec)


@attrs.frozen
class Ingested:
    """A block checked by columns: which households are certified, their frames (the certified
    rows only, in order) and, for each of `fields`, its value on every certified household."""

    certified: pl.Series
    frames: Frames
    values: Mapping[str, pl.Series]
    kept: pl.DataFrame = attrs.field(factory=pl.DataFrame)  # `keep`'s fields, typed, by dotted path


@attrs.frozen
class _Cell:
    """A column of a table read as a field: the columns computed once per block (`compute`: the
    value, null unless proved, and whether the cell is given), and expressions on them."""

    path: tuple[str, ...]
    compute: tuple[pl.Expr, ...]
    ok: pl.Expr
    value: pl.Expr
    present: pl.Expr


class _Table:
    """How the columns of one table (the households' or a list's) are read as fields of `spec`."""

    def __init__(
        self,
        schema: Schema,
        spec: RecordSpec,
        names: Sequence[str],
        dtypes: Sequence[pl.DataType],
        headers: Mapping[str, tuple[str, ...]],
    ) -> None:
        self.schema = schema
        self.spec = spec
        paths: dict[tuple[str, ...], list[str]] = {}
        unusable: list[str] = []
        fields: dict[tuple[str, ...], FieldSpec] = {}
        for name, dtype in zip(names, dtypes, strict=True):
            if name == OWNER:
                continue
            text = str(name).strip()
            path = headers.get(text, tuple(text.split(".")))
            field = schema.field_at(spec, path)
            if (
                field is None
                or field.kind in ("record", "list")
                or field.gather is not None
                or dtype not in (pl.String(), pl.Null())
            ):
                unusable.append(name)
                continue
            paths.setdefault(path, []).append(name)
            fields[path] = field
        self.cells: dict[tuple[str, ...], _Cell] = {}
        numbers = itertools.count()
        blocked: list[pl.Expr] = []
        for name in unusable:
            blocked.append(_given(name))
        for path, columns in paths.items():
            if len(columns) > 1:  # one field under two headers: left to the validator
                blocked += [_given(c) for c in columns]
                continue
            self.cells[path] = _cell(schema, fields[path], columns[0], path, next(numbers))
        self.fields = fields
        self.blocked = pl.any_horizontal(blocked) if blocked else pl.lit(False)

    def present(self, path: tuple[str, ...]) -> pl.Expr:
        """Whether a field (a scalar, or a nested record: any of its fields) is given."""
        found = self.cells.get(path)
        if found is not None:
            return found.present
        inside = [c.present for p, c in self.cells.items() if p[: len(path)] == path and len(p) > len(path)]
        return pl.any_horizontal(inside) if inside else pl.lit(False)

    def value(self, path: tuple[str, ...], dtype: pl.DataType) -> pl.Expr:
        found = self.cells.get(path)
        if found is None:
            return pl.lit(None, dtype)
        return found.value.cast(dtype)

    def computed(self) -> list[pl.Expr]:
        """The columns each row's checks and values read, computed once per block."""
        return [expr for cell in self.cells.values() for expr in cell.compute]

    def valid(self) -> pl.Expr:
        """Whether every cell of a row is proved, and the checks across fields hold."""
        checks = [c.ok for c in self.cells.values()]
        checks += self._across(self.spec, ())
        return pl.all_horizontal(checks) & ~self.blocked if checks else ~self.blocked

    def _across(self, spec: RecordSpec, prefix: tuple[str, ...]) -> list[pl.Expr]:
        """The checks across the fields of `spec` (at `prefix`; a nested record's only when it
        is given), and those of its nested records."""
        here = pl.lit(True) if not prefix else self.present(prefix)
        out: list[pl.Expr] = []
        for name, field in spec.fields.items():
            path = (*prefix, name)
            if field.kind == "list":
                continue  # a list's items are another table's rows (the caller counts them)
            given = self.present(path)
            if field.required:
                out.append(~here | given)
            for companion in field.requires:
                out.append(~given | self.present((*prefix, companion)))
            for earlier in field.not_before:
                later_value = self.value(path, pl.Date())
                earlier_value = self.value((*prefix, earlier), pl.Date())
                out.append((later_value >= earlier_value).fill_null(True))
            nested = self.schema.records.get(field.record or "") if field.kind == "record" else None
            if nested is not None:
                out += self._across(nested, path)
        names = spec.roles  # the fields of the age roles in this record type
        birth = spec.fields.get(names.get(roles.BIRTH_DATE, ""))
        recorded, recorded_on = names.get(roles.RECORDED_AGE), names.get(roles.AGE_RECORDED_ON)
        if birth is not None and recorded is not None and recorded_on is not None:
            out.append(self._implied_birth(birth, (*prefix, recorded), (*prefix, recorded_on)))
        return out

    def _implied_birth(
        self, birth: FieldSpec, recorded: tuple[str, ...], recorded_on: tuple[str, ...]
    ) -> pl.Expr:
        """An age recorded on a date may not put the birth before the earliest birth date."""
        earliest = birth.min if isinstance(birth.min, dt.date) else dt.date(dt.MINYEAR, 1, 1)
        age_field = self.fields.get(recorded)
        if age_field is None or age_field.kind != "int":
            return pl.lit(True)
        age = self.value(recorded, pl.Decimal(38, 0)).cast(pl.Int64)
        on = self.value(recorded_on, pl.Date())
        year, month, day = on.dt.year().cast(pl.Int64) - age, on.dt.month(), on.dt.day()
        later = (
            (year > earliest.year)
            | ((year == earliest.year) & (month > earliest.month))
            | ((year == earliest.year) & (month == earliest.month) & (day >= earliest.day))
        )
        return later.fill_null(True)


def _given(name: str) -> pl.Expr:
    """Whether a cell holds anything (an empty text is an empty cell)."""
    column = pl.col(name)
    text = column.cast(pl.String(), strict=False)
    return (column.is_not_null() & (text.is_null() | (text != ""))).fill_null(False)


def _cell(schema: Schema, field: FieldSpec, name: str, path: tuple[str, ...], number: int) -> _Cell:
    """The checks of one column.  A cell is proved as written: text with blanks around it is
    left to the validator (which strips them), as is any spelling not listed here."""
    text = pl.col(name).cast(pl.String())
    given_name, value_name = f"__p{number}", f"__v{number}"
    given = pl.col(given_name)
    value = pl.col(value_name)
    kind = field.kind
    computed: pl.Expr
    bounds: pl.Expr = pl.lit(True)
    if kind == "bool":
        computed = text.replace_strict(TRUTH, default=None, return_dtype=pl.Boolean())
    elif kind in SCALES:
        places = SCALES[kind]
        pattern = (
            rf"^-?[0-9]{{1,{_WHOLE}}}$"
            if places == 0
            else rf"^-?[0-9]{{1,{_WHOLE}}}(\.[0-9]{{1,{places}}})?$"
        )
        computed = pl.when(text.str.contains(pattern)).then(text).cast(pl.Decimal(38, places), strict=False)
        bounds = _within(value, field)
    elif kind == "date":
        shape = text.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
        computed = pl.when(shape).then(text).str.to_date("%Y-%m-%d", strict=False)
        bounds = (value.dt.year() >= 1) & _within(value, field)
    elif kind == "string":
        proved = text.str.contains(r"^[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?$") & (
            text.str.len_chars() <= MAX_TEXT
        )
        if field.pattern is not None:
            proved = proved & _matches(text, field.pattern)
        computed = pl.when(proved).then(text)
    elif kind == "enum":
        computed = text.replace_strict(enum_spellings(schema, field), default=None, return_dtype=pl.String())
    else:  # a set of codes, `;` between them
        labels = enum_spellings(schema, field)
        codes = (
            text.str.replace_all("；", ";", literal=True)
            .str.split(";")
            .list.eval(pl.element().str.strip_chars(" "))
            .list.eval(pl.element().filter(pl.element() != ""))
            .list.eval(pl.element().replace_strict(labels, default="\0", return_dtype=pl.String()))
        )
        computed = pl.when(~codes.list.contains("\0")).then(codes.list.unique().list.sort())
    present = (text.is_not_null() & (text != "")).fill_null(False)
    ok = ~given | (value.is_not_null() & bounds).fill_null(False)
    return _Cell(
        path,
        (present.alias(given_name), computed.alias(value_name)),
        ok,
        pl.when(ok).then(value),
        given,
    )


def _within(value: pl.Expr, field: FieldSpec) -> pl.Expr:
    """Whether a number or a date lies in the field's bounds."""
    out = pl.lit(True)
    for bound, above in ((field.min, True), (field.max, False)):
        if bound is None:
            continue
        literal = pl.lit(bound, dtype=pl.Date()) if isinstance(bound, dt.date) else pl.lit(Decimal(bound))
        out = out & ((value >= literal) if above else (value <= literal)).fill_null(True)
    return out


def _matches(text: pl.Expr, pattern: str) -> pl.Expr:
    """Whether ASCII text matches a field's pattern whole; a pattern the column engine does not
    read the same way certifies nothing."""
    anchored = f"^(?:{pattern})$"
    try:
        pl.Series([""]).str.contains(anchored)
    except pl.exceptions.PolarsError:
        return pl.lit(False)
    return text.str.contains(anchored)


def enum_spellings(schema: Schema, field: FieldSpec) -> dict[str, str]:
    """Each spelling an enum's value is certified in: its code, labels and aliases as written."""
    enum = schema.enums[field.enum or ""]
    return {k: v for k, v in enum.lookup.items() if not k.startswith("\0")}


class Ingest:
    """The column checks and frame building for the tables of one file (fixed headers), for the
    columns a run reads (`columns`) and the root fields a caller wants back (`fields`)."""

    def __init__(
        self,
        schema: Schema,
        record_type: str,
        columns: Columns,
        main: Mapping[str, pl.DataType],
        items: Mapping[str, Mapping[str, pl.DataType]],
        headers: Mapping[str, Mapping[str, tuple[str, ...]]],
        fields: Sequence[str] = (),
        keep: Sequence[tuple[str, ...]] = (),
    ) -> None:
        self.schema = schema
        spec = schema.records[record_type]
        self.spec = spec
        self.columns = columns
        self.fields = tuple(fields)
        self.keep: dict[str, tuple[tuple[str, ...], pl.DataType]] = {}
        for path in keep:
            found = schema.field_at(spec, path)
            if found is None or found.kind not in KEPT_KINDS:
                raise ValueError(f"no scalar field {'.'.join(path)} to keep in {spec.name}")
            self.keep[".".join(path)] = (path, kept_dtype(found))
        self.main = _Table(schema, spec, list(main), list(main.values()), headers[""])
        self.items: dict[str, _Table] = {}
        for name, dtypes in items.items():
            item_spec = schema.records[spec.fields[name].record or ""]
            self.items[name] = _Table(schema, item_spec, list(dtypes), list(dtypes.values()), headers[name])
        self.lists = [f for f, s in spec.fields.items() if s.kind == "list" and s.gather is None]

    def block(
        self, main: pl.DataFrame, items: Mapping[str, pl.DataFrame], *, exclude: pl.Series | None = None
    ) -> Ingested:
        """Check a block: `main` the households' rows, `items` each list's rows of these
        households (with `OWNER`, in household order); `exclude`: rows never certified."""
        n = main.height
        table = self.main
        counts: dict[str, pl.Series] = {}
        bad = pl.Series("bad", [False] * n, dtype=pl.Boolean())
        checked_items: dict[str, pl.DataFrame] = {}
        for name in self.lists:
            rows = items.get(name)
            if rows is None or rows.height == 0:
                counts[name] = pl.Series(name, [0] * n, dtype=pl.UInt32())
                continue
            item_table = self.items[name]
            key = item_table.spec.key
            key_value = (
                item_table.value((key,), pl.String())
                if key is not None and (key,) in item_table.cells
                else None
            )
            checked = rows.with_columns(item_table.computed()).with_columns(
                item_table.valid().alias("__ok"),
                pl.int_range(pl.len()).over(OWNER).alias("__idx"),
                *([key_value.alias("__key")] if key_value is not None else []),
            )
            per_owner = checked.group_by(OWNER).agg(
                pl.len().alias("__n"),
                pl.col("__ok").all().alias("__all"),
                *(
                    [
                        (pl.col("__key").drop_nulls().n_unique() == pl.col("__key").drop_nulls().len()).alias(
                            "__unique"
                        )
                    ]
                    if key_value is not None
                    else [pl.lit(True).alias("__unique")]
                ),
            )
            owners = pl.DataFrame({OWNER: pl.Series(range(n), dtype=checked[OWNER].dtype)}).join(
                per_owner, on=OWNER, how="left", maintain_order="left"
            )
            count = owners["__n"].fill_null(0)
            counts[name] = count.cast(pl.UInt32)
            fine = owners["__all"].fill_null(True) & owners["__unique"].fill_null(True) & (count <= MAX_ITEMS)
            bad = bad | ~fine
            checked_items[name] = checked
        exprs = [table.valid().alias("__ok")]
        checked_main = main.with_columns(table.computed(), **{f"__n_{k}": v for k, v in counts.items()})
        checked_main = checked_main.with_columns(*exprs)
        required = [
            pl.col(f"__n_{name}") > 0
            for name in self.lists
            if self.spec.fields[name].required and f"__n_{name}" in checked_main.columns
        ]
        companions = self._list_companions()
        ok = checked_main.select(
            (pl.col("__ok") & pl.all_horizontal([pl.lit(True), *required, *companions])).alias("ok")
        )["ok"]
        certified = ok & ~bad
        if exclude is not None:
            certified = certified & ~exclude
        kept = certified.arg_true()
        new_row = pl.Series("__new", [None] * n, dtype=pl.UInt32()).scatter(
            kept, pl.int_range(kept.len(), eager=True, dtype=pl.UInt32)
        )
        picked = checked_main.filter(certified)
        subjects = picked.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("__row"),
            pl.lit(False).alias("__unfit"),
            *self._subject_columns(),
        )
        values = {f: picked.select(self.main.value((f,), pl.String()).alias(f))[f] for f in self.fields}
        wanted = picked.select(
            [self.main.value(path, dtype).alias(name) for name, (path, dtype) in self.keep.items()]
        )
        frames_items: dict[tuple[str, ...], pl.DataFrame] = {}
        for path, item_paths in self.columns.lists.items():
            list_field = self.schema.field_at(self.spec, path)
            item_type = self.schema.records.get(list_field.record or "") if list_field is not None else None
            if item_type is None:
                raise ValueError(f"the schema has no list {'.'.join(path)} in {self.spec.name}")
            specs = {p: self.schema.field_at(item_type, p) for p in sorted(item_paths)}
            found = {p: s for p, s in specs.items() if s is not None}
            schema_out: dict[str, pl.DataType] = {
                "__row": pl.UInt32(),
                "__idx": pl.UInt32(),
                "__bit": pl.UInt64(),
            }
            schema_out.update({".".join(p): dtype_of(s) for p, s in found.items()})
            rows_of = checked_items.get(path[0]) if len(path) == 1 else None
            if rows_of is None:
                frames_items[path] = pl.DataFrame(schema=schema_out)
                continue
            item_table = self.items[path[0]]
            owner_new = new_row.gather(rows_of[OWNER].cast(pl.Int64))
            frames_items[path] = (
                rows_of.with_columns(owner_new.alias("__row"))
                .filter(pl.col("__row").is_not_null())
                .select(
                    pl.col("__row"),
                    pl.col("__idx").cast(pl.UInt32),
                    pl.lit(2, pl.UInt64).pow(pl.col("__idx").cast(pl.UInt64)).cast(pl.UInt64).alias("__bit"),
                    *(item_table.value(p, dtype_of(s)).alias(".".join(p)) for p, s in found.items()),
                )
            )
        return Ingested(certified, Frames(subjects, frames_items), values, wanted)

    def _list_companions(self) -> list[pl.Expr]:
        """`requires` and the required-ness of root fields naming a list (given: it has items)."""
        out: list[pl.Expr] = []
        for name, field in self.spec.fields.items():
            for companion in field.requires:
                if companion in self.lists:
                    given = (pl.col(f"__n_{name}") > 0) if name in self.lists else self.main.present((name,))
                    out.append(~given | (pl.col(f"__n_{companion}") > 0))
                elif name in self.lists:
                    out.append(~(pl.col(f"__n_{name}") > 0) | self.main.present((companion,)))
        return out

    def _subject_columns(self) -> list[pl.Expr]:
        out: list[pl.Expr] = []
        for path in sorted(self.columns.subject):
            field = self.schema.field_at(self.spec, path)
            assert field is not None, path
            name = ".".join(path)
            dtype = dtype_of(field)
            if field.kind == "list":
                given = (
                    (pl.col(f"__n_{path[0]}") > 0)
                    if len(path) == 1 and path[0] in self.lists
                    else pl.lit(False)
                )
                out.append(
                    pl.when(given).then(pl.lit(True)).otherwise(pl.lit(None, pl.Boolean())).alias(name)
                )
            elif field.kind == "record":
                given = self.main.present(path)
                out.append(
                    pl.when(given).then(pl.lit(True)).otherwise(pl.lit(None, pl.Boolean())).alias(name)
                )
            else:
                out.append(self.main.value(path, dtype).alias(name))
        return out
