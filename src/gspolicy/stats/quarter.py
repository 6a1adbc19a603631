"""Parse a quarter (``2020Q4``) into its year, number, first and last days.

A bad quarter is a `PolicyError` (``stats/bad-quarter``), located where the caller read it.
"""

from __future__ import annotations

import datetime as dt
import re

import attrs

from gspolicy._location import Span
from gspolicy.errors import Diagnostic, PolicyError

__all__ = ["Quarter", "parse_quarter"]

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


@attrs.frozen(order=True)
class Quarter:
    """A calendar quarter: ``Quarter(2020, 4)`` runs from 2020-10-01 to 2020-12-31."""

    year: int
    number: int

    @property
    def first(self) -> dt.date:
        """The quarter's first day."""
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def last(self) -> dt.date:
        """The quarter's last day (a stock is counted as of it)."""
        if self.number == 4:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, 3 * self.number + 1, 1) - dt.timedelta(days=1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.first <= day <= self.last

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"


def parse_quarter(
    text: str, *, span: Span | None = None, context: tuple[tuple[str, str], ...] = ()
) -> Quarter:
    """The quarter `text` names (``2020Q4``); a `PolicyError` (``stats/bad-quarter``) at `span`,
    with `context` (e.g. ``(("option", "--quarter"),)``), when it names none."""
    found = _QUARTER.match(text.strip())
    if found is None or not 1 <= int(found.group(1)) <= 9999:
        raise PolicyError([Diagnostic("stats/bad-quarter", span, {"text": text}, context=context)])
    return Quarter(int(found.group(1)), int(found.group(2)))
