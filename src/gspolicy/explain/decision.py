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
from typing import Any

import attrs

from gspolicy._i18n import Lang, Text
from gspolicy.engine.outcome import Outcome
from gspolicy.engine.support import support_from
from gspolicy.explain.parts import (
    DECISION_FORMAT,
    DETAILS,
    Applicability,
    BufferState,
    CriterionVerdict,
    Detail,
    Finding,
    MeasureGrant,
    Membership,
    PackRef,
    Reading,
    RetainedMeasure,
    Verdict,
)
from gspolicy.explain.render import render_text
from gspolicy.explain.render_json import decision_to_json
from gspolicy.explain.wording import Vocabulary

# the parts a decision is made of live in `gspolicy.explain.parts`; those imported from here are
# named here too
__all__ = [
    "DECISION_FORMAT",
    "DETAILS",
    "BufferState",
    "CriterionVerdict",
    "Decision",
    "Detail",
    "MeasureGrant",
    "Membership",
    "Reading",
    "RetainedMeasure",
]


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
        return render_text(self, lang, detail=detail)

    def to_json(self, *, detail: Detail = "full") -> dict[str, Any]:
        """The stable JSON form at a detail level (``full`` by default; the schema is
        ``gspolicy/schemas/decision.schema.json`` in the package)."""
        return decision_to_json(self, detail=detail)

    def by_department(self) -> dict[str, tuple[CriterionVerdict, ...]]:
        """Criterion verdicts grouped by the department that issues the acceptance opinion."""
        out: dict[str, list[CriterionVerdict]] = {}
        for c in self.criteria:
            out.setdefault(c.department or "", []).append(c)
        return {k: tuple(v) for k, v in out.items()}
