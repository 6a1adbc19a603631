"""What a new version changes: the structural diff of two policy sets, with file:line on both sides.

`structural_diff` pairs the versions of each pack (by id when each side has one version of it,
else by version) and lists what was added, removed or changed — versions, validity, criteria,
rules, measures, facts, parameters and each dated value, sources, departments, applicability and
buffer bases; `not_in_force` and `schema_note` are the notes a comparison adds.  Reading a side
(`load_side`, `in_context`) is `gspolicy.analysis.diff_sides`; the effect on households and areas
(`impact`, `area_impact`) is `gspolicy.analysis.impact` — both re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Literal

import attrs

from gspolicy._i18n import Text
from gspolicy._location import Span
from gspolicy.analysis._where import key_span
from gspolicy.analysis.diff_sides import in_context, load_side, undecidable
from gspolicy.analysis.impact import AreaChange, AreaImpact, HouseholdChange, Impact, area_impact, impact
from gspolicy.engine.verdicts import show_value
from gspolicy.errors import Diagnostic
from gspolicy.lang import Expr, print_expr
from gspolicy.pack.hash import canonical
from gspolicy.pack.model import Condition, DatedValue, PackSource
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Schema

__all__ = [
    "AreaChange",
    "AreaImpact",
    "Change",
    "HouseholdChange",
    "Impact",
    "Kind",
    "area_impact",
    "impact",
    "in_context",
    "load_side",
    "not_in_force",
    "schema_note",
    "structural_diff",
    "undecidable",
]


Kind = Literal["added", "removed", "changed"]


@attrs.frozen
class Change:
    """One structural difference: what (`part` `name` of pack `pack`), and where on each side."""

    kind: Kind
    part: str  # version, validity, title, department, source, criterion, rule, measure, fact, parameter, value, applies, basis, buffer
    name: str
    pack: str  # `id@old-version → id@new-version`, or one key
    old: Span | None = None
    new: Span | None = None
    before: str | None = None  # a short rendering of the old value, when it says something
    after: str | None = None
    aspects: tuple[str, ...] = ()  # for a changed part: which of its keys changed
    effective: dt.date | None = None  # for a dated value: its effective date


# --- the structural diff ----------------------------------------------------------------------------


def _pairs(old: PolicySet, new: PolicySet) -> Iterator[tuple[str, CheckedPack | None, CheckedPack | None]]:
    for pack_id in sorted({*old.ids, *new.ids}):
        olds, news = old.versions(pack_id), new.versions(pack_id)
        if len(olds) == 1 and len(news) == 1:
            yield pack_id, olds[0], news[0]
            continue
        by_version = {v.version: v for v in news}
        for o in olds:
            yield pack_id, o, by_version.pop(o.version, None)
        for n in by_version.values():
            yield pack_id, None, n


def _same(a: object, b: object) -> bool:
    return canonical(a) == canonical(b)


def _aspects(a: object, b: object, skip: Iterable[str] = ()) -> tuple[str, ...]:
    """The keys of two model values whose canonical forms differ."""
    ca, cb = canonical(a), canonical(b)
    if not isinstance(ca, dict) or not isinstance(cb, dict):
        return ()
    ignored = {"_", *skip}
    return tuple(sorted(k for k in {*ca, *cb} if k not in ignored and ca.get(k) != cb.get(k)))


def _expr(e: Expr | None) -> str | None:
    return print_expr(e) if e is not None else None


def _value_text(value: DatedValue | None) -> str | None:
    if value is None:
        return None
    if value.kind == "not_established":
        return "not established"
    if value.kind == "range":
        low = show_value(value.low.value) if value.low else "…"
        high = show_value(value.high.value) if value.high else "…"
        return f"[{low}, {high}]"
    if isinstance(value.value, tuple):
        return "[" + ", ".join(str(v) for v in value.value) + "]"
    return show_value(value.value)


def _key_span(pack: PackSource, key: str) -> Span | None:
    return key_span(pack.source, key)


def _department_span(pack: PackSource, name: str) -> Span | None:
    block = key_span(pack.source, "departments")
    return key_span(pack.source, name, block.end) if block is not None else None


def _diff_named(
    part: str,
    label: str,
    old: Mapping[str, object],
    new: Mapping[str, object],
    spans: tuple[Mapping[str, Span | None], Mapping[str, Span | None]],
    render: Mapping[str, str] | None = None,
    skip: Iterable[str] = (),
) -> Iterator[Change]:
    """Added, removed and changed parts keyed by name (`render` gives the attribute to show)."""
    shown = render or {}
    old_spans, new_spans = spans
    for name in [*old, *(n for n in new if n not in old)]:
        a, b = old.get(name), new.get(name)
        if a is None:
            yield Change("added", part, name, label, None, new_spans.get(name), None, _show(b, shown))
        elif b is None:
            yield Change("removed", part, name, label, old_spans.get(name), None, _show(a, shown), None)
        elif not _same(a, b):
            aspects = _aspects(a, b, skip)
            if not aspects:
                continue
            yield Change(
                "changed",
                part,
                name,
                label,
                old_spans.get(name),
                new_spans.get(name),
                _show(a, shown, aspects),
                _show(b, shown, aspects),
                aspects,
            )


def _show(value: object, render: Mapping[str, str], aspects: tuple[str, ...] | None = None) -> str | None:
    """The condition (or other main attribute) of a part, when it is what changed (or for a
    part added or removed)."""
    key = render.get(type(value).__name__)
    if key is None or (aspects is not None and key not in aspects):
        return None
    found = getattr(value, key, None)
    if isinstance(found, Condition):
        found = found.expr
    if isinstance(found, Expr):
        return print_expr(found)
    return None if found is None else str(found)


def _diff_parameters(label: str, old: PackSource, new: PackSource) -> Iterator[Change]:
    for name in [*old.parameters, *(n for n in new.parameters if n not in old.parameters)]:
        a, b = old.parameters.get(name), new.parameters.get(name)
        if a is None or b is None:
            kind: Kind = "added" if a is None else "removed"
            yield Change(kind, "parameter", name, label, a.span if a else None, b.span if b else None)
            continue
        meta = _aspects(a, b, skip=("values",))
        if meta:
            yield Change("changed", "parameter", name, label, a.span, b.span, aspects=meta)
        olds = {v.effective: v for v in a.values}
        news = {v.effective: v for v in b.values}
        for day in sorted({*olds, *news}):
            va, vb = olds.get(day), news.get(day)
            if va is not None and vb is not None and _same(va, vb):
                continue
            kind = "added" if va is None else "removed" if vb is None else "changed"
            yield Change(
                kind,
                "value",
                name,
                label,
                va.span if va else None,
                vb.span if vb else None,
                _value_text(va),
                _value_text(vb),
                _aspects(va, vb) if va is not None and vb is not None else (),
                day,
            )


def _diff_applies(label: str, a: PackSource, b: PackSource) -> Iterator[Change]:
    old, new = a.applies, b.applies
    if old is None and new is None:
        return
    if old is not None and new is not None:
        if not _same(old, new):
            yield Change(
                "changed",
                "applies",
                "applies",
                label,
                old.span,
                new.span,
                _expr(old.when.expr) if not _same(old.when, new.when) else None,
                _expr(new.when.expr) if not _same(old.when, new.when) else None,
                _aspects(old, new),
            )
        return
    kind: Kind = "added" if old is None else "removed"
    yield Change(
        kind,
        "applies",
        "applies",
        label,
        old.span if old else None,
        new.span if new else None,
        _expr(old.when.expr) if old else None,
        _expr(new.when.expr) if new else None,
    )


def _diff_versions(old: CheckedPack, new: CheckedPack) -> Iterator[Change]:
    a, b = old.pack, new.pack
    label = a.key if a.key == b.key else f"{a.key} → {b.key}"
    if a.version != b.version:
        yield Change(
            "changed",
            "version",
            a.id,
            label,
            _key_span(a, "version"),
            _key_span(b, "version"),
            a.version,
            b.version,
        )
    for key in ("valid_from", "valid_to"):
        va, vb = getattr(a, key), getattr(b, key)
        if va != vb:
            yield Change(
                "changed",
                "validity",
                key,
                label,
                _key_span(a, key) or a.id_span,
                _key_span(b, key) or b.id_span,
                va.isoformat() if va else "open",
                vb.isoformat() if vb else "open",
            )
    for key in ("title", "department", "subject", "note"):
        if not _same(getattr(a, key), getattr(b, key)):
            yield Change("changed", "pack", key, label, _key_span(a, key), _key_span(b, key))
    yield from _diff_named(
        "department",
        label,
        a.departments,
        b.departments,
        (
            {n: _department_span(a, n) for n in a.departments},
            {n: _department_span(b, n) for n in b.departments},
        ),
    )
    yield from _diff_named(
        "source",
        label,
        a.sources,
        b.sources,
        ({n: s.span for n, s in a.sources.items()}, {n: s.span for n, s in b.sources.items()}),
    )
    yield from _diff_parameters(label, a, b)
    yield from _diff_named(
        "fact",
        label,
        a.facts,
        b.facts,
        ({n: f.span for n, f in a.facts.items()}, {n: f.span for n, f in b.facts.items()}),
        {"Fact": "expr"},
    )
    yield from _diff_applies(label, a, b)
    yield from _diff_named(
        "criterion",
        label,
        {c.id: c for c in a.criteria},
        {c.id: c for c in b.criteria},
        ({c.id: c.span for c in a.criteria}, {c.id: c.span for c in b.criteria}),
        {"Criterion": "require"},
    )
    yield from _diff_named(
        "measure",
        label,
        a.measures,
        b.measures,
        ({n: m.span for n, m in a.measures.items()}, {n: m.span for n, m in b.measures.items()}),
    )
    yield from _diff_named(
        "rule",
        label,
        {r.id: r for r in a.rules},
        {r.id: r for r in b.rules},
        ({r.id: r.span for r in a.rules}, {r.id: r.span for r in b.rules}),
        {"Rule": "when"},
    )
    bases_a = {x.id: x for x in a.buffer.bases} if a.buffer else {}
    bases_b = {x.id: x for x in b.buffer.bases} if b.buffer else {}
    if a.buffer is not None and b.buffer is not None and not _same(a.buffer.retained, b.buffer.retained):
        yield Change(
            "changed",
            "buffer",
            "retained",
            label,
            a.buffer.span,
            b.buffer.span,
            _expr(a.buffer.retained.expr),
            _expr(b.buffer.retained.expr),
        )
    elif (a.buffer is None) != (b.buffer is None):
        added: Kind = "added" if a.buffer is None else "removed"
        yield Change(
            added,
            "buffer",
            "buffer",
            label,
            a.buffer.span if a.buffer else None,
            b.buffer.span if b.buffer else None,
        )
    yield from _diff_named(
        "basis",
        label,
        bases_a,
        bases_b,
        ({n: x.span for n, x in bases_a.items()}, {n: x.span for n, x in bases_b.items()}),
        {"Basis": "active"},
    )


def structural_diff(old: PolicySet, new: PolicySet) -> list[Change]:
    """Every structural difference between the two sets, pack by pack, in file order."""
    out: list[Change] = []
    for pack_id, a, b in _pairs(old, new):
        if a is None and b is not None:
            out.append(Change("added", "version", pack_id, b.key, None, b.pack.id_span, None, b.version))
        elif b is None and a is not None:
            out.append(Change("removed", "version", pack_id, a.key, a.pack.id_span, None, a.version, None))
        elif a is not None and b is not None and a.content_hash != b.content_hash:
            out.extend(_diff_versions(a, b))
    return out


# --- notes on a comparison ---------------------------------------------------------------------------


def not_in_force(
    old: PolicySet, new: PolicySet, changes: Sequence[Change], as_of: dt.date
) -> list[Diagnostic]:
    """Warnings for changed packs with no version in force on `as_of` on one side."""
    ids = sorted({c.pack.split("@")[0] for c in changes})
    out: list[Diagnostic] = []
    for pack_id in ids:
        for side, policy_set in ((Text(zh="旧", en="old"), old), (Text(zh="新", en="new"), new)):
            if pack_id in policy_set.ids and policy_set.in_force(pack_id, as_of) is None:
                out.append(
                    Diagnostic(
                        "diff/not-in-force", None, {"id": pack_id, "as_of": as_of.isoformat(), "side": side}
                    )
                )
    return out


def schema_note(old: Schema, new: Schema) -> list[Diagnostic]:
    if old == new:
        return []
    return [
        Diagnostic(
            "diff/schema-changed", None, {"old": f"{old.id}@{old.version}", "new": f"{new.id}@{new.version}"}
        )
    ]
