"""The reference reading of coverage observations: values read from the traced interpreter's
events (each event names the typed node it reports on), as `gspolicy.testing.coverage` measured
them before it ran the lowered evaluator with its conditions watched.  The differential tests hold
the two equal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from gspolicy.engine.run import run_pack
from gspolicy.lang import TraceEvent, Value
from gspolicy.lang.typed import (
    TAggregate,
    TBool,
    TCall,
    TCompare,
    TConst,
    TFact,
    TField,
    TNot,
    TParam,
    TPresent,
    TypedExpr,
)
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record
from gspolicy.testing.coverage import DecisionPoint, Observation, Truth

# -- values from trace events ---------------------------------------------------------------


def _truth(value: Value) -> Truth:
    return "T" if value is True else "F" if value is False else "?"


_KIND_OF: dict[type, str] = {
    TParam: "parameter",
    TBool: "bool",
    TField: "field",
    TFact: "fact",
    TAggregate: "aggregate",
    TPresent: "present",
    TCall: "call",
}


def _closing_kind(node: TypedExpr) -> str | None:
    """The kind of the event that gives `node`'s value (None: a node without one, a conditional)."""
    if isinstance(node, TCompare):
        return "chain" if len(node.ops) > 1 else "compare"
    return _KIND_OF.get(type(node))


_INSIDE: dict[int, tuple[TypedExpr, frozenset[int]]] = {}


def _inside(node: TypedExpr) -> frozenset[int]:
    """The ids of the nodes of `node`'s tree (kept by the root's id, with the root held alive)."""
    found = _INSIDE.get(id(node))
    if found is None or found[0] is not node:
        found = (node, frozenset(id(n) for n in _subtree(node)))
        _INSIDE[id(node)] = found
    return found[1]


def _subtree(node: TypedExpr) -> Iterator[TypedExpr]:
    yield node
    for field in attrs.fields(type(node)):
        child = getattr(node, field.name)
        for item in child if isinstance(child, tuple) else (child,):
            if attrs.has(type(item)) and hasattr(item, "type") and hasattr(item, "span"):
                yield from _subtree(item)


def _value(node: TypedExpr, events: Sequence[TraceEvent]) -> Truth:
    """The value of `node` in one evaluation, from its trace events ("-": not evaluated)."""
    if isinstance(node, TNot):
        inner = _value(node.operand, events)
        return "F" if inner == "T" else "T" if inner == "F" else inner
    if isinstance(node, TConst):
        return "T" if node.value is True else "F"
    kind = _closing_kind(node)
    if kind is None:  # a conditional: evaluated when anything inside it was
        inside = _inside(node)
        return "?" if any(id(e.node) in inside for e in events) else "-"
    found = next((e for e in events if e.node is node and e.kind == kind), None)
    return _truth(found.value) if found is not None else "-"


def _terminal(node: TypedExpr) -> TypedExpr:
    """The node whose event ends one evaluation of `node`."""
    return _terminal(node.operand) if isinstance(node, TNot) else node


def _segments(point: DecisionPoint, events: Sequence[TraceEvent]) -> list[list[TraceEvent]]:
    """Split a run's events into the evaluations of `point` (a fact or a predicate)."""
    end = _terminal(point.root)
    kind = _closing_kind(end)
    if kind is None:
        return []
    inside = _inside(point.root)
    out: list[list[TraceEvent]] = []
    current: list[TraceEvent] = []
    for e in events:
        if id(e.node) in inside:
            current.append(e)
        if e.node is end and e.kind == kind:
            out.append(current)
            current = []
    return out


def observe_traced(point: DecisionPoint, runs: Mapping[str, Any], label: str) -> list[Observation]:
    """The evaluations of `point` in one pack outcome (`runs`: the pack's results by decision)."""
    if point.kind in ("criterion", "given", "applies", "rule", "basis"):
        result = runs.get(f"{point.kind}:{point.name}")
        if result is None:
            return []
        values = tuple(_value(leaf, result.events) for leaf in point.leaves)
        return [Observation(label, _truth(result.value), values)]
    for events in runs.get("*events", ()):
        segments = _segments(point, events)
        if segments:
            return [
                Observation(label, _value(point.root, seg), tuple(_value(leaf, seg) for leaf in point.leaves))
                for seg in segments
                if _value(point.root, seg) != "-"
            ]
    return []


def traced_runs(pack: CheckedPack, record: Record, as_of: dt.date) -> dict[str, Any]:
    outcome = run_pack(pack, record, as_of)
    runs: dict[str, Any] = {}
    if outcome.applies is not None:
        runs["applies:applies"] = outcome.applies
    runs.update({f"given:{k}": v for k, v in outcome.givens.items()})
    runs.update({f"criterion:{k}": v for k, v in outcome.criteria.items()})
    runs.update({f"rule:{k}": v for k, v in outcome.rules.items()})
    if outcome.buffer is not None:
        runs.update({f"basis:{k}": v for k, v in outcome.buffer.active.items()})
    results = [v for k, v in runs.items()]
    if outcome.buffer is not None:
        results.append(outcome.buffer.retained)
    runs["*events"] = [r.events for r in results]
    return runs
