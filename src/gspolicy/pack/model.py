"""Packs as typed values: sources, citations, dated parameters, facts, criteria, measures, rules.

A `PackSource` is what the reader made of one pack file: every part located, expressions parsed
but not yet checked.  Only `gspolicy.pack.typecheck` builds a `CheckedPack` (names resolved,
expressions typed against the household schema, content hash computed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

import attrs

from gspolicy._i18n import Text
from gspolicy._location import Source, Span
from gspolicy.lang import Expr

__all__ = [
    "LIST_COLUMNS",
    "Amount",
    "Applicability",
    "Approval",
    "Basis",
    "Bound",
    "Buffer",
    "Citation",
    "Combine",
    "CombineRule",
    "Condition",
    "Criterion",
    "DatedValue",
    "Exclusive",
    "Fact",
    "GroupKey",
    "Import",
    "Indicator",
    "Invariant",
    "ListColumn",
    "Measure",
    "MeasureForm",
    "NotApplicableReason",
    "PackKind",
    "PackSource",
    "Parameter",
    "Rule",
    "SourceDoc",
]

ValueKind = Literal["exact", "range", "not_established"]
PackKind = Literal[
    "exit",
    "exit_reference",
    "batch",
    "buffer",
    "identification",
    "finding",
    "monitoring",
    "parameters",
    "statistics",
    "invariants",
]
"""A pack's role (`gspolicy.pack.format.KINDS` says what each means)."""
ParamType = Literal["number", "date", "bool", "text", "list"]
LOW_CONFIDENCE = frozenset({"L", "L-M"})


@attrs.frozen
class SourceDoc:
    """A document a pack relies on."""

    id: str
    title: Text
    confidence: str
    issuer: str | None = None
    date: dt.date | None = None
    address: str | None = None
    note: Text | None = None
    span: Span | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Citation:
    """Where a rule comes from; `inferred` when no text spells it out (the honest form)."""

    source: str
    inferred: bool = False
    clause: str | None = None
    confidence: str | None = None
    note: Text | None = None
    span: Span | None = attrs.field(default=None, eq=False)
    # the clause restates the source in other words (e.g. a translation), not its verbatim text:
    # shown without quotation marks
    paraphrase: bool = False


@attrs.frozen
class Bound:
    """One bound of a range, with its own source."""

    value: Decimal
    source: str | None = None
    clause: str | None = None
    confidence: str | None = None
    derivation: Text | None = None  # how the bound was derived, in zh and en
    # the clause is not the source's verbatim text (shown without quotation marks)
    paraphrase: bool = False


@attrs.frozen
class DatedValue:
    """A parameter's value in force from `effective`: exact, a range, or not established."""

    effective: dt.date
    kind: ValueKind
    value: object = None  # exact: Decimal, date, bool, str or tuple of str
    low: Bound | None = None
    high: Bound | None = None
    source: str | None = None
    clause: str | None = None
    confidence: str | None = None
    note: Text | None = None
    span: Span | None = attrs.field(default=None, eq=False)
    # an exact value the sources give only as "about N" (shown as "about N" / "约 N")
    approximate: bool = False
    # the clause is not the source's verbatim text (shown without quotation marks)
    paraphrase: bool = False

    @property
    def cited(self) -> tuple[str, ...]:
        """The ids of the sources the value cites: its own, then each bound's."""
        return _cited(self.source, self.low, self.high)

    @property
    def is_gap(self) -> bool:
        """A range or a value not established: honest uncertainty, reported as a gap."""
        return self.kind != "exact"


@attrs.frozen
class Parameter:
    """A parameter with its value history, sorted by effective date."""

    name: str
    title: Text
    type: ParamType
    values: tuple[DatedValue, ...]
    unit: str | None = None
    enum: str | None = None
    span: Span | None = attrs.field(default=None, eq=False)
    imported_from: str | None = None  # ``id@version`` of the parameters pack it was imported from

    def at(self, as_of: dt.date) -> DatedValue | None:
        """The value in force on `as_of` (the latest effective date not after it), or None."""
        found = None
        for value in self.values:
            if value.effective <= as_of:
                found = value
            else:
                break
        return found


@attrs.frozen
class Condition:
    """An expression of a pack with its text as written (``require: income > 3500``): `expr` is
    located inside the file, `text` is what the pack author wrote.  The content hash reads only
    the expression, printed canonically."""

    expr: Expr
    text: str


@attrs.frozen
class Fact:
    name: str
    title: Text
    expr: Condition
    cites: tuple[Citation, ...] = ()
    span: Span | None = attrs.field(default=None, eq=False)
    # the unit of its value (``unit:``, from the schema's units table); in the content hash only
    # when set, so a pack without it keeps its hash
    unit: str | None = attrs.field(default=None, metadata={"later": True})


@attrs.frozen
class Criterion:
    """A condition that must hold; `require` is None only when the criterion is not established."""

    id: str
    title: Text
    require: Condition | None
    cites: tuple[Citation, ...]
    department: str | None = None
    not_established: bool = False
    explain_passed: Text | None = None
    explain_failed: Text | None = None
    note: Text | None = None
    span: Span | None = attrs.field(default=None, eq=False)
    given: Condition | None = None
    given_explain: Text | None = None
    weigh: Condition | None = None  # a count or sum over a list: its items are listed, heaviest first


@attrs.frozen
class Applicability:
    """Which subjects a pack's criteria are assessed for."""

    when: Condition
    title: Text
    cites: tuple[Citation, ...]
    explain_assessed: Text | None = None
    explain_not_applicable: Text | None = None
    span: Span | None = attrs.field(default=None, eq=False)
    # why a subject is not applicable, in order: the first whose condition holds is said
    reasons: tuple[NotApplicableReason, ...] = ()


@attrs.frozen
class NotApplicableReason:
    """A named reason a subject is not assessed: said when `when` holds (the first that holds)."""

    when: Condition
    explain: Text
    span: Span | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Amount:
    kind: ValueKind
    value: Decimal | None = None
    low: Bound | None = None
    high: Bound | None = None
    unit: str | None = None
    source: str | None = None
    clause: str | None = None
    confidence: str | None = None
    note: Text | None = None

    @property
    def cited(self) -> tuple[str, ...]:
        """The ids of the sources the amount cites: its own, then each bound's."""
        return _cited(self.source, self.low, self.high)


def _cited(source: str | None, low: Bound | None, high: Bound | None) -> tuple[str, ...]:
    found = (source, low.source if low is not None else None, high.source if high is not None else None)
    return tuple(dict.fromkeys(s for s in found if s is not None))


MeasureForm = Literal["grant", "subsidy", "waiver", "loan", "service"]


@attrs.frozen
class Measure:
    """A support measure a rule can grant.

    `form` says what the household receives; for a ``loan`` `amount` is its ceiling (the most
    that may be lent, never support of that amount) and `term` how long it runs. `lapses_when`
    (a condition about the beneficiary, in the declaring pack's terms) ends an item of this
    measure that the buffer keeps."""

    id: str
    title: Text
    department: str
    amount: Amount
    period: Text | None = None
    cites: tuple[Citation, ...] = ()
    span: Span | None = attrs.field(default=None, eq=False)
    form: MeasureForm = "grant"
    term: Amount | None = None
    lapses_when: Condition | None = None


@attrs.frozen
class Rule:
    id: str
    title: Text
    when: Condition
    grant: tuple[str, ...]
    cites: tuple[Citation, ...]
    note: Text | None = None
    span: Span | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Invariant:
    """A statement every decision on the pack's subject must satisfy (``kind: invariants``),
    over the decision's outcome (`rule()`, `criterion()`, `granted()`, `verdict()`)."""

    id: str
    title: Text
    holds: Condition
    cites: tuple[Citation, ...]
    note: Text | None = None
    span: Span | None = attrs.field(default=None, eq=False)


@attrs.frozen
class GroupKey:
    """A group-by key of a statistics pack (``keys:``): its name and the field of the subject it
    reads (an expression that must be a field path)."""

    name: str
    field: Condition
    span: Span | None = attrs.field(default=None, eq=False)


LIST_COLUMNS: dict[str, str] = {
    "household": "the household's id",
    "county": "the household's county (the field of role `county_code`; in the ledger, the plan's county)",
    "batch": "the batch pack declaring the measure (its id)",
    "batch_title": "the batch pack's title",
    "measure": "the measure's code",
    "measure_title": "the measure's title",
    "basis": "the rule that grants the measure, or the buffer basis that retains it",
    "content": "the granting rule's title, or the buffer basis's title and the day it keeps the measure until",
    "amount": "the amount as the decision words it: a number, a range, `not established`, or unknown",
    "unit": "the amount's unit",
    "deadline": "the item's deadline, or none (no source fixes one)",
    "department": "the responsible department's code",
    "department_title": "the responsible department's title",
    "status": "the item's status in the ledger (not started when planned from the decisions)",
}
"""The columns a statistics pack's management lists (``lists:``) may show: one row per measure due."""


@attrs.frozen
class ListColumn:
    """A column of a statistics pack's management lists (``lists:``): what it shows
    (`LIST_COLUMNS`) and its header."""

    column: str
    title: Text
    span: Span | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Indicator:
    """A figure a statistics pack reports (``indicators:``): households counted when `expr`
    holds (``count``), or `expr` summed over the households `where` holds (``sum``), grouped by
    the keys `by`, as a stock (the quarter's last day) or a flow (`dated_by` within the quarter)."""

    id: str
    title: Text
    figure: Literal["count", "sum"]
    expr: Condition
    where: Condition | None
    by: tuple[str, ...]
    period: Literal["stock", "flow"]
    dated_by: Condition | None
    tolerance: Decimal
    cites: tuple[Citation, ...]
    note: Text | None = None
    span: Span | None = attrs.field(default=None, eq=False)
    # history items whose measures (and the batch packs declaring them) the built-in keys read
    held: Condition | None = None


@attrs.frozen
class Exclusive:
    """Rules of one pack of which at most one may hold for a subject (``exclusive:``)."""

    rules: tuple[str, ...]
    span: Span | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Basis:
    """A basis that keeps support during the buffer after exit."""

    id: str
    title: Text
    active: Condition
    until: Condition
    amounts: Literal["at_exit", "current"]
    cites: tuple[Citation, ...]
    note: Text | None = None
    span: Span | None = attrs.field(default=None, eq=False)


CombineRule = Literal["higher", "retained", "granted"]


@attrs.frozen
class Combine:
    """How a measure both granted by a rule now and retained by the buffer is counted: the amount
    kept (`gspolicy.pack.format.COMBINE_RULES`), with where that comes from."""

    amount: CombineRule
    cites: tuple[Citation, ...]
    note: Text | None = None
    span: Span | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Buffer:
    """The buffer after exit: the retained history items, the bases that keep them, and how a
    retained measure combines with one granted now."""

    title: Text
    retained: Condition
    bases: tuple[Basis, ...]
    combine: Combine
    span: Span | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Approval:
    """The document that approved a pack version: its number (文号), who issued it, the day it
    was issued and the day it took effect."""

    document: str
    issuer: Text
    issued: dt.date
    in_force: dt.date
    span: Span | None = attrs.field(default=None, eq=False)

    def render(self, lang: str = "en") -> str:
        if lang == "zh":
            return f"{self.document}（{self.issuer.zh}，{self.issued} 印发，{self.in_force} 起施行）"
        return f"{self.document} ({self.issuer.en}, issued {self.issued}, in force from {self.in_force})"


@attrs.frozen
class Import:
    """Parameters a pack imports from a pack of ``kind: parameters`` (``import:``); `version` is
    the version of that pack the loader resolved (the one whose validity covers the importer's)."""

    pack: str
    names: tuple[str, ...]
    version: str | None = None
    span: Span | None = attrs.field(default=None, eq=False)


@attrs.frozen
class PackSource:
    """One version of a pack as read from its file: located, parsed, not yet checked."""

    id: str
    version: str
    format: int
    kind: PackKind
    valid_from: dt.date
    valid_to: dt.date | None
    title: Text
    department: str
    departments: Mapping[str, Text]
    subject: str | None
    sources: Mapping[str, SourceDoc]
    parameters: Mapping[str, Parameter]
    facts: Mapping[str, Fact]
    applies: Applicability | None
    criteria: tuple[Criterion, ...]
    measures: Mapping[str, Measure]
    rules: tuple[Rule, ...]
    buffer: Buffer | None
    note: Text | None
    source: Source = attrs.field(eq=False)
    span: Span | None = attrs.field(default=None, eq=False)
    id_span: Span | None = attrs.field(default=None, eq=False)
    imports: tuple[Import, ...] = ()
    approval: Approval | None = None
    exclusive: tuple[Exclusive, ...] = ()
    invariants: tuple[Invariant, ...] = ()
    keys: tuple[GroupKey, ...] = ()  # a statistics pack's group-by keys
    indicators: tuple[Indicator, ...] = ()  # a statistics pack's figures
    lists: tuple[ListColumn, ...] = ()  # a statistics pack's management lists: their columns
    # what `years_after` / `months_after` give for a day the month reached lacks
    # (`gspolicy.lang.ast.MISSING_DAY_RULES`); None when the pack declares no rule
    missing_day: str | None = None

    @property
    def key(self) -> str:
        """``id@version``, the name used in messages and decisions."""
        return f"{self.id}@{self.version}"

    def in_force(self, as_of: dt.date) -> bool:
        return self.valid_from <= as_of and (self.valid_to is None or as_of <= self.valid_to)
