"""Evaluating one checked pack on one record as of a date, keeping the trace of every condition.

The values in force on the as-of date are taken from each parameter's history: an exact value as
itself, a range as an `Interval` (an open end is infinite), a value not established — or a
parameter with no value in force yet — as `Unknown` naming the parameter.  Nothing later than the
as-of date leaks in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from gspolicy.lang import Context, Interval, TraceEvent, TypedExpr, Unknown, Value, evaluate
from gspolicy.pack.model import DatedValue, Parameter
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record

__all__ = [
    "BufferOutcome",
    "BufferValues",
    "ExprResult",
    "PackOutcome",
    "PackValues",
    "parameter_value",
    "parameter_values",
    "run_expr",
    "run_pack",
]

_INF = Decimal("Infinity")


@attrs.frozen
class ExprResult:
    """The value of one condition and the trace events of its evaluation."""

    value: Value
    events: tuple[TraceEvent, ...]


@attrs.frozen
class BufferValues:
    """The buffer's conditions evaluated: the retained history items, each basis's condition
    and end."""

    retained: Value
    active: Mapping[str, Value]
    until: Mapping[str, Value]


@attrs.frozen
class PackValues:
    """Every condition of one pack on one record as of a date: the values alone (what the
    per-record evaluator gives, and what a traced `PackOutcome` holds beside its events)."""

    pack: CheckedPack
    record: Record
    as_of: dt.date
    parameters: Mapping[str, Value]
    applies: Value | None
    givens: Mapping[str, Value]
    criteria: Mapping[str, Value]
    rules: Mapping[str, Value]
    buffer: BufferValues | None = None


@attrs.frozen
class PackOutcome:
    """Every condition of one pack evaluated on one record as of a date."""

    pack: CheckedPack
    record: Record
    as_of: dt.date
    parameters: Mapping[str, Value]
    applies: ExprResult | None
    givens: Mapping[str, ExprResult]
    criteria: Mapping[str, ExprResult]
    rules: Mapping[str, ExprResult]
    buffer: BufferOutcome | None = None

    def values(self) -> PackValues:
        """The values of every condition, without the trace."""
        buffer = None
        if self.buffer is not None:
            buffer = BufferValues(
                self.buffer.retained.value,
                {k: r.value for k, r in self.buffer.active.items()},
                {k: r.value for k, r in self.buffer.until.items()},
            )
        return PackValues(
            self.pack,
            self.record,
            self.as_of,
            self.parameters,
            self.applies.value if self.applies is not None else None,
            {k: r.value for k, r in self.givens.items()},
            {k: r.value for k, r in self.criteria.items()},
            {k: r.value for k, r in self.rules.items()},
            buffer,
        )


@attrs.frozen
class BufferOutcome:
    """The buffer evaluated: the retained history items and each basis's condition and end."""

    retained: ExprResult
    active: Mapping[str, ExprResult]
    until: Mapping[str, ExprResult]


def parameter_value(param: Parameter, as_of: dt.date) -> tuple[Value, DatedValue | None]:
    """The value of `param` in force on `as_of` and the dated value it comes from."""
    dated = param.at(as_of)
    name = f"param:{param.name}"
    if dated is None or dated.kind == "not_established":
        return Unknown(frozenset({name})), dated
    if dated.kind == "range":
        low = dated.low.value if dated.low is not None else -_INF
        high = dated.high.value if dated.high is not None else _INF
        return Interval(low, high, frozenset({name})), dated
    value = dated.value
    if isinstance(value, tuple):
        return frozenset(value), dated
    assert isinstance(value, bool | int | Decimal | dt.date | str)
    return value, dated


def parameter_values(pack: CheckedPack, as_of: dt.date) -> dict[str, Value]:
    return {name: parameter_value(p, as_of)[0] for name, p in pack.pack.parameters.items()}


def run_condition(
    texpr: TypedExpr,
    record: Record,
    as_of: dt.date,
    params: Mapping[str, Value],
    pack: CheckedPack,
    shared: dict[str, Any] | None = None,
) -> ExprResult:
    """`texpr` evaluated on `record`, traced; `shared`: the facts earlier runs of the same pack on
    the same record evaluated (`Context.shared`), filled as facts are evaluated."""
    events: list[TraceEvent] = []
    ctx = Context(
        subject=record, as_of=as_of, parameters=params, facts=pack.facts, trace=events.append, shared=shared
    )
    value = evaluate(texpr, ctx)
    return ExprResult(value, tuple(events))


def run_expr(pack: CheckedPack, texpr: TypedExpr, record: Record, as_of: dt.date) -> ExprResult:
    """One typed expression of `pack` evaluated on `record` as of `as_of`, traced (e.g. a
    measure's `lapses_when`)."""
    return run_condition(texpr, record, as_of, parameter_values(pack, as_of), pack)


def run_pack(pack: CheckedPack, record: Record, as_of: dt.date) -> PackOutcome:
    """Evaluate the applicability, every criterion (and its data precondition) and every rule."""
    params = parameter_values(pack, as_of)
    shared: dict[str, Any] = {}  # each fact evaluated once, its trace replayed in later runs

    def run(texpr: TypedExpr) -> ExprResult:
        return run_condition(texpr, record, as_of, params, pack, shared)

    applies = run(pack.applies) if pack.applies is not None else None
    givens = {cid: run(t) for cid, t in pack.givens.items()}
    criteria = {cid: run(t) for cid, t in pack.criteria.items()}
    rules = {rid: run(t) for rid, t in pack.rules.items()}
    buffer = None
    if pack.buffer is not None:
        buffer = BufferOutcome(
            run(pack.buffer.retained),
            {bid: run(t) for bid, t in pack.buffer.active.items()},
            {bid: run(t) for bid, t in pack.buffer.until.items()},
        )
    return PackOutcome(pack, record, as_of, params, applies, givens, criteria, rules, buffer)
