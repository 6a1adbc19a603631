"""Where the comments and blank lines of a YAML file belong: each note is tied to the entry it
stands beside, so that `gspolicy fmt` can reorder entries and keep every note with its entry.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

import attrs

from gspolicy._location import Source
from gspolicy._yaml import YMap, YNode, YScalar, YSeq

__all__ = ["Notes", "keeps_trailing_lines", "notes_of", "strip_props"]


# --- reading: entries and comments by position ------------------------------------------------

_Key = tuple[int, ...]


@attrs.define
class Notes:
    """Comments and blank lines, attached to entries by position."""

    leading: dict[int, list[str]] = attrs.field(factory=dict)  # entry id → lines ('' is blank)
    trailing: dict[int, str] = attrs.field(factory=dict)  # entry id → the end-of-line comment
    header: list[str] = attrs.field(factory=list)
    footer: list[str] = attrs.field(factory=list)
    busy: set[int] = attrs.field(factory=set)  # collections holding a commented entry: blocks


def _is_flow(node: YNode) -> bool:
    text = strip_props(node.span.text)
    return text[:1] in ("{", "[")


_PROPS = re.compile(r"^(?:&[^\s,\[\]{}]+\s+)+")


def strip_props(text: str) -> str:
    """A node's text without its anchor (an alias is written out as the value it names)."""
    return _PROPS.sub("", text) if text.startswith("&") else text


@attrs.frozen
class _Entry:
    ident: int  # id() of the key node (mapping) or the item node (sequence) — unique per place
    start: int
    depth: int
    parents: tuple[int, ...]  # id() of the collections around it, innermost last
    value: YNode


def _entries(root: YNode) -> list[_Entry]:
    out: list[_Entry] = []
    seen: set[int] = set()

    def walk(node: YNode, depth: int, parents: tuple[int, ...]) -> None:
        if id(node) in seen:  # an alias: the anchored node is walked once
            return
        seen.add(id(node))
        here = (*parents, id(node))
        if isinstance(node, YMap):
            for key, value in node.items:
                out.append(_Entry(id(key), key.span.start, depth, here, value))
                walk(value, depth + 1, here)
        elif isinstance(node, YSeq):
            for item in node.items:
                if id(item) in seen:
                    continue
                out.append(_Entry(id(item), item.span.start, depth, here, item))
                walk(item, depth + 1, here)

    walk(root, 0, ())
    out.sort(key=lambda e: (e.start, e.depth))
    return out


def _scalar_spans(root: YNode) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, YScalar):  # to its last character: a block's trailing blank lines are not
            # its own, unless it keeps them (`|+`)
            end = (
                node.span.end
                if keeps_trailing_lines(node)
                else node.span.start + len(node.span.text.rstrip())
            )
            spans.append((node.span.start, end))
        elif isinstance(node, YMap):
            for key, value in node.items:
                spans.append((key.span.start, key.span.end))
                stack.append(value)
        elif isinstance(node, YSeq):
            stack.extend(node.items)
    spans.sort()
    return spans


def notes_of(source: Source, root: YNode) -> Notes:
    text = source.text
    entries = _entries(root)
    starts = [e.start for e in entries]
    spans = _scalar_spans(root)
    span_starts = [s for s, _ in spans]

    def inside_scalar(pos: int) -> bool:
        i = bisect.bisect_right(span_starts, pos) - 1
        return i >= 0 and spans[i][0] <= pos < spans[i][1]

    notes = Notes()
    root_first = next((e for e in entries if e.depth == 0), None)
    by_line: dict[int, list[_Entry]] = {}
    for e in entries:
        by_line.setdefault(source.line_col(e.start)[0], []).append(e)
    pending: list[str] = []  # own-line comments and blanks waiting for the next entry
    pending_at: list[int] = []
    offset = 0
    for number, line in enumerate(text.split("\n"), start=1):
        begin = offset
        offset += len(line) + 1
        stripped = line.strip()
        if not stripped:
            if begin < len(text) and not inside_scalar(begin):
                pending.append("")
                pending_at.append(begin)
            continue
        hash_at = _comment_start(line, begin, inside_scalar)
        if hash_at is None:
            continue
        comment = line[hash_at - begin :].rstrip()
        if not line[: hash_at - begin].strip():
            pending.append(comment)
            pending_at.append(begin)
            continue
        on_line = by_line.get(number)
        owner = _eol_owner(on_line) if on_line else _before(entries, starts, hash_at)
        if owner is None:
            pending.append(comment)
            pending_at.append(begin)
            continue
        notes.trailing[owner.ident] = comment
        notes.busy.update(owner.parents)
    # own-line comments and blanks: with the entry after them
    for line, at in zip(pending, pending_at, strict=True):
        i = bisect.bisect_left(starts, at)
        if root_first is None or at < root_first.start:
            notes.header.append(line)
        elif i >= len(entries):
            notes.footer.append(line)
        else:
            owner = entries[i]
            notes.leading.setdefault(owner.ident, []).append(line)
            if line:
                notes.busy.update(owner.parents)
    for key, lines in notes.leading.items():
        notes.leading[key] = _squeeze(lines)
    notes.header = _squeeze(notes.header)
    while notes.header and not notes.header[0]:
        notes.header.pop(0)
    notes.footer = _squeeze(notes.footer)
    return notes


def _squeeze(lines: list[str]) -> list[str]:
    """One blank line at most in a row."""
    out: list[str] = []
    for line in lines:
        if not line and out and not out[-1]:
            continue
        out.append(line)
    return out


def keeps_trailing_lines(node: YScalar) -> bool:
    """A `|+` or `>+` block: its trailing blank lines are part of its value."""
    if node.style not in ("|", ">"):
        return False
    header = strip_props(node.span.text).split("\n", 1)[0].split("#", 1)[0]
    return "+" in header


def _comment_start(line: str, begin: int, inside_scalar: Callable[[int], bool]) -> int | None:
    """The file offset of the comment on `line` (a ``#`` at the start or after a space, outside
    every scalar), or None."""
    check = inside_scalar
    start = 0
    while True:
        found = line.find("#", start)
        if found == -1:
            return None
        if (found == 0 or line[found - 1] in " \t") and not check(begin + found):
            return begin + found
        start = found + 1


def _eol_owner(on_line: list[_Entry]) -> _Entry:
    """The entry an end-of-line comment belongs to: the outermost starting on the line — but for
    ``- key: value  # …`` the key's entry (the item's keys may be reordered)."""
    owner = min(on_line, key=lambda e: e.depth)
    while owner.ident == id(owner.value) and isinstance(owner.value, YMap) and owner.value.items:
        if _is_flow(owner.value):
            break
        first = id(owner.value.items[0][0])
        inner = next((e for e in on_line if e.ident == first), None)
        if inner is None:
            break
        owner = inner
    return owner


def _before(entries: list[_Entry], starts: list[int], at: int) -> _Entry | None:
    i = bisect.bisect_right(starts, at) - 1
    return entries[i] if i >= 0 else None
