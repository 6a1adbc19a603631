"""The support a record gets now: the measures its rules grant and those its buffer retains,
combined by the buffer pack's `combine` rule, and the support column's text (``measure=amount (why)``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from gspolicy.pack.model import CombineRule

__all__ = [
    "retained_replaces",
    "support_from",
    "support_granted",
    "support_kept",
    "support_parts",
    "support_texts",
]


def support_texts(support: Iterable[tuple[str, str | None, str]]) -> list[str]:
    """The support column: ``measure=amount (why)`` — ``?`` for an amount that cannot be known;
    `why` the rule that grants the measure or the buffer basis that retains it (`support_parts`
    reads a text back)."""
    return [f"{m}={a if a is not None else '?'} ({w})" for m, a, w in support]


def support_parts(text: str) -> tuple[str, str | None, str]:
    """A text of the support column (`support_texts`) as ``(measure, amount, why)``: the measure
    before the first ``=``, `why` in the last parentheses (a rule or basis id has none, an amount
    no ``" ("``), the amount between (None for ``?``)."""
    measure, _, rest = text.partition("=")
    amount, _, why = rest.rpartition(" (")
    if not why.endswith(")") or not amount:
        raise ValueError(f"not a text of the support column: {text!r}")
    return measure, None if amount == "?" else amount, why[:-1]


def _exact(text: str | None) -> Decimal | None:
    try:
        return None if text is None else Decimal(text)
    except ArithmeticError:
        return None  # a range or `not established`


def retained_replaces(combine: CombineRule, retained: str | None, granted: str | None) -> bool:
    """Whether a retained amount replaces the amount a rule grants for the same measure, by the
    buffer pack's `combine.amount` (`gspolicy.pack.format.COMBINE_RULES`): ``retained`` always,
    ``granted`` never, ``higher`` when the retained amount is exact and above the granted one (an
    exact amount above one that cannot be known: a range, not established; an unknown never)."""
    if combine == "retained":
        return True
    if combine == "granted":
        return False
    known_retained, known_granted = _exact(retained), _exact(granted)
    if known_retained is None:
        return False
    return known_granted is None or known_retained > known_granted


def support_from(
    granted: Iterable[tuple[str, str | None, str]],
    retained: Iterable[tuple[str, str | None, str, str]],
    combine: CombineRule | None,
) -> tuple[tuple[str, str | None, str], ...]:
    """The support a record gets now: every measure a rule grants for sure ``(measure, amount,
    rule)``, plus every history item the buffer retains ``(measure, amount, basis, path)``; for a
    measure both granted and retained, the buffer pack's `combine` rule (`retained_replaces`) says
    which amount counts.  `combine` is None only when there is no buffer (nothing is retained)."""
    return support_kept(support_granted(granted), retained, combine)


def support_granted(
    granted: Iterable[tuple[str, str | None, str]],
) -> dict[str, tuple[str, str | None, str]]:
    """What the rules grant, by measure (a later grant of a measure replaces an earlier one): the
    first step of `support_from`, which a caller may keep for records that share their grants."""
    return {measure: (measure, amount, rule) for measure, amount, rule in granted}


def support_kept(
    granted: Mapping[str, tuple[str, str | None, str]],
    retained: Iterable[tuple[str, str | None, str, str]],
    combine: CombineRule | None,
) -> tuple[tuple[str, str | None, str], ...]:
    """`support_from` of what `support_granted` gave and the `retained` items."""
    out = dict(granted)
    for measure, amount, basis, path in retained:
        current = out.get(measure)
        if current is not None and current[2] != basis:
            if combine is None:
                raise ValueError("retained support needs the buffer pack's `combine` rule")
            if not retained_replaces(combine, amount, current[1]):
                continue
        key = measure if current is None or current[2] != basis else f"{measure} {path}"
        out[key] = (measure, amount, basis)
    return tuple(out[k] for k in sorted(out))
