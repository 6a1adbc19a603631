"""Safe YAML that keeps the position of every node.

`load_yaml` reads one YAML document with PyYAML's *safe* machinery only and returns our own node
tree (`YMap`, `YSeq`, `YScalar`), each node carrying the `Span` it came from, plus diagnostics:

* the document is parsed once (by libyaml when available); while the tree is built from the
  parser's events, nesting depth, the number of aliases, and the values and characters the
  document expands to (aliases counted each time they are used, from the sizes of their anchors,
  nothing expanded) are measured, so a YAML bomb is refused at once with a diagnostic, never by a
  timeout or by running out of memory;
* characters YAML does not allow (control characters, lone surrogates) are refused, located;
* duplicate mapping keys are diagnostics (PyYAML silently keeps the last one);
* tags other than the plain YAML types are refused (no Python objects, no sets), and a value
  that does not fit the tag written before it (``!!int x``) is a located diagnostic;
* decimal numbers become `Decimal` (never binary floats), dates become `datetime.date`.

Positions inside scalars: `YScalar.value_span(i, j)` maps characters ``i..j`` of the scalar's
value back into the file.  Literal blocks (``|``) map exactly.  Folded blocks (``>``), plain
multi-line and quoted scalars map each value character to where that character stands in the
file; a folded line break (a space in the value) maps to the line break it came from, and an
escape sequence maps to the backslash that starts it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
import yaml
from yaml import events as ev
from yaml import nodes as yn

from gspolicy._gc import collector_paused
from gspolicy._i18n import Text
from gspolicy._location import Source, Span
from gspolicy._numbers import LIMIT_TEXT, within_limits
from gspolicy._yaml_syntax import syntax_diagnostic
from gspolicy.errors import Diagnostic

__all__ = [
    "Limits",
    "YMap",
    "YNode",
    "YScalar",
    "YSeq",
    "describe",
    "dump_yaml",
    "load_yaml",
]

_TAG = "tag:yaml.org,2002:"
_NOT_NUMBERS = {".nan", ".inf"}
_LONGEST_NUMBER = 200  # characters: far beyond the largest number within the limits, however written
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
    _mapped: tuple[int, ...] | None = attrs.field(init=False, default=None, eq=False, repr=False)

    def value_span(self, start: int, end: int) -> Span:
        """Map characters ``start..end`` of `text` to a span of the file (see module doc)."""
        offsets = self._mapped
        if offsets is None:  # worked out once per scalar: an expression locates each of its nodes
            offsets = self._offsets()
            object.__setattr__(self, "_mapped", offsets)
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


# the characters YAML allows in a stream (PyYAML's reader refuses the same ones)
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _loader_class(parser: str) -> type[yaml.SafeLoader] | type[Any]:
    if parser == "python" or (parser == "auto" and not yaml.__with_libyaml__):
        return yaml.SafeLoader
    return yaml.CSafeLoader


@attrs.define
class _Open:
    """A mapping or sequence being built: its start event, anchor and what it holds so far."""

    start: Any
    anchor: str | None
    tag: str
    items: list[YNode]
    values: int = 1  # the values it expands to, itself included (aliases counted in full)
    chars: int = 0  # the characters of the scalars it expands to (likewise)


class _Builder:
    """Build our node tree from parser events in one pass, measuring the limits as it goes.

    Depth, aliases, the values the document expands to and the characters of the scalars it
    expands to (aliases counted each time they are used, from the sizes of their anchors) are
    checked at each event, so a YAML bomb is refused before anything is expanded.
    """

    def __init__(self, source: Source, limits: Limits, loader: Any) -> None:
        self.source = source
        self.limits = limits
        self.loader = loader
        self.diagnostics: list[Diagnostic] = []
        self.constructor = yaml.constructor.SafeConstructor()
        self.stack: list[_Open] = []
        self.anchors: dict[str, tuple[YNode, int, int]] = {}
        self.open_anchors: set[str] = set()
        self.aliases = 0
        self.total_values = 0
        self.total_chars = 0
        self.documents = 0
        self.root: YNode | None = None
        self.seen_root = False
        self.fatal: list[Diagnostic] = []  # problems that make the document unusable as a whole

    def span(self, start: Any, end: Any) -> Span:
        return _mark_span(self.source, start, end)

    def run(self, events: Iterator[Any]) -> Diagnostic | None:
        """Consume the events; return the diagnostic that stopped the load, if any."""
        for event in events:
            stop = self.event(event)
            if stop is not None:
                return stop
        return None

    def event(self, event: Any) -> Diagnostic | None:
        if isinstance(event, ev.ScalarEvent):
            return self.add(self.scalar(event), event, 1, len(event.value))
        if isinstance(event, ev.MappingStartEvent | ev.SequenceStartEvent):
            if len(self.stack) + 1 > self.limits.max_depth:
                span = self.span(event.start_mark, event.end_mark)
                return Diagnostic("yaml/too-deep", span, {"limit": self.limits.max_depth})
            kind = yn.MappingNode if isinstance(event, ev.MappingStartEvent) else yn.SequenceNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = self.loader.resolve(kind, None, event.implicit)
            if event.anchor is not None:
                if event.anchor in self.anchors or event.anchor in self.open_anchors:
                    return self.duplicate_anchor(event)
                self.open_anchors.add(event.anchor)
            self.stack.append(_Open(event, event.anchor, tag, []))
            return self.grow(1, 0, event)  # the collection itself; its parent counts it when it ends
        if isinstance(event, ev.MappingEndEvent | ev.SequenceEndEvent):
            top = self.stack.pop()
            span = self.span(top.start.start_mark, event.end_mark)
            node = (
                self.mapping(top, span) if isinstance(event, ev.MappingEndEvent) else self.sequence(top, span)
            )
            if top.anchor is not None:
                self.open_anchors.discard(top.anchor)
                self.anchors[top.anchor] = (node, top.values, top.chars)
            self.attach(node, top.values, top.chars)
            return None
        if isinstance(event, ev.AliasEvent):
            return self.alias(event)
        if isinstance(event, ev.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                return Diagnostic("yaml/multiple-documents", self.span(event.start_mark, event.end_mark))
        return None

    def add(self, node: YNode, event: Any, values: int, chars: int) -> Diagnostic | None:
        """A scalar: remember its anchor, count it, and put it into its parent."""
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            if anchor in self.anchors or anchor in self.open_anchors:
                return self.duplicate_anchor(event)
            self.anchors[anchor] = (node, values, chars)
        stop = self.grow(values, chars, event)
        if stop is None:
            self.attach(node, values, chars)
        return stop

    def grow(self, values: int, chars: int, event: Any) -> Diagnostic | None:
        """Count what an event adds to the whole document and check the limits."""
        self.total_values += values
        self.total_chars += chars
        if self.total_values > self.limits.max_values:
            span = self.span(event.start_mark, event.end_mark)
            return Diagnostic("yaml/too-many-nodes", span, {"limit": self.limits.max_values})
        if self.total_chars > self.limits.max_chars:
            span = self.span(event.start_mark, event.end_mark)
            return Diagnostic("yaml/too-much-text", span, {"limit": self.limits.max_chars})
        return None

    def attach(self, node: YNode, values: int, chars: int) -> None:
        """Put a finished node into its parent, whose size grows by the node's (or make it the root)."""
        if self.stack:
            parent = self.stack[-1]
            parent.items.append(node)
            parent.values += values
            parent.chars += chars
        else:
            self.root = node
            self.seen_root = True

    def alias(self, event: Any) -> Diagnostic | None:
        self.aliases += 1
        span = self.span(event.start_mark, event.end_mark)
        if self.aliases > self.limits.max_aliases:
            return Diagnostic("yaml/too-many-aliases", span, {"limit": self.limits.max_aliases})
        name = event.anchor or ""
        if name in self.open_anchors:
            # an alias to an unfinished anchor (a recursive structure) has no finite size
            return Diagnostic("yaml/too-many-nodes", span, {"limit": self.limits.max_values})
        found = self.anchors.get(name)
        if found is None:
            return syntax_diagnostic(self.source, f"found undefined alias {name!r}", event.start_mark)
        node, values, chars = found
        stop = self.grow(values, chars, event)
        if stop is None:
            self.attach(node, values, chars)
        return stop

    def duplicate_anchor(self, event: Any) -> Diagnostic:
        return syntax_diagnostic(self.source, f"found duplicate anchor {event.anchor!r}", event.start_mark)

    def bad_tag(self, tag: str, span: Span) -> None:
        shown = "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag
        self.diagnostics.append(Diagnostic("yaml/tag", span, {"tag": shown}))

    def sequence(self, top: _Open, span: Span) -> YSeq:
        if top.tag != _TAG + "seq":
            self.bad_tag(top.tag, span)
        return YSeq(span, tuple(top.items))

    def mapping(self, top: _Open, span: Span) -> YMap:
        if top.tag != _TAG + "map":
            self.bad_tag(top.tag, span)
        items: list[tuple[YScalar, YNode]] = []
        duplicates: list[YScalar] = []
        seen: dict[object, YScalar] = {}
        nodes = top.items
        for i in range(0, len(nodes) - 1, 2):
            key, value = nodes[i], nodes[i + 1]
            if not isinstance(key, YScalar):
                self.diagnostics.append(Diagnostic("yaml/complex-key", key.span))
                continue
            marker = (type(key.value).__name__, key.value)
            if marker in seen:
                first = seen[marker]
                self.diagnostics.append(
                    Diagnostic(
                        "yaml/duplicate-key", key.span, {"key": key.text, "first_line": first.span.line}
                    )
                )
                duplicates.append(key)
                continue
            seen[marker] = key
            items.append((key, value))
        return YMap(span, tuple(items), tuple(duplicates))

    def scalar(self, event: Any) -> YScalar:
        span = self.span(event.start_mark, event.end_mark)
        text: str = event.value
        tag = event.tag
        explicit = not (tag is None or tag == "!")
        if not explicit:
            tag = self.loader.resolve(yn.ScalarNode, text, event.implicit)
        value: object = text
        if tag not in _PLAIN_TAGS:
            self.bad_tag(tag, span)
        elif explicit and tag != _TAG + "str" and not self.fits(text, tag):
            self.bad_value(text, tag, span)
        elif tag == _TAG + "float":
            value = _decimal(text)
            if (
                not isinstance(value, Decimal)
                and text.replace("_", "").lower().lstrip("+-") not in _NOT_NUMBERS
            ):
                self.out_of_range(text, span)  # a form Decimal cannot hold (`1e99999999999999999999`)
        elif tag == _TAG + "int" and len(text) > _LONGEST_NUMBER:
            self.out_of_range(text, span)  # refused before any conversion of its digits
        elif tag != _TAG + "str":
            try:
                value = self.constructor.construct_object(yn.ScalarNode(tag, text), deep=True)
            except Exception:  # PyYAML's constructors raise many kinds on odd text
                value = text
                if explicit:
                    self.bad_value(text, tag, span)
        if isinstance(value, int | Decimal) and not isinstance(value, bool) and not within_limits(value):
            self.out_of_range(text, span)
            value = text
        return YScalar(span, value, text, event.style or None, tag)  # libyaml says "" for plain

    def out_of_range(self, text: str, span: Span) -> None:
        shown = text if len(text) <= 40 else text[:37] + "..."
        self.fatal.append(Diagnostic("yaml/number-out-of-range", span, {"text": shown, "limits": LIMIT_TEXT}))

    def fits(self, text: str, tag: str) -> bool:
        """Whether `text` written plain would read as a value of `tag` (an int is a float too)."""
        plain = self.loader.resolve(yn.ScalarNode, text, (True, False))
        return bool(plain == tag or (tag == _TAG + "float" and plain == _TAG + "int"))

    def bad_value(self, text: str, tag: str, span: Span) -> None:
        shown = text if len(text) <= 40 else text[:37] + "..."
        self.diagnostics.append(
            Diagnostic("yaml/bad-value", span, {"text": shown, "tag": "!!" + tag[len(_TAG) :]})
        )


def _decimal(text: str) -> object:
    cleaned = text.replace("_", "")
    lowered = cleaned.lower()
    if lowered in (".nan", ".inf", "+.inf", "-.inf"):
        return text  # not a number gspolicy accepts; the schema reports it as text
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return text


def load_yaml(
    source: Source, limits: Limits = DEFAULT_LIMITS, *, parser: str = "auto"
) -> tuple[YNode | None, list[Diagnostic]]:
    """Load the single YAML document in `source`; return its tree (None on failure) and diagnostics.

    The document is parsed once, by libyaml when PyYAML was built with it (`parser="auto"`), else
    by PyYAML's pure-Python parser; `parser="python"` or `"c"` chooses.  Both give the same
    tree and the same spans (tested).
    """
    if len(source.text) > limits.max_chars:
        span = Span(source, 0, 0)
        return None, [
            Diagnostic(
                "io/too-large",
                span,
                {"path": source.name, "size": len(source.text), "limit": limits.max_chars},
            )
        ]
    bad = _NON_PRINTABLE.search(source.text)
    if bad is not None:
        span = Span(source, bad.start(), bad.end())
        return None, [Diagnostic("yaml/bad-character", span, {"code": f"U+{ord(bad.group()):04X}"})]
    loader = _loader_class(parser)(source.text)
    builder = _Builder(source, limits, loader)
    try:
        with collector_paused():  # the tree is acyclic: see gspolicy._gc
            stop = builder.run(_events(loader))
    except yaml.YAMLError as err:
        return None, [syntax_diagnostic(source, err)]
    finally:
        loader.dispose()
    if stop is not None:
        return None, [stop]
    if not builder.seen_root:
        return None, [Diagnostic("yaml/empty", Span(source, 0, 0))]
    if builder.fatal:
        return None, [*builder.fatal, *builder.diagnostics]
    return builder.root, builder.diagnostics


def _events(loader: Any) -> Iterator[Any]:
    while loader.check_event():
        yield loader.get_event()


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


class _PlainDumper(yaml.SafeDumper):
    """A safe dumper that writes a value shared by two places twice, never as an anchor."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(document: object, *, width: int = 120) -> str:
    """YAML text of plain data for people to read (cases written by the tools): keys in the given
    order, Chinese as written, no anchors; `gspolicy.pack.fmt` then gives it the canonical layout."""
    return yaml.dump(
        document,
        Dumper=_PlainDumper,
        allow_unicode=True,
        sort_keys=False,
        width=width,
        default_flow_style=None,
    )
