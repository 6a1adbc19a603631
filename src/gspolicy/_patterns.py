"""The written forms of names and dates, declared once: the readers match them, the pack format and
the JSON Schemas publish them.

>>> bool(NAME_RE.match("exit.income")), bool(NAME_RE.match("2018.1"))
(True, False)
>>> bool(DATE_RE.match("2018-12-31")), bool(DATE_RE.match("2018-12-31 "))
(True, False)
"""

from __future__ import annotations

import re

__all__ = ["DATE_PATTERN", "DATE_RE", "NAME_PATTERN", "NAME_RE"]

NAME_PATTERN = r"^[^\W\d][\w]*(\.[^\W\d][\w]*)*$"
"""A name: a word (letters, digits, ``_``; Chinese welcome) not starting with a digit, or several
joined by dots (``exit.income``)."""

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
"""A date as written in files: ``YYYY-MM-DD`` (whether the day exists is checked on reading)."""

NAME_RE = re.compile(NAME_PATTERN)
DATE_RE = re.compile(DATE_PATTERN)
