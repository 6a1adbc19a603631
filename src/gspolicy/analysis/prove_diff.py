"""`gspolicy diff OLD NEW --prove`: whether two versions of a pack decide every household alike.

For each pack both sides hold, and in it each criterion, each rule and the pack's verdict, the
solver looks for a household and an as-of date for which the two versions give different values
(true, false or undetermined; a verdict's pass, fail, not applicable or undetermined).  A
household it finds is built, validated and decided by both versions (the per-record evaluator,
which the interpreter's differential tests hold equal to it); only a difference both confirm is
reported.  None found means *equal for every household whose lists hold at most `bound` items*
on the dates compared — never more.  The dates compared are the NEW version's validity, in
stretches where neither version's parameters change (each version read with its own
parameters on that date).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import attrs
import z3  # type: ignore[import-untyped]  # the solver ships no type information

from gspolicy.analysis.prove import Answer, ask, case_yaml_of, settled
from gspolicy.analysis.smt import DEFAULT_BOUND, SV, Translator, Unsupported, is_false, is_true
from gspolicy.engine.compiled import lower
from gspolicy.engine.run import PackValues, parameter_values
from gspolicy.engine.verdicts import criterion_verdict, pack_verdict_of
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record

__all__ = [
    "Comparison",
    "PackComparison",
    "compare_packs",
    "compare_sets",
    "comparison_case",
    "criterion_states",
    "verdict_states",
]

What = Literal["criterion", "rule", "verdict"]


@attrs.frozen
class Comparison:
    """One criterion, rule or verdict compared: ``equal`` (within the bound), ``differs`` (with
    a confirmed household and both values) or ``not_proved`` (why)."""

    what: What
    id: str
    result: Literal["equal", "differs", "not_proved"]
    answer: Answer
    old: str = ""
    new: str = ""


@attrs.frozen
class PackComparison:
    old: str  # pack key
    new: str
    items: tuple[Comparison, ...]
    bound: int
    seconds: float


def _cuts(old: CheckedPack, new: CheckedPack) -> list[tuple[dt.date, dt.date]]:
    start = new.pack.valid_from
    end = new.pack.valid_to or dt.date(2035, 12, 31)
    cuts = sorted(
        {
            v.effective
            for pack in (old, new)
            for p in pack.pack.parameters.values()
            for v in p.values
            if start < v.effective <= end
        }
    )
    edges = [start, *cuts]
    return [
        (low, (edges[i + 1] - dt.timedelta(days=1)) if i + 1 < len(edges) else end)
        for i, low in enumerate(edges)
    ]


def _state(v: SV) -> tuple[Any, Any, Any]:
    return is_true(v), is_false(v), z3.Not(v.known)


def criterion_states(tr: Translator, pack: CheckedPack, cid: str) -> tuple[Any, Any, Any]:
    spec = next(c for c in pack.pack.criteria if c.id == cid)
    expr = pack.criteria.get(cid)
    if spec.not_established or expr is None:
        return z3.BoolVal(False), z3.BoolVal(False), z3.BoolVal(True)
    value = tr.tr(expr)
    given = pack.givens.get(cid)
    ok = is_true(tr.tr(given)) if given is not None else z3.BoolVal(True)
    passes, fails = z3.And(ok, is_true(value)), z3.And(ok, is_false(value))
    return passes, fails, z3.Not(z3.Or(passes, fails))


def verdict_states(tr: Translator, pack: CheckedPack) -> tuple[Any, ...]:
    applies_true, applies_false = z3.BoolVal(True), z3.BoolVal(False)
    if pack.applies is not None:
        applies = tr.tr(pack.applies)
        applies_true, applies_false = is_true(applies), is_false(applies)
    results = [criterion_states(tr, pack, c.id) for c in pack.pack.criteria]
    any_fail = z3.Or(*[f for _, f, _ in results]) if results else z3.BoolVal(False)
    all_pass = z3.And(*[p for p, _, _ in results]) if results else z3.BoolVal(True)
    passes = z3.And(applies_true, z3.Not(any_fail), all_pass)
    fails = z3.And(applies_true, any_fail)
    return passes, fails, applies_false, z3.Not(z3.Or(passes, fails, applies_false))


def _differ(a: Sequence[Any], b: Sequence[Any]) -> Any:
    return z3.Or(*[z3.And(x, z3.Not(y)) for x, y in zip(a, b, strict=True)])


def _values(pack: CheckedPack, record: Record, as_of: dt.date) -> PackValues:
    return lower(pack, as_of).run(record)


def _decided(pack: CheckedPack, values: PackValues, what: What, name: str) -> str:
    if what == "verdict":
        return pack_verdict_of(values)
    if what == "rule":
        value = values.rules.get(name)
        return "yes" if value is True else "no" if value is False else "undetermined"
    spec = next(c for c in pack.pack.criteria if c.id == name)
    verdict, _ = criterion_verdict(spec, values.givens.get(name), values.criteria.get(name))
    return verdict


def compare_packs(
    old: CheckedPack,
    new: CheckedPack,
    *,
    bound: int = DEFAULT_BOUND,
    timeout: float = 10.0,
    only: Sequence[str] | None = None,
) -> PackComparison:
    """Every criterion and rule both versions have, and the verdict (``""`` in `only`): equal,
    or a household that tells them apart.  `only` limits the comparison to those ids."""
    started = time.process_time()
    names: list[tuple[What, str]] = [("verdict", "")]
    names += [("criterion", c.id) for c in new.pack.criteria if c.id in old.criteria or _declared(old, c.id)]
    names += [("rule", r) for r in new.rules if r in old.rules]
    if only is not None:
        names = [(w, n) for w, n in names if n in only]
    items = []
    for what, name in names:
        answer = _search(old, new, what, name, bound=bound, timeout=timeout)
        if answer.result == "sat" and answer.witness is not None:
            w = answer.witness
            before = _decided(old, _values(old, w.record, w.as_of), what, name)
            after = _decided(new, _values(new, w.record, w.as_of), what, name)
            items.append(Comparison(what, name, "differs", answer, before, after))
        elif answer.result == "unsat":
            items.append(Comparison(what, name, "equal", answer))
        else:
            items.append(Comparison(what, name, "not_proved", answer))
    return PackComparison(old.key, new.key, tuple(items), bound, time.process_time() - started)


def _declared(pack: CheckedPack, cid: str) -> bool:
    return any(c.id == cid for c in pack.pack.criteria)


def _search(
    old: CheckedPack, new: CheckedPack, what: What, name: str, *, bound: int, timeout: float
) -> Answer:
    started = time.process_time()
    reasons: list[str] = []
    for low, high in _cuts(old, new):
        base = Translator(new.schema, as_of=(low, high), bound=bound)
        sides = [base.sibling(p.facts, parameter_values(p, low)) for p in (old, new)]
        try:
            if what == "verdict":
                states = [verdict_states(tr, p) for tr, p in zip(sides, (old, new), strict=True)]
            elif what == "criterion":
                states = [criterion_states(tr, p, name) for tr, p in zip(sides, (old, new), strict=True)]
            else:
                states = [_state(tr.tr(p.rules[name])) for tr, p in zip(sides, (old, new), strict=True)]
        except Unsupported as e:
            return Answer(
                "unknown", reason=f"not translated: {e.reason}", seconds=time.process_time() - started
            )
        witness = ask(base, _differ(states[0], states[1]), _confirm(old, new, what, name), timeout, reasons)
        if witness is not None:
            return Answer("sat", witness, seconds=time.process_time() - started)
    return settled(reasons, started)


def _confirm(
    old: CheckedPack, new: CheckedPack, what: What, name: str
) -> Callable[[Record, dt.date, Any], bool]:
    def confirm(record: Record, as_of: dt.date, _free: object = None) -> bool:
        before = _decided(old, _values(old, record, as_of), what, name)
        after = _decided(new, _values(new, record, as_of), what, name)
        return before != after

    return confirm


def compare_sets(
    old: PolicySet,
    new: PolicySet,
    pack_ids: Sequence[str],
    *,
    bound: int = DEFAULT_BOUND,
    timeout: float = 10.0,
) -> list[PackComparison]:
    """`compare_packs` for each pack id both sides hold (the latest version of each side)."""
    out = []
    for pack_id in pack_ids:
        if pack_id not in old.ids or pack_id not in new.ids:
            continue
        a, b = old.versions(pack_id)[-1], new.versions(pack_id)[-1]
        if a.subject != new.schema.root or not (b.rules or b.criteria):
            continue
        out.append(compare_packs(a, b, bound=bound, timeout=timeout))
    return out


def comparison_case(item: Comparison, pack: str) -> str:
    """The distinguishing household as a pack case expecting the NEW version's value."""
    key = {"verdict": "verdict", "criterion": "criteria", "rule": "rules"}[item.what]
    expect: dict[str, Any] = {key: item.new} if item.what == "verdict" else {key: {item.id: item.new}}
    title = " ".join(x for x in (item.what, item.id) if x)
    return case_yaml_of(item.answer.witness, f"{pack}: {title} {item.old} → {item.new}", expect)
