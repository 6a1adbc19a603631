"""Proofs about packs with an SMT solver (`gspolicy check --prove`): what no household can make
of a rule or criterion, exclusive rules that can both hold — each finding with a household that
shows it, confirmed by the reference interpreter before it is reported.

A question is asked of `gspolicy.analysis.smt`'s translation over every stretch of a pack
version's validity in which its parameters do not change (the as-of date is a variable within
the stretch).  The answers:

* **sat**: the solver's household is built, validated against the schema and evaluated by the
  interpreter (`gspolicy.lang.interpret`); only when the interpreter agrees is it a witness.
  When it does not (a rounding the proof does not model, a text the schema's pattern refuses),
  the question is *not proved*, never answered.
* **unsat**: no household with lists of at most `bound` items does it (the bound is reported).
* **unknown** (the per-question timeout, a construct not translated): *not proved*, with why.

`prove_pack` answers, for each rule and each established criterion, whether it can be true
(pass) and whether it can be false (fail), and for each pair of an `exclusive:` group whether both
can hold.  A condition is *proved* when both values were shown by confirmed households,
*refuted* when one of them is impossible (a finding: dead, always true), *not proved* otherwise.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import attrs
import z3  # type: ignore[import-untyped]  # the solver ships no type information

from gspolicy._yaml import dump_yaml
from gspolicy.analysis.smt import (
    DEFAULT_BOUND,
    SV,
    UNKNOWN_BOOL,
    Translator,
    Unsupported,
    any_true,
    int_date,
    is_false,
    is_true,
    truth,
)
from gspolicy.engine.run import parameter_values
from gspolicy.lang.interpret import Context, evaluate
from gspolicy.lang.typed import TFact, TypedExpr
from gspolicy.lang.types import BOOL
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record
from gspolicy.schema.validate import validate_record

__all__ = [
    "Answer",
    "Condition",
    "Finding",
    "PackProof",
    "SetProof",
    "Witness",
    "case_yaml",
    "case_yaml_of",
    "confirmed_witness",
    "prove_across",
    "prove_pack",
    "prove_set",
    "search",
    "segments",
    "smallest_model",
]

Status = Literal["proved", "refuted", "not_proved"]


@attrs.frozen
class Witness:
    """A household (plain record data, schema-valid) and the as-of date it shows something on,
    confirmed by the interpreter."""

    household: Mapping[str, Any]
    as_of: dt.date
    record: Record = attrs.field(eq=False, repr=False)


@attrs.frozen
class Answer:
    """The answer to one question: ``sat`` with a confirmed witness, ``unsat``, or ``unknown``
    with the reason (a timeout, a construct not translated, a witness the interpreter did not
    confirm)."""

    result: Literal["sat", "unsat", "unknown"]
    witness: Witness | None = None
    reason: str = ""
    seconds: float = 0.0


Goal = Callable[[Translator], Any]
Confirm = Callable[[Record, dt.date], bool]


def segments(
    pack: CheckedPack, within: tuple[dt.date, dt.date] | None = None
) -> list[tuple[dt.date, dt.date]]:
    """The stretches of the pack version's validity (or of `within`) in which no parameter of
    the pack changes value."""
    source = pack.pack
    start = source.valid_from
    end = source.valid_to or dt.date(2035, 12, 31)
    if within is not None:
        start, end = max(start, within[0]), min(end, within[1])
    cuts = sorted(
        {v.effective for p in source.parameters.values() for v in p.values if start < v.effective <= end}
    )
    edges = [start, *cuts]
    out = []
    for i, low in enumerate(edges):
        high = edges[i + 1] - dt.timedelta(days=1) if i + 1 < len(edges) else end
        if low <= high:
            out.append((low, high))
    return out


def search(
    pack: CheckedPack,
    goal: Goal,
    confirm: Confirm,
    *,
    within: tuple[dt.date, dt.date] | None = None,
    bound: int = DEFAULT_BOUND,
    timeout: float = 10.0,
    facts: Mapping[str, TypedExpr] | None = None,
) -> Answer:
    """Whether some household makes `goal` hold on some as-of date of the pack's validity (or of
    `within`): a confirmed witness, a proof that none does (within `bound`), or why not known."""
    started = time.process_time()
    reasons: list[str] = []
    for low, high in segments(pack, within):
        tr = Translator(
            pack.schema,
            facts=facts if facts is not None else pack.facts,
            parameters=parameter_values(pack, low),
            as_of=(low, high),
            bound=bound,
            subject=pack.schema.root if pack.subject == pack.schema.root else pack.subject,
        )
        try:
            formula = goal(tr)
        except Unsupported as e:
            return Answer(
                "unknown", reason=f"not translated: {e.reason}", seconds=time.process_time() - started
            )
        tr.constrain()
        solver = z3.Solver()
        solver.set(timeout=max(1, int(timeout * 1000)))
        solver.add(*tr.constraints)
        solver.add(formula)
        result = solver.check()
        if result == z3.sat:
            witness, why = confirmed_witness(tr, smallest_model(solver, tr), confirm)
            if witness is not None:
                return Answer("sat", witness, seconds=time.process_time() - started)
            reasons.append(why)
        elif result == z3.unknown:
            reasons.append(f"the solver gave no answer ({solver.reason_unknown()})")
    if reasons:
        return Answer(
            "unknown", reason="; ".join(dict.fromkeys(reasons)), seconds=time.process_time() - started
        )
    return Answer("unsat", seconds=time.process_time() - started)


def smallest_model(solver: z3.Solver, tr: Translator) -> z3.ModelRef:
    """The model of a satisfied `solver`, with lists as short as a quick second try allows (a
    witness easier to read): at most one item, else three, else as found."""
    found = solver.model()
    lengths = [v.value for v in tr.vars.values() if v.spec.kind == "list"]
    if not lengths:
        return found
    for most in (1, 3):
        solver.push()
        solver.add(*[n <= most for n in lengths])
        if solver.check() == z3.sat:
            found = solver.model()
            solver.pop()
            return found
        solver.pop()
    return found


def confirmed_witness(tr: Translator, model: z3.ModelRef, confirm: Confirm) -> tuple[Witness | None, str]:
    data = tr.household(model)
    as_of = int_date(model.eval(tr.as_of, model_completion=True).as_long())
    record, problems = validate_record(data, tr.schema, record=tr.subject)
    if record is None:
        codes = ", ".join(sorted({p.code for p in problems}))
        return None, f"the solver's household is not valid ({codes})"
    if not confirm(record, as_of):
        return None, "the interpreter did not confirm the solver's household"
    return Witness(data, as_of, record), ""


# --- conditions of one pack ------------------------------------------------------------------


@attrs.frozen
class Condition:
    """What was proved of one rule or criterion: whether it can be true (a criterion: pass) and
    false (fail), each an `Answer`."""

    pack: str
    kind: Literal["rule", "criterion"]
    id: str
    can_true: Answer
    can_false: Answer

    @property
    def status(self) -> Status:
        answers = (self.can_true, self.can_false)
        if any(a.result == "unsat" for a in answers):
            return "refuted"
        if all(a.result == "sat" for a in answers):
            return "proved"
        return "not_proved"


FindingKind = Literal["never-true", "never-false", "exclusive-overlap", "invariant-violated", "no-batch"]


@attrs.frozen
class Finding:
    """A defect shown by the solver: a rule or criterion that can never be true or never false
    (with a confirmed household showing the value it does take, when it takes one), or two
    exclusive rules that both hold for the confirmed household."""

    pack: str
    kind: FindingKind
    names: tuple[str, ...]
    witness: Witness | None
    expect: Mapping[str, Any]


@attrs.frozen
class PackProof:
    """`check --prove` on one pack version."""

    pack: str
    conditions: tuple[Condition, ...]
    findings: tuple[Finding, ...]
    exclusive_proved: tuple[tuple[str, str], ...]
    not_proved: tuple[tuple[str, str], ...]  # (what, why)
    bound: int
    seconds: float

    def counts(self) -> dict[str, int]:
        out = {"proved": 0, "refuted": 0, "not_proved": 0}
        for c in self.conditions:
            out[c.status] += 1
        return out


def _truth_goal(expr: TypedExpr, given: TypedExpr | None, want: bool) -> Goal:
    def goal(tr: Translator) -> Any:
        value = tr.tr(expr)
        parts = [is_true(value) if want else is_false(value)]
        if given is not None:
            parts.append(is_true(tr.tr(given)))
        return z3.And(*parts)

    return goal


def _confirm(pack: CheckedPack, expr: TypedExpr, given: TypedExpr | None, want: bool) -> Confirm:
    def confirm(record: Record, as_of: dt.date) -> bool:
        ctx = Context(record, as_of, parameter_values(pack, as_of), pack.facts)
        if given is not None and evaluate(given, ctx) is not True:
            return False
        return evaluate(expr, ctx) is want

    return confirm


def prove_pack(
    pack: CheckedPack,
    *,
    bound: int = DEFAULT_BOUND,
    timeout: float = 10.0,
    within: tuple[dt.date, dt.date] | None = None,
) -> PackProof:
    """Every rule and established criterion of `pack`: can it be true, can it be false; every
    pair of an exclusive group: can both hold."""
    started = time.process_time()
    conditions: list[Condition] = []
    findings: list[Finding] = []
    options = {"bound": bound, "timeout": timeout, "within": within}
    items: list[tuple[Literal["rule", "criterion"], str, TypedExpr, TypedExpr | None]] = [
        ("rule", rid, expr, None) for rid, expr in pack.rules.items()
    ]
    items += [("criterion", cid, expr, pack.givens.get(cid)) for cid, expr in pack.criteria.items()]
    for kind, name, expr, given in items:
        answers = [
            search(pack, _truth_goal(expr, given, want), _confirm(pack, expr, given, want), **options)  # type: ignore[arg-type]
            for want in (True, False)
        ]
        cond = Condition(pack.key, kind, name, answers[0], answers[1])
        conditions.append(cond)
        yes, no = ("yes", "no") if kind == "rule" else ("pass", "fail")
        key = "rules" if kind == "rule" else "criteria"
        if answers[0].result == "unsat":
            seen = answers[1].witness
            findings.append(Finding(pack.key, "never-true", (name,), seen, {key: {name: no}} if seen else {}))
        if answers[1].result == "unsat":
            seen = answers[0].witness
            findings.append(
                Finding(pack.key, "never-false", (name,), seen, {key: {name: yes}} if seen else {})
            )
    proved: list[tuple[str, str]] = []
    open_: list[tuple[str, str]] = []
    for group in pack.pack.exclusive:
        for a, b in itertools.combinations(group.rules, 2):
            ea, eb = pack.rules[a], pack.rules[b]

            def goal(tr: Translator, ea: TypedExpr = ea, eb: TypedExpr = eb) -> Any:
                return z3.And(is_true(tr.tr(ea)), is_true(tr.tr(eb)))

            def confirm(record: Record, as_of: dt.date, ea: TypedExpr = ea, eb: TypedExpr = eb) -> bool:
                ctx = Context(record, as_of, parameter_values(pack, as_of), pack.facts)
                return evaluate(ea, ctx) is True and evaluate(eb, ctx) is True

            answer = search(pack, goal, confirm, **options)  # type: ignore[arg-type]
            if answer.result == "sat":
                findings.append(
                    Finding(
                        pack.key, "exclusive-overlap", (a, b), answer.witness, {"rules": {a: "yes", b: "yes"}}
                    )
                )
            elif answer.result == "unsat":
                proved.append((a, b))
            else:
                open_.append((f"exclusive({a}, {b})", answer.reason))
    for c in conditions:
        for answer in (c.can_true, c.can_false):
            if answer.result == "unknown":
                open_.append((c.id, answer.reason))
                break
    return PackProof(
        pack.key,
        tuple(conditions),
        tuple(findings),
        tuple(proved),
        tuple(open_),
        bound,
        time.process_time() - started,
    )


def prove_set(
    policy_set: PolicySet,
    *,
    bound: int = DEFAULT_BOUND,
    timeout: float = 10.0,
    packs: Sequence[str] | None = None,
) -> list[PackProof]:
    """`prove_pack` on every version of every pack of the set (or of `packs`) that decides the
    schema's root record with rules or criteria."""
    out: list[PackProof] = []
    for pack_id in policy_set.ids:
        if packs is not None and pack_id not in packs:
            continue
        for pack in policy_set.versions(pack_id):
            if pack.subject != policy_set.schema.root or not (pack.rules or pack.criteria):
                continue
            out.append(prove_pack(pack, bound=bound, timeout=timeout))
    return out


# --- what the decisions read across packs: invariants, batches ----------------------------------


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
    confirm: Callable[[Record, dt.date], bool],
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
        base.constrain()
        solver = z3.Solver()
        solver.set(timeout=max(1, int(timeout * 1000)))
        solver.add(*base.constraints)
        solver.add(formula)
        result = solver.check()
        if result == z3.sat:
            witness, why = confirmed_witness(base, smallest_model(solver, base), confirm)
            if witness is not None:
                return Answer("sat", witness, seconds=time.process_time() - started)
            reasons.append(why)
        elif result == z3.unknown:
            reasons.append(f"the solver gave no answer ({solver.reason_unknown()})")
    if reasons:
        return Answer(
            "unknown", reason="; ".join(dict.fromkeys(reasons)), seconds=time.process_time() - started
        )
    return Answer("unsat", seconds=time.process_time() - started)


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

                def confirm(record: Record, as_of: dt.date, label: str = label) -> bool:
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

    def confirm(record: Record, as_of: dt.date) -> bool:
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


def case_yaml(finding: Finding, name: str) -> str:
    """The finding's household as a pack test case (paste it under ``cases:`` of a test file
    without ``defaults``)."""
    return case_yaml_of(finding.witness, name, finding.expect)


def case_yaml_of(witness: Witness | None, name: str, expect: Mapping[str, Any]) -> str:
    """A witness as a pack test case expecting `expect` ("" without a witness)."""
    if witness is None:
        return ""
    case = {
        "name": name,
        "as_of": witness.as_of,
        "household": _yaml_ready(witness.record.to_data()),
        "expect": dict(expect),
    }
    return dump_yaml([case])


def _yaml_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _yaml_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_ready(v) for v in value]
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value
