"""Decision coverage of pack test cases: decisions, conditions and MC/DC, with gaps filled or proven out.

**What is covered.**  A *decision* is a boolean expression of a pack: a criterion's ``require``
and ``given``, the applicability ``when``, a rule's ``when``, a buffer basis's ``active``, a boolean
fact, and the predicate of an ``any``/``all``/``count`` aggregate (evaluated once per item).  Its
*conditions* are the leaves of its ``and``/``or``/``not`` structure (comparisons, boolean fields,
facts, aggregates, ``present``, ``within``, …).  For every pack version, the report says whether
the cases made each decision true and false, each condition true and false, and, for a compound
decision (two conditions or more), gives an MC/DC pair per condition.

**How it is measured.**  Every case's household is evaluated by the per-record evaluator's
lowering with the decisions watched (`gspolicy.engine.compiled.lower_watched`, every pack
version in force on the case's date): each evaluation of a decision records its outcome and the
value of each of its conditions, and a condition not reached was not evaluated — the
``and``/``or`` before it was already decided.  No trace is built (the searches evaluate thousands
of households); the values are the interpreter's, which a differential test holds against the
values read from the interpreter's trace events.

**MC/DC** is *unique-cause MC/DC with masking for short-circuit evaluation* (as DO-178C allows
for short-circuit operators): two evaluations of a decision form a pair for condition ``c`` when
``c`` is true in one and false in the other, the decision's outcome is true in one and false in
the other, and every other condition has the same value in both or was not evaluated in at
least one of them.  Unknown values (missing data) never count as true or false.

**Gaps and infeasibility.**  `fill_gaps` searches, for every gap, for a household and an as-of
date that close it: a bounded, derandomized Hypothesis search (`max_examples` households per
gap) over the cases' own households changed by `gspolicy.strategies.boundary_households` — values
at and around every threshold and parameter bound of the pack, every enum code, fields removed
— on dates inside the version's validity (its first and last day, the cases' dates, and the days
around every date parameter).  A gap the search closes becomes a YAML case (its expectations are
the current decision, to be reviewed).  A gap it cannot close is listed as *infeasible* with the
reason: first an exact check on the decision's structure (every assignment of true/false to its
conditions is tried: if none gives an MC/DC pair, no household can), otherwise "not reached by a
bounded search".  Limits: the second kind is evidence, not proof — a household outside the
search space (a value far from every threshold, several members changed at once) could still
reach the gap; conditions are treated as independent in the structural check; a fact used twice
in one decision is read once (facts are evaluated once per evaluation).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs
import yaml
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument, NoSuchExample, Unsatisfiable

from gspolicy._i18n import Lang
from gspolicy.engine.compiled import NOT_EVALUATED, Evaluation, lower_watched
from gspolicy.explain.build import decide
from gspolicy.lang import Value
from gspolicy.lang.typed import (
    TAge,
    TAggregate,
    TBool,
    TCall,
    TConst,
    TFact,
    TField,
    TNot,
    TPresent,
    TypedExpr,
    typed_children,
)
from gspolicy.lang.types import BoolT
from gspolicy.pack.fmt import format_text
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record
from gspolicy.schema.records import validate_record
from gspolicy.strategies import boundary_households
from gspolicy.testing.cases import Case, merge_household

__all__ = [
    "ConditionCoverage",
    "CoverageReport",
    "DecisionCoverage",
    "Gap",
    "Observation",
    "coverage",
    "decision_points",
    "fill_gaps",
    "mcdc_pairs",
    "write_cases",
]

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
        return f"{self.root.span.file}:{self.root.span.line}"


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
            scopes = ("", _list_path(agg.source))
            out.append(DecisionPoint(pack, "predicate", label, agg.body, tuple(_leaves(agg.body)), scopes))
    return tuple(out)


def _list_path(node: TypedExpr) -> str | None:
    if isinstance(node, TField) and node.scope == 0:
        return ".".join(node.path)
    if isinstance(node, TCall) and node.func == "held_on":
        return _list_path(node.args[0])
    return None


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
                walk(node.body, (*scopes, _list_path(node.source)), seen)
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
    """The evaluations of `point` in one run of its pack (`_runs`: evaluations by decision)."""
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
def _memo_scope() -> Iterator[None]:
    token = _MEMO.set(({}, {})) if _MEMO.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _MEMO.reset(token)


def _runs(pack: CheckedPack, record: Record, as_of: dt.date) -> dict[str, list[Evaluation]]:
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


def _independent(a: Observation, b: Observation, index: int) -> bool:
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
        if _independent(a, b, index):
            first, second = (a, b) if a.values[index] == "T" else (b, a)
            pairs.add((first.case, second.case))
    return sorted(pairs)


def _abstract(
    node: TypedExpr, leaves: Sequence[TypedExpr], assignment: Sequence[bool], out: list[Truth]
) -> bool:
    """Evaluate the and/or/not structure with short-circuits, recording which leaves are reached."""
    if isinstance(node, TBool):
        decisive = node.op == "or"
        for operand in node.operands:
            if _abstract(operand, leaves, assignment, out) is decisive:
                return decisive
        return not decisive
    if isinstance(node, TNot):
        return not _abstract(node.operand, leaves, assignment, out)
    index = next(i for i, leaf in enumerate(leaves) if leaf is node)
    value = assignment[index] if not isinstance(node, TConst) else node.value is True
    out[index] = "T" if value else "F"
    return value


def _structural(point: DecisionPoint, want: str, index: int | None) -> str | None:
    """Why a decision outcome or condition value is impossible by the decision's structure alone."""
    if index is not None and want in ("true", "false") and isinstance(point.leaves[index], TConst):
        return "the condition is a constant"
    if index is None and len(point.leaves) <= 12:
        outcomes = set()
        for bits in itertools.product((True, False), repeat=len(point.leaves)):
            outcomes.add(_abstract(point.root, point.leaves, bits, ["-"] * len(point.leaves)))
        if (want == "true") not in outcomes:
            return f"no assignment of true and false to its conditions makes the decision {want} (a constant condition decides it)"
    return None


def structurally_possible(point: DecisionPoint, index: int) -> bool:
    """Whether some two assignments of true/false to the conditions form an MC/DC pair for `index`."""
    n = len(point.leaves)
    if n > 12:
        return True
    observations = []
    for bits in itertools.product((True, False), repeat=n):
        reached: list[Truth] = ["-"] * n
        outcome = _abstract(point.root, point.leaves, bits, reached)
        observations.append(Observation(str(bits), "T" if outcome else "F", tuple(reached)))
    return any(_independent(a, b, index) for a, b in itertools.combinations(observations, 2))


# -- the report -----------------------------------------------------------------------------------


@attrs.frozen
class ConditionCoverage:
    text: str
    line: int
    true_in: tuple[str, ...]  # cases
    false_in: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]  # MC/DC pairs (true case, false case)


@attrs.frozen
class DecisionCoverage:
    pack: str
    kind: str
    name: str
    location: str
    evaluations: int
    true_in: tuple[str, ...]
    false_in: tuple[str, ...]
    conditions: tuple[ConditionCoverage, ...]

    @property
    def compound(self) -> bool:
        return len(self.conditions) > 1


@attrs.frozen
class Gap:
    """Something no case reaches: an outcome, a condition value or an MC/DC pair."""

    pack: str
    decision: str  # `kind name`
    location: str
    what: str  # "true", "false", "condition `x` true", "MC/DC pair for `x`"
    reason: str | None = None  # set when the gap is infeasible


@attrs.frozen
class CoverageReport:
    decisions: tuple[DecisionCoverage, ...]
    gaps: tuple[Gap, ...]
    infeasible: tuple[Gap, ...] = ()

    def totals(self, pack: str | None = None) -> tuple[int, int, int]:
        """(met, obligations, infeasible) for one pack version (`id@version`), one pack id, or all."""

        def mine(p: str) -> bool:
            return pack is None or p == pack or p.split("@", maxsplit=1)[0] == pack

        met = total = 0
        for d in self.decisions:
            if not mine(d.pack):
                continue
            total += 2
            met += bool(d.true_in) + bool(d.false_in)
            if d.compound:
                for c in d.conditions:
                    total += 3
                    met += bool(c.true_in) + bool(c.false_in) + bool(c.pairs)
        infeasible = sum(1 for g in self.infeasible if mine(g.pack))
        return met, total, infeasible

    def percent(self, pack: str | None = None) -> float:
        met, total, infeasible = self.totals(pack)
        feasible = total - infeasible
        return 100.0 if feasible <= 0 else 100.0 * met / feasible

    def render(self, lang: Lang = "en") -> str:
        zh = lang == "zh"
        lines: list[str] = []
        packs = sorted({d.pack for d in self.decisions})
        for pack in packs:
            met, total, infeasible = self.totals(pack)
            head = (
                f"{pack}：覆盖 {self.percent(pack):.1f}%（{met}/{total - infeasible} 项；不可达 {infeasible} 项）"
                if zh
                else f"{pack}: {self.percent(pack):.1f}% covered ({met}/{total - infeasible} obligations; "
                f"{infeasible} infeasible)"
            )
            lines.append(head)
            for d in (d for d in self.decisions if d.pack == pack):
                outcome = f"{'T' if d.true_in else '·'}{'F' if d.false_in else '·'}"
                lines.append(f"  [{outcome}] {d.kind} {d.name}  ({d.location}, {d.evaluations} evaluations)")
                if d.compound:
                    for c in d.conditions:
                        tf = f"{'T' if c.true_in else '·'}{'F' if c.false_in else '·'}"
                        if c.pairs:
                            pair = c.pairs[0]
                            shown = f"MC/DC: `{pair[0]}` / `{pair[1]}`"
                        else:
                            shown = "MC/DC: 无" if zh else "MC/DC: none"
                        lines.append(f"      [{tf}] {c.text}  — {shown}")
        if self.gaps:
            lines.append("没有用例达到的：" if zh else "not reached by any case:")
            lines.extend(f"  {g.location}: {g.pack} {g.decision}: {g.what}" for g in self.gaps)
        if self.infeasible:
            lines.append("不可达（没有农户能达到）：" if zh else "infeasible (no household can reach them):")
            lines.extend(
                f"  {g.location}: {g.pack} {g.decision}: {g.what} — {g.reason}" for g in self.infeasible
            )
        met, total, infeasible = self.totals()
        lines.append(
            f"合计：{self.percent():.1f}%（{met}/{total - infeasible}）"
            if zh
            else f"total: {self.percent():.1f}% ({met}/{total - infeasible})"
        )
        return "\n".join(lines) + "\n"


def _label(case: Case) -> str:
    return case.name


def _observations(
    policy_set: PolicySet, items: Sequence[tuple[str, Record, dt.date]], packs: Sequence[CheckedPack]
) -> dict[str, list[Observation]]:
    points = {p.key: decision_points(p) for p in packs}
    out: dict[str, list[Observation]] = {pt.key: [] for pts in points.values() for pt in pts}
    wanted = {p.key for p in packs}
    for label, record, as_of in items:
        for pack in policy_set.all_in_force(as_of):
            if pack.key not in wanted or pack.subject != record.type_name:
                continue
            runs = _runs(pack, record, as_of)
            for point in points[pack.key]:
                out[point.key].extend(observe(point, runs, label))
    return out


def _text(node: TypedExpr) -> str:
    return node.span.text.replace("\n", " ")


def _report(
    packs: Sequence[CheckedPack],
    observations: Mapping[str, list[Observation]],
    infeasible: Sequence[Gap] = (),
) -> CoverageReport:
    decisions: list[DecisionCoverage] = []
    gaps: list[Gap] = []
    closed = {(g.pack, g.decision, g.what) for g in infeasible}
    for pack in packs:
        for point in decision_points(pack):
            obs = observations.get(point.key, [])
            conditions = []
            for i, leaf in enumerate(point.leaves):
                conditions.append(
                    ConditionCoverage(
                        _text(leaf),
                        leaf.span.line,
                        tuple(sorted({o.case for o in obs if o.values[i] == "T"})),
                        tuple(sorted({o.case for o in obs if o.values[i] == "F"})),
                        tuple(mcdc_pairs(obs, i)) if len(point.leaves) > 1 else (),
                    )
                )
            d = DecisionCoverage(
                pack.key,
                point.kind,
                point.name,
                point.location,
                len(obs),
                tuple(sorted({o.case for o in obs if o.outcome == "T"})),
                tuple(sorted({o.case for o in obs if o.outcome == "F"})),
                tuple(conditions),
            )
            decisions.append(d)
            decision = f"{point.kind} {point.name}"
            wanted: list[str] = []
            if not d.true_in:
                wanted.append("true")
            if not d.false_in:
                wanted.append("false")
            if d.compound:
                for c in d.conditions:
                    if not c.true_in:
                        wanted.append(f"condition `{c.text}` true")
                    if not c.false_in:
                        wanted.append(f"condition `{c.text}` false")
                    if not c.pairs:
                        wanted.append(f"MC/DC pair for `{c.text}`")
            for what in wanted:
                if (pack.key, decision, what) not in closed:
                    gaps.append(Gap(pack.key, decision, point.location, what))
    kept = tuple(g for g in infeasible if any(d.pack == g.pack for d in decisions))
    return CoverageReport(tuple(decisions), tuple(gaps), kept)


def _selected(policy_set: PolicySet, packs: Sequence[str] | None) -> list[CheckedPack]:
    chosen = [p for p in policy_set.packs if packs is None or p.id in packs or p.key in packs]
    return sorted(chosen, key=lambda p: (p.id, p.pack.valid_from))


def _items(cases: Sequence[Case], policy_set: PolicySet) -> list[tuple[str, Record, dt.date]]:
    out = []
    for case in cases:
        record, _ = validate_record(case.household, policy_set.schema, record=case.subject, file=case.file)
        if record is not None:
            out.append((_label(case), record, case.as_of))
    return out


def coverage(
    cases: Sequence[Case], policy_set: PolicySet, *, packs: Sequence[str] | None = None
) -> CoverageReport:
    """The coverage of the pack versions of `policy_set` (or of `packs`, ids or ``id@version``) by `cases`."""
    chosen = _selected(policy_set, packs)
    with _memo_scope():
        return _report(chosen, _observations(policy_set, _items(cases, policy_set), chosen))


# -- filling the gaps -----------------------------------------------------------------------------


@attrs.frozen
class Found:
    """A household and date found to close a gap."""

    gap: Gap
    pack: CheckedPack = attrs.field(repr=False)
    record: Record
    as_of: dt.date


def _dates(pack: CheckedPack, cases: Sequence[tuple[str, Record, dt.date]], limit: int = 12) -> list[dt.date]:
    """Dates to search on: the version's first and last day, the days around its date parameters,
    then the cases' dates inside the version (at most `limit`)."""
    source = pack.pack
    last = source.valid_to or max(source.valid_from + dt.timedelta(days=3650), dt.date(2026, 1, 1))
    first: list[dt.date] = [source.valid_from, last]
    for param in source.parameters.values():
        for value in param.values:
            if isinstance(value.value, dt.date):
                first.extend(value.value + dt.timedelta(days=k) for k in (-1, 0, 1))
            first.append(value.effective)
    first.extend(sorted({d for _, _, d in cases}))
    out: list[dt.date] = []
    for day in first:
        if source.in_force(day) and day not in out:
            out.append(day)
    return out[:limit]


def _wanted(gap: Gap, point: DecisionPoint) -> tuple[str, int | None]:
    if gap.what in ("true", "false"):
        return gap.what, None
    match = re.fullmatch(r"(?:condition `(.*)` (true|false)|MC/DC pair for `(.*)`)", gap.what, re.DOTALL)
    assert match is not None, gap.what
    text = match.group(1) or match.group(3)
    index = next(i for i, leaf in enumerate(point.leaves) if _text(leaf) == text)
    return ("pair" if match.group(3) else match.group(2)), index


def _closes(obs: Sequence[Observation], pool: Sequence[Observation], want: str, index: int | None) -> bool:
    for o in obs:
        if index is None:
            if o.outcome == ("T" if want == "true" else "F"):
                return True
        elif want in ("true", "false"):
            if o.values[index] == ("T" if want == "true" else "F"):
                return True
        elif any(_independent(o, p, index) for p in [*pool, *obs] if p is not o):
            return True
    return False


def fill_gaps(
    cases: Sequence[Case],
    policy_set: PolicySet,
    *,
    packs: Sequence[str] | None = None,
    max_examples: int = 600,
) -> tuple[CoverageReport, list[Found]]:
    """Search for a household closing every gap (see the module doc for the method).

    Returns the coverage by `cases` — with the gaps the search shows to be infeasible moved to
    `CoverageReport.infeasible`, with their reason — and the households found for the others
    (`write_cases` writes them as YAML cases)."""
    with _memo_scope():
        return _fill_gaps(cases, policy_set, packs, max_examples)


def _fill_gaps(
    cases: Sequence[Case], policy_set: PolicySet, packs: Sequence[str] | None, max_examples: int
) -> tuple[CoverageReport, list[Found]]:
    chosen = _selected(policy_set, packs)
    items = _items(cases, policy_set)
    observations = _observations(policy_set, items, chosen)
    by_cases = {k: list(v) for k, v in observations.items()}
    report = _report(chosen, observations)
    found: list[Found] = []
    infeasible: list[Gap] = []
    by_key = {p.key: p for p in chosen}
    config = settings(
        max_examples=max_examples,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    sources: dict[str, tuple[Record, dt.date]] = {label: (record, day) for label, record, day in items}
    # outcomes and condition values first: the households found for them are partners for MC/DC
    ordered = sorted(report.gaps, key=lambda g: g.what.startswith("MC/DC"))
    for gap in ordered:
        pack = by_key[gap.pack]
        point = next(p for p in decision_points(pack) if f"{p.kind} {p.name}" == gap.decision)
        pool = observations[point.key]
        if _closes([], pool, *_wanted(gap, point)):
            continue  # closed by a household found for an earlier gap
        want, index = _wanted(gap, point)
        structural = _structural(point, want, index)
        if structural is not None:
            infeasible.append(attrs.evolve(gap, reason=structural))
            continue
        if want == "pair" and index is not None and not structurally_possible(point, index):
            infeasible.append(
                attrs.evolve(
                    gap,
                    reason="no assignment of true and false to the conditions makes this condition alone "
                    "change the outcome (the decision's structure masks it)",
                )
            )
            continue
        hit = None
        if want == "pair" and index is not None:
            # a partner is most often the same household with this one condition flipped
            partners = [sources[o.case] for o in pool if o.values[index] in "TF" and o.outcome in "TF"]
            partners = [p for p in dict.fromkeys(partners) if pack.pack.in_force(p[1])]
            if partners:
                hit = _search(
                    policy_set, pack, point, pool, want, index, [r for r, _ in partners], partners, config
                )
        if hit is None:
            # the bases and dates of the pack's own subject: a county pack never starts from a household
            own = [item for item in items if item[1].type_name == pack.subject]
            hit = _search(policy_set, pack, point, pool, want, index, [r for _, r, _ in own], own, config)
        if hit is None:
            reason = (
                f"not reached by a bounded search (up to {max_examples} households per gap, around every "
                "threshold of the pack, on dates across the version's validity)"
            )
            if index is not None:
                reason += _coupling(point, index)
            infeasible.append(attrs.evolve(gap, reason=reason))
            continue
        record, as_of = hit
        found.append(Found(gap, pack, record, as_of))
        label = f"(generated {len(found)})"
        sources[label] = (record, as_of)
        for p in chosen:
            if p.pack.in_force(as_of):
                runs = _runs(p, record, as_of)
                for other in decision_points(p):
                    observations[other.key].extend(observe(other, runs, label))
    return _report(chosen, by_cases, infeasible), found


def _coupling(point: DecisionPoint, index: int) -> str:
    """Why a condition may not change alone: other conditions read the same fields."""

    def paths(leaf: TypedExpr) -> set[str]:
        return set(read_paths(attrs.evolve(point, root=leaf, leaves=(leaf,))))

    mine = paths(point.leaves[index])
    others = [_text(leaf) for i, leaf in enumerate(point.leaves) if i != index and paths(leaf) & mine]
    if not others:
        return ""
    shared = ", ".join(f"`{p}`" for p in sorted(mine))
    return (
        f"; it reads {shared}, which {', '.join(f'`{o}`' for o in others)} also reads"
        " (coupled conditions: one cannot change without the other)"
    )


def _search(
    policy_set: PolicySet,
    pack: CheckedPack,
    point: DecisionPoint,
    pool: Sequence[Observation],
    want: str,
    index: int | None,
    bases: Sequence[Record],
    items: Sequence[tuple[str, Record, dt.date]] | Sequence[tuple[Record, dt.date]],
    config: settings,
) -> tuple[Record, dt.date] | None:
    dates = _dates(pack, [("", item[-2], item[-1]) for item in items])
    if not dates:
        return None
    for day in dates:  # first the cases' own households on every date: often enough
        for record in dict.fromkeys(bases):
            if _closes(observe(point, _runs(pack, record, day), "candidate"), pool, want, index):
                return record, day
    base = st.sampled_from(bases) if bases else None
    per_date = max(25, config.max_examples // max(1, len(dates)))
    for day in dates:
        try:
            households = boundary_households(
                policy_set, as_of=day, base=base, pack=pack.id, fields=read_paths(point), max_changes=4
            )
        except InvalidArgument:
            households = base if base is not None else st.nothing()

        def closes(record: Record, day: dt.date = day) -> bool:
            runs = _runs(pack, record, day)
            return _closes(observe(point, runs, "candidate"), pool, want, index)

        try:
            record = find(households, closes, settings=settings(config, max_examples=per_date))
        except (NoSuchExample, Unsatisfiable):
            continue
        valid, _ = validate_record(record.to_data(), policy_set.schema, record=record.type_name)
        if valid is not None:
            return valid, day
    return None


# -- writing the cases ----------------------------------------------------------------------------


def _normal(data: Mapping[str, Any], policy_set: PolicySet, kind: str | None = None) -> dict[str, Any]:
    record, problems = validate_record(data, policy_set.schema, record=kind)
    assert record is not None, [d.render("en") for d in problems]
    return record.to_data()


def record_changes(default: Any, new: Any, keys: Mapping[str, str | None], field: str = "") -> Any:
    if isinstance(default, dict) and isinstance(new, dict):
        out: dict[str, Any] = {k: None for k in default if k not in new}
        for k, v in new.items():
            if k in default and default[k] == v:
                continue
            out[k] = record_changes(default[k], v, keys, k) if k in default else v
        return out
    key = keys.get(field)
    if key and isinstance(default, list) and isinstance(new, list):
        ids = {i.get(key) for i in new if isinstance(i, dict)}
        by_id = {i.get(key): i for i in default if isinstance(i, dict)}
        items: list[Any] = [{key: i.get(key), "remove": True} for i in default if i.get(key) not in ids]
        for item in new:
            old = by_id.get(item.get(key))
            if old is None:
                items.append(item)
            elif old != item:
                items.append({key: item.get(key), **record_changes(old, item, keys, field)})
        return items
    return new


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _yaml_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _yaml_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_ready(v) for v in value]
    if isinstance(value, str) and _ISO.match(value):
        return dt.date.fromisoformat(value)
    return value


def _expect(
    policy_set: PolicySet, pack: CheckedPack, record: Record, as_of: dt.date, gaps: Sequence[Gap]
) -> dict[str, Any]:
    """What the case expects: the current decision, on the parts the gaps are about."""
    judged = bool(pack.pack.criteria)
    decision = decide(policy_set, record, as_of, **({"exit_pack": pack.id} if judged else {}))
    out: dict[str, Any] = {}
    if judged:
        out["verdict"] = decision.verdict
        if decision.applicability is not None:
            out["applicability"] = decision.applicability.status
        out["failing"] = sorted(c.id for c in decision.criteria if c.verdict == "fail")
        named = {g.decision.split(" ", 1)[1].split(":")[0] for g in gaps}
        criteria = {c.id: c.verdict for c in decision.criteria if c.id in named}
        if criteria:
            out["criteria"] = criteria
    if pack.pack.rules:
        out["rules"] = {m.rule: m.applies for m in decision.memberships if m.pack == pack.key}
    if pack.buffer is not None and decision.buffer is not None:
        out["buffer"] = decision.buffer.status
        out["basis"] = decision.buffer.basis
    return out


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_cases(
    found: Sequence[Found],
    out: Path,
    policy_set: PolicySet,
    *,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Path]:
    """Write the households found as YAML cases, one file per pack:
    ``<out>/<pack path>/tests/coverage.yaml`` (cases are added to a file that exists).

    `defaults` (by pack id) is the default household of each file, so each case lists only what
    differs from it; each case expects the current decision (review it before committing).
    """
    from gspolicy.testing.cases import list_keys  # noqa: PLC0415  # a private helper of the same package

    keys = list_keys(policy_set.schema)
    written: list[Path] = []
    by_pack: dict[str, list[Found]] = {}
    for f in found:
        by_pack.setdefault(f.pack.id, []).append(f)
    for pack_id, items in sorted(by_pack.items()):
        path = out.joinpath(*pack_id.split("."), "tests", "coverage.yaml")
        existing: dict[str, Any] = {}
        if path.exists():
            existing = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        base = dict(existing.get("defaults") or (defaults or {}).get(pack_id) or {})
        kind = items[0].pack.subject
        plain_base = _normal(base, policy_set, kind) if base else {}
        cases: list[dict[str, Any]] = list(existing.get("cases") or [])
        names = {c.get("name") for c in cases}
        grouped: dict[tuple[Record, dt.date], list[Found]] = {}
        for f in items:
            grouped.setdefault((f.record, f.as_of), []).append(f)
        for group in grouped.values():
            f = group[0]
            data = f.record.to_data()
            change = record_changes(plain_base, data, keys)
            merged = merge_household(plain_base, change, keys)
            if _normal(merged, policy_set, kind) != data:
                continue  # the change cannot be written against these defaults
            name = f"covers {f.gap.decision} ({f.gap.pack}): {f.gap.what}"
            if name in names:
                continue
            names.add(name)
            case: dict[str, Any] = {"name": name}
            if len(group) > 1:
                case["note"] = "also covers: " + "; ".join(
                    f"{g.gap.decision}: {g.gap.what}" for g in group[1:]
                )
            case["as_of"] = f.as_of
            if change:
                case["household"] = _yaml_ready(change)
            case["expect"] = _expect(policy_set, f.pack, f.record, f.as_of, [g.gap for g in group])
            cases.append(case)
        document = {
            "pack": pack_id,
            "defaults": _yaml_ready(base) if base else None,
            "cases": cases,
        }
        if not base:
            del document["defaults"]
        path.parent.mkdir(parents=True, exist_ok=True)
        header = (
            "# Cases generated by `gspolicy test --coverage --write-missing` to close coverage gaps.\n"
            "# Each expects the decision the packs gave when it was generated: review before committing.\n"
        )
        body = yaml.safe_dump(
            document, allow_unicode=True, sort_keys=False, width=120, default_flow_style=None
        )
        path.write_text(format_text(header + body, path=path), encoding="utf-8")  # the canonical layout
        written.append(path)
    return written
