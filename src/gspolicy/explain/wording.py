"""The words of a decision that come from its schema and packs: units, enum labels, rates, amounts.

A decision's text names values in the reader's language: a unit by its text in the schema's
`units:` table (``3,500 元/人/年``), an enum code with its label (``pre_exit（预脱贫）``), true and
false as the glossary says them, and a rate — a value in a unit with ``percent: true`` (``ratio``),
a field of kind ``ratio``, a fact declaring such a unit — as a percentage (`percent`).  The JSON
form keeps the plain values; only the text changes.

`Vocabulary` holds what the words are looked up in: the schema, the record type decided on, and
the units of the packs' facts.  A decision carries one (`Decision.words`, not part of its JSON
form); a decision built without one shows values as they are.

An amount (`amount_words`) is said with its unit, a loan as a loan (its ceiling and term, or what
was drawn), an amount the sources do not give as not established.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import attrs

from gspolicy._glossary import group, word
from gspolicy._i18n import Lang
from gspolicy.schema.model import EnumSpec, FieldSpec, Schema, UnitSpec

__all__ = ["Vocabulary", "amount_words", "grouped", "percent", "quantity", "reading", "vocabulary_for"]

_INDEX = re.compile(r"\[[^\]]*\]")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_GIVEN = "(given)"
_RANGE = re.compile(
    r"\[([^\[\],]+), ([^\[\],]+)\]"
)  # what a reading says of a field only checked for presence


@attrs.frozen
class Vocabulary:
    """Where a decision's words are looked up: the schema, the record type it decides on, and
    the unit of each fact the packs declare one for (fact name → unit code)."""

    schema: Schema
    subject: str
    fact_units: Mapping[str, str] = attrs.field(factory=dict)

    def field(self, path: str) -> FieldSpec | None:
        """The schema field at a data path (``members[2].labour``; list indices and item ids are
        left out), or None."""
        spec = self.schema.records.get(self.subject)
        found: FieldSpec | None = None
        for part in _INDEX.sub("", path).split("."):
            if spec is None:
                return None
            found = spec.fields.get(part)
            if found is None:
                return None
            spec = self.schema.records.get(found.record or "") if found.kind in ("record", "list") else None
        return found

    def unit(self, code: str | None) -> UnitSpec | None:
        return self.schema.units.get(code) if code else None


def vocabulary_for(schema: Schema, subject: str, facts: Iterable[tuple[str, str | None]]) -> Vocabulary:
    """The vocabulary of a decision on a `subject` record: `facts` gives each fact's name and unit
    (a name two packs declare takes the first unit given)."""
    units: dict[str, str] = {}
    for name, unit in facts:
        if unit is not None:
            units.setdefault(name, unit)
    return Vocabulary(schema, subject, units)


def _decimal(text: str) -> Decimal | None:
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def grouped(text: str | None) -> str:
    """A plain number with thousands separators (``3500`` → ``3,500``), a range's bounds the same
    way; anything else as it is (``—`` for no value)."""
    if text is None:
        return "—"
    bounds = _RANGE.fullmatch(text)
    if bounds is not None:  # a range: each bound grouped (`[3218, 3815.38]` → `[3,218, 3,815.38]`)
        return f"[{grouped(bounds.group(1))}, {grouped(bounds.group(2))}]"
    number = _decimal(text)
    return text if number is None else f"{number:,}"


_TENTH = Decimal("0.1")


def percent(text: str) -> str:
    """A rate as a percentage (``0.9`` → ``90%``, ``0.0447761`` → ``4.48%``); anything not a number
    as it is.

    Two decimals of a percent at most; but a rounding that would land on a whole tenth of a percent
    the value is not keeps more decimals until it does not (``0.029999`` → ``2.9999%``, never
    ``3.00%``), so a rate is never shown equal to, or on the other side of, a threshold of whole
    tenths of a percent — and every rate threshold in the bundled packs is one."""
    number = _decimal(text)
    if number is None:
        return text
    scaled = number.scaleb(2)
    places = 2
    while True:
        shown = scaled.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        on_tenth = (shown / _TENTH) == (shown / _TENTH).to_integral_value()
        if shown == scaled or not on_tenth or places >= 28:
            break
        places += 1
    body = format(shown.normalize(), "f")
    return ("0" if body in ("-0", "0") else body) + "%"


def _is_rate(words: Vocabulary | None, unit: str | None) -> bool:
    found = words.unit(unit) if words is not None else None
    return found is not None and found.percent


def unit_text(words: Vocabulary | None, unit: str | None, lang: Lang) -> str:
    """A unit in `lang` (its code when the schema does not declare it)."""
    if not unit:
        return ""
    found = words.unit(unit) if words is not None else None
    return found.title.get(lang) if found is not None else unit


def _numbers(text: str, shown: Callable[[str], str]) -> str:
    """Every number in `text` (a value, a range ``[a, b]``, ``≥ a``) shown by `shown`."""
    return _NUMBER.sub(lambda m: shown(m.group(0)), text)


def quantity(words: Vocabulary | None, value: str, unit: str | None, lang: Lang) -> str:
    """A value with its unit in `lang`: ``3,500 元/人/年``, ``90%`` for a rate; a range or bound
    (``[2952, 3218]``, ``≥ 3``) the same way for a rate."""
    if _is_rate(words, unit):
        return _numbers(value, percent)
    shown = grouped(value)
    text = unit_text(words, unit, lang)
    return f"{shown} {text}" if text else shown


def rate_value(words: Vocabulary | None, value: str, unit: str | None) -> str:
    """A value alone (no unit named): a percentage for a rate, else as it is."""
    return _numbers(value, percent) if _is_rate(words, unit) else value


def fact_value(words: Vocabulary | None, name: str, value: str) -> str:
    """A fact's value: a percentage when the fact's unit is a rate, else as it is."""
    unit = words.fact_units.get(name) if words is not None else None
    return rate_value(words, value, unit)


def reading(words: Vocabulary | None, path: str, value: str | None, lang: Lang, *, group: bool = True) -> str:
    """A value read at `path`, in `lang`: missing, given, true or false as the glossary says them;
    an enum code with its label (``pre_exit（预脱贫）``), a set of codes each with its label; a rate as
    a percentage; a number grouped (with `group`)."""
    if value is None:
        return word("reading", "missing", lang)
    if value == _GIVEN:
        return word("reading", "given", lang)
    field = words.field(path) if words is not None else None
    if field is None:
        return grouped(value) if group else value
    if field.kind == "bool" and value in ("true", "false"):
        return word("truth", value, lang)
    if field.kind in ("enum", "set") and field.enum is not None and words is not None:
        enum = words.schema.enums.get(field.enum)
        if enum is not None:
            codes = value[1:-1].split(", ") if field.kind == "set" and value.startswith("[") else [value]
            shown = [_labelled(enum, code, lang) for code in codes if code]
            return f"[{', '.join(shown)}]" if field.kind == "set" else shown[0]
    if field.kind == "ratio" or _is_rate(words, field.unit):
        return percent(value)
    return grouped(value) if group else value


def _labelled(enum: EnumSpec, code: str, lang: Lang) -> str:
    """An enum code with its label in `lang` (a code the enum lacks, as it is)."""
    if code not in enum.codes:
        return code
    label = enum.value(code).title.get(lang)
    return f"{code}（{label}）" if lang == "zh" else f"{code} ({label})"


def slot_values(
    words: Vocabulary,
    readings: Iterable[tuple[str, str | None]],
    parameters: Iterable[tuple[str, str, str | None]],
    facts: Iterable[tuple[str, str]],
) -> dict[str, str]:
    """The values a pack's explanation text fills its ``{name}`` slots with: each reading
    (path, value), parameter (name, value, unit) and fact (name, value) — rates as percentages,
    everything else as it is (the filling groups numbers)."""
    slots: dict[str, str] = {}
    for path, value in readings:
        field = words.field(path)
        rate = (
            value is not None and field is not None and (field.kind == "ratio" or _is_rate(words, field.unit))
        )
        slots[path] = (percent(value) if rate and value is not None else value) or "?"
    for name, value, unit in parameters:
        slots[name] = rate_value(words, value, unit)
    for name, value in facts:
        slots[name] = fact_value(words, name, value)
    return slots


_LOAN = re.compile(r"loan, (?:ceiling (?P<ceiling>.+), term (?P<term>.+)|drawn (?P<drawn>.+))")
_NOT_ESTABLISHED = "not established"


def _term(term: str, lang: Lang) -> str:
    """A loan's term (``3 years``, ``[2, 3] years``) in the reader's language."""
    number, _, unit = term.rpartition(" ")
    if term == _NOT_ESTABLISHED or unit not in group("term_unit"):
        return word("amount", "not_established", lang)
    return f"{number} {word('term_unit', unit, lang)}"


def amount_words(
    text: str | None, lang: Lang, unit: str | None = None, words: Vocabulary | None = None
) -> str:
    """An amount for an officer, with its unit in the reader's language: a number grouped, a rate
    as a percentage, an amount the sources do not give said so (without a unit); a loan said as a
    loan (its ceiling and term, or what was drawn), never as support of its amount."""
    if text is None:
        return "—"
    if text == _NOT_ESTABLISHED:
        return word("amount", "not_established", lang)
    found = _LOAN.fullmatch(text)
    if found is None:
        return quantity(words, text, unit, lang)
    zh = lang == "zh"
    if found["drawn"] is not None:
        drawn = amount_words(found["drawn"], lang, unit, words)
        return f"贷款，退出时贷款额 {drawn}" if zh else f"loan of {drawn} drawn"
    ceiling = amount_words(found["ceiling"], lang, unit, words)
    term = _term(found["term"], lang)
    if zh:
        return f"贷款，上限 {ceiling}，期限 {term}"
    return f"loan of up to {ceiling}, term {term}"
