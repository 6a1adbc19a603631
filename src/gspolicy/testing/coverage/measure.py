"""Measuring decision coverage: decisions and their conditions, the values each evaluation gives, MC/DC pairs.

The decisions of a pack version (`decision_points`), each evaluation's outcome and condition values
read from the watched evaluator (`observe`, `runs_of`, memoized within `memo_scope`), the
evaluations of a set of cases (`observations_of`), and the MC/DC pairs among them (`mcdc_pairs`).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Literal

import attrs

from gspolicy._location import file_line
from gspolicy.engine.watched import NOT_EVALUATED, Evaluation, lower_watched
from gspolicy.lang import Value
from gspolicy.lang.typed import (
    TAge,
    TAggregate,
    TBool,
    TConst,
    TFact,
    TField,
    TNot,
    TPresent,
    TypedExpr,
    list_path,
    typed_children,
)
from gspolicy.lang.types import BoolT
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record
from gspolicy.schema.records import validate_record
from gspolicy.testing.cases import Case

Truth = Literal["T", "F", "?", "-"]  # true, false, unknown, not evaluated
Kind = Literal["criterion", "given", "applies", "rule", "basis", "fact", "predicate"]


# -- decision points -------------------------------------------------------------------------------


@attrs.frozen
class DecisionPoint:
    """A boolean expression of one pack version and the conditions of its and/or/not structure."""

    pack: CheckedPack = attrs.field(eq=False, repr=False)
    kind: Kind
    name: str
    root: TypedExpr = attrs.field(eq=False, repr=False)
    leaves: tuple[TypedExpr, ...] = attrs.field(eq=False, repr=False)
    scopes: tuple[str | None, ...] = attrs.field(default=("",), eq=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.pack.key} {self.kind} {self.name}"

    @property
    def location(self) -> str:
        return file_line(self.root.span)


def _leaves(node: TypedExpr) -> list[TypedExpr]:
    if isinstance(node, TBool):
        return [leaf for operand in node.operands for leaf in _leaves(operand)]
    if isinstance(node, TNot):
        return _leaves(node.operand)
    return [node]


def _predicates(node: TypedExpr) -> Iterator[TAggregate]:
    if isinstance(node, TAggregate) and node.body is not None and isinstance(node.body.type, BoolT):
        yield node
    for child in typed_children(node):
        yield from _predicates(child)


def decision_points(pack: CheckedPack) -> tuple[DecisionPoint, ...]:
    """Every decision of one pack version, in the order of the pack file."""
    tops: list[tuple[Kind, str, TypedExpr]] = []
    for name, expr in pack.facts.items():
        if isinstance(expr.type, BoolT):
            tops.append(("fact", name, expr))
    if pack.applies is not None:
        tops.append(("applies", "applies", pack.applies))
    for cid, expr in pack.givens.items():
        tops.append(("given", cid, expr))
    for cid, expr in pack.criteria.items():
        tops.append(("criterion", cid, expr))
    for rid, expr in pack.rules.items():
        tops.append(("rule", rid, expr))
    if pack.buffer is not None:
        for bid, expr in pack.buffer.active.items():
            tops.append(("basis", bid, expr))
    out = [DecisionPoint(pack, kind, name, expr, tuple(_leaves(expr))) for kind, name, expr in tops]
    seen: set[tuple[int, int]] = set()
    labels: set[str] = set()
    for _, name, expr in tops:
        for agg in _predicates(expr):
            assert agg.body is not None
            where = (agg.span.start, agg.span.end)
            if where in seen:
                continue
            seen.add(where)
            label = f"{name}: {agg.func}({agg.source.span.text}, …)"
            if label in labels:  # the same predicate written twice in one decision: each its own
                line, column = agg.span.source.line_col(agg.span.start)
                label += f" at {line}:{column}"
            labels.add(label)
            scopes = ("", list_path(agg.source))
            out.append(DecisionPoint(pack, "predicate", label, agg.body, tuple(_leaves(agg.body)), scopes))
    return tuple(out)


def read_paths(point: DecisionPoint) -> list[str]:
    """The field paths a decision reads (through facts): ``income.per_capita``, ``members.age``."""
    facts = point.pack.facts
    found: list[str] = []

    def walk(node: TypedExpr, scopes: tuple[str | None, ...], seen: frozenset[str]) -> None:
        field = node.field if isinstance(node, TPresent) else node
        if isinstance(field, TField) or isinstance(node, TAge):
            scope = node.scope if isinstance(node, TAge) else field.scope  # type: ignore[union-attr]
            base = scopes[scope] if scope < len(scopes) else None
            tail = ("age",) if isinstance(node, TAge) else field.path  # type: ignore[union-attr]
            if scope == 0 or base:
                path = ".".join(filter(None, (base, *tail)))
                if path not in found:
                    found.append(path)
        if isinstance(node, TFact) and node.name in facts and node.name not in seen:
            walk(facts[node.name], ("",), seen | {node.name})
        if isinstance(node, TAggregate):
            walk(node.source, scopes, seen)
            if node.body is not None:
                walk(node.body, (*scopes, list_path(node.source)), seen)
            return
        for child in typed_children(node):
            walk(child, scopes, seen)

    walk(point.root, point.scopes, frozenset())
    return found


# -- reading values from the watched evaluator -----------------------------------------------------


def _truth(value: Value) -> Truth:
    if value is NOT_EVALUATED:
        return "-"
    return "T" if value is True else "F" if value is False else "?"


def _leaf_truth(leaf: TypedExpr, value: Value) -> Truth:
    if isinstance(leaf, TConst):  # a constant's value is known, evaluated or not
        return "T" if leaf.value is True else "F"
    return _truth(value)


@attrs.frozen
class Observation:
    """One evaluation of a decision: the case, the outcome and each condition's value."""

    case: str
    outcome: Truth
    values: tuple[Truth, ...]


def observe(point: DecisionPoint, runs: Mapping[str, Sequence[Evaluation]], label: str) -> list[Observation]:
    """The evaluations of `point` in one run of its pack (`runs_of`: evaluations by decision)."""
    return [
        Observation(
            label,
            _truth(value),
            tuple(_leaf_truth(leaf, v) for leaf, v in zip(point.leaves, values, strict=True)),
        )
        for value, values in runs.get(point.key, ())
    ]


# The evaluations of one coverage run or search, by pack, household and date (the search evaluates
# the same households again and again), and each pack's watched lowering with the keys of its
# decisions, by pack and date.  Both live only while `coverage` or `fill_gaps` runs, in the
# context running it (a watched lowering keeps the state of the record it runs on, so it is never
# shared between runs); the lowering belongs to the very pack object, so the pack is in the key.
Watcher = tuple[CheckedPack, tuple[str, ...], Callable[[Record], list[list[Evaluation]]]]
_Memo = dict[tuple[int, Record, dt.date], tuple[CheckedPack, dict[str, list[Evaluation]]]]
_MEMO: contextvars.ContextVar[tuple[_Memo, dict[tuple[int, dt.date], Watcher]] | None] = (
    contextvars.ContextVar("gspolicy_coverage_memo", default=None)
)


@contextlib.contextmanager
def memo_scope() -> Iterator[None]:
    token = _MEMO.set(({}, {})) if _MEMO.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _MEMO.reset(token)


def runs_of(pack: CheckedPack, record: Record, as_of: dt.date) -> dict[str, list[Evaluation]]:
    """The evaluations of the pack's decisions on `record` (by decision key), memoized while a
    coverage run or search lasts."""
    scope = _MEMO.get()
    if scope is None:
        return _evaluations(_watcher(pack, as_of), record)
    memo, watchers = scope
    key = (id(pack), record, as_of)
    hit = memo.get(key)
    if hit is not None and hit[0] is pack:
        return hit[1]
    if len(memo) > 50_000:
        memo.clear()
    found = watchers.get((id(pack), as_of))
    if found is None or found[0] is not pack:
        found = watchers[(id(pack), as_of)] = _watcher(pack, as_of)
    runs = _evaluations(found, record)
    memo[key] = (pack, runs)
    return runs


def _watcher(pack: CheckedPack, as_of: dt.date) -> Watcher:
    points = decision_points(pack)
    run = lower_watched(pack, as_of, [(p.root, p.leaves) for p in points])
    return pack, tuple(p.key for p in points), run


def _evaluations(watcher: Watcher, record: Record) -> dict[str, list[Evaluation]]:
    _pack, keys, run = watcher
    out: dict[str, list[Evaluation]] = {}
    for key, evaluations in zip(keys, run(record), strict=True):
        out.setdefault(key, []).extend(evaluations)
    return out


# -- MC/DC ----------------------------------------------------------------------------------------


def independent(a: Observation, b: Observation, index: int) -> bool:
    if {a.values[index], b.values[index]} != {"T", "F"} or {a.outcome, b.outcome} != {"T", "F"}:
        return False
    return all(
        x in (y, "-") or y == "-"
        for i, (x, y) in enumerate(zip(a.values, b.values, strict=True))
        if i != index
    )


def mcdc_pairs(observations: Sequence[Observation], index: int) -> list[tuple[str, str]]:
    """The unique-cause (with masking) MC/DC pairs of condition `index`: (true case, false case)."""
    pairs: set[tuple[str, str]] = set()
    for a, b in itertools.combinations(observations, 2):
        if independent(a, b, index):
            first, second = (a, b) if a.values[index] == "T" else (b, a)
            pairs.add((first.case, second.case))
    return sorted(pairs)


# -- the cases' evaluations ------------------------------------------------------------------------


def _label(case: Case) -> str:
    return case.name


def observations_of(
    policy_set: PolicySet, items: Sequence[tuple[str, Record, dt.date]], packs: Sequence[CheckedPack]
) -> dict[str, list[Observation]]:
    points = {p.key: decision_points(p) for p in packs}
    out: dict[str, list[Observation]] = {pt.key: [] for pts in points.values() for pt in pts}
    wanted = {p.key for p in packs}
    for label, record, as_of in items:
        for pack in policy_set.all_in_force(as_of):
            if pack.key not in wanted or pack.subject != record.type_name:
                continue
            runs = runs_of(pack, record, as_of)
            for point in points[pack.key]:
                out[point.key].extend(observe(point, runs, label))
    return out


def condition_text(node: TypedExpr) -> str:
    return node.span.text.replace("\n", " ")


def selected_packs(policy_set: PolicySet, packs: Sequence[str] | None) -> list[CheckedPack]:
    chosen = [p for p in policy_set.packs if packs is None or p.id in packs or p.key in packs]
    return sorted(chosen, key=lambda p: (p.id, p.pack.valid_from))


def case_items(cases: Sequence[Case], policy_set: PolicySet) -> list[tuple[str, Record, dt.date]]:
    out = []
    for case in cases:
        record, _ = validate_record(case.household, policy_set.schema, record=case.subject, file=case.file)
        if record is not None:
            out.append((_label(case), record, case.as_of))
    return out
