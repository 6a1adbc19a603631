"""How the values of a pack's conditions read: shown as plain text, what would settle an unknown
one, and the verdicts they give (a criterion's, a pack's, a derived field's, the buffer's basis).
Every evaluator's values pass through these rules, and the decision builder uses them too."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext
from typing import Literal

from gspolicy.engine.run import PackValues
from gspolicy.lang.typed import fields_read
from gspolicy.lang.values import Interval, Unknown, Value, kleene_or
from gspolicy.pack.model import Basis, Criterion
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record

__all__ = [
    "CriterionVerdict",
    "Truth3",
    "Verdict",
    "buffer_choice",
    "criterion_verdict",
    "derived_lacks",
    "derived_value",
    "given_reads_of",
    "pack_verdict_of",
    "settle_of",
    "show_value",
    "truth3",
]

Verdict = Literal["pass", "fail", "undetermined", "not_applicable"]
Truth3 = Literal["yes", "no", "undetermined"]
CriterionVerdict = Literal["pass", "fail", "undetermined"]

_SHOWN_DIGITS = 6
"""Significant digits a long quotient is shown with (the value used stays exact)."""


def show_value(value: object) -> str | None:
    """A value as plain, language-neutral text (None for a missing value)."""
    if isinstance(value, Unknown):
        return None
    if isinstance(value, Interval):
        return f"[{show_value(value.low)}, {show_value(value.high)}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if value.is_infinite():
            return "∞" if value > 0 else "-∞"
        if len(value.as_tuple().digits) > _SHOWN_DIGITS + 4:
            # a quotient that does not end (a rate): shown to a readable precision
            with localcontext() as ctx:
                ctx.prec = _SHOWN_DIGITS
                value = +value
        return format(value.normalize(), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, frozenset):
        return "[" + ", ".join(sorted(str(v) for v in value)) + "]"
    if isinstance(value, tuple):
        return f"({len(value)})"
    if isinstance(value, Record):
        return f"({value.type_name})"
    return str(value)


def settle_of(value: Value) -> tuple[str, ...]:
    """What would settle a value that is not known: the data paths and ``param:`` names it lacks."""
    if isinstance(value, Unknown):
        return tuple(sorted(value.missing))
    if isinstance(value, Interval):
        return tuple(sorted(value.because))
    return ()


def truth3(value: Value) -> Truth3:
    return "yes" if value is True else "no" if value is False else "undetermined"


def given_reads_of(checked: CheckedPack, criterion: str) -> tuple[str, ...]:
    """The data a criterion's precondition (`given`) reads, through its facts, sorted; a
    precondition that reads no data (only parameters and the date) is settled by the criterion
    itself (``criterion:<id>``), so that what would settle it is never empty."""
    given = checked.givens.get(criterion)
    if given is None:
        return ()
    return tuple(sorted(fields_read(given, checked.facts))) or (f"criterion:{criterion}",)


def criterion_verdict(
    criterion: Criterion, given: Value | None, value: Value | None, given_reads: tuple[str, ...] = ()
) -> tuple[CriterionVerdict, tuple[str, ...]]:
    """A criterion's verdict from the values of its data precondition and its requirement, and
    what would settle it when undetermined: what the values lack, and when the precondition is
    false (an income period that does not cover the period checked), the data it reads
    (`given_reads`, from `given_reads_of`) — a record with other values there settles it."""
    if criterion.not_established:
        return "undetermined", (f"criterion:{criterion.id}",)
    if given is False:
        return "undetermined", given_reads
    if given is not None and given is not True:
        missing = settle_of(given)
        if value is not None:
            # the data precondition is unknown: the requirement's own gaps settle it too
            missing = tuple(sorted({*missing, *settle_of(value)}))
        return "undetermined", missing
    if value is True:
        return "pass", ()
    if value is False:
        return "fail", ()
    return "undetermined", settle_of(value) if value is not None else ()


def pack_verdict_of(values: PackValues) -> Verdict:
    """A pack's verdict: not applicable or undetermined by its applicability, else fail when a
    criterion fails, pass when every criterion passes (a pack without criteria passes),
    undetermined otherwise."""
    if values.applies is not None and values.applies is not True:
        return "not_applicable" if values.applies is False else "undetermined"
    verdicts: set[str] = set()
    for c in values.pack.pack.criteria:
        given = values.givens.get(c.id)
        value = values.criteria.get(c.id)
        if c.not_established or (given is not None and given is not True) or value is None:
            verdicts.add("undetermined")
        else:
            verdicts.add("pass" if value is True else "fail" if value is False else "undetermined")
    if "fail" in verdicts:
        return "fail"
    return "pass" if verdicts <= {"pass"} else "undetermined"


def derived_value(values: PackValues | None, form: str) -> bool | None:
    """The value a pack's results give a derived field of an area's item (``derive: {verdict:
    P}`` true for pass, false for fail; ``derive: {any_rule: P}`` whether a rule of P applies):
    None — missing — when undetermined, not applicable, or the pack did not run."""
    if values is None:
        return None
    if form == "verdict":
        verdict = pack_verdict_of(values)
        return True if verdict == "pass" else False if verdict == "fail" else None
    value = kleene_or(values.rules.values())  # type: ignore[arg-type]
    return value if isinstance(value, bool) else None


def derived_lacks(values: PackValues | None, pack: str) -> tuple[str, ...]:
    """What a pack's values lack to be settled (explaining an item whose derived field is
    missing): the data paths and parameters, ``criterion:ID`` for a criterion not established,
    ``pack:ID`` when the pack did not run."""
    if values is None:
        return (f"pack:{pack}",)
    found: set[str] = set()
    if values.applies is not None and values.applies is not True:
        if values.applies is not False:
            found.update(settle_of(values.applies))
        return tuple(sorted(found))
    for c in values.pack.pack.criteria:
        if c.not_established:
            found.add(f"criterion:{c.id}")
            continue
        for value in (values.givens.get(c.id), values.criteria.get(c.id)):
            if value is not None:
                found.update(settle_of(value))
    for value in values.rules.values():
        found.update(settle_of(value))
    return tuple(sorted(found))


def buffer_choice(
    values: PackValues,
) -> tuple[Literal["active", "inactive", "undetermined"], Basis | None, tuple[str, ...]]:
    """Which basis of the buffer holds, tried in order: the first one true is the basis; a basis
    that is undetermined before any is true leaves the state undetermined."""
    buffer = values.pack.pack.buffer
    result = values.buffer
    assert buffer is not None
    assert result is not None
    for basis in buffer.bases:
        active = result.active.get(basis.id)
        if active is None:
            continue
        if active is True:
            return "active", basis, ()
        if active is not False:
            return "undetermined", None, settle_of(active)
    return "inactive", None, ()
