"""Deciding a record: the packs in force run on it, its `Decision` assembled from their outcomes.

The exit verdict, the criteria, the rules, the buffer (`gspolicy.explain.verdicts`,
`gspolicy.explain.buffer`), the invariants' findings and the problems met on the way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from gspolicy._i18n import Text
from gspolicy.engine.invariants import (
    Checks,
    checks_for,
    exclusive_broken,
    invariant_results,
    view_of_outcome,
)
from gspolicy.engine.outcome import Outcome, outcome_of
from gspolicy.engine.run import PackOutcome, run_pack
from gspolicy.engine.verdicts import pack_verdict_of, settle_of, show_value
from gspolicy.errors import Diagnostic
from gspolicy.explain.buffer import buffer_of
from gspolicy.explain.decision import Decision
from gspolicy.explain.evidence import cite_text, location_of
from gspolicy.explain.parts import ApprovalRef, CriterionVerdict, Finding, PackRef, Verdict
from gspolicy.explain.verdicts import applicability_of, criterion_of, memberships_of
from gspolicy.explain.wording import vocabulary_for
from gspolicy.lang import Interval, Unknown, Value
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record

__all__ = ["decide", "decide_outcomes", "exit_pack_of", "outcomes_for", "pack_verdict", "show_value"]


def exit_pack_of(policy_set: PolicySet, subject: str | None = None) -> str:
    """The id of the verdict pack (``kind: exit``) deciding on `subject` (default: the schema's
    root record type), or "" when the set has none (each decision then says so)."""
    return policy_set.exit_pack(subject) or ""


"""The pack whose criteria give a decision's exit verdict (by default)."""


def _ref(checked: CheckedPack) -> PackRef:
    approval = checked.pack.approval
    return PackRef(
        checked.id,
        checked.version,
        checked.content_hash,
        checked.pack.source.name,
        checked.pack.title,
        ApprovalRef(approval.document, approval.issuer, approval.issued, approval.in_force)
        if approval is not None
        else None,
    )


def pack_verdict(outcome: PackOutcome) -> Verdict:
    """A pack's verdict from its outcome alone (`gspolicy.engine.outcome.pack_verdict_of`)."""
    return pack_verdict_of(outcome.values())


def outcomes_for(
    policy_set: PolicySet, record: Record, as_of: dt.date, only: Iterable[str] | None = None
) -> dict[str, PackOutcome]:
    """Every pack in force on `as_of` for the record's type (or only those named) run on it."""
    wanted = None if only is None else set(only)
    return {
        p.id: run_pack(p, record, as_of)
        for p in policy_set.all_in_force(as_of)
        if p.subject == record.type_name and (wanted is None or p.id in wanted)
    }


def decide(
    policy_set: PolicySet, record: Record, as_of: dt.date, *, exit_pack: str | None = None
) -> Decision:
    """Decide on one record (a household, or a village or county) as of `as_of` with the packs
    in force on that date for its record type; `exit_pack` gives the verdict (default: the
    verdict pack of the record's type, ``kind: exit``)."""
    return decide_outcomes(
        policy_set, record, as_of, outcomes_for(policy_set, record, as_of), exit_pack=exit_pack
    )


def _problems_of(outcome: PackOutcome) -> Iterable[Diagnostic]:
    results = [
        *([outcome.applies] if outcome.applies is not None else []),
        *outcome.givens.values(),
        *outcome.criteria.values(),
        *outcome.rules.values(),
    ]
    for result in results:
        if isinstance(result.value, Unknown):
            yield from result.value.problems


def _evaluation_problems(outcomes: Iterable[PackOutcome]) -> list[Text]:
    """What evaluation itself could not do (a date outside the calendar, a division by zero): each
    left its value unknown and is said once, with the first place in a pack it happened."""
    found: dict[tuple[str, str], Text] = {}
    for outcome in outcomes:
        results = [
            *([outcome.applies] if outcome.applies is not None else []),
            *outcome.givens.values(),
            *outcome.criteria.values(),
            *outcome.rules.values(),
        ]
        for result in results:
            if isinstance(result.value, Unknown):
                for d in sorted(result.value.problems, key=lambda d: d.render("en")):
                    where = d.location.header() if d.location is not None else outcome.pack.key
                    found.setdefault(
                        (d.code, d.message("en")),
                        Text(zh=f"{where}：{d.message('zh')}", en=f"{where}: {d.message('en')}"),
                    )
    return list(found.values())


def decide_outcomes(
    policy_set: PolicySet,
    record: Record,
    as_of: dt.date,
    outcomes: Mapping[str, PackOutcome],
    *,
    exit_pack: str | None = None,
) -> Decision:
    """The decision from pack outcomes already run (`outcomes_for`)."""
    if exit_pack is None:
        exit_pack = exit_pack_of(policy_set, record.type_name)
    in_force = [o.pack for o in outcomes.values()]
    spec = policy_set.schema.records.get(record.type_name)
    key = spec.key if spec is not None and spec.key is not None else "id"
    household = str(record.get(key, "?"))
    problems: list[Text] = []
    applicability = None
    verdict: Verdict | None = None
    criteria: tuple[CriterionVerdict, ...] = ()
    exit_outcome = outcomes.get(exit_pack)
    if not exit_pack:
        problems.append(
            Text(
                zh=f"政策包中没有 `{record.type_name}` 的结论包（`kind: exit`）",
                en=f"the policy set has no verdict pack (`kind: exit`) for `{record.type_name}`",
            )
        )
    elif exit_outcome is None:
        problems.append(
            Text(
                zh=f"{as_of.isoformat()} 没有有效的政策包 `{exit_pack}` 版本",
                en=f"no version of pack `{exit_pack}` is in force on {as_of.isoformat()}",
            )
        )
    else:
        applicability = applicability_of(exit_outcome)
        criteria = tuple(criterion_of(c, exit_outcome) for c in exit_outcome.pack.pack.criteria)
        verdict = pack_verdict(exit_outcome)
    problems.extend(_evaluation_problems(outcomes.values()))
    memberships = tuple(m for o in outcomes.values() for m in memberships_of(o))
    buffers = [
        b for o in sorted(outcomes.values(), key=lambda o: o.pack.id) if (b := buffer_of(o, policy_set))
    ]
    values = {k: o.values() for k, o in outcomes.items()}
    codes = sorted({d.code for o in outcomes.values() for d in _problems_of(o)})
    outcome = outcome_of(policy_set, record, as_of, values, exit_pack=exit_pack, problems=codes)
    checks = checks_for(policy_set, record.type_name, as_of)
    checking = policy_set.invariants_in_force(as_of, record.type_name) if checks is not None else ()
    return Decision(
        household=household,
        as_of=as_of,
        packs=tuple(_ref(p) for p in (*in_force, *checking)),
        applicability=applicability,
        verdict=verdict,
        criteria=criteria,
        memberships=memberships,
        problems=tuple(problems),
        buffer=buffers[0] if buffers else None,
        findings=_findings(checks, outcome, in_force) if checks is not None else (),
        result=outcome,
        words=vocabulary_for(
            policy_set.schema,
            record.type_name,
            ((n, f.unit) for p in in_force for n, f in p.pack.facts.items()),
        ),
    )


def _findings(checks: Checks, outcome: Outcome, in_force: Sequence[CheckedPack]) -> tuple[Finding, ...]:
    """The invariants the decision violates or cannot be checked against (with what each read
    of the outcome), then the exclusive groups it breaks."""
    out: list[Finding] = []
    for result in invariant_results(checks, view_of_outcome(checks, outcome), trace=True):
        if result.value is True:
            continue
        invariant = next(i for i in result.pack.pack.invariants if i.id == result.id)
        read = "; ".join(f"{e.name} = {_shown(e.value)}" for e in result.events if e.kind == "call")
        statement = " ".join(invariant.holds.text.split())
        cites = tuple(cite_text(c, result.pack.pack) for c in invariant.cites)
        missing = settle_of(result.value) if result.value is not False else ()
        if result.value is False:
            status: Literal["violated", "undetermined"] = "violated"
            reason = Text(
                zh=f"不变式不成立：`{statement}` 为假（{read}）",
                en=f"the invariant does not hold: `{statement}` is false ({read})",
            )
        else:
            status = "undetermined"
            what = ", ".join(missing) or "?"
            reason = Text(
                zh=f"无法检查不变式 `{statement}`：缺少 {what}",
                en=f"the invariant `{statement}` cannot be checked: missing {what}",
            )
        out.append(
            Finding(
                "invariant",
                result.pack.key,
                result.id,
                invariant.title,
                status,
                reason,
                missing,
                cites,
                location_of(invariant.span),
            )
        )
    rules_yes = [f"{p.id}:{r.id}" for p in outcome.packs for r in p.rules if r.holds == "yes"]
    for pack_id, group in exclusive_broken(checks, rules_yes):
        pack = next(p for p in in_force if p.id == pack_id)
        held = [r for r in group if f"{pack_id}:{r}" in rules_yes]
        declared = next((x for x in pack.pack.exclusive if x.rules == group), None)
        title = Text(zh=f"规则 {', '.join(group)} 互斥", en=f"rules {', '.join(group)} are exclusive")
        reason = Text(
            zh=f"互斥规则同时成立：{', '.join(held)}",
            en=f"rules declared exclusive hold together: {', '.join(held)}",
        )
        out.append(
            Finding(
                "exclusive",
                pack.key,
                f"exclusive({', '.join(group)})",
                title,
                "violated",
                reason,
                (),
                (),
                location_of(declared.span) if declared is not None else None,
            )
        )
    return tuple(out)


def _shown(value: Value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Unknown | Interval):
        return "unknown"
    return str(value)
