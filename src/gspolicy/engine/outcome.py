"""Outcomes: everything a decision says, without the trace and the words.

An `Outcome` holds, for one record as of a date and every pack in force for its type: the pack's
verdict, each criterion's verdict and each rule's truth value, the measures the rules grant and
the buffer retains with their amounts, the buffer's state, the parameter values in force, and —
for whatever is undetermined — the data paths and parameters that would settle it.

It is computed from the values of the packs' conditions alone (`PackValues`), whichever evaluator
gave them: the per-record evaluator (`decide_outcome`, for bulk runs) or the traced interpreter
behind an explained `Decision` (`Decision.outcome()`).  The two are equal by a property test.
The rules that turn values into verdicts live once, in `gspolicy.engine.verdicts`; the measures'
texts and declarations in `gspolicy.engine.measures`; the support a record gets in
`gspolicy.engine.support` — all re-exported here, and used by the decision builder too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from gspolicy._memo import Memo
from gspolicy.engine.compiled import lower
from gspolicy.engine.invariants import checks_for, findings_of, view_of_outcome
from gspolicy.engine.measures import (
    amount_text,
    lapse_of,
    loan_drawn_text,
    measure_declared,
    measure_in_force,
    measure_text,
    term_text,
)
from gspolicy.engine.run import PackValues, parameter_value
from gspolicy.engine.support import (
    retained_replaces,
    support_from,
    support_granted,
    support_kept,
    support_parts,
    support_texts,
)
from gspolicy.engine.verdicts import (
    CriterionVerdict,
    Truth3,
    Verdict,
    buffer_choice,
    criterion_verdict,
    derived_lacks,
    derived_value,
    given_reads_of,
    pack_verdict_of,
    settle_of,
    show_value,
    truth3,
)
from gspolicy.lang.values import Unknown
from gspolicy.pack.model import Basis, CombineRule, Criterion
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record

__all__ = [
    "BufferResult",
    "CriterionResult",
    "Outcome",
    "PackResult",
    "Retained",
    "RowPart",
    "RuleResult",
    "Verdict",
    "amount_text",
    "buffer_choice",
    "buffer_missing",
    "buffer_result_of",
    "criterion_verdict",
    "decide_outcome",
    "derived_lacks",
    "derived_value",
    "given_reads_of",
    "item_paths",
    "lapse_of",
    "loan_drawn_text",
    "measure_declared",
    "measure_in_force",
    "measure_text",
    "outcome_of",
    "pack_result_of",
    "pack_verdict_of",
    "problems_of",
    "retained_amount",
    "retained_replaces",
    "row_part",
    "settle_of",
    "show_value",
    "support_from",
    "support_granted",
    "support_kept",
    "support_parts",
    "support_texts",
    "term_text",
    "truth3",
]


# -- the outcome ------------------------------------------------------------------------------------


@attrs.frozen
class CriterionResult:
    id: str
    verdict: CriterionVerdict
    settle: tuple[str, ...] = ()


@attrs.frozen
class RuleResult:
    id: str
    holds: Truth3
    measures: tuple[tuple[str, str], ...] = ()  # (measure, amount as text) it grants
    settle: tuple[str, ...] = ()


@attrs.frozen
class PackResult:
    """One pack's part of an outcome."""

    id: str
    version: str
    content_hash: str
    applies: Truth3 | None  # None: the pack has no applicability condition
    verdict: Verdict
    criteria: tuple[CriterionResult, ...]
    rules: tuple[RuleResult, ...]
    parameters: tuple[tuple[str, str], ...]  # every parameter in force: (name, value as text)
    settle: tuple[str, ...] = ()  # what would settle an undetermined applicability

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"


@attrs.frozen
class Retained:
    measure: str
    amount: str | None  # the amount kept (None when it cannot be known)
    path: str  # the history item, e.g. `support[1]`
    basis: str
    until: dt.date | None
    settle: tuple[str, ...] = ()  # what would settle whether the measure has lapses (`lapses_when`)


@attrs.frozen
class BufferResult:
    pack: str
    status: Literal["active", "inactive", "undetermined"]
    basis: str | None
    until: dt.date | None
    retained: tuple[Retained, ...]
    settle: tuple[str, ...] = ()
    # how a measure both granted and retained is counted: the buffer pack's `combine.amount`
    combine: CombineRule = attrs.field(kw_only=True)


@attrs.frozen
class Outcome:
    """What a record's decision says, without the trace and the words (see the module doc).

    `missing` and `support` are the decision's, by the same rules as `Decision.missing` and
    `Decision.support`; `to_row()` flattens it into one row of plain values."""

    record: str
    as_of: dt.date
    verdict: Verdict | None  # the exit pack's; None when it is not in force
    exit_pack: str
    packs: tuple[PackResult, ...]
    buffer: BufferResult | None = None
    problems: tuple[str, ...] = ()  # evaluation problems, as diagnostic codes
    # the invariants it violates and the exclusive groups it breaks (`gspolicy.engine.invariants`)
    findings: tuple[str, ...] = ()

    def pack(self, pack_id: str) -> PackResult | None:
        for p in self.packs:
            if p.id == pack_id:
                return p
        return None

    @property
    def missing(self) -> tuple[str, ...]:
        """Everything that would settle what is undetermined (the rules of `Decision.missing`)."""
        found: set[str] = set()
        for p in self.packs:
            found.update(row_part(p, exit_pack=p.id == self.exit_pack).missing)
        if self.buffer is not None:
            found.update(buffer_missing(self.buffer))
        return tuple(sorted(found))

    @property
    def support(self) -> tuple[tuple[str, str | None, str], ...]:
        """The support the record gets now (`support_from`, as `Decision.support`)."""
        granted = [g for p in self.packs for g in row_part(p, exit_pack=False).granted]
        retained = (
            [(i.measure, i.amount, i.basis, i.path) for i in self.buffer.retained]
            if self.buffer is not None and self.buffer.status == "active"
            else []
        )
        return support_from(granted, retained, self.buffer.combine if self.buffer is not None else None)

    def to_row(self) -> dict[str, Any]:
        """One row of plain values: the verdicts, what fails and what would settle, the rules
        that hold, the support and the buffer (the columns bulk outputs write; each pack adds
        its `row_part`)."""
        parts = [row_part(p, exit_pack=p.id == self.exit_pack) for p in self.packs]
        return {
            "id": self.record,
            "as_of": self.as_of.isoformat(),
            "verdict": self.verdict,
            "failing": [c for part in parts for c in part.failing],
            "undetermined": [c for part in parts for c in part.undetermined],
            "missing": list(self.missing),
            "rules": [r for part in parts for r in part.rules],
            "rules_undetermined": [r for part in parts for r in part.rules_undetermined],
            "support": support_texts(self.support),
            "findings": list(self.findings),
            "buffer": self.buffer.status if self.buffer is not None else None,
            "buffer_until": self.buffer.until.isoformat() if self.buffer and self.buffer.until else None,
            "packs": {p.key: p.verdict for p in self.packs},
        }


@attrs.frozen
class RowPart:
    """What one pack's result adds to a row of `Outcome.to_row()`: the exit pack its failing
    and undetermined criteria, every pack its rules, and what would settle what it leaves
    undetermined (the exit pack's applicability and, when its verdict is undetermined, its
    undetermined criteria; every pack's undetermined rules)."""

    failing: tuple[str, ...]
    undetermined: tuple[str, ...]
    missing: frozenset[str]
    rules: tuple[str, ...]
    rules_undetermined: tuple[str, ...]
    granted: tuple[tuple[str, str | None, str], ...]  # (measure, amount, rule) of the rules that hold


def row_part(result: PackResult, *, exit_pack: bool) -> RowPart:
    """What `result` adds to its record's row (`exit_pack`: whether it is the row's exit pack)."""
    missing: set[str] = set()
    failing: tuple[str, ...] = ()
    undetermined: tuple[str, ...] = ()
    if exit_pack:
        failing = tuple(c.id for c in result.criteria if c.verdict == "fail")
        undetermined = tuple(c.id for c in result.criteria if c.verdict == "undetermined")
        missing.update(result.settle)
        if result.verdict == "undetermined":
            for c in result.criteria:
                if c.verdict == "undetermined":
                    missing.update(c.settle)
    for r in result.rules:
        if r.holds == "undetermined":
            missing.update(r.settle)
    return RowPart(
        failing,
        undetermined,
        frozenset(missing),
        tuple(f"{result.id}:{r.id}" for r in result.rules if r.holds == "yes"),
        tuple(f"{result.id}:{r.id}" for r in result.rules if r.holds == "undetermined"),
        tuple((m, a, r.id) for r in result.rules if r.holds == "yes" for m, a in r.measures),
    )


def buffer_missing(buffer: BufferResult) -> tuple[str, ...]:
    """What would settle an undetermined buffer, or whether a retained item has lapsed."""
    if buffer.status == "undetermined":
        return buffer.settle
    return tuple(dict.fromkeys(s for item in buffer.retained for s in item.settle))


# -- building an outcome from values -------------------------------------------------------------------


@attrs.frozen
class _Shape:
    """What a pack's results share across records (built once per pack version and date): the
    criteria, the rules with the measures they grant, the parameters in force, and the results
    that need nothing from the record (a criterion passing, a rule not holding)."""

    checked: CheckedPack
    criteria: tuple[Criterion, ...]
    rules: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    parameters: tuple[tuple[str, str], ...]
    settled_criteria: Mapping[tuple[str, str], CriterionResult]
    settled_rules: Mapping[tuple[str, str], RuleResult]
    given_reads: Mapping[str, tuple[str, ...]]


_SHAPES: Memo[tuple[int, dt.date], _Shape] = Memo(2048)


def _shape(checked: CheckedPack, as_of: dt.date) -> _Shape:
    key = (id(checked), as_of)
    found = _SHAPES.get(key)
    if found is not None and found.checked is checked:
        return found
    pack = checked.pack
    rules = tuple((r.id, tuple((m, measure_text(pack.measures[m])) for m in r.grant)) for r in pack.rules)
    settled_criteria = {
        (c.id, verdict): CriterionResult(c.id, verdict) for c in pack.criteria for verdict in ("pass", "fail")
    }
    settled_rules = {
        (rid, holds): RuleResult(rid, holds, grants) for rid, grants in rules for holds in ("yes", "no")
    }
    shape = _Shape(
        checked,
        pack.criteria,
        rules,
        _parameters(checked, as_of),
        settled_criteria,
        settled_rules,
        {cid: given_reads_of(checked, cid) for cid in checked.givens},
    )
    return _SHAPES.put(key, shape)


def pack_result_of(values: PackValues) -> PackResult:
    """A pack's result (verdict, criteria, rules, parameters) from the values of its conditions."""
    checked = values.pack
    shape = _shape(checked, values.as_of)
    criteria = []
    for c in shape.criteria:
        verdict, settle = criterion_verdict(
            c, values.givens.get(c.id), values.criteria.get(c.id), shape.given_reads.get(c.id, ())
        )
        criteria.append(
            shape.settled_criteria[(c.id, verdict)]
            if not settle and verdict != "undetermined"
            else CriterionResult(c.id, verdict, settle)
        )
    rules = []
    for rule_id, grants in shape.rules:
        value = values.rules.get(rule_id)
        if value is None:
            continue
        if value is True:
            rules.append(shape.settled_rules[(rule_id, "yes")])
        elif value is False:
            rules.append(shape.settled_rules[(rule_id, "no")])
        else:
            rules.append(RuleResult(rule_id, "undetermined", grants, settle_of(value)))
    applies = None if values.applies is None else truth3(values.applies)
    settle = settle_of(values.applies) if values.applies is not None else ()
    return PackResult(
        checked.id,
        checked.version,
        checked.content_hash,
        applies,
        pack_verdict_of(values),
        tuple(criteria),
        tuple(rules),
        shape.parameters,
        settle,
    )


_PARAMETERS: Memo[tuple[int, dt.date], tuple[CheckedPack, tuple[tuple[str, str], ...]]] = Memo(2048)


def _parameters(checked: CheckedPack, as_of: dt.date) -> tuple[tuple[str, str], ...]:
    """Every parameter of the pack in force on the date, as text (the same for every record)."""
    key = (id(checked), as_of)
    found = _PARAMETERS.get(key)
    if found is not None and found[0] is checked:
        return found[1]
    shown = []
    for name, param in checked.pack.parameters.items():
        value, dated = parameter_value(param, as_of)
        if dated is None:
            continue
        shown.append(
            (name, "not established" if dated.kind == "not_established" else show_value(value) or "?")
        )
    return _PARAMETERS.put(key, (checked, tuple(shown)))[1]


def buffer_result_of(values: PackValues, policy_set: PolicySet) -> BufferResult | None:
    """The buffer's state from a pack's values (None when the pack has no buffer)."""
    if values.pack.pack.buffer is None or values.buffer is None:
        return None
    status, basis, settle = buffer_choice(values)
    key = values.pack.key
    combine = values.pack.pack.buffer.combine.amount
    if status != "active" or basis is None:
        return BufferResult(key, status, None, None, (), settle, combine=combine)
    until_value = values.buffer.until[basis.id]
    until = until_value if isinstance(until_value, dt.date) else None
    retained_value = values.buffer.retained
    if not isinstance(retained_value, tuple):
        return BufferResult(
            key, "undetermined", basis.id, until, (), settle_of(retained_value), combine=combine
        )
    paths = item_paths(values.record)
    fields = policy_set.schema.support_fields  # the items' fields by role, found when the schema loaded
    retained = []
    for i, item in enumerate(retained_value):
        end = item.get(fields.end)
        if isinstance(end, dt.date) and end < values.as_of:
            continue  # the item's own period has ended: the buffer keeps policies, not a past benefit
        measure = str(item.get(fields.measure, "?"))
        lapsed = lapse_of(policy_set, measure, values.record, values.as_of)
        if lapsed is True:
            continue  # the measure has lapsed: the item ends
        retained.append(
            Retained(
                measure,
                retained_amount(measure, item.get(fields.amount), basis, values.as_of, policy_set),
                paths.get(id(item), f"item {i}"),
                basis.id,
                until,
                settle_of(lapsed) if lapsed is not None and lapsed is not False else (),
            )
        )
    return BufferResult(key, "active", basis.id, until, tuple(retained), combine=combine)


def item_paths(record: Record) -> dict[int, str]:
    """The data path of every record in a list field of `record` (by identity): `support[1]`."""
    out: dict[int, str] = {}
    for name, value in record.items():
        if isinstance(value, tuple):
            for index, item in enumerate(value):
                out[id(item)] = f"{name}[{index}]"
    return out


def retained_amount(
    measure: str, amount: object, basis: Basis, as_of: dt.date, policy_set: PolicySet
) -> str | None:
    """The amount a retained history item of `measure`, held at `amount` (None when the item
    gives none), is kept at: as held at exit, or the amount in force (a loan's: what was drawn,
    or its ceiling and term — `measure_text`)."""
    if basis.amounts == "at_exit":
        held = show_value(amount) if amount is not None else None
        declared = measure_declared(policy_set, measure, as_of)
        return loan_drawn_text(held) if declared is not None and declared[1].form == "loan" else held
    found = measure_in_force(policy_set, measure, as_of)
    if found is None or (found[1].amount.kind != "exact" and found[1].form != "loan"):
        return None
    return measure_text(found[1])


def outcome_of(
    policy_set: PolicySet,
    record: Record,
    as_of: dt.date,
    values: Mapping[str, PackValues],
    *,
    exit_pack: str,
    problems: Sequence[str] = (),
) -> Outcome:
    """The outcome of a record from the values of its packs (`values` by pack id)."""
    spec = policy_set.schema.records.get(record.type_name)
    key = spec.key if spec is not None and spec.key is not None else "id"
    exit_values = values.get(exit_pack)
    buffers = [b for _, v in sorted(values.items()) if (b := buffer_result_of(v, policy_set)) is not None]
    outcome = Outcome(
        record=str(record.get(key, "?")),
        as_of=as_of,
        verdict=pack_verdict_of(exit_values) if exit_values is not None else None,
        exit_pack=exit_pack,
        packs=tuple(pack_result_of(v) for v in values.values()),
        buffer=buffers[0] if buffers else None,
        problems=tuple(problems),
    )
    checks = checks_for(policy_set, record.type_name, as_of)
    if checks is None:
        return outcome
    grouped = checks.grouped  # the packs with exclusive groups: their rules that hold
    rules_yes = [
        f"{p.id}:{r.id}" for p in outcome.packs if p.id in grouped for r in p.rules if r.holds == "yes"
    ]
    found = findings_of(checks, view_of_outcome(checks, outcome), rules_yes)
    return attrs.evolve(outcome, findings=found) if found else outcome


def problems_of(values: Mapping[str, PackValues]) -> tuple[str, ...]:
    """The codes of the evaluation problems behind any unknown value of the packs' conditions."""
    codes: set[str] = set()
    for v in values.values():
        for value in (v.applies, *v.givens.values(), *v.criteria.values(), *v.rules.values()):
            if isinstance(value, Unknown):
                codes.update(d.code for d in value.problems)
    return tuple(sorted(codes))


def decide_outcome(policy_set: PolicySet, record: Record, as_of: dt.date, *, exit_pack: str) -> Outcome:
    """The outcome of a record as of a date, by the per-record evaluator (no trace, no words)."""
    values = {
        p.id: lower(p, as_of).run(record)
        for p in policy_set.all_in_force(as_of)
        if p.subject == record.type_name
    }
    return outcome_of(policy_set, record, as_of, values, exit_pack=exit_pack, problems=problems_of(values))
