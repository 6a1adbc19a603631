"""The syntax tree of the expression language: our own nodes, each with the span it came from.

The nodes only describe what was written; the checker (`gspolicy.lang.typecheck`) resolves names and
types and the interpreter evaluates the checked tree.  Spans take no part in equality or hashing
(``attrs.field(eq=False)`` on every span), so two trees compare equal when they have the same shape and values
wherever they were written: ``parse(print(e)) == e`` is the round-trip property.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Literal as Lit

import attrs

from gspolicy._location import Span

__all__ = [
    "AGGREGATES",
    "FUNCTIONS",
    "MISSING_DAY_RULES",
    "OUTCOME_FUNCTIONS",
    "Attribute",
    "BinOp",
    "BoolOp",
    "Call",
    "Compare",
    "DateLit",
    "Expr",
    "IfExp",
    "ListLit",
    "Literal",
    "Name",
    "Unary",
    "children",
    "equal_ignoring_spans",
]

AGGREGATES = ("any", "all", "count", "sum", "min", "max")
"""Functions over a list field whose second argument is evaluated once per item."""

FUNCTIONS = (
    *AGGREGATES,
    "years_between",
    "year",
    "within",
    "present",
    "held_on",
    "years_after",
    "months_after",
)
"""Every function name of the language (``date("…")`` is a literal, not a call)."""

OUTCOME_FUNCTIONS = ("rule", "criterion", "granted", "verdict", "buffer")

MISSING_DAY_RULES = ("last_day_of_month", "first_day_of_next_month")
"""What `years_after` and `months_after` give when the day does not exist in the month reached
(29 February in a common year, the 31st of a month of 30 days): each pack that shifts dates
declares one (``missing_day:``), used by the interpreter and every runner."""
"""Functions that read a decision's outcome, not a record: only an invariant (a pack of ``kind:
invariants``) or a statistics indicator may call them, each with a name written out
(``rule("housing.repair")``); ``verdict()`` and ``buffer()`` may name none."""

CompareOp = Lit["<", "<=", ">", ">=", "==", "!=", "in", "not in"]
ArithOp = Lit["+", "-", "*", "/"]


def _literal_key(value: object) -> tuple[bool, object]:
    # `True == 1` in Python; a boolean literal must not equal a number literal
    return (isinstance(value, bool), value)


@attrs.frozen
class Literal:
    """A number (`int` or `Decimal`, never negative: ``-1`` is `Unary`), a text or a boolean."""

    value: bool | int | Decimal | str = attrs.field(eq=_literal_key)
    span: Span = attrs.field(eq=False, repr=False)


@attrs.frozen
class DateLit:
    """A date literal, ``date("2018-09-30")``."""

    value: dt.date
    span: Span = attrs.field(eq=False, repr=False)


@attrs.frozen
class Name:
    """A bare identifier; the checker resolves it (field, item field, parameter, fact, `as_of`, `age`)."""

    id: str
    span: Span = attrs.field(eq=False, repr=False)


@attrs.frozen
class Attribute:
    """A step of a field path, ``income.per_capita``; `attr_span` covers the field name."""

    value: Expr
    attr: str
    span: Span = attrs.field(eq=False, repr=False)
    attr_span: Span = attrs.field(eq=False, repr=False)


@attrs.frozen
class ListLit:
    """A list literal, ``["illness", "disability"]`` (allowed after `in` / `not in`)."""

    items: tuple[Expr, ...]
    span: Span = attrs.field(eq=False, repr=False)


@attrs.frozen
class Unary:
    """``not x`` or ``-x``."""

    op: Lit["not", "-"]
    operand: Expr
    span: Span = attrs.field(eq=False, repr=False)


@attrs.frozen
class BinOp:
    """Arithmetic: ``+ - * /``."""

    op: ArithOp
    left: Expr
    right: Expr
    span: Span = attrs.field(eq=False, repr=False)


@attrs.frozen
class BoolOp:
    """``a and b and c`` (n-ary, as written: ``(a and b) and c`` stays nested)."""

    op: Lit["and", "or"]
    operands: tuple[Expr, ...]
    span: Span = attrs.field(eq=False, repr=False)


@attrs.frozen
class Compare:
    """A comparison, possibly chained: ``6 <= age <= 15`` has three operands and two operators."""

    operands: tuple[Expr, ...]
    ops: tuple[CompareOp, ...]
    span: Span = attrs.field(eq=False, repr=False)


@attrs.frozen
class Call:
    """A function call by name (the checker knows the functions); `func_span` covers the name."""

    func: str
    args: tuple[Expr, ...]
    span: Span = attrs.field(eq=False, repr=False)
    func_span: Span = attrs.field(eq=False, repr=False)


@attrs.frozen
class IfExp:
    """``then if cond else orelse``."""

    cond: Expr
    then: Expr
    orelse: Expr
    span: Span = attrs.field(eq=False, repr=False)


Expr = Literal | DateLit | Name | Attribute | ListLit | Unary | BinOp | BoolOp | Compare | Call | IfExp


def children(expr: Expr) -> Iterator[Expr]:
    """The direct sub-expressions of `expr`, in source order."""
    if isinstance(expr, Attribute):
        yield expr.value
    elif isinstance(expr, ListLit):
        yield from expr.items
    elif isinstance(expr, Unary):
        yield expr.operand
    elif isinstance(expr, BinOp):
        yield expr.left
        yield expr.right
    elif isinstance(expr, (BoolOp, Compare)):
        yield from expr.operands
    elif isinstance(expr, Call):
        yield from expr.args
    elif isinstance(expr, IfExp):
        yield expr.then
        yield expr.cond
        yield expr.orelse


def equal_ignoring_spans(a: Expr, b: Expr) -> bool:
    """True when the two trees have the same shape and values (spans never take part)."""
    return a == b
