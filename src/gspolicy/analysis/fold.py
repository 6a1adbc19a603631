"""Constant folding over checked expressions: conditions, or parts of them, that never vary.

A condition such as ``stable_income > exit_income_line and 1 > 2`` is always false whatever the
household: folding finds it.  Folding follows the language's three-valued logic, so it only says
"constant" when the value is the same for *every* household, including ones with missing data:
``x and False`` is false even when ``x`` is unknown, ``x or True`` is true.

What folds: literals, list literals, arithmetic and comparisons of constants, ``not``, ``and`` /
``or`` (a false operand makes ``and`` false, a true one makes ``or`` true), ``year(date(…))``,
``c if True else d``, and facts whose definition folds.  What never folds: household fields,
``age``, ``present``, aggregates, ``as_of`` and parameters — a parameter is dated and meant to
change between versions, so a comparison with one is not a mistake.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from gspolicy._location import Span
from gspolicy._numbers import is_number
from gspolicy.lang.typed import (
    TAggregate,
    TArith,
    TBool,
    TCall,
    TCompare,
    TConst,
    TFact,
    TIf,
    TNeg,
    TNot,
    TSet,
    TypedExpr,
    typed_children,
)
from gspolicy.lang.types import BOOL

__all__ = ["ConstantPart", "constant_parts", "fold"]

Const = bool | int | Decimal | str | dt.date | frozenset[object]

_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def fold(node: TypedExpr, facts: Mapping[str, Const] | None = None) -> Const | None:
    """The value `node` has for every household and date, or None when it can vary.

    `facts` maps the names of facts already known to be constant to their values.
    """
    known = facts or {}
    if isinstance(node, TConst):
        return node.value
    if isinstance(node, TSet):
        items = [fold(i, known) for i in node.items]
        if any(i is None for i in items):
            return None
        return frozenset(items)
    if isinstance(node, TFact):
        return known.get(node.name)
    if isinstance(node, TNot):
        value = fold(node.operand, known)
        return (not value) if isinstance(value, bool) else None
    if isinstance(node, TNeg):
        value = fold(node.operand, known)
        return -value if is_number(value) else None  # type: ignore[operator]  # a number, checked
    if isinstance(node, TArith):
        return _arith(node, known)
    if isinstance(node, TBool):
        return _boolean(node, known)
    if isinstance(node, TCompare):
        return _compare(node, known)
    if isinstance(node, TCall) and node.func == "year":
        day = fold(node.args[0], known)
        return day.year if isinstance(day, dt.date) else None
    if isinstance(node, TIf):
        cond = fold(node.cond, known)
        if isinstance(cond, bool):
            return fold(node.then if cond else node.orelse, known)
        then, orelse = fold(node.then, known), fold(node.orelse, known)
        return then if then is not None and then == orelse else None
    return None  # fields, parameters, `as_of`, `age`, `present`, aggregates and other calls


def _arith(node: TArith, known: Mapping[str, Const]) -> Const | None:
    left, right = fold(node.left, known), fold(node.right, known)
    if not (is_number(left) and is_number(right)):
        return None
    a, b = Decimal(left), Decimal(right)  # type: ignore[arg-type]  # numbers, checked above
    try:
        if node.op == "+":
            return a + b
        if node.op == "-":
            return a - b
        if node.op == "*":
            return a * b
        return None if b == 0 else a / b
    except (InvalidOperation, ArithmeticError):
        return None


def _boolean(node: TBool, known: Mapping[str, Const]) -> Const | None:
    values = [fold(o, known) for o in node.operands]
    absorbing = node.op == "or"  # `or`: one true operand settles it; `and`: one false one
    if any(v is absorbing for v in values):
        return absorbing
    if all(isinstance(v, bool) for v in values):
        return not absorbing
    return None


def _compare(node: TCompare, known: Mapping[str, Const]) -> Const | None:
    values = [fold(o, known) for o in node.operands]
    settled = True
    for op, left, right in zip(node.ops, values, values[1:], strict=False):
        if left is None or right is None:
            settled = False
            continue
        if op in ("in", "not in"):
            if not isinstance(right, frozenset):
                settled = False
                continue
            result = (left in right) == (op == "in")
        else:
            try:
                result = bool(_ORDER[op](left, right))
            except TypeError:
                settled = False
                continue
        if not result:
            return False  # a chained comparison is the `and` of its pairs
    return True if settled else None


@attrs.frozen
class ConstantPart:
    """A condition (`whole`) or a part of one that has the same value for every household."""

    span: Span
    value: bool
    whole: bool


def constant_parts(root: TypedExpr, facts: Mapping[str, Const] | None = None) -> list[ConstantPart]:
    """The constant findings in a condition: the whole condition when it folds to true or false,
    else each outermost true/false operand of ``and`` / ``or``, condition of ``… if … else …`` and
    predicate of ``any`` / ``all`` that folds (``x or 1 > 2``: the part ``1 > 2``)."""
    known = facts or {}
    whole = fold(root, known)
    if isinstance(whole, bool):
        return [ConstantPart(root.span, whole, whole=True)]
    return list(_parts(root, known))


def _parts(node: TypedExpr, known: Mapping[str, Const]) -> Iterator[ConstantPart]:
    suspects: list[TypedExpr] = []
    if isinstance(node, TBool):
        suspects = list(node.operands)
    elif isinstance(node, TIf):
        suspects = [node.cond]
    elif isinstance(node, TAggregate) and node.func in ("any", "all") and node.body is not None:
        suspects = [node.body]
    flagged: set[int] = set()
    for suspect in suspects:
        value = fold(suspect, known)
        if suspect.type == BOOL and isinstance(value, bool):
            flagged.add(id(suspect))
            yield ConstantPart(suspect.span, value, whole=False)
    for child in typed_children(node):
        if id(child) not in flagged:
            yield from _parts(child, known)
