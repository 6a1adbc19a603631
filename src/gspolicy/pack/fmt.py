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

import re
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs

from gspolicy._location import Source, Span, display_width
from gspolicy._yaml import YMap, YNode, YScalar, YSeq, load_yaml
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.pack.fmt_notes import Notes, keeps_trailing_lines, notes_of, strip_props
from gspolicy.pack.format import CASE_EXPECT_KEYS

__all__ = ["WIDTH", "format_source", "format_text", "layout_orders"]

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
        "keys",
        "indicators",
        "lists",
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
        "keys": _section(),
        "indicators": _section(
            _entity(
                "indicator",
                (
                    "id",
                    "title",
                    "count",
                    "sum",
                    "where",
                    "by",
                    "period",
                    "dated_by",
                    "held",
                    "tolerance",
                    "cite",
                    "note",
                ),
            )
        ),
        "lists": _section(_entity("list column", ("column", "title"))),
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


# --- writing -----------------------------------------------------------------------------------

_FLOW_UNSAFE = re.compile(r"[,\[\]{}]")


class _Writer:
    """Lay a file out again.  The layout is the canonical one; the tests ask for others (`step`
    spaces of indentation, every collection a block, the known keys in reverse order) to make
    files in other layouts that must format to the same text (the top level keeps the canonical
    order: a comment above the first key is the file's header)."""

    def __init__(
        self, source: Source, notes: Notes, *, step: int = 2, flow: bool = True, reverse: bool = False
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
        raw = strip_props(node.span.text)
        if node.style in ("|", ">"):
            return self._block_scalar(node, raw, indent)
        if "\n" not in raw:
            return [raw]
        lines = raw.split("\n")
        return [lines[0], *(" " * (indent + 2) + line.strip() if line.strip() else "" for line in lines[1:])]

    def _block_scalar(self, node: YScalar, raw: str, indent: int) -> list[str]:
        lines = (raw[:-1] if keeps_trailing_lines(node) and raw.endswith("\n") else raw.rstrip("\n")).split(
            "\n"
        )
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
            raw = strip_props(node.span.text)
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
            return strip_props(node.span.text)
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
    source: Source, writer: Callable[[Source, Notes], _Writer]
) -> tuple[str | None, list[Diagnostic]]:
    tree, problems = load_yaml(source)
    errors = [d for d in problems if d.is_error]
    if tree is None or errors:
        return None, errors or problems
    spec = _spec_for(tree, source.name)
    if spec is None:
        return None, [Diagnostic("fmt/not-policy-yaml", Span(source, tree.span.start, tree.span.start + 1))]
    notes = notes_of(source, tree)
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
