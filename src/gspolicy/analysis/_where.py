"""Locating a key inside a pack file, for parts the model keeps no span of."""

from __future__ import annotations

import re

from gspolicy._location import Source, Span

__all__ = ["key_span"]


def key_span(source: Source, key: str, start: int = 0, end: int | None = None) -> Span | None:
    """The span of the first ``key:`` in ``source.text[start:end]`` (a key of a YAML mapping)."""
    pattern = re.compile(rf"(?<![\w.-]){re.escape(key)}\s*:")
    found = pattern.search(source.text, start, len(source.text) if end is None else end)
    return Span(source, found.start(), found.start() + len(key)) if found else None
