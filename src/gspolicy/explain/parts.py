"""The parts a decision is made of, frozen values each with its place in the decision's JSON form.

The packs it used, the readings, parameters and bounds behind each criterion's verdict, the rules
that apply with their measures, the buffer, the findings (`gspolicy.explain.decision`).

Kept apart from `Decision` itself so that the renderer (`gspolicy.explain.render`) reads these
types without importing the decision that calls it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import attrs

from gspolicy._i18n import Text

__all__ = [
    "DECISION_FORMAT",
    "DETAILS",
    "Applicability",
    "ApprovalRef",
    "BoundUse",
    "BufferState",
    "CriterionVerdict",
    "Detail",
    "Finding",
    "MeasureGrant",
    "Membership",
    "PackRef",
    "ParameterUse",
    "Reading",
    "RetainedMeasure",
    "Truth3",
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
