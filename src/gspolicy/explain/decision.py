"""Decisions: an outcome plus its reasons, frozen, with a stable JSON form.

A `Decision` says, for one household as of one date, against the packs in force then (each with
its version and content hash): whether the household is assessed for exit and why, one verdict
per criterion — always computed, whatever the household's status — grouped by the department that
issues the acceptance opinion, the exit verdict, the rules that apply (three-valued) with their
measures, and for everything that is undetermined, what would settle it.  Every verdict carries
the values it read, the parameters it used (value, effective date, source, confidence) and the
YAML file:line of the rule, so an officer can see why and an auditor can check it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import attrs

from gspolicy._i18n import Lang, Text
from gspolicy.engine.outcome import Outcome, support_from
from gspolicy.explain.wording import Vocabulary

__all__ = [
    "DECISION_FORMAT",
    "DETAILS",
    "Applicability",
    "ApprovalRef",
    "BoundUse",
    "BufferState",
    "CriterionVerdict",
    "Decision",
    "Detail",
    "Finding",
    "MeasureGrant",
    "Membership",
    "PackRef",
    "ParameterUse",
    "Reading",
    "RetainedMeasure",
    "Verdict",
]


DECISION_FORMAT = 2
"""The version of the decision JSON form (``gspolicy/schemas/decision.schema.json``, shipped in the
package): 2 since numbers are JSON numbers and the form names its detail level."""

Detail = Literal["fails", "brief", "full"]
"""How much of a decision an explanation shows: ``fails`` the failing and undetermined criteria
with the values, parameters and sources behind them (and the rules that apply or are
undetermined, one line each); ``brief`` that plus one line per passing criterion; ``full``
everything."""

DETAILS: tuple[Detail, ...] = ("fails", "brief", "full")

Verdict = Literal["pass", "fail", "undetermined", "not_applicable"]
Truth3 = Literal["yes", "no", "undetermined"]


@attrs.frozen
class ApprovalRef:
    """The document that approved a pack version (``approval:``)."""

    document: str  # its number (文号)
    issuer: Text
    issued: dt.date
    in_force: dt.date


@attrs.frozen
class PackRef:
    """A pack version a decision used."""

    id: str
    version: str
    content_hash: str
    file: str
    title: Text
    # the approving document, when the version names one; in JSON only then
    approval: ApprovalRef | None = attrs.field(default=None, metadata={"omit_none": True})


@attrs.frozen
class Reading:
    """A household value a verdict read: the data path and the value (None when missing)."""

    path: str
    value: str | None


@attrs.frozen
class BoundUse:
    """One bound of a range parameter, with its own source."""

    side: Literal["at_least", "at_most"]
    value: str = attrs.field(metadata={"number": True})
    source: str | None
    source_title: Text | None
    clause: str | None
    confidence: str | None
    derivation: Text | None
    # the clause restates its source in other words: shown without quotation marks; in JSON only
    # when true
    paraphrase: bool = attrs.field(default=False, metadata={"omit_false": True})


@attrs.frozen
class ParameterUse:
    """A parameter a verdict used, as in force on the as-of date."""

    name: str
    title: Text
    # rendered: `3500`, `[3500, 3815.38]`, `not established` (in JSON a number, [low, high] or text)
    value: str = attrs.field(metadata={"number": True})
    unit: str | None
    effective: dt.date | None
    source: str | None
    source_title: Text | None
    confidence: str | None
    clause: str | None
    location: str | None  # file:line of the dated value
    kind: Literal["exact", "range", "not_established", "missing"]
    bounds: tuple[BoundUse, ...] = ()  # a range's bounds, each with its own source
    # ``id@version`` of the parameters pack it was imported from (``import:``); in JSON only when set
    imported_from: str | None = attrs.field(default=None, metadata={"omit_none": True})
    # the sources give the exact value only as "about" it; in JSON only when true
    approximate: bool = attrs.field(default=False, metadata={"omit_false": True})
    # the clause restates its source in other words (not quoted); in JSON only when true
    paraphrase: bool = attrs.field(default=False, metadata={"omit_false": True})


@attrs.frozen
class CriterionVerdict:
    """The verdict on one criterion, with everything that led to it."""

    id: str
    title: Text
    verdict: Literal["pass", "fail", "undetermined"]
    department: str | None
    department_title: Text | None
    reason: Text
    missing: tuple[str, ...]  # data paths and `param:<name>` that would settle an undetermined verdict
    readings: tuple[Reading, ...]
    parameters: tuple[ParameterUse, ...]
    facts: tuple[tuple[str, str], ...]  # fact name → rendered value
    cites: tuple[Text, ...]  # rendered citations
    location: str  # file:line of the criterion
    expression: str | None
    # in JSON a number, [low, high] or text (`gspolicy.explain.render.json_value`)
    shortfall: str | None = attrs.field(default=None, metadata={"number": True})
    threshold: str | None = attrs.field(default=None, metadata={"number": True})
    value: str | None = attrs.field(default=None, metadata={"number": True})
    # on a fail: the items whose own values make it fail (the witnesses of its quantifiers,
    # outermost first: ``("members[2]",)``)
    witnesses: tuple[str, ...] = ()


@attrs.frozen
class Applicability:
    """Whether the household is assessed for exit, and why."""

    status: Literal["assessed", "not_applicable", "undetermined"]
    reason: Text
    readings: tuple[Reading, ...]
    missing: tuple[str, ...]
    location: str | None


@attrs.frozen
class MeasureGrant:
    """A measure a rule grants: its amount as text (a loan's: ``loan, ceiling …, term …``)."""

    id: str
    title: Text
    department: str
    amount: str = attrs.field(metadata={"number": True})
    unit: str | None
    form: str = "grant"  # grant, subsidy, waiver, loan, service


@attrs.frozen
class Membership:
    """Whether a rule applies to the household (three-valued) and the measures it grants."""

    rule: str
    pack: str
    title: Text
    applies: Truth3
    measures: tuple[MeasureGrant, ...]
    missing: tuple[str, ...]
    readings: tuple[Reading, ...]
    location: str
    parameters: tuple[ParameterUse, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    cites: tuple[Text, ...] = ()


@attrs.frozen
class RetainedMeasure:
    """A measure held on the exit date and kept during the buffer."""

    measure: str
    title: Text
    # the amount kept (None when it cannot be known)
    amount: str | None = attrs.field(metadata={"number": True})
    unit: str | None
    amount_at_exit: str | None = attrs.field(metadata={"number": True})
    amount_rule: Literal["at_exit", "current"]
    amount_source: Text  # where the amount kept comes from
    held_from: dt.date | None
    held_until: dt.date | None  # the history item's own end, if any
    basis: str
    until: dt.date | None  # when the basis ends
    path: str  # the history item, e.g. `support[1]`
    why: Text
    # the measure's form, when a pack declares the measure (JSON only when known)
    form: str | None = attrs.field(default=None, metadata={"omit_none": True})
    # the measure's `lapses_when` (as written) and whether it holds: ``yes`` ends the item (JSON
    # only when the measure declares one, with what would settle it and what it read)
    lapses_when: str | None = attrs.field(default=None, metadata={"omit_none": True})
    lapsed: Literal["yes", "no", "undetermined"] | None = attrs.field(
        default=None, metadata={"omit_none": True}
    )
    missing: tuple[str, ...] = attrs.field(default=(), metadata={"omit_empty": True})
    readings: tuple[Reading, ...] = attrs.field(default=(), metadata={"omit_empty": True})


@attrs.frozen
class BufferState:
    """Whether the household is in the buffer after exit, on which basis, until when, keeping what."""

    status: Literal["active", "inactive", "undetermined"]
    basis: str | None
    basis_title: Text | None
    until: dt.date | None
    amount_rule: Literal["at_exit", "current"] | None
    reason: Text
    retained: tuple[RetainedMeasure, ...]
    missing: tuple[str, ...]
    readings: tuple[Reading, ...]
    cites: tuple[Text, ...]
    pack: str
    location: str | None
    parameters: tuple[ParameterUse, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    # items held at exit whose measure has lapsed (JSON only when there are some)
    ended: tuple[RetainedMeasure, ...] = attrs.field(default=(), metadata={"omit_empty": True})


@attrs.frozen
class Finding:
    """A statement the decision violates, or cannot be checked against: an invariant of a pack of
    `kind: invariants`, or an `exclusive` group of a pack's rules of which more than one holds."""

    kind: Literal["invariant", "exclusive"]
    pack: str  # the pack that states it, ``id@version``
    id: str  # the invariant's id, or ``exclusive(rule_a, rule_b)``
    title: Text
    status: Literal["violated", "undetermined"]
    reason: Text
    missing: tuple[str, ...]  # what would settle an undetermined invariant
    cites: tuple[Text, ...]
    location: str | None


@attrs.frozen
class Decision:
    """One household's decision as of a date (frozen; `to_json` gives the stable JSON form)."""

    household: str
    as_of: dt.date
    packs: tuple[PackRef, ...]
    applicability: Applicability | None
    verdict: Verdict | None  # None when no exit criteria are in force
    criteria: tuple[CriterionVerdict, ...]
    memberships: tuple[Membership, ...] = ()
    problems: tuple[Text, ...] = ()  # evaluation problems (e.g. no pack in force), in zh and en
    buffer: BufferState | None = None
    # the invariants it violates or cannot be checked against, the exclusive groups it breaks
    # (JSON only when there are some)
    findings: tuple[Finding, ...] = attrs.field(default=(), metadata={"omit_empty": True})
    # what `outcome()` returns (not part of the JSON form: it says the same, without the words)
    result: Outcome | None = attrs.field(default=None, repr=False, metadata={"json": False})
    # where its text looks up units, enum labels and rates (`gspolicy.explain.wording`); not part
    # of the JSON form nor of equality: the words, not the decision
    words: Vocabulary | None = attrs.field(default=None, repr=False, eq=False, metadata={"json": False})

    def outcome(self) -> Outcome:
        """The decision without its trace and words: equal to what `Policies.decide` gives for
        the same record and date (a property test says so)."""
        if self.result is None:
            raise ValueError("this decision was built without its outcome")
        return self.result

    @property
    def missing(self) -> tuple[str, ...]:
        """Everything that would settle what is undetermined, sorted: the applicability, the
        criteria when the exit verdict is undetermined, rules, and the buffer."""
        found: set[str] = set()
        if self.applicability is not None:
            found.update(self.applicability.missing)
        if self.verdict == "undetermined":  # a settled verdict needs nothing more
            for c in self.criteria:
                if c.verdict == "undetermined":
                    found.update(c.missing)
        for m in self.memberships:
            if m.applies == "undetermined":
                found.update(m.missing)
        if self.buffer is not None and self.buffer.status == "undetermined":
            found.update(self.buffer.missing)
        if self.buffer is not None and self.buffer.status == "active":
            for item in self.buffer.retained:
                found.update(item.missing)
        return tuple(sorted(found))

    @property
    def support(self) -> tuple[tuple[str, str | None, str], ...]:
        """The support the household gets now: ``(measure, amount, rule or basis)`` for every
        measure a rule grants for sure, plus every history item the buffer retains; for a measure
        both granted and retained, the buffer pack's `combine` rule says which amount counts
        (`gspolicy.engine.outcome.support_from`)."""
        granted = [
            (g.id, g.amount, m.rule) for m in self.memberships if m.applies == "yes" for g in m.measures
        ]
        retained = (
            [(r.measure, r.amount, r.basis, r.path) for r in self.buffer.retained]
            if self.buffer is not None and self.buffer.status == "active"
            else []
        )
        buffer = self.result.buffer if self.result is not None else None
        return support_from(granted, retained, buffer.combine if buffer is not None else None)

    def render(self, lang: Lang = "en", *, detail: Detail = "brief") -> str:
        """The decision as text an officer can read, in Chinese (``zh``) or English (``en``), at a
        detail level (`Detail`: ``fails``, ``brief`` — the default — or ``full``, every reason)."""
        from gspolicy.explain.render import render_text  # noqa: PLC0415  # render imports this module

        return render_text(self, lang, detail=detail)

    def to_json(self, *, detail: Detail = "full") -> dict[str, Any]:
        """The stable JSON form at a detail level (``full`` by default; the schema is
        ``gspolicy/schemas/decision.schema.json`` in the package)."""
        from gspolicy.explain.render import decision_to_json  # noqa: PLC0415  # render imports this module

        return decision_to_json(self, detail=detail)

    def by_department(self) -> dict[str, tuple[CriterionVerdict, ...]]:
        """Criterion verdicts grouped by the department that issues the acceptance opinion."""
        out: dict[str, list[CriterionVerdict]] = {}
        for c in self.criteria:
            out.setdefault(c.department or "", []).append(c)
        return {k: tuple(v) for k, v in out.items()}
