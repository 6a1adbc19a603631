"""One canonical layout for pack, test-case and schema files (`gspolicy fmt`).

The file is read with the project's own YAML reader (`gspolicy._yaml`), which keeps the exact
span of every node, and written out again by a small layout engine:

* keys in the order of ``docs/reference/packs.md`` ("Layout"); keys the order does not know keep
  their relative order after the known ones; user names (source ids, parameter names, dates …)
  keep the order they were written in;
* two spaces of indentation; a list under a key is indented by two;
* a collection is written in flow style (``{zh: …, en: …}``, ``[a, b]``) when it may be compact
  (texts, citations, dated values, amounts, lists of names, the records of a test case …) and the
  whole line fits in 110 columns (Chinese characters count two), else in block style; sections
  and entities (sources, parameters, criteria, rules, cases …) are always blocks;
* every scalar is written exactly as it was written — quoting, numbers, dates, Chinese text,
  literal and folded blocks (re-indented only) — so no value can change;
* comments are kept: a comment on its own line goes with the entry after it, a comment at the end
  of a line with the entry on that line; a collection holding a comment stays a block;
* at most one blank line between entries, where the file had one.

Anything that is not a pack, a test-case file or the household schema, and anything that does not
parse, is a located diagnostic (never a traceback); nothing is written when any file has one.
"""

from __future__ import annotations

import bisect
import difflib
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import attrs

from gspolicy._files import decode_source, read_bytes
from gspolicy._i18n import Lang
from gspolicy._location import Source, Span, display_width
from gspolicy._yaml import YMap, YNode, YScalar, YSeq, load_yaml
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.pack.format import CASE_EXPECT_KEYS

__all__ = ["WIDTH", "FmtResult", "format_paths", "format_source", "format_text", "layout_orders"]

WIDTH = 110
"""The widest line a flow collection may make (display columns: a Chinese character counts two)."""


# --- the layout: key order and which collections are always blocks ---------------------------


@attrs.frozen
class _Spec:
    """How one position of a file is laid out."""

    order: tuple[str, ...] = ()  # known keys, in order
    name: str = ""  # what the position holds, for the documented table of orders
    block: bool = False  # always a block (a section or an entity), else flow when it fits
    keys: Mapping[str, _Spec] = attrs.field(factory=dict)  # the value under a known key
    each: _Spec | None = None  # every value of a mapping of names, every item of a list


_GENERIC = _Spec(order=("zh", "en"))  # a text pair's languages first; anything else as written

_TEXT = _Spec(order=("zh", "en"), name="text")
_CITE_KEYS = ("source", "inferred_from", "clause", "confidence", "paraphrase", "note")
_CITATION = _Spec(order=_CITE_KEYS, name="citation", keys={"note": _TEXT})
_CITE = _Spec(
    order=_CITE_KEYS, name="citation", keys={"note": _TEXT}, each=_CITATION
)  # one citation or a list
_EXPLAIN = _Spec(order=("passed", "failed"), name="explain", block=True)
_BOUND = _Spec(order=("value", "source", "clause", "confidence", "paraphrase", "derivation"), name="bound")
_DATED = _Spec(
    order=(
        "value",
        "at_least",
        "at_most",
        "not_established",
        "approximate",
        "source",
        "clause",
        "confidence",
        "paraphrase",
        "note",
    ),
    name="dated value",
    keys={"at_least": _BOUND, "at_most": _BOUND},
)
_AMOUNT = _Spec(
    order=(
        "value",
        "at_least",
        "at_most",
        "not_established",
        "unit",
        "source",
        "clause",
        "confidence",
        "note",
    ),
    name="amount, ceiling, term",
    keys={"at_least": _BOUND, "at_most": _BOUND},
)


def _entity(name: str, order: tuple[str, ...], **keys: _Spec) -> _Spec:
    return _Spec(order=order, name=name, block=True, keys={"cite": _CITE, "explain": _EXPLAIN, **keys})


def _section(each: _Spec | None = None, **keys: _Spec) -> _Spec:
    return _Spec(block=True, each=each, keys=keys)


_PACK = _Spec(
    order=(
        "format",
        "pack",
        "version",
        "kind",
        "valid_from",
        "valid_to",
        "approval",
        "title",
        "department",
        "departments",
        "subject",
        "missing_day",
        "note",
        "sources",
        "import",
        "parameters",
        "facts",
        "applies",
        "criteria",
        "measures",
        "rules",
        "exclusive",
        "invariants",
        "buffer",
    ),
    name="pack file",
    block=True,
    keys={
        "approval": _entity("approval", ("document", "issuer", "issued", "in_force")),
        "departments": _section(_TEXT),
        "sources": _section(_entity("source", ("title", "issuer", "date", "address", "confidence", "note"))),
        "import": _section(),
        "parameters": _section(
            _entity("parameter", ("title", "type", "enum", "unit", "values"), values=_section(_DATED)),
        ),
        "facts": _section(_entity("fact", ("title", "unit", "expr", "cite"))),
        "applies": _entity(
            "applies",
            ("title", "when", "cite", "explain", "reasons"),
            reasons=_section(_entity("reason", ("when", "explain"), explain=_TEXT)),
        ),
        "criteria": _section(
            _entity(
                "criterion",
                (
                    "id",
                    "title",
                    "department",
                    "given",
                    "given_explain",
                    "require",
                    "weigh",
                    "not_established",
                    "cite",
                    "explain",
                    "note",
                ),
            )
        ),
        "measures": _section(
            _entity(
                "measure",
                (
                    "title",
                    "department",
                    "form",
                    "lapses_when",
                    "amount",
                    "ceiling",
                    "term",
                    "period",
                    "cite",
                ),
                amount=_AMOUNT,
                ceiling=_AMOUNT,
                term=_AMOUNT,
            )
        ),
        "rules": _section(_entity("rule", ("id", "title", "when", "grant", "cite", "note"))),
        "exclusive": _section(),
        "invariants": _section(_entity("invariant", ("id", "title", "holds", "cite", "note"))),
        "buffer": _entity(
            "buffer",
            ("title", "retained", "bases", "combine"),
            bases=_section(_entity("basis", ("id", "title", "active", "until", "amounts", "cite", "note"))),
            combine=_entity("combine", ("amount", "cite", "note")),
        ),
    },
)

_EXPECT_ORDER = CASE_EXPECT_KEYS
_CASES = _Spec(
    order=("pack", "note", "defaults", "cases"),
    name="test-case file",
    block=True,
    keys={
        "defaults": _section(),
        "cases": _section(
            _entity(
                "case",
                ("name", "subject", "as_of", "note", "household", "expect"),
                expect=_Spec(
                    order=_EXPECT_ORDER,
                    name="expect",
                    keys={"retained": _Spec(each=_Spec(order=("measure", "amount"), name="retained item"))},
                ),
            )
        ),
    },
)

_FIELDS = _section(_Spec(block=True, keys={"title": _TEXT, "description": _TEXT}))
_SCHEMA = _Spec(
    order=(),
    block=True,
    keys={
        "units": _section(),
        "enums": _section(_Spec(block=True, keys={"values": _section()})),
        "records": _section(_Spec(block=True, keys={"fields": _FIELDS})),
    },
)


def layout_orders() -> dict[str, tuple[str, ...]]:
    """The key order of each kind of mapping (``criterion``, ``source`` …), as documented in
    docs/reference/packs.md ("Layout")."""
    out: dict[str, tuple[str, ...]] = {}
    stack = [_PACK, _CASES]
    while stack:
        spec = stack.pop(0)
        if spec.order and spec.name:
            out.setdefault(spec.name, spec.order)
        stack.extend(spec.keys.values())
        if spec.each is not None:
            stack.append(spec.each)
    return out


# --- reading: entries and comments by position ------------------------------------------------

_Key = tuple[int, ...]


@attrs.define
class _Notes:
    """Comments and blank lines, attached to entries by position."""

    leading: dict[int, list[str]] = attrs.field(factory=dict)  # entry id → lines ('' is blank)
    trailing: dict[int, str] = attrs.field(factory=dict)  # entry id → the end-of-line comment
    header: list[str] = attrs.field(factory=list)
    footer: list[str] = attrs.field(factory=list)
    busy: set[int] = attrs.field(factory=set)  # collections holding a commented entry: blocks


def _is_flow(node: YNode) -> bool:
    text = _strip_props(node.span.text)
    return text[:1] in ("{", "[")


_PROPS = re.compile(r"^(?:&[^\s,\[\]{}]+\s+)+")


def _strip_props(text: str) -> str:
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
            end = node.span.end if _keeps(node) else node.span.start + len(node.span.text.rstrip())
            spans.append((node.span.start, end))
        elif isinstance(node, YMap):
            for key, value in node.items:
                spans.append((key.span.start, key.span.end))
                stack.append(value)
        elif isinstance(node, YSeq):
            stack.extend(node.items)
    spans.sort()
    return spans


def _notes(source: Source, root: YNode) -> _Notes:
    text = source.text
    entries = _entries(root)
    starts = [e.start for e in entries]
    spans = _scalar_spans(root)
    span_starts = [s for s, _ in spans]

    def inside_scalar(pos: int) -> bool:
        i = bisect.bisect_right(span_starts, pos) - 1
        return i >= 0 and spans[i][0] <= pos < spans[i][1]

    notes = _Notes()
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


def _keeps(node: YScalar) -> bool:
    """A `|+` or `>+` block: its trailing blank lines are part of its value."""
    if node.style not in ("|", ">"):
        return False
    header = _strip_props(node.span.text).split("\n", 1)[0].split("#", 1)[0]
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


# --- writing -----------------------------------------------------------------------------------

_FLOW_UNSAFE = re.compile(r"[,\[\]{}]")


class _Writer:
    """Lay a file out again.  The layout is the canonical one; the tests ask for others (`step`
    spaces of indentation, every collection a block, the known keys in reverse order) to make
    files in other layouts that must format to the same text (the top level keeps the canonical
    order: a comment above the first key is the file's header)."""

    def __init__(
        self, source: Source, notes: _Notes, *, step: int = 2, flow: bool = True, reverse: bool = False
    ) -> None:
        self.source = source
        self.notes = notes
        self.step = step
        self.allow_flow = flow
        self.reverse = reverse
        self._flowable: dict[int, bool] = {}

    # scalars

    def scalar_lines(self, node: YScalar, indent: int) -> list[str]:
        """The scalar as written; a block scalar or a multi-line one re-indented for `indent`
        (the column of its key or dash)."""
        raw = _strip_props(node.span.text)
        if node.style in ("|", ">"):
            return self._block_scalar(node, raw, indent)
        if "\n" not in raw:
            return [raw]
        lines = raw.split("\n")
        return [lines[0], *(" " * (indent + 2) + line.strip() if line.strip() else "" for line in lines[1:])]

    def _block_scalar(self, node: YScalar, raw: str, indent: int) -> list[str]:
        lines = (raw[:-1] if _keeps(node) and raw.endswith("\n") else raw.rstrip("\n")).split("\n")
        header, body = lines[0], lines[1:]
        content = [line for line in body if line.strip()]
        if not content:
            return [header]
        old = min(len(line) - len(line.lstrip(" ")) for line in content)
        explicit = re.search(r"[|>][+-]?([1-9])|[|>]([1-9])", header)
        new = indent + 2
        if explicit:  # an indentation indicator counts from the parent: shift by the parent's move
            step = int(explicit.group(1) or explicit.group(2))
            old = min(old, self._parent_column(node) + step)
            new = indent + step
        shift = new - old
        out = [header]
        for line in body:
            if not line.strip() and len(line) <= old:
                out.append("")
            elif shift >= 0:
                out.append(" " * shift + line)
            else:
                out.append(line[-shift:])
        return out

    def _parent_column(self, node: YScalar) -> int:
        line = self.source.line_text(self.source.line_col(node.span.start)[0])
        return len(line) - len(line.lstrip(" -"))

    def is_flowable(self, node: YNode, spec: _Spec) -> bool:
        key = id(node)
        cached = self._flowable.get(key)
        if cached is not None:
            return cached
        result = self._flowable_now(node, spec)
        self._flowable[key] = result
        return result

    def _flowable_now(self, node: YNode, spec: _Spec) -> bool:
        if isinstance(node, YScalar):
            raw = _strip_props(node.span.text)
            return bool(raw) and "\n" not in raw and (node.style is not None or not _FLOW_UNSAFE.search(raw))
        if spec.block or id(node) in self.notes.busy:
            return False
        if isinstance(node, YMap):
            return all(
                self.is_flowable(k, _GENERIC)
                and id(k) not in self.notes.trailing
                and self.is_flowable(v, _child(spec, k))
                for k, v in node.items
            )
        if isinstance(node, YSeq):  # a list of mappings is a block, each item flow when it fits
            return all(not isinstance(item, YMap) or not item.items for item in node.items) and all(
                id(item) not in self.notes.trailing and self.is_flowable(item, _item(spec))
                for item in node.items
            )
        return False

    def flow(self, node: YNode, spec: _Spec) -> str:
        if isinstance(node, YScalar):
            return _strip_props(node.span.text)
        if isinstance(node, YMap):
            parts = [
                f"{self.flow(k, _GENERIC)}: {self.flow(v, _child(spec, k))}"
                for k, v in _ordered(node, spec, self.reverse)
            ]
            return "{" + ", ".join(parts) + "}"
        assert isinstance(node, YSeq)
        return "[" + ", ".join(self.flow(item, _item(spec)) for item in node.items) + "]"

    # collections

    def value(self, head: str, node: YNode, spec: _Spec, indent: int, trailing: str | None) -> list[str]:
        """`head` (``key:`` or ``-`` with its indentation) followed by the value."""
        tail = f"  {trailing}" if trailing else ""
        if isinstance(node, YScalar):
            lines = self.scalar_lines(node, indent)
            if not lines[0]:
                return [head + tail, *lines[1:]]
            return [f"{head} {lines[0]}" + tail, *lines[1:]]
        empty = not (node.items if isinstance(node, YMap | YSeq) else ())
        if empty or (self.allow_flow and self.is_flowable(node, spec)):
            line = f"{head} {self.flow(node, spec)}"
            if empty or display_width(line) <= WIDTH:
                return [line + tail]
        if head.lstrip() == "-":  # a block collection in a list item: its first line on the dash
            inner = indent + self.step
            body = self.block(node, spec, inner)
            lead: list[str] = []
            while body and (not body[0].strip() or body[0].lstrip().startswith("#")):
                line = body.pop(0)
                lead.append(" " * indent + line.strip() if line.strip() else "")
            dash = " " * indent + "-" + " " * (self.step - 1)
            return [*lead, dash + body[0][inner:] + tail, *body[1:]]
        return [head + tail, *self.block(node, spec, indent + self.step)]

    def block(self, node: YNode, spec: _Spec, indent: int) -> list[str]:
        pad = " " * indent
        out: list[str] = []
        if isinstance(node, YMap):
            for n, (key, value) in enumerate(_ordered(node, spec, self.reverse and indent > 0)):
                out.extend(self._lead(id(key), pad, first=n == 0))
                head = pad + self.flow(key, _GENERIC) + ":"
                out.extend(
                    self.value(head, value, _child(spec, key), indent, self.notes.trailing.get(id(key)))
                )
        elif isinstance(node, YSeq):
            for n, item in enumerate(node.items):
                out.extend(self._lead(id(item), pad, first=n == 0))
                out.extend(
                    self.value(pad + "-", item, _item(spec), indent, self.notes.trailing.get(id(item)))
                )
        return out

    def _lead(self, ident: int, pad: str, *, first: bool) -> list[str]:
        lines = self.notes.leading.get(ident, [])
        if first:
            lines = list(lines)
            while lines and not lines[0]:
                lines.pop(0)
        return [pad + line if line else "" for line in lines]


def _child(spec: _Spec, key: YScalar) -> _Spec:
    name = key.value if isinstance(key.value, str) else None
    if name is not None and name in spec.keys:
        return spec.keys[name]
    if spec.each is not None:
        return spec.each
    return _GENERIC


def _item(spec: _Spec) -> _Spec:
    return spec.each if spec.each is not None else _GENERIC


def _ordered(node: YMap, spec: _Spec, reverse: bool = False) -> list[tuple[YScalar, YNode]]:
    if not spec.order:
        return list(node.items)
    names = reversed(spec.order) if reverse else spec.order
    rank = {name: i for i, name in enumerate(names)}
    last = len(rank)
    indexed = [
        (rank.get(k.value, last) if isinstance(k.value, str) else last, i, (k, v))
        for i, (k, v) in enumerate(node.items)
    ]
    indexed.sort(key=lambda t: (t[0], t[1]))
    return [pair for _, _, pair in indexed]


# --- what a file is ------------------------------------------------------------------------------


def _spec_for(root: YNode, name: str) -> _Spec | None:
    if not isinstance(root, YMap):
        return None
    keys = set(root.keys())
    in_tests = "tests" in Path(name).parts[:-1]
    if "cases" in keys:
        return _CASES
    if "schema" in keys:
        return _SCHEMA
    if "pack" in keys and "format" in keys:
        return _PACK
    if in_tests and "pack" in keys:  # a test-case file still without its cases
        return _CASES
    return None


def format_source(source: Source) -> tuple[str | None, list[Diagnostic]]:
    """The canonical text of a pack, case or schema file, or None with the problems found."""
    return _layout(source, _Writer)


def _layout(
    source: Source, writer: Callable[[Source, _Notes], _Writer]
) -> tuple[str | None, list[Diagnostic]]:
    tree, problems = load_yaml(source)
    errors = [d for d in problems if d.is_error]
    if tree is None or errors:
        return None, errors or problems
    spec = _spec_for(tree, source.name)
    if spec is None:
        return None, [Diagnostic("fmt/not-policy-yaml", Span(source, tree.span.start, tree.span.start + 1))]
    notes = _notes(source, tree)
    lines = [*notes.header]
    lines.extend(writer(source, notes).block(tree, spec, 0))
    footer = list(notes.footer)
    while footer and not footer[-1]:
        footer.pop()
    lines.extend(footer)  # (a `|+` block at the end keeps its blank lines: they are its value)
    return "\n".join(line.rstrip() for line in lines) + "\n", []


def format_text(text: str, *, path: Path | str) -> str:
    """The canonical text of the file `path` holding `text`; `PolicyError` (every problem,
    located) when it does not parse or is not a pack, a test-case file or the household schema."""
    result, problems = format_source(Source(str(path), text))
    if result is None:
        raise PolicyError(problems)
    return result


# --- many files -----------------------------------------------------------------------------------


@attrs.frozen
class FmtResult:
    """What `format_paths` found: the files whose layout differs (rewritten when `written`), the
    files already canonical, the problems, and a unified diff of the changes."""

    changed: tuple[Path, ...]
    unchanged: tuple[Path, ...]
    diagnostics: tuple[Diagnostic, ...]
    diff: str
    written: bool

    @property
    def exit_code(self) -> int:
        """2 on bad input, 1 when files differ and were not written (``--check``), else 0."""
        if any(d.is_error for d in self.diagnostics):
            return 2
        return 1 if self.changed and not self.written else 0

    def summary(self, lang: Lang) -> str:
        """One line for the end of the command's output, in `lang`."""
        errors = sum(1 for d in self.diagnostics if d.is_error)
        changed, same = len(self.changed), len(self.unchanged)
        if errors:
            return (
                f"{errors} 个错误，未写入任何文件"
                if lang == "zh"
                else f"{errors} error{'s' if errors != 1 else ''}, nothing written"
            )
        if lang == "zh":
            verb = "已重排" if self.written else "需要重排"
            return f"{changed} 个文件{verb}，{same} 个文件已符合格式"
        verb = "reformatted" if self.written else "would be reformatted"
        return (
            f"{changed} file{'s' if changed != 1 else ''} {verb}, "
            f"{same} file{'s' if same != 1 else ''} already formatted"
        )


def find_yaml(paths: Sequence[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """The ``*.yaml`` / ``*.yml`` files given or below the folders given (hidden ones skipped),
    sorted, each once."""
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for root in paths:
        if root.is_dir():
            inside = sorted(
                p
                for p in root.rglob("*")
                if p.suffix in (".yaml", ".yml")
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(root).parts)
            )
            if not inside:
                problems.append(Diagnostic("fmt/no-yaml", None, {"path": str(root)}))
            found.extend(inside)
        elif root.exists():
            found.append(root)
        else:
            problems.append(Diagnostic("io/not-found", None, {"path": str(root)}))
    unique = list(dict.fromkeys(found))
    return unique, problems


def format_paths(paths: Sequence[Path], *, write: bool) -> FmtResult:
    """Format every pack, case and schema file given or below the folders given.

    With `write`, the files whose layout differs are rewritten (each atomically) — but only when
    no file has a problem: bad input writes nothing.  `FmtResult.exit_code` is the command's.
    """
    files, problems = find_yaml(paths)
    changed: list[tuple[Path, str, str]] = []
    unchanged: list[Path] = []
    for path in files:
        data, unreadable = read_bytes(path)
        if data is None:
            problems.extend(unreadable)
            continue
        source, undecodable = decode_source(data, str(path))
        if source is None:
            problems.extend(undecodable)
            continue
        text, found = format_source(source)
        problems.extend(found)
        if text is None:
            continue
        if text.encode("utf-8") == data:
            unchanged.append(path)
        else:
            changed.append((path, source.text, text))
    bad = any(d.is_error for d in problems)
    written = write and not bad
    if written:
        for path, _, text in changed:
            _write_atomic(path, text)
    return FmtResult(
        changed=tuple(p for p, _, _ in changed),
        unchanged=tuple(unchanged),
        diagnostics=tuple(problems),
        diff="".join(_diff(p, old, new) for p, old, new in changed),
        written=written,
    )


def _diff(path: Path, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"{path}", f"{path} (formatted)"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _write_atomic(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temp, path.stat().st_mode & 0o777)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
