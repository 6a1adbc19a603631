"""Invariants and exclusive rules, checked on every decision from its outcome.

A pack of ``kind: invariants`` states what every decision on its subject must satisfy, over the
decision's outcome: ``rule("housing.repair")`` (whether a rule holds), ``criterion("exit.income")``
(whether a criterion of the decision's verdict pack passes), ``granted("microcredit")`` (whether a measure
is support now) and ``verdict()`` / ``verdict("pack")`` (a verdict as text).  A pack that decides
may declare ``exclusive:`` groups of its rules, of which at most one may hold.

Both are checked from the outcome alone — whichever engine computed it — so the per-record
evaluator, the columnar runner and the traced interpreter report the same *findings*: the
invariants a decision violates (``pack:invariant``) and the exclusive groups it breaks
(``pack:exclusive(rule_a, rule_b)``).  A rule or criterion that is undetermined is unknown to the
invariant, never false: an invariant that cannot be told is not a finding (an explained decision
lists it, with what would settle it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from gspolicy._memo import Memo
from gspolicy.lang import Context, TraceEvent, Unknown, Value, evaluate
from gspolicy.lang.typed import TConst, TypedExpr, outcome_calls
from gspolicy.lang.values import kleene_or
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record

__all__ = [
    "Checks",
    "InvariantResult",
    "checks_for",
    "checks_reading",
    "exclusive_broken",
    "findings_of",
    "invariant_results",
    "view_of_outcome",
    "view_of_row",
]

View = dict[tuple[str, str], Value]


@attrs.frozen
class Checks:
    """What is checked on a decision on one subject and date: the invariants in force, the
    exclusive groups of the packs in force, and what those packs declare (so that a rule that
    is not listed as holding is known not to hold)."""

    invariants: tuple[tuple[CheckedPack, str, TypedExpr], ...]
    exclusive: tuple[tuple[str, tuple[str, ...]], ...]  # (pack id, rule ids)
    rules: tuple[tuple[str, tuple[str, ...]], ...]  # (pack id, its rule ids), the packs in force
    criteria: Mapping[str, tuple[str, ...]]  # pack id → its criteria ids, the packs in force
    measures: frozenset[str]  # declared by the packs in force
    subject: str
    reads: frozenset[tuple[str, str]] = frozenset()  # what the invariants read: (function, name)
    ordered: tuple[tuple[str, str], ...] = ()  # `reads`, sorted: the key of `_violated`
    grouped: frozenset[str] = frozenset()  # the ids of the packs that declare exclusive groups

    # the invariants violated, by the values they read (records share them heavily)
    _violated: dict[tuple[object, ...], tuple[str, ...]] = attrs.field(factory=dict, eq=False, repr=False)


_CHECKS: Memo[tuple[int, str, dt.date], tuple[PolicySet, Checks | None]] = Memo(512)


def checks_for(policy_set: PolicySet, subject: str, as_of: dt.date) -> Checks | None:
    """What is checked on decisions on `subject` as of `as_of` (None: nothing is)."""
    key = (id(policy_set), subject, as_of)
    found = _CHECKS.get(key)
    if found is not None and found[0] is policy_set:
        return found[1]
    in_force = [p for p in policy_set.all_in_force(as_of) if p.subject == subject]
    invariants = tuple(
        (p, inv_id, typed)
        for p in policy_set.invariants_in_force(as_of, subject)
        for inv_id, typed in p.invariants.items()
    )
    exclusive = tuple((p.id, group.rules) for p in in_force for group in p.pack.exclusive)
    checks = None
    if invariants or exclusive:
        reads = frozenset(
            (node.func, str(node.args[0].value) if node.args and isinstance(node.args[0], TConst) else "")
            for _p, _i, typed in invariants
            for node in outcome_calls(typed)
        )
        checks = Checks(
            invariants,
            exclusive,
            tuple((p.id, tuple(r.id for r in p.pack.rules)) for p in in_force),
            {p.id: tuple(c.id for c in p.pack.criteria) for p in in_force},
            frozenset(m for p in in_force for m in p.pack.measures),
            subject,
            reads,
            tuple(sorted(reads)),
            frozenset(pack_id for pack_id, _group in exclusive),
        )
    return _CHECKS.put(key, (policy_set, checks))[1]


def checks_reading(policy_set: PolicySet, subject: str, as_of: dt.date, exprs: Iterable[TypedExpr]) -> Checks:
    """What `exprs` (a statistics indicator's, say) read of an outcome on `subject` as of `as_of`,
    in the form `view_of_outcome` takes: no invariant, no exclusive group, their reads only."""
    in_force = [p for p in policy_set.all_in_force(as_of) if p.subject == subject]
    reads = frozenset(
        (node.func, str(node.args[0].value) if node.args and isinstance(node.args[0], TConst) else "")
        for typed in exprs
        for node in outcome_calls(typed)
    )
    return Checks(
        (),
        (),
        tuple((p.id, tuple(r.id for r in p.pack.rules)) for p in in_force),
        {p.id: tuple(c.id for c in p.pack.criteria) for p in in_force},
        frozenset(m for p in in_force for m in p.pack.measures),
        subject,
        reads,
        tuple(sorted(reads)),
    )


def _truth(holds: str, settle: Iterable[str], label: str) -> bool | Unknown:
    if holds in ("yes", "pass"):
        return True
    if holds in ("no", "fail"):
        return False
    return Unknown(frozenset(settle) or frozenset({label}))


def _view(
    checks: Checks,
    verdict: str | None,
    verdicts: Mapping[str, str | None],
    rules: Mapping[tuple[str, str], tuple[str, Iterable[str]]],
    criteria: Mapping[str, tuple[str, Iterable[str]]],
    granted: Callable[[], Iterable[str]],
    buffer: str | None = None,
) -> View:
    """What the outcome functions read: `rules` by (pack, rule) → (holds, settle), `criteria`
    of the verdict pack by id → (verdict, settle)."""
    view: View = {}
    reads = checks.reads
    if verdict is not None:
        view[("verdict", "")] = verdict
    if buffer is not None and ("buffer", "") in reads:
        view[("buffer", "")] = buffer
    for pack_id, found in verdicts.items():
        if found is not None and ("verdict", pack_id) in reads:
            view[("verdict", pack_id)] = found
    found_rules: dict[str, bool | Unknown] = {}
    for (_pack, rule_id), (holds, settle) in rules.items():
        if ("rule", rule_id) not in reads:
            continue
        value = _truth(holds, settle, f"rule({rule_id})")
        earlier = found_rules.get(rule_id)
        # one id in two packs: it holds when it holds in either
        found_rules[rule_id] = value if earlier is None else kleene_or([earlier, value])
    for rule_id, value in found_rules.items():
        view[("rule", rule_id)] = value
    for criterion_id, (found, settle) in criteria.items():
        if ("criterion", criterion_id) in reads:
            view[("criterion", criterion_id)] = _truth(found, settle, f"criterion({criterion_id})")
    wanted = {name for func, name in reads if func == "granted"}
    if wanted:
        now = set(granted())
        for measure in wanted & (checks.measures | now):
            view[("granted", measure)] = measure in now
    return view


def view_of_row(checks: Checks, row: Mapping[str, Any], exit_pack: str) -> View:
    """The view of one row of `Outcome.to_row()` whose verdict pack is `exit_pack` (its
    `failing` and `undetermined` are that pack's criteria; an unknown names nothing more precise
    than the function call: a row keeps what would settle it only as a whole)."""
    yes = set(row.get("rules") or ())
    maybe = set(row.get("rules_undetermined") or ())
    rules = {
        (pack_id, r): (
            "yes" if f"{pack_id}:{r}" in yes else "undetermined" if f"{pack_id}:{r}" in maybe else "no",
            (),
        )
        for pack_id, rule_ids in checks.rules
        for r in rule_ids
    }
    failing = set(row.get("failing") or ())
    undetermined = set(row.get("undetermined") or ())
    criteria = {
        c: ("fail" if c in failing else "undetermined" if c in undetermined else "pass", ())
        for c in checks.criteria.get(exit_pack, ())
    }
    verdicts = {str(key).rpartition("@")[0]: value for key, value in (row.get("packs") or {}).items()}

    def granted() -> Iterable[str]:
        # the measure of each `measure=amount (why)` (`support_texts`)
        return (str(text).partition("=")[0] for text in row.get("support") or ())

    return _view(checks, row.get("verdict"), verdicts, rules, criteria, granted, row.get("buffer"))


def view_of_outcome(checks: Checks, outcome: Any) -> View:
    """The view of an `Outcome` (unknowns name what would settle them)."""
    read = {name for func, name in checks.reads if func == "rule"}
    rules = {(p.id, r.id): (r.holds, r.settle) for p in outcome.packs for r in p.rules if r.id in read}
    exit_result = outcome.pack(outcome.exit_pack)  # the decision's verdict pack
    criteria = {c.id: (c.verdict, c.settle) for c in exit_result.criteria} if exit_result is not None else {}
    verdicts = {p.id: p.verdict for p in outcome.packs}

    def granted() -> Iterable[str]:
        return (m for m, _a, _w in outcome.support)  # worked out only when an invariant reads it

    buffer = outcome.buffer.status if outcome.buffer is not None else None
    return _view(checks, outcome.verdict, verdicts, rules, criteria, granted, buffer)


@attrs.frozen
class InvariantResult:
    pack: CheckedPack
    id: str
    value: Value  # True, False or unknown
    events: tuple[TraceEvent, ...] = ()


def invariant_results(checks: Checks, view: View, *, trace: bool = False) -> tuple[InvariantResult, ...]:
    """Every invariant in force evaluated on `view` (with its trace when asked)."""
    out = []
    for pack, inv_id, typed in checks.invariants:
        events: list[TraceEvent] = []
        ctx = Context(
            subject=Record(checks.subject, {}),
            as_of=dt.date.min,
            outcome=view,
            trace=events.append if trace else None,
        )
        out.append(InvariantResult(pack, inv_id, evaluate(typed, ctx), tuple(events)))
    return tuple(out)


def _settled(value: Value | None) -> object:
    """A value as far as a violation depends on it: an unknown is unknown, whatever it names."""
    return "\x00unknown" if isinstance(value, Unknown) else value


def exclusive_broken(checks: Checks, rules_yes: Iterable[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The exclusive groups of which more than one rule holds (``pack:rule`` in `rules_yes`)."""
    holding = set(rules_yes)
    return tuple(
        (pack_id, group)
        for pack_id, group in checks.exclusive
        if sum(f"{pack_id}:{r}" in holding for r in group) > 1
    )


def findings_of(checks: Checks | None, view: View, rules_yes: Sequence[str]) -> tuple[str, ...]:
    """The findings of one decision: the invariants it violates (``pack:invariant``), then the
    exclusive groups it breaks (``pack:exclusive(a, b)``)."""
    if checks is None:
        return ()
    key = tuple(_settled(view.get(k)) for k in checks.ordered)
    violated = checks._violated.get(key)
    if violated is None:
        violated = tuple(f"{r.pack.id}:{r.id}" for r in invariant_results(checks, view) if r.value is False)
        if len(checks._violated) < 4096:
            checks._violated[key] = violated
    broken = [
        f"{pack_id}:exclusive({', '.join(group)})" for pack_id, group in exclusive_broken(checks, rules_yes)
    ]
    return (*violated, *broken)
