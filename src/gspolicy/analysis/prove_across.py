"""What a decision reads across packs, proved (`gspolicy check --prove`): invariants that some
household's decision violates, and registered poor households no batch rule holds for.

The outcome functions an invariant reads (``rule``, ``criterion``, ``verdict``) are translated over
one symbolic household from every pack in force (each pack with its own facts and parameters,
`Translator.sibling`), stretch by stretch of the dates on which the same versions and parameter
values are in force.  A household the solver finds is decided by the engine
(`gspolicy.engine.outcome.decide_outcome`): only a violation the decision itself reports among
its findings — or a registered household whose decision holds no batch rule — is a finding.
``granted`` and ``buffer`` are not translated: an invariant reading them is not proved.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import z3  # type: ignore[import-untyped]  # the solver ships no type information

from gspolicy.analysis.prove import Answer, Confirm, Finding, ask, settled
from gspolicy.analysis.smt import (
    DEFAULT_BOUND,
    SV,
    UNKNOWN_BOOL,
    Translator,
    Unsupported,
    any_true,
    is_false,
    is_true,
    truth,
)
from gspolicy.engine.run import parameter_values
from gspolicy.lang.interpret import Context, evaluate
from gspolicy.lang.typed import TFact, TypedExpr
from gspolicy.lang.types import BOOL
from gspolicy.lang.values import Value
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record

__all__ = ["SetProof", "prove_across"]


def _set_segments(
    policy_set: PolicySet, start: dt.date, end: dt.date, subject: str
) -> list[tuple[dt.date, dt.date]]:
    """Stretches of [start, end] in which the same pack versions are in force for `subject` and
    none of their parameters changes."""
    cuts: set[dt.date] = set()
    for pack_id in policy_set.ids:
        for p in policy_set.versions(pack_id):
            if p.subject != subject:
                continue
            cuts.add(p.pack.valid_from)
            if p.pack.valid_to is not None:
                cuts.add(p.pack.valid_to + dt.timedelta(days=1))
            cuts.update(v.effective for q in p.pack.parameters.values() for v in q.values)
    edges = [start, *sorted(c for c in cuts if start < c <= end)]
    return [
        (low, (edges[i + 1] - dt.timedelta(days=1)) if i + 1 < len(edges) else end)
        for i, low in enumerate(edges)
    ]


class _Decision:
    """The outcome functions over one stretch: every pack in force translated over one household."""

    def __init__(self, policy_set: PolicySet, base: Translator, as_of: dt.date) -> None:
        subject = policy_set.schema.root
        self.packs = {p.id: p for p in policy_set.all_in_force(as_of) if p.subject == subject}
        self.base = base
        self.as_of = as_of
        self.exit = policy_set.exit_pack(subject)
        self.translators: dict[str, Translator] = {}

    def tr(self, pack_id: str) -> Translator:
        found = self.translators.get(pack_id)
        if found is None:
            pack = self.packs[pack_id]
            found = self.translators[pack_id] = self.base.sibling(
                pack.facts, parameter_values(pack, self.as_of)
            )
        return found

    def criterion(self, pack_id: str, cid: str) -> tuple[Any, Any]:
        """(passes, fails) of a criterion of a pack."""
        pack = self.packs[pack_id]
        spec = next(c for c in pack.pack.criteria if c.id == cid)
        expr = pack.criteria.get(cid)
        if spec.not_established or expr is None:
            return z3.BoolVal(False), z3.BoolVal(False)
        tr = self.tr(pack_id)
        value = tr.tr(expr)
        given = pack.givens.get(cid)
        ok = is_true(tr.tr(given)) if given is not None else z3.BoolVal(True)
        return z3.And(ok, is_true(value)), z3.And(ok, is_false(value))

    def verdict(self, pack_id: str) -> tuple[Any, Any, Any, Any]:
        """(pass, fail, not applicable, undetermined) of a pack's verdict."""
        pack = self.packs[pack_id]
        applies_true, applies_false = z3.BoolVal(True), z3.BoolVal(False)
        if pack.applies is not None:
            applies = self.tr(pack_id).tr(pack.applies)
            applies_true, applies_false = is_true(applies), is_false(applies)
        results = [self.criterion(pack_id, c.id) for c in pack.pack.criteria]
        any_fail = z3.Or(*[f for _, f in results]) if results else z3.BoolVal(False)
        all_pass = z3.And(*[p for p, _ in results]) if results else z3.BoolVal(True)
        passes = z3.And(applies_true, z3.Not(any_fail), all_pass)
        fails = z3.And(applies_true, any_fail)
        return passes, fails, applies_false, z3.Not(z3.Or(passes, fails, applies_false))

    def outcome(self, func: str, name: str) -> SV:
        if func == "rule":
            values = [self.tr(pid).tr(p.rules[name]) for pid, p in self.packs.items() if name in p.rules]
            return any_true(values) if values else UNKNOWN_BOOL
        if func == "criterion":
            if self.exit is None or self.exit not in self.packs:
                return UNKNOWN_BOOL
            passes, fails = self.criterion(self.exit, name)
            return truth(z3.Or(passes, fails), passes)
        target = name or self.exit
        if target is None or target not in self.packs:
            return SV("str", z3.BoolVal(False), z3.IntVal(0))
        passes, fails, na, _ = self.verdict(target)
        t = self.base.text
        code = z3.If(
            passes, t("pass"), z3.If(fails, t("fail"), z3.If(na, t("not_applicable"), t("undetermined")))
        )
        return SV("str", z3.BoolVal(True), code)


def _decide_search(
    policy_set: PolicySet,
    window: tuple[dt.date, dt.date],
    goal: Callable[[_Decision], Any],
    confirm: Confirm,
    *,
    bound: int,
    timeout: float,
) -> Answer:
    """`search` over what a decision reads of every pack in force (stretch by stretch)."""
    started = time.process_time()
    reasons: list[str] = []
    schema = policy_set.schema
    for low, high in _set_segments(policy_set, window[0], window[1], schema.root):
        base = Translator(schema, as_of=(low, high), bound=bound)
        decision = _Decision(policy_set, base, low)
        base.outcome = decision.outcome
        try:
            formula = goal(decision)
        except Unsupported as e:
            return Answer(
                "unknown", reason=f"not translated: {e.reason}", seconds=time.process_time() - started
            )
        witness = ask(base, formula, confirm, timeout, reasons)
        if witness is not None:
            return Answer("sat", witness, seconds=time.process_time() - started)
    return settled(reasons, started)


@attrs.frozen
class SetProof:
    """What `check --prove` shows across the packs of a set: invariants that can be violated,
    registered households in no batch (each with a confirmed household), and what was proved or
    not."""

    findings: tuple[Finding, ...]
    proved: tuple[str, ...]
    not_proved: tuple[tuple[str, str], ...]
    bound: int
    seconds: float


def prove_across(policy_set: PolicySet, *, bound: int = DEFAULT_BOUND, timeout: float = 10.0) -> SetProof:
    """Every invariant in force for the schema's root: can a household violate it; and can a
    household the batch packs call registered poor be in no batch (no batch rule holds)."""
    from gspolicy.engine.outcome import decide_outcome  # noqa: PLC0415  (only for confirmation)

    started = time.process_time()
    subject = policy_set.schema.root
    exit_pack = policy_set.exit_pack(subject) or ""
    findings: list[Finding] = []
    proved: list[str] = []
    open_: list[tuple[str, str]] = []
    for pack_id in policy_set.of_kind("invariants", subject):
        for pack in policy_set.versions(pack_id):
            window = (pack.pack.valid_from, pack.pack.valid_to or dt.date(2035, 12, 31))
            for inv_id, holds in pack.invariants.items():
                label = f"{pack.id}:{inv_id}"

                def goal(d: _Decision, holds: TypedExpr = holds) -> Any:
                    return is_false(d.base.tr(holds))

                def confirm(
                    record: Record, as_of: dt.date, _free: Mapping[str, Value], label: str = label
                ) -> bool:
                    return label in decide_outcome(policy_set, record, as_of, exit_pack=exit_pack).findings

                answer = _decide_search(policy_set, window, goal, confirm, bound=bound, timeout=timeout)
                if answer.result == "sat":
                    findings.append(
                        Finding(
                            pack.key, "invariant-violated", (inv_id,), answer.witness, {"findings": [label]}
                        )
                    )
                elif answer.result == "unsat":
                    proved.append(label)
                else:
                    open_.append((label, answer.reason))
    batches = policy_set.of_kind("batch", subject)
    if batches:
        answer = _no_batch(policy_set, batches, exit_pack, bound=bound, timeout=timeout)
        if answer.result == "sat":
            findings.append(
                Finding("seven_batches", "no-batch", ("registered_poor",), answer.witness, {"rules": {}})
            )
        elif answer.result == "unsat":
            proved.append("every registered poor household is in a batch")
        else:
            open_.append(("no-batch", answer.reason))
    return SetProof(tuple(findings), tuple(proved), tuple(open_), bound, time.process_time() - started)


def _no_batch(
    policy_set: PolicySet, batches: Sequence[str], exit_pack: str, *, bound: int, timeout: float
) -> Answer:
    from gspolicy.engine.outcome import decide_outcome  # noqa: PLC0415

    starts = [p.pack.valid_from for b in batches for p in policy_set.versions(b)]
    ends = [p.pack.valid_to or dt.date(2035, 12, 31) for b in batches for p in policy_set.versions(b)]
    fact = "registered_poor"

    def goal(d: _Decision) -> Any:
        in_force = [pid for pid in batches if pid in d.packs]
        holder = next((pid for pid in in_force if fact in d.packs[pid].facts), None)
        if holder is None:
            raise Unsupported(f"no batch pack in force defines the fact {fact}")
        tr = d.tr(holder)
        registered = is_true(tr.fact(TFact(BOOL, d.packs[holder].facts[fact].span, fact)))
        none = [is_false(d.tr(pid).tr(e)) for pid in in_force for e in d.packs[pid].rules.values()]
        return z3.And(registered, *none)

    def confirm(record: Record, as_of: dt.date, _free: Mapping[str, Value]) -> bool:
        outcome = decide_outcome(policy_set, record, as_of, exit_pack=exit_pack)
        holder = next(
            (p for p in policy_set.all_in_force(as_of) if p.id in batches and fact in p.facts), None
        )
        if holder is None:
            return False
        ctx = Context(record, as_of, parameter_values(holder, as_of), holder.facts)
        if evaluate(TFact(BOOL, holder.facts[fact].span, fact), ctx) is not True:
            return False
        return all(r.holds == "no" for p in outcome.packs if p.id in batches for r in p.rules)

    return _decide_search(policy_set, (min(starts), max(ends)), goal, confirm, bound=bound, timeout=timeout)
