"""The thresholds of the packs in force (`thresholds`): each field a condition compares with a bound.

They are read from the packs' typed conditions, through facts, aggregates and arithmetic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal

import attrs
from hypothesis.errors import InvalidArgument

from gspolicy.engine.run import parameter_values
from gspolicy.lang import BOOL, NUMBER, Context, EnumT, Interval, evaluate
from gspolicy.lang.typed import (
    TAge,
    TAggregate,
    TCall,
    TCompare,
    TFact,
    TField,
    TPresent,
    TSet,
    TypedExpr,
    list_path,
    typed_children,
)
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record
from gspolicy.strategies.arguments import HasPolicySet, check_date, policy_set_from


@attrs.frozen
class Threshold:
    """A value of a pack in force at which a condition can change: a field compared with a bound.

    `path` is a field path (``income.per_capita``; ``members.age`` for the age of a member);
    `bounds` the values compared with (a range parameter gives both of its bounds); `solve` is
    set when the field is compared through arithmetic or a fact (``stable_income > line``): the
    field is then solved for so that the compared expression lands on the bound.
    """

    pack: str
    path: str
    bounds: tuple[object, ...]
    condition: str
    solve: TypedExpr | None = attrs.field(default=None, eq=False, repr=False)
    context: Context | None = attrs.field(default=None, eq=False, repr=False)


def _reads(node: TypedExpr, facts: Mapping[str, TypedExpr], seen: frozenset[str] = frozenset()) -> bool:
    if isinstance(node, TField | TAge | TPresent):
        return True
    if isinstance(node, TFact):
        expr = facts.get(node.name)
        return expr is not None and node.name not in seen and _reads(expr, facts, seen | {node.name})
    return any(_reads(c, facts, seen) for c in typed_children(node))


def _numeric_fields(node: TypedExpr, facts: Mapping[str, TypedExpr]) -> Iterator[TField]:
    if isinstance(node, TField) and node.scope == 0 and node.type == NUMBER:
        yield node
    elif isinstance(node, TFact) and node.name in facts:
        yield from _numeric_fields(facts[node.name], facts)
    elif not isinstance(node, TAggregate):
        for child in typed_children(node):
            yield from _numeric_fields(child, facts)


class _Collector:
    def __init__(self, pack: CheckedPack, as_of: dt.date) -> None:
        self.pack = pack
        self.as_of = as_of
        self.ctx = Context(Record(pack.subject, {}), as_of, parameter_values(pack, as_of), pack.facts)
        self.found: dict[tuple[str, str], Threshold] = {}

    def bound(self, node: TypedExpr) -> tuple[object, ...]:
        value = evaluate(node, self.ctx)
        if isinstance(value, Interval):
            return tuple(v for v in (value.low, value.high) if Decimal(v).is_finite())
        if isinstance(value, frozenset):
            return tuple(sorted(value, key=str))
        if isinstance(value, bool | int | Decimal | dt.date | str):
            return (value,)
        return ()

    def add(
        self, path: str, bounds: tuple[object, ...], node: TypedExpr, solve: TypedExpr | None = None
    ) -> None:
        if not bounds:
            return
        key = (path, str(bounds) + ("~" if solve is not None else ""))
        if key not in self.found:
            text = node.span.text.replace("\n", " ")
            self.found[key] = Threshold(self.pack.key, path, bounds, text, solve, self.ctx if solve else None)

    def subject(
        self, node: TypedExpr, scopes: Sequence[str | None], bounds: tuple[object, ...], at: TypedExpr
    ) -> None:
        if isinstance(node, TField):
            base = scopes[node.scope] if node.scope else ""
            if node.scope and base is None:
                return
            self.add(".".join(filter(None, (base, *node.path))), bounds, at)
        elif isinstance(node, TAge):
            base = scopes[node.scope]
            if base is not None:
                self.add(f"{base}.age", bounds, at)
        elif isinstance(node, TCall) and node.func == "year" and isinstance(node.args[0], TField):
            years = tuple(b for b in bounds if isinstance(b, int | Decimal) and not isinstance(b, bool))
            days = tuple(
                dt.date(int(y) + k, m, d)
                for y in years
                for k in (-1, 0, 1)
                for m, d in ((1, 1), (12, 31))
                if 1 < int(y) + k < 9999
            )
            self.subject(node.args[0], scopes, days, at)
        elif node.type == NUMBER and not any(s for s in scopes[1:]):
            for field in _numeric_fields(node, self.pack.facts):
                self.add(".".join(field.path), bounds, at, solve=node)
                break

    def walk(self, node: TypedExpr, scopes: tuple[str | None, ...] = ("",)) -> None:
        facts = self.pack.facts
        if isinstance(node, TCompare):
            for left, op, right in zip(node.operands, node.ops, node.operands[1:], strict=False):
                open_left, open_right = _reads(left, facts), _reads(right, facts)
                if open_left == open_right:
                    if op in ("in", "not in") and isinstance(right, TSet) and open_left:
                        self.subject(left, scopes, tuple(self.bound(right)), node)
                    continue
                subject, bound = (left, right) if open_left else (right, left)
                if op in ("in", "not in") and isinstance(left.type, EnumT) and open_left:
                    codes = self.pack.schema.enums[left.type.name].codes
                    self.subject(left, scopes, codes, node)
                else:
                    self.subject(subject, scopes, self.bound(bound), node)
        elif isinstance(node, TPresent):
            self.subject(node.field, scopes, (None,), node)
        elif isinstance(node, TField) and node.type == BOOL:
            self.subject(node, scopes, (True, False), node)
        elif isinstance(node, TCall) and node.func == "within" and _reads(node.args[0], facts):
            bounds = tuple(b for a in node.args[1:] if not _reads(a, facts) for b in self.bound(a))
            self.subject(node.args[0], scopes, bounds, node)
        elif isinstance(node, TCall) and node.func == "held_on":
            source = list_path(node.args[0])
            day = node.args[1]
            if source is not None and isinstance(day, TField) and day.scope == 0:
                self.add(f"{source}.start", ("@" + ".".join(day.path),), node)
                self.add(f"{source}.end", ("@" + ".".join(day.path),), node)
        if isinstance(node, TAggregate):
            self.walk(node.source, scopes)
            if node.body is not None:
                self.walk(node.body, (*scopes, list_path(node.source)))
            return
        for child in typed_children(node):
            self.walk(child, scopes)


def _conditions(pack: CheckedPack) -> Iterator[TypedExpr]:
    yield from pack.facts.values()
    if pack.applies is not None:
        yield pack.applies
    yield from pack.givens.values()
    yield from pack.criteria.values()
    yield from pack.rules.values()
    if pack.buffer is not None:
        yield pack.buffer.retained
        yield from pack.buffer.active.values()
        yield from pack.buffer.until.values()


def _pack_thresholds(pack: CheckedPack, as_of: dt.date) -> tuple[Threshold, ...]:
    collector = _Collector(pack, as_of)
    for node in _conditions(pack):
        collector.walk(node)
    return tuple(collector.found.values())


def thresholds(
    policies: PolicySet | HasPolicySet, *, as_of: dt.date, pack: str | None = None
) -> tuple[Threshold, ...]:
    """Every threshold of the packs in force on `as_of` (or of `pack` only) that a household can reach."""
    policy_set = policy_set_from(policies)
    as_of = check_date(as_of, "as_of")
    if pack is not None and pack not in policy_set.ids:
        raise InvalidArgument(f"pack={pack!r} is not in the policy set (packs: {', '.join(policy_set.ids)})")
    found: list[Threshold] = []
    for checked in policy_set.all_in_force(as_of):
        if checked.subject == policy_set.schema.root and (pack is None or checked.id == pack):
            found.extend(_pack_thresholds(checked, as_of))
    return tuple(found)
