"""The reference reading of coverage observations: values read from the traced interpreter's
events (matched by kind and source span), as `gspolicy.testing.coverage` measured them before it
ran the lowered evaluator with its conditions watched.  The differential tests hold the two equal."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from gspolicy._location import Span
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
    TPresent,
    TypedExpr,
)
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record
from gspolicy.testing.coverage import DecisionPoint, Observation, Truth

# -- values from trace events ---------------------------------------------------------------

_KIND_OF: dict[type, str] = {
    TBool: "bool",
    TField: "field",
    TFact: "fact",
    TAggregate: "aggregate",
    TPresent: "present",
    TCall: "call",
}


def _truth(value: Value) -> Truth:
    return "T" if value is True else "F" if value is False else "?"


def _value(node: TypedExpr, events: Sequence[TraceEvent]) -> Truth:
    """The value of `node` in one evaluation, from its trace events ("-": not evaluated)."""
    if isinstance(node, TNot):
        inner = _value(node.operand, events)
        return "F" if inner == "T" else "T" if inner == "F" else inner
    if isinstance(node, TConst):
        return "T" if node.value is True else "F"
    if isinstance(node, TCompare):
        if len(node.ops) == 1:
            found = [e for e in events if e.kind == "compare" and e.span == node.span]
            return _truth(found[0].value) if found else "-"
        spans = [a.span.cover(b.span) for a, b in itertools.pairwise(node.operands)]
        seen = [next((e for e in events if e.kind == "compare" and e.span == s), None) for s in spans]
        values = [_truth(e.value) for e in seen if e is not None]
        if not values:
            return "-"
        if "F" in values:
            return "F"
        return "T" if len(values) == len(spans) and all(v == "T" for v in values) else "?"
    kind = _KIND_OF.get(type(node))
    if kind is None:  # a conditional: evaluated when anything inside it was
        inside = [e for e in events if node.span.start <= e.span.start and e.span.end <= node.span.end]
        return "?" if inside else "-"
    found_event = next((e for e in events if e.kind == kind and e.span == node.span), None)
    return _truth(found_event.value) if found_event is not None else "-"


def _terminal(node: TypedExpr) -> tuple[str, Span] | None:
    """The trace event that ends one evaluation of `node` (kind and span), if it has one."""
    if isinstance(node, TNot):
        return _terminal(node.operand)
    if isinstance(node, TCompare):
        last = node.operands[-2].span.cover(node.operands[-1].span) if len(node.ops) > 1 else node.span
        return ("compare", last)
    kind = _KIND_OF.get(type(node))
    return (kind, node.span) if kind is not None else None


def _segments(point: DecisionPoint, events: Sequence[TraceEvent]) -> list[list[TraceEvent]]:
    """Split a run's events into the evaluations of `point` (a fact or a predicate)."""
    end = _terminal(point.root)
    if end is None:
        return []
    out: list[list[TraceEvent]] = []
    current: list[TraceEvent] = []
    root = point.root.span
    for e in events:
        if root.start <= e.span.start and e.span.end <= root.end and e.span.source is root.source:
            current.append(e)
        if (e.kind, e.span) == end:
            out.append(current)
            current = []
        elif (
            isinstance(point.root, TCompare)
            and e.kind == "compare"
            and e.value is False
            and current
            and root.start <= e.span.start
            and e.span.end <= root.end
        ):
            out.append(current)  # a chain stopped early at a false link
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
