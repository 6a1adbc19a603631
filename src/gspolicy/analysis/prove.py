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
    Translator,
    Unsupported,
    int_date,
    is_false,
    is_true,
)
from gspolicy.engine.run import parameter_values
from gspolicy.lang.interpret import Context, evaluate
from gspolicy.lang.typed import TypedExpr
from gspolicy.lang.values import Value
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record
from gspolicy.schema.validate import validate_record

__all__ = [
    "Answer",
    "Condition",
    "Confirm",
    "Finding",
    "PackProof",
    "Witness",
    "ask",
    "case_yaml",
    "case_yaml_of",
    "confirmed_witness",
    "prove_pack",
    "prove_set",
    "search",
    "segments",
    "settled",
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
    parameters: Mapping[str, Value] = attrs.field(factory=dict)  # free parameters' values, if any


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
Confirm = Callable[[Record, dt.date, Mapping[str, Value]], bool]
"""Whether the interpreter confirms a household on a date, with the free parameters' values."""


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
    free_parameters: bool = False,
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
            free_parameters=free_parameters,
        )
        try:
            formula = goal(tr)
        except Unsupported as e:
            return Answer(
                "unknown", reason=f"not translated: {e.reason}", seconds=time.process_time() - started
            )
        witness = ask(tr, formula, confirm, timeout, reasons)
        if witness is not None:
            return Answer("sat", witness, seconds=time.process_time() - started)
    return settled(reasons, started)


def ask(tr: Translator, formula: Any, confirm: Confirm, timeout: float, reasons: list[str]) -> Witness | None:
    """One question to the solver over `tr`'s household: a confirmed witness, or None (why not,
    added to `reasons`, unless the answer is that no household does it)."""
    tr.constrain()
    solver = z3.Solver()
    solver.set(timeout=max(1, int(timeout * 1000)))
    solver.add(*tr.constraints)
    solver.add(formula)
    result = solver.check()
    if result == z3.sat:
        witness, why = confirmed_witness(tr, smallest_model(solver, tr), confirm)
        if witness is None:
            reasons.append(why)
        return witness
    if result == z3.unknown:
        reasons.append(f"the solver gave no answer ({solver.reason_unknown()})")
    return None


def settled(reasons: Sequence[str], started: float) -> Answer:
    """The answer after every stretch was asked without a witness: unsat when each said so."""
    seconds = time.process_time() - started
    if reasons:
        return Answer("unknown", reason="; ".join(dict.fromkeys(reasons)), seconds=seconds)
    return Answer("unsat", seconds=seconds)


def smallest_model(solver: z3.Solver, tr: Translator) -> z3.ModelRef:
    """The model of a satisfied `solver`, made easier to read when a quick second try allows:
    lists of at most one item (else three) and dates from 1900 to 2100, else either, else as
    found."""
    found = solver.model()
    short = [
        [n <= most for n in (v.value for v in tr.vars.values() if v.spec.kind == "list")] for most in (1, 3)
    ]
    years = [y for v in tr.vars.values() if v.ymd is not None for y in (v.ymd[0],)]
    plausible = [z3.And(y >= 1900, y <= 2100) for y in years]
    tries = [*([*lists, *plausible] for lists in short), plausible, *short]
    for extra in tries:
        if not extra:
            continue
        solver.push()
        solver.add(*extra)
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
    free = tr.free_values(model)
    if not confirm(record, as_of, free):
        return None, "the interpreter did not confirm the solver's household"
    return Witness(data, as_of, record, free), ""


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
    def confirm(record: Record, as_of: dt.date, free: Mapping[str, Value]) -> bool:
        ctx = Context(record, as_of, {**parameter_values(pack, as_of), **free}, pack.facts)
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
    free_parameters: bool = False,
) -> PackProof:
    """Every rule and established criterion of `pack`: can it be true, can it be false; every
    pair of an exclusive group: can both hold.  With `free_parameters`, a parameter not
    established (or known only within bounds) is any exact value (within its bounds): a witness
    then names the values it was found with, and the interpreter confirms it with them."""
    started = time.process_time()
    conditions: list[Condition] = []
    findings: list[Finding] = []
    options = {"bound": bound, "timeout": timeout, "within": within, "free_parameters": free_parameters}
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

            def confirm(
                record: Record,
                as_of: dt.date,
                free: Mapping[str, Value],
                ea: TypedExpr = ea,
                eb: TypedExpr = eb,
            ) -> bool:
                ctx = Context(record, as_of, {**parameter_values(pack, as_of), **free}, pack.facts)
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
    free_parameters: bool = False,
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
            out.append(prove_pack(pack, bound=bound, timeout=timeout, free_parameters=free_parameters))
    return out


def case_yaml(finding: Finding, name: str) -> str:
    """The finding's household as a pack test case (paste it under ``cases:`` of a test file
    without ``defaults``)."""
    return case_yaml_of(finding.witness, name, finding.expect)


def case_yaml_of(witness: Witness | None, name: str, expect: Mapping[str, Any]) -> str:
    """A witness as a pack test case expecting `expect` ("" without a witness)."""
    if witness is None:
        return ""
    if witness.parameters:
        given = ", ".join(f"{k} = {_shown(v)}" for k, v in sorted(witness.parameters.items()))
        name = f"{name} (with the parameters {given})"
    case = {
        "name": name,
        "as_of": witness.as_of,
        "household": _yaml_ready(witness.record.to_data()),
        "expect": dict(expect),
    }
    return dump_yaml([case])


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


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
