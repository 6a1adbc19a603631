"""Measures: their amounts and a loan's terms as text, and the definition that speaks for a measure
on a date (the one in force, else the declaring version), with whether a retained item has lapsed."""

from __future__ import annotations

import datetime as dt

from gspolicy._memo import Memo
from gspolicy.engine.compiled import lower
from gspolicy.engine.verdicts import show_value
from gspolicy.lang.values import Value
from gspolicy.pack.model import Amount, Measure
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record

__all__ = [
    "amount_text",
    "lapse_of",
    "loan_drawn_text",
    "measure_declared",
    "measure_in_force",
    "measure_text",
    "term_text",
]


def amount_text(amount: Amount) -> str:
    """A measure's amount as text: a number, a range, or ``not established``."""
    if amount.kind == "not_established":
        return "not established"
    if amount.kind == "range":
        low = show_value(amount.low.value) if amount.low else None
        high = show_value(amount.high.value) if amount.high else None
        if low is None:
            return f"≤ {high}"
        if high is None:
            return f"≥ {low}"
        return f"[{low}, {high}]"
    return show_value(amount.value) or "?"


def term_text(term: Amount | None) -> str:
    """A loan's term as text: ``3 years``, ``[2, 3] years``, ``not established``."""
    if term is None or term.kind == "not_established":
        return "not established"
    return f"{amount_text(term)} {term.unit}"


def measure_text(measure: Measure) -> str:
    """A measure's amount as a grant shows it: `amount_text`; for a loan its ceiling and term
    (``loan, ceiling 50000, term 3 years``) — money lent is never support of its amount."""
    if measure.form != "loan":
        return amount_text(measure.amount)
    return f"loan, ceiling {amount_text(measure.amount)}, term {term_text(measure.term)}"


def loan_drawn_text(amount: str | None) -> str:
    """A retained loan's amount as held at exit: what was drawn, not support of that amount."""
    return f"loan, drawn {amount if amount is not None else '?'}"


def measure_in_force(
    policy_set: PolicySet, measure: str, as_of: dt.date
) -> tuple[CheckedPack, Measure] | None:
    """The definition of a measure in the packs in force on `as_of` (first pack by id)."""
    for pack in policy_set.all_in_force(as_of):
        found = pack.pack.measures.get(measure)
        if found is not None:
            return pack, found
    return None


_DECLARED: Memo[tuple[int, str, dt.date], tuple[PolicySet, tuple[CheckedPack, Measure] | None]] = Memo(4096)


def measure_declared(
    policy_set: PolicySet, measure: str, as_of: dt.date
) -> tuple[CheckedPack, Measure] | None:
    """The definition of a measure that speaks for it on `as_of`: the one in force
    (`measure_in_force`), else the latest version begun by then that declares it, else the
    earliest that does (a retained item's form and `lapses_when` outlive the batch pack that
    granted it, and an item held before any pack declared its measure is still of its form)."""
    key = (id(policy_set), measure, as_of)
    memo = _DECLARED.get(key)
    if memo is not None and memo[0] is policy_set:
        return memo[1]
    found = measure_in_force(policy_set, measure, as_of)
    if found is None:
        declaring = sorted(
            ((p, m) for p in policy_set.packs if (m := p.pack.measures.get(measure)) is not None),
            key=lambda pm: (pm[0].pack.valid_from, pm[0].id),
        )
        begun = [pm for pm in declaring if pm[0].pack.valid_from <= as_of]
        found = begun[-1] if begun else declaring[0] if declaring else None
    return _DECLARED.put(key, (policy_set, found))[1]


def lapse_of(policy_set: PolicySet, measure: str, record: Record, as_of: dt.date) -> Value | None:
    """Whether a retained item of `measure` has lapsed on `as_of` (its `lapses_when`, evaluated
    on `record` by the declaring pack of `measure_declared`); None when it declares none."""
    found = measure_declared(policy_set, measure, as_of)
    if found is None or measure not in found[0].lapses:
        return None
    return lower(found[0], as_of).lapse(measure, record)
