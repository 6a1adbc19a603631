"""The households' fields as the columns the Polars frames hold (`gspolicy.columnar.frames`), read
from a Spark DataFrame in the nested layout: each cell as its field's typed column, and whether
the record's cell could not be read exactly (`Cell.unfit`: the record is flagged in
``__fallback`` and decided the other way, never rounded or guessed).

What is read exactly: a truth value (or its spellings ``true``, ``是``…), a whole number, a
decimal that fits its kind's places, a floating-point number or a text whose plain spelling does
(``-123.45``, as the column checks of `gspolicy.columnar.ingest` prove it), a date (or its ISO
text), an enum's code, label or alias, a set of them, and text without blanks around it.  A
number of more than 18 whole digits, an empty list (the nested layout tells it from a missing
one, the registry tables do not), a nested record with no field given and a list of more than
`MAX_ITEMS` items are flagged: the record is decided record by record, as it would be on one
machine.  A cell of a type that cannot hold its field (a date as a number, say) is `NotLowered`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from gspolicy.columnar.frames import MAX_ITEMS, SCALES
from gspolicy.columnar.ingest import TRUTH, enum_spellings
from gspolicy.columnar.plan import NotLowered
from gspolicy.schema.model import FieldSpec, Schema
from gspolicy.spark.lower_columns import DIGITS, decimal, decimal_type

if TYPE_CHECKING:
    from pyspark.sql import Column
    from pyspark.sql.types import DataType

__all__ = ["WHOLE", "Cell", "read_cell", "spark_type_at", "target_type"]

WHOLE = 18
"""Whole digits of a number read (`gspolicy.columnar.ingest` certifies as many)."""


@attrs.frozen(eq=False)
class Cell:
    """A field's typed column, and whether a record's cell could not be read exactly."""

    value: Column
    unfit: Column | None  # None: never


def spark_type_at(dtype: DataType | None, path: tuple[str, ...]) -> DataType | None:
    """The Spark type of the struct field at `path` below `dtype` (None: not there)."""
    from pyspark.sql.types import StructType  # noqa: PLC0415

    current = dtype
    for part in path:
        if not isinstance(current, StructType) or part not in current.fieldNames():
            return None
        current = current[part].dataType
    return current


def _given(column: Column) -> Column:
    return column.isNotNull()


def read_cell(schema: Schema, spec: FieldSpec, raw: Column, dtype: DataType | None, where: str) -> Cell:
    """The cell `raw` (of Spark type `dtype`; None: the column is absent) of field `spec`."""
    from pyspark.sql import functions as f  # noqa: PLC0415
    from pyspark.sql import types as t  # noqa: PLC0415

    kind = spec.kind
    if dtype is None or isinstance(dtype, t.NullType):
        return Cell(f.lit(None).cast(target_type(spec)), None)

    def wrong() -> NotLowered:
        return NotLowered(f"the field `{where}` ({kind}) held as {dtype.simpleString()}")

    if kind == "bool":
        if isinstance(dtype, t.BooleanType):
            return Cell(raw, None)
        if isinstance(dtype, t.StringType):
            value = f.try_element_at(_map(TRUTH), raw)
            return Cell(value, _given(raw) & value.isNull())
        raise wrong()
    if kind in SCALES:
        return _number(raw, dtype, SCALES[kind], wrong)
    if kind == "date":
        if isinstance(dtype, t.DateType):
            return Cell(raw, _given(raw) & ((f.year(raw) < 1) | (f.year(raw) > 9999)))
        if isinstance(dtype, t.StringType):
            shaped = raw.rlike(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
            value = f.when(shaped, f.try_to_date(raw, "yyyy-MM-dd"))
            value = f.when(f.year(value) >= 1, value)
            return Cell(value, _given(raw) & value.isNull())
        raise wrong()
    if kind == "string":
        if not isinstance(dtype, t.StringType):
            raise wrong()
        # the record validator strips blanks (and an empty text is no text): left to it
        loose = raw.rlike(r"(?U)^\s|\s$") | (raw == "")
        return Cell(raw, _given(raw) & loose)
    if kind == "enum":
        if not isinstance(dtype, t.StringType):
            raise wrong()
        value = f.try_element_at(_map(enum_spellings(schema, spec)), raw)
        return Cell(value, _given(raw) & value.isNull())
    if kind == "set":
        if not (isinstance(dtype, t.ArrayType) and isinstance(dtype.elementType, t.StringType)):
            raise wrong()
        labels = _map(enum_spellings(schema, spec))
        codes = f.transform(raw, lambda code: f.try_element_at(labels, code))
        bad = f.exists(codes, lambda code: code.isNull())
        return Cell(f.array_sort(f.array_distinct(codes)), _given(raw) & bad)
    if kind == "list":
        if not (isinstance(dtype, t.ArrayType) and isinstance(dtype.elementType, t.StructType)):
            raise wrong()
        size = f.size(raw)
        return Cell(f.when(_given(raw), f.lit(True)), _given(raw) & ((size == 0) | (size > MAX_ITEMS)))
    if kind == "record":
        if not isinstance(dtype, t.StructType):
            raise wrong()
        # a nested record with no field given: one machine's registry tables cannot tell it
        # from a missing one, a record can
        empty = f.lit(True)
        for name in dtype.fieldNames():
            empty = empty & raw.getField(name).isNull()
        return Cell(f.when(_given(raw), f.lit(True)), _given(raw) & empty)
    raise wrong()


def target_type(spec: FieldSpec | None) -> str:
    """The Spark type (as SQL text) of a field's typed column."""
    if spec is None:
        return "boolean"
    kind = spec.kind
    if kind in ("bool", "list", "record"):
        return "boolean"
    if kind in SCALES:
        return f"decimal({DIGITS}, {SCALES[kind]})"
    if kind == "date":
        return "date"
    if kind == "set":
        return "array<string>"
    return "string"


def _number(raw: Column, dtype: DataType, scale: int, wrong: object) -> Cell:
    from pyspark.sql import functions as f  # noqa: PLC0415
    from pyspark.sql import types as t  # noqa: PLC0415

    limit = f.lit("1" + "0" * WHOLE).cast(decimal_type(scale))
    if isinstance(dtype, t.ByteType | t.ShortType | t.IntegerType | t.LongType):
        value = decimal(raw, scale)
    elif isinstance(dtype, t.DecimalType):
        value = decimal(raw, scale)
        back = decimal(value, dtype.scale)
        value = f.when(back == raw, value)  # a decimal its kind's places would round: not read
    elif isinstance(dtype, t.FloatType | t.DoubleType | t.StringType):
        text = raw.cast("string")
        places = rf"(\.[0-9]{{1,{scale}}})?" if scale else ""
        plain = text.rlike(rf"^-?[0-9]{{1,{WHOLE}}}{places}$")
        value = f.when(plain, decimal(text, scale))
    else:
        assert callable(wrong)
        raise wrong()
    value = f.when(f.abs(value) < limit, value)
    return Cell(value, _given(raw) & value.isNull())


def _map(pairs: dict[str, str] | dict[str, bool]) -> Column:
    from pyspark.sql import functions as f  # noqa: PLC0415

    items: list[Column] = []
    for key, value in pairs.items():
        items += [f.lit(key), f.lit(value)]
    return f.create_map(*items)
