"""Run-time values of the expression language, three-valued logic and interval arithmetic.

A value is a `bool`, an exact number (`int` or `Decimal`), a `datetime.date`, a `str` (a text or
an enum code), a `frozenset` of scalars (a set-valued parameter), a `Record` or a tuple of
`Record`s, or one of the two partial values:

* `Unknown(missing)`: the value cannot be known; `missing` names what would settle it, as
  concrete data paths (``income.per_capita``, ``members[2].birth_date``) and parameter names
  (``param:exit_income_line``); `problems` holds evaluation diagnostics (division by zero) that
  made it unknown.
* `Interval(low, high, because)`: a number known only to lie in ``[low, high]`` (both ends
  included); `because` names what would settle it, in the same form as `missing`.

Logic is Kleene's: ``false and unknown`` is false, ``true or unknown`` is true, ``not unknown``
is unknown.  A comparison is true or false only when the operands' bounds decide it.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from decimal import Decimal

import attrs

from gspolicy._numbers import is_number
from gspolicy.errors import Diagnostic
from gspolicy.schema.model import Record

__all__ = [
    "Interval",
    "Number",
    "Truth",
    "Unknown",
    "Value",
    "add",
    "bounds",
    "compare",
    "count_of",
    "divide",
    "is_number",
    "kleene_and",
    "kleene_not",
    "kleene_or",
    "make_interval",
    "maximum",
    "minimum",
    "multiply",
    "negate",
    "subtract",
    "total",
    "unknown_of",
]

Number = int | Decimal


@attrs.frozen
class Unknown:
    """A value that cannot be known from the data at hand; `missing` names what would settle it."""

    missing: frozenset[str] = frozenset()
    problems: frozenset[Diagnostic] = frozenset()

    def __repr__(self) -> str:
        return f"Unknown({sorted(self.missing)!r})"


def _ordered(_inst: object, _attr: object, high: Number) -> None:
    low = _inst.low  # type: ignore[attr-defined]
    if low > high:
        raise ValueError(f"interval bounds out of order: {low} > {high}")


@attrs.frozen
class Interval:
    """A number known only within ``[low, high]``; `because` names what would settle it."""

    low: Number
    high: Number = attrs.field(validator=_ordered)
    because: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return f"Interval({self.low}, {self.high}, {sorted(self.because)!r})"


Scalar = bool | int | Decimal | dt.date | str
Value = Scalar | frozenset[Scalar] | Record | tuple[Record, ...] | Unknown | Interval
Truth = bool | Unknown

# exact to 34 significant digits (decimal128); division rounds half-even at that precision
_CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


def unknown_of(*values: Value) -> Unknown:
    """An `Unknown` naming everything the unknowns and intervals among `values` are missing."""
    missing: set[str] = set()
    problems: set[Diagnostic] = set()
    for v in values:
        if isinstance(v, Unknown):
            missing |= v.missing
            problems |= v.problems
        elif isinstance(v, Interval):
            missing |= v.because
    return Unknown(frozenset(missing), frozenset(problems))


def make_interval(low: Number, high: Number, because: frozenset[str]) -> Number | Interval:
    """An interval, or the number itself when both bounds are equal."""
    if low == high:
        return low
    return Interval(low, high, because)


def bounds(value: Number | Interval) -> tuple[Number, Number, frozenset[str]]:
    if isinstance(value, Interval):
        return value.low, value.high, value.because
    return value, value, frozenset()


# --- logic --------------------------------------------------------------------------------------


def kleene_not(value: Truth) -> Truth:
    return value if isinstance(value, Unknown) else not value


def kleene_and(values: Iterable[Truth]) -> Truth:
    """False if any is false; else unknown if any is unknown (naming all of them); else true."""
    unknowns: list[Unknown] = []
    for v in values:
        if v is False:
            return False
        if isinstance(v, Unknown):
            unknowns.append(v)
    return unknown_of(*unknowns) if unknowns else True


def kleene_or(values: Iterable[Truth]) -> Truth:
    """True if any is true; else unknown if any is unknown (naming all of them); else false."""
    unknowns: list[Unknown] = []
    for v in values:
        if v is True:
            return True
        if isinstance(v, Unknown):
            unknowns.append(v)
    return unknown_of(*unknowns) if unknowns else False


# --- comparisons --------------------------------------------------------------------------------


def compare(op: str, left: Value, right: Value) -> Truth:
    """``left op right`` for ``< <= > >= == !=``: unknown unless the values (or bounds) decide."""
    if isinstance(left, Unknown) or isinstance(right, Unknown):
        return unknown_of(left, right)
    if isinstance(left, Interval) or isinstance(right, Interval):
        assert isinstance(left, int | Decimal | Interval)
        assert isinstance(right, int | Decimal | Interval)
        return _compare_bounds(op, left, right)
    if op == "==":
        return _same(left, right)
    if op == "!=":
        return not _same(left, right)
    result: bool
    if op == "<":
        result = left < right  # type: ignore[operator]
    elif op == "<=":
        result = left <= right  # type: ignore[operator]
    elif op == ">":
        result = left > right  # type: ignore[operator]
    else:
        result = left >= right  # type: ignore[operator]
    return result


def _same(left: Value, right: Value) -> bool:
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return left == right


def _compare_bounds(op: str, left: Number | Interval, right: Number | Interval) -> Truth:
    al, ah, why_a = bounds(left)
    bl, bh, why_b = bounds(right)
    because = Unknown(why_a | why_b)
    if op == "<":
        return True if ah < bl else False if al >= bh else because
    if op == "<=":
        return True if ah <= bl else False if al > bh else because
    if op == ">":
        return True if al > bh else False if ah <= bl else because
    if op == ">=":
        return True if al >= bh else False if ah < bl else because
    equal: Truth = True if al == ah == bl == bh else False if (ah < bl or bh < al) else because
    return kleene_not(equal) if op == "!=" else equal


# --- arithmetic ---------------------------------------------------------------------------------


def _op(op: str, a: Number, b: Number) -> Number:
    if isinstance(a, int) and isinstance(b, int) and op != "/":
        return a + b if op == "+" else a - b if op == "-" else a * b
    x, y = Decimal(a), Decimal(b)
    if op == "+":
        return _CONTEXT.add(x, y)
    if op == "-":
        return _CONTEXT.subtract(x, y)
    if op == "*":
        return _CONTEXT.multiply(x, y)
    return _CONTEXT.divide(x, y)


def negate(value: Value) -> Value:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Interval):
        return Interval(-value.high, -value.low, value.because)
    assert is_number(value)
    return -value  # type: ignore[operator]


def add(a: Value, b: Value) -> Value:
    return _interval_op("+", a, b)


def subtract(a: Value, b: Value) -> Value:
    return _interval_op("-", a, b)


def multiply(a: Value, b: Value) -> Value:
    return _interval_op("*", a, b)


def divide(a: Value, b: Value) -> Value | None:
    """``a / b``; None when `b` is exactly zero (the caller reports it).

    Division by an interval that contains zero is unknown (no finite bounds).
    """
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return unknown_of(a, b)
    assert isinstance(b, int | Decimal | Interval)
    bl, bh, _ = bounds(b)
    if bl <= 0 <= bh:
        if bl == bh == 0:
            return None
        return unknown_of(a, b)
    return _interval_op("/", a, b)


def _interval_op(op: str, a: Value, b: Value) -> Value:
    """Interval arithmetic (exact numbers are intervals of width zero); raises on overflow."""
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return unknown_of(a, b)
    assert isinstance(a, int | Decimal | Interval)
    assert isinstance(b, int | Decimal | Interval)
    if not isinstance(a, Interval) and not isinstance(b, Interval):
        return _op(op, a, b)
    al, ah, why_a = bounds(a)
    bl, bh, why_b = bounds(b)
    because = why_a | why_b
    if op == "+":
        return make_interval(_op("+", al, bl), _op("+", ah, bh), because)
    if op == "-":
        return make_interval(_op("-", al, bh), _op("-", ah, bl), because)
    corners = [_op(op, x, y) for x in (al, ah) for y in (bl, bh)]
    return make_interval(min(corners), max(corners), because)


# --- aggregates ---------------------------------------------------------------------------------


def count_of(values: Iterable[Truth]) -> Number | Interval:
    """How many are true: an interval when some are unknown."""
    sure = 0
    maybe = 0
    missing: set[str] = set()
    for v in values:
        if v is True:
            sure += 1
        elif isinstance(v, Unknown):
            maybe += 1
            missing |= v.missing
    return make_interval(sure, sure + maybe, frozenset(missing))


def total(values: Iterable[Value]) -> Value:
    """The sum (0 for no values); unknown if any is unknown; an interval if any is an interval."""
    result: Value = 0
    pending: list[Value] = []
    for v in values:
        if isinstance(v, Unknown):
            pending.append(v)
        elif not pending:
            result = add(result, v)
        else:
            pending.append(v)
    if pending:
        return unknown_of(*pending, result)
    return result


def minimum(values: Iterable[Value], empty: Unknown) -> Value:
    return _extreme(values, empty, lowest=True)


def maximum(values: Iterable[Value], empty: Unknown) -> Value:
    return _extreme(values, empty, lowest=False)


def _extreme(values: Iterable[Value], empty: Unknown, *, lowest: bool) -> Value:
    items = list(values)
    if not items:
        return empty
    if any(isinstance(v, Unknown) for v in items):
        return unknown_of(*items)
    if any(isinstance(v, Interval) for v in items):
        lows: list[Number] = []
        highs: list[Number] = []
        because: frozenset[str] = frozenset()
        for v in items:
            assert isinstance(v, int | Decimal | Interval)
            lo, hi, why = bounds(v)
            lows.append(lo)
            highs.append(hi)
            because |= why
        pick = min if lowest else max
        return make_interval(pick(lows), pick(highs), because)
    pick_value = min if lowest else max
    return pick_value(items)  # type: ignore[type-var]
