# pylint: disable=duplicate-code  # a second back end of the shared lowering: it mirrors the Polars one node for node
"""A plan node's value as Spark columns (`SCol`: value, bounds, what would settle it as 64-bit
words, and the level of the projection it can be computed in), and the Spark spellings the
lowering shares: bit words, decimal literals and casts that never round, comparisons of bounds,
whole years between dates.  The Polars back end's `gspolicy.columnar.polars_columns`, column for
column.

A what-would-settle word is a Spark ``LongType``: the same 64 bits as the Polars ``UInt64``
column (a word with its top bit set reads as a negative number).  Every number is a
``DecimalType(38, scale)`` of the scale the Polars builder gives it; a cast that could round or
overflow is a ``try_cast`` (null instead of an error), and the record it could touch is flagged
in ``__fallback`` by a guard, as the Polars run flags it."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import reduce
from typing import TYPE_CHECKING

import attrs

from gspolicy.columnar.plan import PROBLEM_MASK, WORD_BITS, NotLowered

if TYPE_CHECKING:
    from pyspark.sql import Column
    from pyspark.sql.types import DecimalType

__all__ = [
    "DIGITS",
    "PRECISION",
    "Bits",
    "Bound",
    "SCol",
    "any_of",
    "bound_column",
    "decimal",
    "decimal_type",
    "integer",
    "item_bit",
    "leap",
    "long_word",
    "masked",
    "no_bits",
    "number",
    "ordering",
    "scale_of",
    "shifted",
    "transform_with",
    "union",
    "variable",
    "without_problems",
    "years_between",
]

DIGITS = 38
PRECISION = 34  # the interpreter's decimal context (`polars_columns.PRECISION`)

Bits = dict[str, "Column"]
Bound = "Column | Decimal"  # a Decimal bound is an infinite end known when planning


def decimal_type(scale: int, digits: int = DIGITS) -> DecimalType:
    from pyspark.sql.types import DecimalType  # noqa: PLC0415

    return DecimalType(digits, scale)


def decimal(column: Column, scale: int, digits: int = DIGITS) -> Column:
    """`column` as ``DecimalType(digits, scale)``: null, never an error, when it does not fit."""
    return column.try_cast(decimal_type(scale, digits))


_WORDS: dict[tuple[int, int], Column] = {}
"""Word literals made, by the Spark gateway they belong to (a literal is made once: each costs
calls into the JVM)."""


def long_word(word: int) -> Column:
    """A 64-bit word as a ``LongType`` literal (the top bit: a negative number)."""
    from pyspark import SparkContext  # noqa: PLC0415
    from pyspark.sql import functions as f  # noqa: PLC0415

    word &= (1 << WORD_BITS) - 1
    key = (id(SparkContext._jvm), word)
    found = _WORDS.get(key)
    if found is None:
        if len(_WORDS) > 4096:
            _WORDS.clear()
        signed = word - (1 << WORD_BITS) if word >= 1 << (WORD_BITS - 1) else word
        found = _WORDS[key] = f.lit(signed).cast("long")
    return found


def shifted(word: Column, bits: Column | int) -> Column:
    """`word` shifted left by `bits` (a column: an item's index)."""
    from pyspark.sql import functions as f  # noqa: PLC0415

    return f.call_function("shiftleft", word, bits if not isinstance(bits, int) else f.lit(bits))


def item_bit(index: Column, shift: int = 0) -> Column:
    """The bit of the item at `index` (its place in its list) in a word, `shift` bits up."""
    return shifted(long_word(1), index + shift if shift else index)


def variable(name: str) -> Column:
    """A new lambda variable of a higher-order function (its name made unique from `name`)."""
    from pyspark.sql.functions.builtin import _unresolved_named_lambda_variable  # noqa: PLC0415

    return _unresolved_named_lambda_variable(name)


def transform_with(array: Column, item: Column, index: Column, body: Column) -> Column:
    """``transform(array, (item, index) -> body)`` with the lambda's variables given (made by
    `variable`), so that expressions built on them before are its body."""
    from pyspark.sql.classic.column import Column as Classic  # noqa: PLC0415
    from pyspark.sql.classic.column import _to_seq  # noqa: PLC0415
    from pyspark.sql.utils import get_active_spark_context  # noqa: PLC0415

    sc = get_active_spark_context()
    utils = sc._jvm.PythonSQLUtils  # type: ignore[union-attr]
    function = utils.lambdaFunction(body._jc, _to_seq(sc, [item._jc, index._jc]))
    return Classic(utils.fn("transform", _to_seq(sc, [array._jc, function])))


def no_bits() -> Column:
    return long_word(0)


def any_of(parts: Iterable[Column]) -> Column | None:
    items = list(parts)
    if not items:
        return None
    return reduce(lambda a, b: a | b, items)


def union(*groups: Bits) -> Bits:
    out: Bits = {}
    for group in groups:
        for key, expr in group.items():
            out[key] = out[key].bitwiseOR(expr) if key in out else expr
    return out


def masked(bits: Bits, when: Column) -> Bits:
    """The bits where `when` holds (null: does not), else none."""
    if not bits:
        return {}
    from pyspark.sql import functions as f  # noqa: PLC0415

    return {k: f.when(when, e).otherwise(no_bits()) for k, e in bits.items()}


def without_problems(bits: Bits) -> Bits:
    """What would settle, without the evaluation problems (`polars_columns.without_problems`)."""
    out = dict(bits)
    word = out.get("s0")
    if word is not None:
        out["s0"] = word.bitwiseAND(long_word(~PROBLEM_MASK))
    return out


@attrs.frozen(eq=False)
class SCol:
    """A node's value as Spark columns, and the projection level they can be computed at (0:
    the input's columns; a column materialized at level n is read from level n + 1)."""

    kind: str
    v: Column | None = None  # bool, date, text, set; null = unknown
    lo: Column | Decimal | None = None  # numbers: low and high bounds; null = unknown
    hi: Column | Decimal | None = None
    bits: Bits = attrs.field(factory=dict)
    scale: int = 0
    sel: Column | None = None  # a list value: the word of the items it holds
    exact: bool = True  # a number that is never a range
    depth: int = 0

    def unknown(self) -> Column:
        if self.kind == "num":
            lo = self.lo
            if isinstance(lo, Decimal):
                from pyspark.sql import functions as f  # noqa: PLC0415

                return f.lit(False)
            assert lo is not None
            return lo.isNull()
        assert self.v is not None
        return self.v.isNull()


def bound_column(bound: Column | Decimal | None) -> Column:
    if isinstance(bound, Decimal):
        raise NotLowered("arithmetic on an open range")
    assert bound is not None
    return bound


def scale_of(value: Decimal | int) -> int:
    exponent = Decimal(value).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def number(value: Decimal | int) -> tuple[Column, int]:
    """A constant number as a decimal literal of its own scale (`polars_columns.number`)."""
    scale = scale_of(value)
    digits = len(Decimal(value).as_tuple().digits)
    if scale > DIGITS or max(digits, scale) > DIGITS:
        raise NotLowered(f"the number {value} (more than {DIGITS} digits)")
    text = format(Decimal(value), "f")
    from pyspark.sql import functions as f  # noqa: PLC0415

    return f.lit(text).cast(decimal_type(scale)), scale


def ordering(op: str, a: Column | Decimal, b: Column | Decimal) -> Column:
    """``a op b`` for bounds, one of them perhaps an infinite end known when planning."""
    from pyspark.sql import functions as f  # noqa: PLC0415

    if isinstance(a, Decimal) or isinstance(b, Decimal):
        if isinstance(a, Decimal) and isinstance(b, Decimal):
            return f.lit(_py_order(op, a, b))
        if isinstance(a, Decimal):
            return f.lit(bool(a > 0) if op in (">", ">=") else bool(a < 0))
        assert isinstance(b, Decimal)
        return f.lit(bool(b < 0) if op in (">", ">=") else bool(b > 0))
    return compare(op, a, b)


def compare(op: str, a: Column, b: Column) -> Column:
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "==":
        return a == b
    return a != b


def _py_order(op: str, a: Decimal, b: Decimal) -> bool:
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b}[op]


def _month_day(day: Column) -> Column:
    from pyspark.sql import functions as f  # noqa: PLC0415

    return f.month(day) * 100 + f.dayofmonth(day)


def years_between(start: Column, end: Column) -> Column:
    """Whole years from `start` to `end` (`polars_columns.years_between`)."""
    from pyspark.sql import functions as f  # noqa: PLC0415

    start_md, end_md = _month_day(start), _month_day(end)
    forward = f.year(end) - f.year(start) - (end_md < start_md).cast("int")
    backward = -(f.year(start) - f.year(end) - (start_md < end_md).cast("int"))
    return f.when(end >= start, forward).otherwise(backward)


def leap(year: Column) -> Column:
    return ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)


def integer(column: Column) -> Column:
    """A whole number as the decimal of scale 0 the Polars builder gives it."""
    return column.cast("long").cast(decimal_type(0))
