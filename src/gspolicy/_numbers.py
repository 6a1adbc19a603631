"""The numbers gspolicy computes with: one limit for records, packs and expressions.

The interpreter computes exactly to 34 significant digits (IEEE decimal128).  A number in a record,
a pack parameter or an expression literal is accepted when it has at most 34 significant digits,
is below 10^40 in magnitude and has at most 40 digits after the point; anything else is refused
with a located diagnostic where it is read, so no value is ever rounded or overflows silently, and
every accepted number prints as a literal the expression parser reads back.
"""

from __future__ import annotations

from decimal import Decimal

from gspolicy._i18n import Text

__all__ = [
    "LIMIT_TEXT",
    "MAX_PLACES",
    "MAX_SIGNIFICANT",
    "MAX_WHOLE_DIGITS",
    "decimal_json",
    "is_number",
    "within_limits",
]

MAX_SIGNIFICANT = 34
MAX_WHOLE_DIGITS = 40
"""A number's magnitude stays below 10^MAX_WHOLE_DIGITS."""
MAX_PLACES = 40

LIMIT_TEXT = Text(
    zh=f"最多 {MAX_SIGNIFICANT} 位有效数字、绝对值小于 10^{MAX_WHOLE_DIGITS}、小数点后最多 {MAX_PLACES} 位",
    en=f"at most {MAX_SIGNIFICANT} significant digits, below 10^{MAX_WHOLE_DIGITS} in magnitude and at most "
    f"{MAX_PLACES} digits after the point",
)

_BOUND = 10**MAX_WHOLE_DIGITS
_SHORT = 10**MAX_SIGNIFICANT


def within_limits(value: int | Decimal) -> bool:
    """Whether `value` is a number gspolicy reads (see the module doc)."""
    if isinstance(value, int):
        if -_SHORT < value < _SHORT:
            return True  # at most MAX_SIGNIFICANT digits however they end
        if not -_BOUND < value < _BOUND:
            return False
        digits = str(abs(value)).rstrip("0")
        return len(digits) <= MAX_SIGNIFICANT
    if not value.is_finite():
        return False
    written = value.as_tuple()
    if not isinstance(written.exponent, int) or written.exponent < -MAX_PLACES:
        return False  # as written: `1.000…0` with 50 zeros would print 50 places
    if value.is_zero():
        return True
    if len(written.digits) <= MAX_SIGNIFICANT:
        return value.adjusted() < MAX_WHOLE_DIGITS
    # significant digits as written, trailing zeros aside (never `normalize()`: it rounds to the
    # context's precision)
    digits = "".join(map(str, written.digits)).rstrip("0")
    return len(digits) <= MAX_SIGNIFICANT and value.adjusted() < MAX_WHOLE_DIGITS


def is_number(value: object) -> bool:
    """A number as the engine holds one: an int or a Decimal, never a bool."""
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def decimal_json(value: Decimal) -> int | float | str:
    """A decimal as plain JSON data: an integer when whole, else a float when the float prints
    back as the same decimal, else its text (which keeps every digit)."""
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)
