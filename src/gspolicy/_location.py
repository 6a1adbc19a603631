"""Source texts, spans inside them, and data paths inside records.

A `Span` locates a piece of a source text (a pack, a schema, a record file) by character offsets
and renders as ``file:line:col`` with the source line underlined.  A `DataPath` locates a value
inside a record (``members[2].age``); a `RecordLocation` joins a file, the line of the record in
it and the data path.
"""

from __future__ import annotations

import array
import bisect
import os
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import attrs

__all__ = [
    "AROUND",
    "LONG_LINE",
    "DataPath",
    "Location",
    "RecordLocation",
    "Source",
    "Span",
    "display_width",
    "file_line",
    "join_path",
    "paths_relative_to",
    "shown_path",
]

_SHOWN_FROM: ContextVar[str | None] = ContextVar("gspolicy_shown_from", default=None)


@contextmanager
def paths_relative_to(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Within the block, locations name a file under `folder` relative to it (the command line
    shows paths relative to the working folder); a file elsewhere keeps the name it was read by."""
    token = _SHOWN_FROM.set(os.path.abspath(folder))
    try:
        yield
    finally:
        _SHOWN_FROM.reset(token)


def shown_path(name: str) -> str:
    """`name` as a location shows it (see `paths_relative_to`)."""
    base = _SHOWN_FROM.get()
    if base is None or not os.path.isabs(name):
        return name
    if name.startswith(base + os.sep):
        return name[len(base) + 1 :]
    return name


@attrs.frozen(eq=False, repr=False)
class Source:
    """A named text with an index of its line starts (built when a position is first asked for,
    as a compact array: a record file of millions of lines pays for it only when it has a
    problem to locate)."""

    name: str
    text: str
    first_line: int = attrs.field(default=1, kw_only=True)  # the file's line number of the text's first line
    _starts: list[array.array[int]] = attrs.field(init=False, factory=list)

    @property
    def _line_starts(self) -> array.array[int]:
        if not self._starts:
            starts = array.array("q", [0])
            find = self.text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._starts.append(starts)
        return self._starts[0]

    def __repr__(self) -> str:
        return f"Source({self.name!r}, {len(self.text)} chars)"

    def line_col(self, offset: int) -> tuple[int, int]:
        """Return the 1-based line and column (in characters) of `offset`."""
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + self.first_line, offset - self._line_starts[index] + 1

    def line_text(self, line: int) -> str:
        """Return the text of 1-based `line` (a line of the file), without its line break."""
        start = self._line_starts[line - self.first_line]
        end = self.text.find("\n", start)
        if end == -1:
            end = len(self.text)
        return self.text[start:end].rstrip("\r")

    def offset(self, line: int, col: int) -> int:
        """Return the offset of 1-based `line` and `col`."""
        line = max(1, min(line, len(self._line_starts)))
        return min(self._line_starts[line - 1] + col - 1, len(self.text))

    @property
    def line_count(self) -> int:
        return len(self._line_starts)


def display_width(text: str) -> int:
    """Return the width of `text` on a terminal: CJK characters take two columns."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


@attrs.frozen(eq=False)
class Span:
    """A range of characters ``[start, end)`` in a `Source`."""

    source: Source
    start: int
    end: int

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Span)
            and self.source is other.source
            and (self.start, self.end) == (other.start, other.end)
        )

    def __hash__(self) -> int:
        return hash((id(self.source), self.start, self.end))

    @property
    def file(self) -> str:
        return self.source.name

    @property
    def line(self) -> int:
        return self.source.line_col(self.start)[0]

    @property
    def col(self) -> int:
        return self.source.line_col(self.start)[1]

    @property
    def text(self) -> str:
        return self.source.text[self.start : self.end]

    def cover(self, other: Span) -> Span:
        """Return the smallest span covering both spans (same source)."""
        return Span(self.source, min(self.start, other.start), max(self.end, other.end))

    def header(self) -> str:
        line, col = self.source.line_col(self.start)
        return f"{shown_path(self.source.name)}:{line}:{col}"

    def excerpt(self) -> str:
        """Render the first line of the span with a ``^`` underline (CJK-width aware)."""
        line, col = self.source.line_col(self.start)
        text = self.source.line_text(line)
        end_line, end_col = self.source.line_col(max(self.start, self.end))
        stop = end_col - 1 if end_line == line else len(text)
        stop = max(stop, col)  # an empty span still gets one mark
        first = col - 1
        if len(text) > LONG_LINE:  # a record on one long line: the span with some text either side
            stop = min(stop, first + AROUND)
            low, high = max(0, first - AROUND), min(len(text), stop + AROUND)
            head = "…" if low > 0 else ""
            prefix = head + text[low:first]
            text = head + text[low:high] + ("…" if high < len(text) else "")
            marked = text[len(prefix) : len(prefix) + stop - first] or " "
        else:
            prefix = text[:first]
            marked = text[first:stop] or " "
        gutter = f"{line:>4} | "
        pad = " " * (len(gutter) - 2) + "| "
        return f"{gutter}{text}\n{pad}{' ' * display_width(prefix)}{'^' * max(1, display_width(marked))}"


LONG_LINE = 1000
"""A source line longer than this is shown in part by `Span.excerpt` (a request body or a batch of
records on one line, megabytes long): the span, at most `AROUND` characters of it, and `AROUND`
either side."""
AROUND = 120


def file_line(span: Span | None, absent: str = "-") -> str:
    """``file:line`` of a span (its start), or `absent` when there is none."""
    return f"{span.file}:{span.line}" if span is not None else absent


def join_path(base: str, parts: tuple[str, ...]) -> str:
    """The text of a data path: field names `parts` below the path `base` written as text —
    exactly ``str(DataPath((*base, *parts)))`` (``members[2]`` + ``("age",)`` → ``members[2].age``),
    without building the tuple (the evaluators write a path only for what they report)."""
    if not parts:
        return base or "(record)"
    tail = ".".join(parts)
    return f"{base}.{tail}" if base else tail


class DataPath(tuple[str | int, ...]):
    """A path inside a record: field names and list indexes (0-based)."""

    __slots__ = ()

    def __new__(cls, parts: Iterable[str | int] = ()) -> DataPath:
        return super().__new__(cls, tuple(parts))

    def child(self, part: str | int) -> DataPath:
        return tuple.__new__(DataPath, (*self, part))

    def __str__(self) -> str:
        out: list[str] = []
        for part in self:
            if isinstance(part, int):
                out.append(f"[{part}]")
            else:
                out.append(f".{part}" if out else part)
        return "".join(out) or "(record)"

    def __repr__(self) -> str:
        return f"DataPath({str(self)!r})"


@attrs.frozen
class RecordLocation:
    """Where a value of a record stands: file, line (when known) and data path.

    `span`, when the file's text is at hand, points at the value itself so that the
    rendering can underline it.
    """

    file: str
    line: int | None
    path: DataPath = attrs.field(factory=DataPath)
    span: Span | None = attrs.field(default=None, eq=False)

    def header(self) -> str:
        if self.span is not None:
            return self.span.header()
        file = shown_path(self.file)
        return file if self.line is None else f"{file}:{self.line}"


Location = Span | RecordLocation
