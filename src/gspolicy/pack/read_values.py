"""The value readers under the pack reader: citations, bounds, dated parameters and values,
amounts, measure terms and expressions (located inside the file), each reported where it stands.

`ValueReader` holds what a pack declares for its values to refer to (sources, departments);
`gspolicy.pack.read` reads a file's sections with it.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from gspolicy._i18n import Text
from gspolicy._location import Source
from gspolicy._messages import noun
from gspolicy._reader import Reader
from gspolicy._yaml import YMap, YNode, YScalar, YSeq
from gspolicy.errors import Diagnostic, suggest
from gspolicy.lang import parse_expression
from gspolicy.pack import format as S
from gspolicy.pack.model import (
    Amount,
    Bound,
    Citation,
    Condition,
    DatedValue,
    Parameter,
    ParamType,
    SourceDoc,
)

__all__ = ["ValueReader", "with_context"]

_CONF_ALIASES = {"H": "H", "M": "M", "L": "L", "M-H": "M-H", "H-M": "M-H", "L-M": "L-M", "M-L": "L-M"}


class ValueReader:
    """Reads the values of one pack file, collecting diagnostics (a base of the pack reader)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.r = Reader()
        self.sources: dict[str, SourceDoc] = {}
        # sources declared but not readable: their own problems are reported where they stand,
        # so a reference to one is not reported again as unknown or missing
        self.broken_sources: set[str] = set()
        self.departments: dict[str, Text] = {}

    # -- helpers -------------------------------------------------------------------------------
    def obj(self, r: Reader, node: YNode | None, shape: S.Shape, where: str) -> dict[str, YNode] | None:
        return r.mapping(node, where, required=shape.required, optional=shape.optional)

    def confidence(self, r: Reader, node: YNode | None) -> str | None:
        if node is None:
            return None
        text = node.text.replace("–", "-").replace("—", "-").strip() if isinstance(node, YScalar) else ""
        conf = _CONF_ALIASES.get(text.upper())
        if conf is None:
            r.choice(node, "confidence", S.CONFIDENCE)
        return conf

    def paraphrase(self, r: Reader, f: Mapping[str, YNode]) -> bool:
        """`paraphrase: true` on a citation or value: its clause is not the source's verbatim text."""
        flag = r.boolean(f.get("paraphrase"), "paraphrase") or False
        if flag and "clause" not in f:
            r.report("pack/paraphrase-without-clause", f.get("paraphrase"))
        return flag

    def source_ref(self, r: Reader, node: YNode | None, key: str = "source") -> str | None:
        name = r.string(node, key, name=True)
        if name is not None and name not in self.sources and name not in self.broken_sources:
            r.report("pack/unknown-source", node, {"name": name}, suggest(name, self.sources))
            return None
        return name

    def department_ref(self, r: Reader, node: YNode | None) -> str | None:
        name = r.string(node, "department", name=True)
        if name is not None and name not in self.departments:
            r.report("pack/unknown-department", node, {"name": name}, suggest(name, self.departments))
            return None
        return name

    def expr(self, r: Reader, node: YNode | None, key: str) -> Condition | None:
        """The expression at `node` with its text, None when absent or unreadable (reported)."""
        if node is None:
            return None
        if not isinstance(node, YScalar) or not isinstance(node.value, str | bool):
            r.wrong(node, key, "an expression")
            return None
        scalar = node
        text = scalar.text
        expr, problems = parse_expression(text, scalar.value_span)
        for d in problems:
            r.diagnostics.append(with_context(d, r.context))
        return None if expr is None else Condition(expr, text)

    def cites(self, r: Reader, node: YNode | None) -> tuple[Citation, ...]:
        if node is None:
            return ()
        items = node.items if isinstance(node, YSeq) else (node,)
        out = []
        for item in items:
            f = self.obj(r, item, S.CITATION, "a citation")
            if f is None:
                continue
            inferred = "inferred_from" in f
            if ("source" in f) == inferred:
                r.report("pack/no-citation", item)
                continue
            ref = self.source_ref(
                r, f.get("inferred_from" if inferred else "source"), "inferred_from" if inferred else "source"
            )
            if ref is None:
                continue
            out.append(
                Citation(
                    ref,
                    inferred,
                    r.string(f.get("clause"), "clause"),
                    self.confidence(r, f.get("confidence")),
                    r.text(f.get("note"), "note"),
                    item.span,
                    self.paraphrase(r, f),
                )
            )
        return tuple(out)

    def bound(self, r: Reader, node: YNode | None, key: str) -> Bound | None:
        if node is None:
            return None
        if isinstance(node, YMap):
            f = self.obj(r, node, S.BOUND_OBJ, f"`{key}`")
            if f is None:
                return None
            value = r.number(f.get("value"), "value")
            if value is None:
                return None
            return Bound(
                value,
                self.source_ref(r, f.get("source")),
                r.string(f.get("clause"), "clause"),
                self.confidence(r, f.get("confidence")),
                r.text(f.get("derivation"), "derivation"),
                self.paraphrase(r, f),
            )
        value = r.number(node, key)
        return None if value is None else Bound(value)

    def value_parts(
        self, r: Reader, node: YNode, f: Mapping[str, YNode]
    ) -> tuple[str, Bound | None, Bound | None, str | None] | None:
        """Which form a dated value or an amount takes; checks ranges and sources."""
        forms = [k for k in ("value", "at_least", "at_most", "not_established") if k in f]
        ranged = "at_least" in f or "at_most" in f
        if not forms or ("value" in f and len(forms) > 1) or ("not_established" in f and len(forms) > 1):
            r.report("pack/bad-value", node)
            return None
        source = self.source_ref(r, f.get("source"))
        if "not_established" in f:
            flag = r.boolean(f.get("not_established"), "not_established")
            if flag is not True:
                r.report("pack/bad-value", f.get("not_established"))
                return None
            return "not_established", None, None, source
        if ranged:
            low = self.bound(r, f.get("at_least"), "at_least")
            high = self.bound(r, f.get("at_most"), "at_most")
            if (f.get("at_least") is not None and low is None) or (
                f.get("at_most") is not None and high is None
            ):
                return None
            if low is not None and high is not None and low.value > high.value:
                r.report("pack/empty-range", node, {"low": low.value, "high": high.value})
                return None
            if source is None and f.get("source") is None:
                for bound, key in ((low, "at_least"), (high, "at_most")):
                    if bound is not None and bound.source is None:
                        r.report("pack/no-source", f.get(key))
            return "range", low, high, source
        if source is None and f.get("source") is None:
            r.report("pack/no-source", node)
        return "exact", None, None, source

    # -- parts ---------------------------------------------------------------------------------
    def read_sources(self, r: Reader, node: YNode | None) -> None:
        for key, value in r.entries(node, "sources"):
            name = str(key.value)
            rr = r.within("source", name)
            self.broken_sources.add(name)
            f = self.obj(rr, value, S.SOURCE, f"source `{name}`")
            if f is None:
                continue
            title = rr.text(f.get("title"), "title")
            conf = self.confidence(rr, f.get("confidence"))
            if title is None or conf is None:
                continue
            self.broken_sources.discard(name)
            self.sources[name] = SourceDoc(
                name,
                title,
                conf,
                rr.string(f.get("issuer"), "issuer"),
                rr.date(f.get("date"), "date"),
                rr.string(f.get("address"), "address"),
                rr.text(f.get("note"), "note"),
                key.span,
            )

    def read_parameter(self, r: Reader, key: YScalar, node: YNode) -> Parameter | None:
        name = str(key.value)
        r = r.within("parameter", name)
        f = self.obj(r, node, S.PARAMETER, f"parameter `{name}`")
        if f is None:
            return None
        title = r.text(f.get("title"), "title")
        ptype_text = (
            r.choice(f.get("type"), "type", ("number", "date", "bool", "text", "list"))
            if "type" in f
            else "number"
        )
        values: list[DatedValue] = []
        for vkey, vnode in r.entries_any(f.get("values"), "values"):
            effective = r.date(vkey, "values")
            vf = self.obj(r, vnode, S.DATED_VALUE, f"value at `{vkey.text}`")
            if effective is None or vf is None:
                continue
            parts = self.value_parts(r, vnode, vf)
            if parts is None:
                continue
            kind, low, high, source = parts
            approximate = r.boolean(vf.get("approximate"), "approximate") or False
            if approximate and kind != "exact":
                r.report("pack/approximate-not-exact", vf.get("approximate"))
                continue
            value: object = None
            if kind == "exact":
                value = self.typed_value(r, vf["value"], ptype_text or "number")
                if value is None:
                    continue
            elif kind == "range" and ptype_text not in (None, "number"):
                r.report(
                    "pack/wrong-value-type",
                    vnode,
                    {
                        "expected": noun("a number"),
                        "type": ptype_text,
                        "found": Text(zh="区间", en="a range"),
                    },
                )
                continue
            values.append(
                DatedValue(
                    effective,
                    kind,  # type: ignore[arg-type]  # one of the three forms, checked above
                    value,
                    low,
                    high,
                    source,
                    r.string(vf.get("clause"), "clause"),
                    self.confidence(r, vf.get("confidence")),
                    r.text(vf.get("note"), "note"),
                    vkey.span,
                    approximate,
                    self.paraphrase(r, vf),
                )
            )
        if title is None or ptype_text is None:
            return None
        values.sort(key=lambda v: v.effective)
        ptype: ParamType = ptype_text  # type: ignore[assignment]  # checked by choice()
        return Parameter(
            name,
            title,
            ptype,
            tuple(values),
            r.string(f.get("unit"), "unit"),
            r.string(f.get("enum"), "enum", name=True),
            key.span,
        )

    def typed_value(self, r: Reader, node: YNode, ptype: str) -> object:
        found = node.value if isinstance(node, YScalar) else None
        if ptype == "number":
            return r.number(node, "value")
        if ptype == "date":
            return r.date(node, "value")
        if ptype == "bool":
            return r.boolean(node, "value")
        if ptype == "text":
            return r.string(node, "value")
        if isinstance(node, YSeq):
            items = [r.string(item, "value") for item in node.items]
            if any(i is None for i in items):
                return None
            return tuple(i for i in items if i is not None)
        r.report(
            "pack/wrong-value-type", node, {"expected": noun("a list"), "type": ptype, "found": repr(found)}
        )
        return None

    def amount(self, r: Reader, node: YNode | None, shape: S.Shape = S.AMOUNT) -> Amount | None:
        f = self.obj(r, node, shape, "`amount`" if shape is S.AMOUNT else "`term`")
        if f is None or node is None:
            return None
        parts = self.value_parts(r, node, f)
        if parts is None:
            return None
        kind, low, high, source = parts
        value = r.number(f.get("value"), "value") if kind == "exact" else None
        if kind == "exact" and value is None:
            return None
        return Amount(
            kind,  # type: ignore[arg-type]  # one of the three forms, checked above
            value,
            low,
            high,
            r.string(f.get("unit"), "unit"),
            source,
            r.string(f.get("clause"), "clause"),
            self.confidence(r, f.get("confidence")),
            r.text(f.get("note"), "note"),
        )

    def measure_terms(
        self, r: Reader, f: Mapping[str, YNode], form: str | None, node: YNode
    ) -> tuple[Amount | None, Amount | None]:
        """A measure's amount (a loan's ceiling) and a loan's term, each misuse located."""
        if form != "loan":
            for key in ("ceiling", "term"):
                if key in f and form is not None:
                    r.report("pack/not-a-loan", f[key], {"key": key, "form": form})
            if "amount" not in f:
                if form is not None:
                    r.report("pack/measure-amount", node, {"form": form})
                return None, None
            return self.amount(r, f.get("amount")), None
        if "amount" in f:
            r.report("pack/loan-amount", f["amount"])
        for key in ("ceiling", "term"):
            if key not in f:
                r.report("pack/loan-terms", node, {"key": key})
        ceiling = self.amount(r, f.get("ceiling")) if "ceiling" in f else None
        term = self.amount(r, f.get("term"), S.TERM) if "term" in f else None
        if term is not None and term.unit not in S.TERM_UNITS:
            if term.unit is not None:  # a missing unit is reported as a missing key
                r.report("pack/term-unit", f["term"], {"unit": term.unit})
            term = None
        if "amount" in f or term is None:
            return None, None
        return ceiling, term


def with_context(d: Diagnostic, context: tuple[tuple[str, str], ...]) -> Diagnostic:
    """The diagnostic with the reader's context added (the expression parser has none)."""
    return attrs.evolve(d, context=(*d.context, *context))
