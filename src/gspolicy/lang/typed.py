"""The checked form of an expression: names resolved, every node carrying its type and span.

Only `gspolicy.lang.typecheck` builds these nodes; the interpreter evaluates them.  Field reads are
resolved to a *scope* and a path: scope 0 is the subject record (the household), scope ``k`` the
item of the ``k``-th enclosing aggregate (``any(members, …)`` opens scope 1 inside its predicate).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Literal as Lit

import attrs

from gspolicy._location import Span
from gspolicy.lang.ast import OUTCOME_FUNCTIONS, ArithOp, CompareOp
from gspolicy.lang.types import Type

__all__ = [
    "AGE",
    "TAge",
    "TAggregate",
    "TArith",
    "TAsOf",
    "TBool",
    "TCall",
    "TCompare",
    "TConst",
    "TFact",
    "TField",
    "TIf",
    "TNeg",
    "TNot",
    "TParam",
    "TPresent",
    "TSet",
    "TypedExpr",
    "fields_read",
    "list_path",
    "outcome_calls",
    "typed_children",
]


@attrs.frozen
class TConst:
    """A constant: a boolean, number, text, enum code or date."""

    type: Type
    span: Span
    value: bool | int | Decimal | str | dt.date


@attrs.frozen
class TSet:
    """A list literal after `in`: its items (typed like the left operand)."""

    type: Type
    span: Span
    items: tuple[TypedExpr, ...]


@attrs.frozen
class TField:
    """A field read: `path` from the record of `scope` (0: the subject; k: the k-th item)."""

    type: Type
    span: Span
    scope: int
    path: tuple[str, ...]


@attrs.frozen
class TParam:
    """A dated parameter, read from the evaluation context."""

    type: Type
    span: Span
    name: str


@attrs.frozen
class TFact:
    """A named derived fact, evaluated lazily once per evaluation."""

    type: Type
    span: Span
    name: str


@attrs.frozen
class TAsOf:
    """The as-of date of the evaluation."""

    type: Type
    span: Span


AGE = "age"
"""Inside an aggregate over records with a field of role ``birth_date``: the item's age at the
as-of date (a word of the language, not a field)."""


@attrs.frozen
class TAge:
    """The age in whole years at the as-of date of the item of `scope` (from its birth date, or
    from its recorded age and the date it was recorded)."""

    type: Type
    span: Span
    scope: int
    # the item's fields that play the roles `birth_date`, `recorded_age`, `age_recorded_on`
    birth: str
    recorded: str | None = None
    recorded_on: str | None = None


@attrs.frozen
class TNot:
    type: Type
    span: Span
    operand: TypedExpr


@attrs.frozen
class TNeg:
    type: Type
    span: Span
    operand: TypedExpr


@attrs.frozen
class TArith:
    type: Type
    span: Span
    op: ArithOp
    left: TypedExpr
    right: TypedExpr


@attrs.frozen
class TBool:
    type: Type
    span: Span
    op: Lit["and", "or"]
    operands: tuple[TypedExpr, ...]


@attrs.frozen
class TCompare:
    type: Type
    span: Span
    operands: tuple[TypedExpr, ...]
    ops: tuple[CompareOp, ...]


@attrs.frozen
class TAggregate:
    """``func(source, body)``: `body` (None for ``count(list)``) is evaluated in scope `scope`."""

    type: Type
    span: Span
    func: Lit["any", "all", "count", "sum", "min", "max"]
    source: TypedExpr
    body: TypedExpr | None
    scope: int


@attrs.frozen
class TCall:
    """``years_between(a, b)``, ``year(d)``, ``within(d, start, end)``, ``held_on(list, d)``,
    ``years_after(n, d)`` or ``months_after(n, d)`` (typed with a third argument, the pack's
    ``missing_day`` rule, so that every engine applies the one rule); in
    an invariant, the outcome functions ``rule``, ``criterion``, ``granted`` and ``verdict``."""

    type: Type
    span: Span
    func: Lit[
        "years_between",
        "year",
        "within",
        "held_on",
        "years_after",
        "months_after",
        "rule",
        "criterion",
        "granted",
        "verdict",
    ]
    args: tuple[TypedExpr, ...]
    # ``held_on``: the items' fields that play the roles `support_start` and `support_end`
    fields: tuple[str, ...] = ()


@attrs.frozen
class TPresent:
    """``present(path)``: true when the field is given (never unknown)."""

    type: Type
    span: Span
    field: TField


@attrs.frozen
class TIf:
    type: Type
    span: Span
    cond: TypedExpr
    then: TypedExpr
    orelse: TypedExpr


TypedExpr = (
    TConst
    | TSet
    | TField
    | TParam
    | TFact
    | TAsOf
    | TAge
    | TNot
    | TNeg
    | TArith
    | TBool
    | TCompare
    | TAggregate
    | TCall
    | TPresent
    | TIf
)


def typed_children(node: TypedExpr) -> Iterator[TypedExpr]:
    """The direct sub-expressions of a checked node."""
    if isinstance(node, TSet):
        yield from node.items
    elif isinstance(node, TNot | TNeg):
        yield node.operand
    elif isinstance(node, TArith):
        yield node.left
        yield node.right
    elif isinstance(node, (TBool, TCompare)):
        yield from node.operands
    elif isinstance(node, TAggregate):
        yield node.source
        if node.body is not None:
            yield node.body
    elif isinstance(node, TCall):
        yield from node.args
    elif isinstance(node, TPresent):
        yield node.field
    elif isinstance(node, TIf):
        yield node.cond
        yield node.then
        yield node.orelse


def outcome_calls(node: TypedExpr) -> list[TCall]:
    """The calls of the outcome functions in `node` (``rule("id")`` …, an invariant's reads)."""
    found = [node] if isinstance(node, TCall) and node.func in OUTCOME_FUNCTIONS else []
    for child in typed_children(node):
        found.extend(outcome_calls(child))
    return found


def fields_read(node: TypedExpr, facts: Mapping[str, TypedExpr]) -> tuple[str, ...]:
    """The data paths a condition reads, through the facts it uses, in order and once each: a
    field of the subject as its path (``income.period_start``), a field of a list's items with
    ``[*]`` for the item (``members[*].dropped_out``), an age as the birth date it needs.  What
    would settle a condition whose data precondition does not hold."""
    found: dict[str, None] = {}
    seen_facts: set[str] = set()

    def walk(current: TypedExpr, prefixes: dict[int, str]) -> None:
        if isinstance(current, TField):
            found[_joined(prefixes.get(current.scope, ""), current.path)] = None
            return
        if isinstance(current, TAge):
            found[_joined(prefixes.get(current.scope, ""), (current.birth,))] = None
            return
        if isinstance(current, TFact):
            expr = facts.get(current.name)
            if expr is not None and current.name not in seen_facts:
                seen_facts.add(current.name)
                walk(expr, {0: ""})  # a fact is about the subject
            return
        if isinstance(current, TAggregate):
            walk(current.source, prefixes)
            if current.body is not None:
                source = current.source
                base = (
                    _joined(prefixes.get(source.scope, ""), source.path)
                    if isinstance(source, TField)
                    else "(list)"
                )
                walk(current.body, {**prefixes, current.scope: base + "[*]"})
            return
        for child in typed_children(current):
            walk(child, prefixes)

    walk(node, {0: ""})
    return tuple(found)


def _joined(prefix: str, path: tuple[str, ...]) -> str:
    tail = ".".join(path)
    return f"{prefix}.{tail}" if prefix and tail else prefix or tail


def list_path(node: TypedExpr) -> str | None:
    """The dotted path of the subject's list an aggregate ranges over (``members``; through
    ``held_on(support, …)`` its list), or None when it ranges over something else."""
    if isinstance(node, TField) and node.scope == 0:
        return ".".join(node.path)
    if isinstance(node, TCall) and node.func == "held_on":
        return list_path(node.args[0])
    return None
