"""A pack rule's condition compiled into durable_rules conditions (JSON), one pair per rule: definitely
true and definitely false; and the terms the per-record evaluator prepares into the fact.

**Compiled** (decided inside durable_rules' Rete network): the boolean structure of every rule
(``and``, ``or``, ``not``, facts used by name), comparisons (``< <= > >= == !=``) between a value
and a constant or between two values of the same fact, ``in`` / ``not in`` over a list literal,
``within``, ``present`` and boolean fields.  Kleene's three-valued logic is compiled into two
durable rules per pack rule: ``<rule>#true`` matches exactly when the condition is definitely
true and ``<rule>#false`` exactly when it is definitely false; neither matches when it is
unknown.  Every read of a value is guarded by an existence test (``$ex``), a missing value is an
absent key, and a number known only as a range travels as two keys (``…_lo``, ``…_hi``; an
infinite end is absent), so a comparison is definite only when the bounds decide it.  An alert is
raised on ``#true`` alone, so it never fires on unknown data.

**Prepared** (computed by `DurablePack.prepare` into the asserted fact, exactly, with decimals,
by the per-record evaluator of `gspolicy.engine.compiled` — the interpreter's semantics, no
interpreter of its own):
field reads (flattened to one key each), the as-of date, parameter values in force, arithmetic,
member aggregates (``any``/``all``/``count``/``sum``/``min``/``max`` over a list, bodies
included), ages, ``year`` and ``years_between``, conditionals, and ``in`` over a set-valued
parameter.  Dates travel as day numbers (``date.toordinal()``); a number that does not survive
the trip to a double unchanged is sent as absent (unknown) and counted, never rounded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from gspolicy.lang.typed import (
    TAge,
    TAggregate,
    TArith,
    TAsOf,
    TBool,
    TCall,
    TCompare,
    TConst,
    TFact,
    TField,
    TIf,
    TNeg,
    TNot,
    TParam,
    TPresent,
    TSet,
    TypedExpr,
)
from gspolicy.lang.types import DateT, NumberT
from gspolicy.lang.values import compare
from gspolicy.pack.typecheck import CheckedPack

__all__ = [
    "HOUSEHOLD_FACT",
    "CompiledRule",
    "ConditionCompiler",
    "Json",
    "Term",
    "all_of",
    "const_json",
    "number_json",
]

Json = Any  # a durable_rules condition: JSON data
HOUSEHOLD_FACT: Json = {"$ex": {"hh": 1}}  # every household fact has it; durable's state object has not
_ALWAYS: Json = {"$always": True}  # a placeholder, never sent: see `all_of`


@attrs.frozen
class Term:
    """A value a rule reads, prepared into the fact under `key` (or `key_lo`/`key_hi` when it
    may be known only as a range); `kind` says how it is prepared."""

    key: str
    expr: TypedExpr = attrs.field(eq=False)
    text: str
    kind: str  # field, as_of, parameter, aggregate, computed, condition
    ranged: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        return (f"{self.key}_lo", f"{self.key}_hi") if self.ranged else (self.key,)


@attrs.frozen
class CompiledRule:
    """One pack rule as two durable rules: definitely true and definitely false (None: never)."""

    rule: str
    ruleset: str
    true_name: str
    false_name: str
    when_true: Json
    when_false: Json
    keys: frozenset[str]


@attrs.frozen
class _Side:
    """A comparison operand: a constant, or the key(s) of a prepared term."""

    const: object = None
    lo: str | None = None
    hi: str | None = None

    @property
    def is_const(self) -> bool:
        return self.lo is None


def _low(side: _Side) -> _Side:
    return side if side.is_const else _Side(lo=side.lo, hi=side.lo)


def _high(side: _Side) -> _Side:
    return side if side.is_const else _Side(lo=side.hi, hi=side.hi)


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_DURABLE_OP = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}


def all_of(parts: Iterable[Json | None]) -> Json | None:
    """Conjunction; None is "never", `_ALWAYS` drops out."""
    items: list[Json] = []
    for p in parts:
        if p is None:
            return None
        if p == _ALWAYS:
            continue
        items.extend(p["$and"] if isinstance(p, dict) and set(p) == {"$and"} else [p])
    if not items:
        return _ALWAYS
    return items[0] if len(items) == 1 else {"$and": items}


def _or(parts: Iterable[Json | None]) -> Json | None:
    items: list[Json] = []
    for p in parts:
        if p is None:
            continue
        if p == _ALWAYS:
            return _ALWAYS
        items.extend(p["$or"] if isinstance(p, dict) and set(p) == {"$or"} else [p])
    if not items:
        return None
    return items[0] if len(items) == 1 else {"$or": items}


def _ex(key: str) -> Json:
    return {"$ex": {key: 1}}


def const_json(value: object) -> object:
    if isinstance(value, dt.date):
        return value.toordinal()
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | Decimal):
        return number_json(value)
    raise TypeError(f"no durable form for constant {value!r}")


def number_json(value: int | Decimal) -> int | float | None:
    """A number as JSON, or None when a double would not carry it unchanged."""
    if isinstance(value, int):
        return value if abs(value) < 2**53 else None
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else None


class ConditionCompiler:
    def __init__(self, pack: CheckedPack) -> None:
        self.pack = pack
        self.terms: dict[str, Term] = {}
        self.by_text: dict[tuple[str, str], str] = {}
        self.used: set[str] = set()
        self.ranged_params = {
            name for name, p in pack.pack.parameters.items() if any(v.kind == "range" for v in p.values)
        }

    # --- terms ---------------------------------------------------------------------------------
    def term(self, node: TypedExpr, kind: str) -> Term:
        text = " ".join(node.span.text.split())
        if isinstance(node, TField):
            key = "f_" + "_".join(node.path)
            text = ".".join(node.path)
        elif isinstance(node, TParam):
            key = "p_" + node.name
        elif isinstance(node, TAsOf):
            key, text = "as_of", "as_of"
        else:
            found = self.by_text.get((kind, text))
            key = found or f"t{len(self.terms)}"
        term = self.terms.get(key)
        if term is None:
            term = Term(key, node, text, kind, self.may_range(node))
            self.terms[key] = term
            self.by_text[(kind, text)] = key
        self.used.update(term.keys)
        return term

    def may_range(self, node: TypedExpr) -> bool:
        if not isinstance(node.type, NumberT):
            return False
        if isinstance(node, TParam):
            return node.name in self.ranged_params
        if isinstance(node, TFact):
            return self.may_range(self.pack.facts[node.name])
        if isinstance(node, TArith):
            return self.may_range(node.left) or self.may_range(node.right)
        if isinstance(node, TNeg):
            return self.may_range(node.operand)
        if isinstance(node, TAggregate):
            return (node.func == "count" and node.body is not None) or (
                node.body is not None and self.may_range(node.body)
            )
        return isinstance(node, TAge | TIf)

    def side(self, node: TypedExpr) -> _Side:
        if isinstance(node, TConst):
            return _Side(const=node.value)
        if isinstance(node, TFact):
            return self.side(self.pack.facts[node.name])
        kind = (
            "field"
            if isinstance(node, TField)
            else "parameter"
            if isinstance(node, TParam)
            else "as_of"
            if isinstance(node, TAsOf)
            else "aggregate"
            if isinstance(node, TAggregate)
            else "computed"
        )
        term = self.term(node, kind)
        keys = term.keys
        return _Side(lo=keys[0], hi=keys[-1])

    # --- conditions ----------------------------------------------------------------------------
    def cond(self, node: TypedExpr) -> tuple[Json | None, Json | None]:
        """(definitely true, definitely false) conditions of a boolean node; None is never."""
        if isinstance(node, TConst):
            return (_ALWAYS, None) if node.value is True else (None, _ALWAYS)
        if isinstance(node, TNot):
            t, f = self.cond(node.operand)
            return f, t
        if isinstance(node, TBool):
            forms = [self.cond(o) for o in node.operands]
            if node.op == "and":
                return all_of(t for t, _ in forms), _or(f for _, f in forms)
            return _or(t for t, _ in forms), all_of(f for _, f in forms)
        if isinstance(node, TFact):
            return self.cond(self.pack.facts[node.name])
        if isinstance(node, TPresent):
            key = self.term(node.field, "field").key
            return _ex(key), {"$nex": {key: 1}}
        if isinstance(node, TField):
            key = self.term(node, "field").key
            return all_of([_ex(key), {key: True}]), all_of([_ex(key), {key: False}])
        if isinstance(node, TCall) and node.func == "within":
            day, first, last = node.args
            return self.chain([first, day, last], ["<=", "<="])
        if isinstance(node, TCompare) and all(
            op not in ("in", "not in") or isinstance(r, TSet)
            for op, r in zip(node.ops, node.operands[1:], strict=True)
        ):
            return self.chain(list(node.operands), list(node.ops))
        # anything else is a prepared condition: true, false or absent (unknown)
        key = self.term(node, "condition").key
        return all_of([_ex(key), {key: True}]), all_of([_ex(key), {key: False}])

    def chain(self, operands: list[TypedExpr], ops: list[str]) -> tuple[Json | None, Json | None]:
        forms = []
        for op, left, right in zip(ops, operands, operands[1:], strict=False):
            if op in ("in", "not in"):
                assert isinstance(right, TSet)
                eqs = [self.compare("==", left, item) for item in right.items]
                t, f = _or(t for t, _ in eqs), all_of(f for _, f in eqs)
                forms.append((f, t) if op == "not in" else (t, f))
            else:
                forms.append(self.compare(op, left, right))
        return all_of(t for t, _ in forms), _or(f for _, f in forms)

    def compare(
        self, op: str, left_node: TypedExpr, right_node: TypedExpr
    ) -> tuple[Json | None, Json | None]:
        left, right = self.side(left_node), self.side(right_node)
        if left.is_const and right.is_const:
            result = compare(op, left.const, right.const)  # type: ignore[arg-type]
            return (_ALWAYS, None) if result is True else (None, _ALWAYS)
        ordered = isinstance(left_node.type, NumberT | DateT)
        if op == "!=":
            t, f = self.compare("==", left_node, right_node)
            return f, t
        if op == "==":
            if not ordered:
                return self.atom("==", left, right), self.atom("!=", left, right)
            sure = all_of(
                [
                    _ALWAYS if left.lo == left.hi else self.atom("==", _low(left), _high(left)),
                    self.atom("==", _high(left), _low(right)),
                    _ALWAYS if right.lo == right.hi else self.atom("==", _low(right), _high(right)),
                ]
            )
            return sure, _or([self.bound("<", left, right), self.bound(">", left, right)])
        return self.bound(op, left, right), self.bound(_NEGATE[op], left, right)

    def bound(self, op: str, left: _Side, right: _Side) -> Json | None:
        """``left op right`` definitely: ``<``/``<=`` read the left's high and the right's low bound."""
        if op in ("<", "<="):
            return self.atom(op, _high(left), _low(right))
        return self.atom(op, _low(left), _high(right))

    def atom(self, op: str, left: _Side, right: _Side) -> Json | None:
        """One durable comparison with its existence tests; `left` or `right` may be a constant."""
        if left.is_const:
            left, right, op = right, left, _FLIP[op]
        assert left.lo is not None
        key = left.lo
        if right.is_const:
            value = const_json(right.const)
            if value is None:
                return None
            test: Json = {key: value} if op == "==" else {_DURABLE_OP[op]: {key: value}}
            return all_of([_ex(key), test])
        assert right.lo is not None
        other = right.lo
        test = {key: {"$m": other}} if op == "==" else {_DURABLE_OP[op]: {key: {"$m": other}}}
        return all_of([_ex(key), _ex(other), test])
