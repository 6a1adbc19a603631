"""Safe YAML that keeps the position of every node.

`load_yaml` reads one YAML document with PyYAML's *safe* machinery only and returns our own node
tree (`YMap`, `YSeq`, `YScalar`), each node carrying the `Span` it came from, plus diagnostics:

* before anything is built, one pass over the parser's events measures nesting depth, the number
  of aliases and the number of values the document expands to (aliases counted each time they are
  used, computed from anchor sizes without expanding anything), so a YAML bomb is refused at once
  with a diagnostic, never by a timeout;
* duplicate mapping keys are diagnostics (PyYAML silently keeps the last one);
* tags other than the plain YAML types are refused (no Python objects, no sets);
* decimal numbers become `Decimal` (never binary floats), dates become `datetime.date`.

Positions inside scalars: `YScalar.value_span(i, j)` maps characters ``i..j`` of the scalar's
value back into the file.  Literal blocks (``|``) map exactly.  Folded blocks (``>``), plain
multi-line and quoted scalars map each value character to where that character stands in the
file; a folded line break (a space in the value) maps to the line break it came from, and an
escape sequence maps to the backslash that starts it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
import yaml
from yaml import events as ev
from yaml import nodes as yn

from gspolicy._i18n import Text
from gspolicy._location import Source, Span
from gspolicy.errors import Diagnostic

__all__ = [
    "Limits",
    "YMap",
    "YNode",
    "YScalar",
    "YSeq",
    "describe",
    "load_yaml",
]

_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")}


@attrs.frozen
class Limits:
    """Bounds on what one YAML document may hold."""

    max_chars: int = 20_000_000
    max_depth: int = 64
    max_values: int = 2_000_000
    max_aliases: int = 10_000


DEFAULT_LIMITS = Limits()


@attrs.frozen(eq=False)
class YNode:
    span: Span


@attrs.frozen(eq=False)
class YScalar(YNode):
    """A scalar value with its resolved Python value and its text as written."""

    value: object
    text: str  # the scalar's string value before type resolution
    style: str | None  # None plain, '|' literal, '>' folded, '"' or "'" quoted
    tag: str

    def value_span(self, start: int, end: int) -> Span:
        """Map characters ``start..end`` of `text` to a span of the file (see module doc)."""
        offsets = self._offsets()
        if not offsets:
            return self.span
        start = max(0, min(start, len(offsets) - 1))
        last = max(start, min(end, len(offsets)) - 1)
        return Span(self.span.source, offsets[start], offsets[last] + 1)

    def _offsets(self) -> tuple[int, ...]:
        raw = self.span.source.text
        if self.style == "|":
            return self._literal_offsets(raw)
        pos = self.span.start
        if self.style == ">":
            # skip the block header line (the indicator and any comment after it)
            newline = raw.find("\n", pos)
            pos = newline + 1 if newline != -1 else pos
        elif self.style in ('"', "'"):
            pos += 1
        stop = self.span.end
        out: list[int] = []
        window = 16
        for char in self.text:
            if self.style == '"' and pos < stop and raw[pos] == "\\":
                follower = raw[pos + 1] if pos + 1 < stop else ""
                if follower == "\n":  # an escaped line break: it leaves nothing in the value
                    pos += 2
                    while pos < stop and raw[pos] in " \t":
                        pos += 1
                else:  # an escape sequence: the character comes from its backslash
                    out.append(pos)
                    pos += {"x": 4, "u": 6, "U": 10}.get(follower, 2)
                    continue
            if char == " " and self.style in (">", None, '"', "'"):
                space = raw.find(" ", pos, min(stop, pos + window))
                brk = raw.find("\n", pos, min(stop, pos + window))
                found = min((p for p in (space, brk) if p != -1), default=-1)
            else:
                found = raw.find(char, pos, min(stop, pos + window))
            if found == -1:
                out.append(min(pos, max(stop - 1, self.span.start)))
            else:
                out.append(found)
                pos = found + 1
        return tuple(out)

    def _literal_offsets(self, raw: str) -> tuple[int, ...]:
        """Literal blocks map line by line: content line k starts at its file line plus the
        block's indentation, so every character keeps its own line and column."""
        source = self.span.source
        header_line = source.line_col(self.span.start)[0]
        lines = self.text.split("\n")
        indent: int | None = None
        for k, line in enumerate(lines):
            if line.strip() and header_line + 1 + k <= source.line_count:
                file_line = source.line_text(header_line + 1 + k)
                indent = len(file_line) - len(line) if file_line.endswith(line) else None
                break
        if indent is None:
            indent = 0
        out: list[int] = []
        for k, line in enumerate(lines):
            number = min(header_line + 1 + k, source.line_count)
            base = source.offset(number, 1) + indent
            out.extend(min(base + c, len(raw) - 1 if raw else 0) for c in range(len(line)))
            if k < len(lines) - 1:
                out.append(min(base + len(line), len(raw) - 1 if raw else 0))  # the line break
        return tuple(out)


@attrs.frozen(eq=False)
class YSeq(YNode):
    items: tuple[YNode, ...]


@attrs.frozen(eq=False)
class YMap(YNode):
    """A mapping; keys are scalars, kept in document order."""

    items: tuple[tuple[YScalar, YNode], ...]
    duplicates: tuple[YScalar, ...] = attrs.field(default=(), eq=False)  # keys given again (dropped)

    def get(self, key: str) -> YNode | None:
        for k, v in self.items:
            if k.value == key:
                return v
        return None

    def keys(self) -> list[object]:
        return [k.value for k, _ in self.items]

    def key_node(self, key: str, *, last: bool = False) -> YScalar | None:
        """The key node named `key`: the first, or with `last` the last repetition of it."""
        if last:
            for k in reversed(self.duplicates):
                if k.value == key:
                    return k
        for k, _ in self.items:
            if k.value == key:
                return k
        return None


def describe(node: YNode | None) -> Text:
    """Name the kind of a node for messages (``a list``, ``the text `abc```), in zh and en."""
    if node is None:
        return Text(zh="空", en="nothing")
    if isinstance(node, YMap):
        return Text(zh="映射", en="a mapping")
    if isinstance(node, YSeq):
        return Text(zh="列表", en="a list")
    assert isinstance(node, YScalar)
    return describe_value(node.value)


def describe_value(value: object) -> Text:
    """Name a plain value for messages, in zh and en."""
    if value is None:
        return Text(zh="空值", en="an empty value")
    if isinstance(value, bool):
        word = str(value).lower()
        return Text(zh=f"布尔值 `{word}`", en=f"the boolean `{word}`")
    if isinstance(value, int | Decimal | float):
        return Text(zh=f"数字 `{value}`", en=f"the number `{value}`")
    if isinstance(value, dt.date):
        return Text(zh=f"日期 `{value.isoformat()}`", en=f"the date `{value.isoformat()}`")
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return Text(zh=f"文本 `{shown}`", en=f"the text `{shown}`")
    if isinstance(value, dict):
        return Text(zh="映射", en="a mapping")
    if isinstance(value, list | tuple):
        return Text(zh="列表", en="a list")
    return Text(zh=f"`{value}`", en=f"`{value}`")


def _mark_span(source: Source, start: Any, end: Any) -> Span:
    s = start.index if start is not None else 0
    e = end.index if end is not None else s
    return Span(source, s, max(s, e))


def _syntax(source: Source, err: yaml.YAMLError) -> Diagnostic:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    start = mark.index if mark is not None else 0
    span = Span(source, start, min(start + 1, len(source.text)))
    return Diagnostic("yaml/syntax", span, {"problem": problem})


def _scan(source: Source, limits: Limits) -> list[Diagnostic]:
    """Measure depth, aliases and expanded size from the event stream; nothing is built."""
    depth = 0
    aliases = 0
    documents = 0
    # one running value count per open collection; anchors map to their expanded size
    stack: list[tuple[int, str | None]] = [(0, None)]
    anchors: dict[str, int] = {}
    total = 0
    try:
        for event in yaml.parse(source.text, Loader=yaml.SafeLoader):
            if isinstance(event, ev.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    return [
                        Diagnostic(
                            "yaml/multiple-documents", _mark_span(source, event.start_mark, event.end_mark)
                        )
                    ]
            elif isinstance(event, ev.MappingStartEvent | ev.SequenceStartEvent):
                depth += 1
                if depth > limits.max_depth:
                    span = _mark_span(source, event.start_mark, event.end_mark)
                    return [Diagnostic("yaml/too-deep", span, {"limit": limits.max_depth})]
                stack.append((1, event.anchor))
            elif isinstance(event, ev.MappingEndEvent | ev.SequenceEndEvent):
                depth -= 1
                size, anchor = stack.pop()
                if anchor is not None:
                    anchors[anchor] = size
                count, outer = stack[-1]
                stack[-1] = (count + size, outer)
            elif isinstance(event, ev.ScalarEvent):
                if event.anchor is not None:
                    anchors[event.anchor] = 1
                count, outer = stack[-1]
                stack[-1] = (count + 1, outer)
            elif isinstance(event, ev.AliasEvent):
                aliases += 1
                span = _mark_span(source, event.start_mark, event.end_mark)
                if aliases > limits.max_aliases:
                    return [Diagnostic("yaml/too-many-aliases", span, {"limit": limits.max_aliases})]
                name = event.anchor or ""
                if name in anchors:
                    size = anchors[name]
                elif any(open_anchor == name for _, open_anchor in stack):
                    # an alias to an unfinished anchor (a recursive structure) has no finite size
                    size = limits.max_values + 1
                else:
                    size = 0  # an undefined alias: the composer reports it below
                count, outer = stack[-1]
                stack[-1] = (count + size, outer)
            total = sum(c for c, _ in stack)
            if total > limits.max_values:
                span = _mark_span(source, event.start_mark, event.end_mark)
                return [Diagnostic("yaml/too-many-nodes", span, {"limit": limits.max_values})]
    except yaml.YAMLError as err:
        return [_syntax(source, err)]
    return []


class _Builder:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self.constructor = yaml.constructor.SafeConstructor()

    def span(self, node: yn.Node) -> Span:
        return _mark_span(self.source, node.start_mark, node.end_mark)

    def build(self, node: yn.Node) -> YNode:
        if isinstance(node, yn.ScalarNode):
            return self.scalar(node)
        if isinstance(node, yn.SequenceNode):
            if node.tag != _TAG + "seq":
                self.bad_tag(node)
            return YSeq(self.span(node), tuple(self.build(child) for child in node.value))
        assert isinstance(node, yn.MappingNode)
        if node.tag != _TAG + "map":
            self.bad_tag(node)
        items: list[tuple[YScalar, YNode]] = []
        duplicates: list[YScalar] = []
        seen: dict[object, YScalar] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yn.ScalarNode):
                self.diagnostics.append(Diagnostic("yaml/complex-key", self.span(key_node)))
                continue
            key = self.scalar(key_node)
            value = self.build(value_node)
            marker = (type(key.value).__name__, key.value)
            if marker in seen:
                first = seen[marker]
                self.diagnostics.append(
                    Diagnostic(
                        "yaml/duplicate-key",
                        key.span,
                        {"key": key.text, "first_line": first.span.line},
                    )
                )
                duplicates.append(key)
                continue
            seen[marker] = key
            items.append((key, value))
        return YMap(self.span(node), tuple(items), tuple(duplicates))

    def bad_tag(self, node: yn.Node) -> None:
        tag = "!!" + node.tag[len(_TAG) :] if node.tag.startswith(_TAG) else node.tag
        self.diagnostics.append(Diagnostic("yaml/tag", self.span(node), {"tag": tag}))

    def scalar(self, node: yn.ScalarNode) -> YScalar:
        span = self.span(node)
        tag = node.tag
        value: object = node.value
        if tag not in _PLAIN_TAGS:
            self.bad_tag(node)
        elif tag == _TAG + "float":
            value = _decimal(node.value)
        elif tag != _TAG + "str":
            try:
                value = self.constructor.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError, OverflowError):
                value = node.value
        return YScalar(span, value, node.value, node.style, tag)


def _decimal(text: str) -> object:
    cleaned = text.replace("_", "")
    lowered = cleaned.lower()
    if lowered in (".nan", ".inf", "+.inf", "-.inf"):
        return text  # not a number gspolicy accepts; the schema reports it as text
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return text


def load_yaml(source: Source, limits: Limits = DEFAULT_LIMITS) -> tuple[YNode | None, list[Diagnostic]]:
    """Load the single YAML document in `source`; return its tree (None on failure) and diagnostics."""
    if len(source.text) > limits.max_chars:
        span = Span(source, 0, 0)
        return None, [
            Diagnostic(
                "io/too-large",
                span,
                {"path": source.name, "size": len(source.text), "limit": limits.max_chars},
            )
        ]
    problems = _scan(source, limits)
    if problems:
        return None, problems
    loader = yaml.SafeLoader(source.text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as err:
        return None, [_syntax(source, err)]
    finally:
        loader.dispose()
    if node is None:
        return None, [Diagnostic("yaml/empty", Span(source, 0, 0))]
    builder = _Builder(source)
    tree = builder.build(node)
    return tree, builder.diagnostics


def walk(node: YNode) -> Iterator[YNode]:
    """Yield `node` and every node below it, depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, YMap):
            for k, v in reversed(current.items):
                stack.extend((v, k))
        elif isinstance(current, YSeq):
            stack.extend(reversed(current.items))
