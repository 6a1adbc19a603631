"""The lints of one pack version: unused declarations, missing citations and texts, identical
conditions, duplicate dates, constant conditions, late parameters and ambiguous month shifts."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from typing import Any, cast

import attrs

from gspolicy._i18n import Text
from gspolicy._location import Span
from gspolicy.analysis._where import key_span
from gspolicy.analysis.fold import Const, constant_parts, fold
from gspolicy.errors import Diagnostic
from gspolicy.lang import print_expr, references
from gspolicy.lang.interpret import shift_months
from gspolicy.lang.typed import TCall, TConst, TParam, TypedExpr, typed_children
from gspolicy.pack.model import Citation, PackSource
from gspolicy.pack.typecheck import CheckedPack

__all__ = ["condition_roots", "lint_version", "pack_context"]

_LANG_WORD = {"zh": Text(zh="中文", en="Chinese"), "en": Text(zh="英文", en="English")}

_TRUE = Text(zh="真", en="true")
_FALSE = Text(zh="假", en="false")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WHAT = {
    "criterion": (Text(zh="指标", en="criterion"), Text(zh="指标", en="criteria")),
    "rule": (Text(zh="规则", en="rule"), Text(zh="规则", en="rules")),
}


def pack_context(pack: PackSource, *inner: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """The context of a finding in `pack` (the pack after the `inner` parts)."""
    return (*inner, ("pack", pack.key))


def condition_roots(checked: CheckedPack) -> Iterator[tuple[str, str, TypedExpr]]:
    """Every checked condition or expression that is not a fact: (kind, name, tree)."""
    for cid, texpr in checked.criteria.items():
        yield "criterion", cid, texpr
    for cid, texpr in checked.givens.items():
        yield "criterion", cid, texpr
    if checked.applies is not None:
        yield "option", "applies", checked.applies
    for rid, texpr in checked.rules.items():
        yield "rule", rid, texpr
    if checked.buffer is not None:
        yield "option", "buffer", checked.buffer.retained
        for bid, texpr in checked.buffer.active.items():
            yield "basis", bid, texpr
        for bid, texpr in checked.buffer.until.items():
            yield "basis", bid, texpr
    for mid, texpr in checked.lapses.items():
        yield "measure", mid, texpr


_SLOT = re.compile(r"\{([^{}]+)\}")


def _explain_names(pack: PackSource) -> set[str]:
    """The names explanation texts insert (``{stable_income}``): they count as used."""
    names: set[str] = set()
    for c in pack.criteria:
        for text in (c.explain_passed, c.explain_failed, c.given_explain):
            if text is not None:
                names.update(m.strip() for t in (text.zh, text.en) for m in _SLOT.findall(t))
    return names


def _unused(checked: CheckedPack) -> list[Diagnostic]:
    pack = checked.pack
    out: list[Diagnostic] = []
    reached_facts: set[str] = set()
    used_params: set[str] = set()
    pending: list[TypedExpr] = [texpr for _, _, texpr in condition_roots(checked)]
    slots = _explain_names(pack)
    pending.extend(checked.facts[n] for n in slots if n in checked.facts)
    reached_facts.update(n for n in slots if n in checked.facts)
    used_params.update(n for n in slots if n in pack.parameters)
    while pending:
        facts, params = references(pending.pop())
        used_params.update(params)
        for name in facts - reached_facts:
            reached_facts.add(name)
            if name in checked.facts:
                pending.append(checked.facts[name])
    for name, param in pack.parameters.items():
        if name not in used_params:
            out.append(
                Diagnostic("lint/unused-parameter", param.span, {"name": name}, context=pack_context(pack))
            )
    for name, fact in pack.facts.items():
        if name not in reached_facts:
            out.append(Diagnostic("lint/unused-fact", fact.span, {"name": name}, context=pack_context(pack)))
    cited = {c.source for c in _citations(pack)}
    for param in pack.parameters.values():
        for value in param.values:
            cited.update(value.cited)
    for measure in pack.measures.values():
        amount = measure.amount
        cited.update(amount.cited)
    for name, doc in pack.sources.items():
        if name not in cited:
            out.append(Diagnostic("lint/unused-source", doc.span, {"name": name}, context=pack_context(pack)))
    named = {
        pack.department,
        *(c.department for c in pack.criteria),
        *(m.department for m in pack.measures.values()),
    }
    block = key_span(pack.source, "departments")
    for name in pack.departments:
        if name not in named:
            span = key_span(pack.source, name, block.end) if block is not None else None
            out.append(
                Diagnostic(
                    "lint/unused-department", span or block, {"name": name}, context=pack_context(pack)
                )
            )
    granted = {g for rule in pack.rules for g in rule.grant}
    for name, measure in pack.measures.items():
        if name not in granted:
            out.append(
                Diagnostic("lint/unused-measure", measure.span, {"name": name}, context=pack_context(pack))
            )
    return out


def _citations(pack: PackSource) -> Iterator[Citation]:
    for fact in pack.facts.values():
        yield from fact.cites
    for criterion in pack.criteria:
        yield from criterion.cites
    for rule in pack.rules:
        yield from rule.cites
    for measure in pack.measures.values():
        yield from measure.cites
    if pack.applies is not None:
        yield from pack.applies.cites
    for invariant in pack.invariants:
        yield from invariant.cites
    for indicator in pack.indicators:
        yield from indicator.cites
    if pack.buffer is not None:
        for basis in pack.buffer.bases:
            yield from basis.cites
        yield from pack.buffer.combine.cites


def _no_citation(pack: PackSource) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    parts: list[tuple[str, str, tuple[Citation, ...], Span | None]] = [
        *(("criterion", c.id, c.cites, c.span) for c in pack.criteria),
        *(("rule", r.id, r.cites, r.span) for r in pack.rules),
    ]
    if pack.applies is not None:
        parts.append(("option", "applies", pack.applies.cites, pack.applies.span))
    if pack.buffer is not None:
        parts.extend(("basis", b.id, b.cites, b.span) for b in pack.buffer.bases)
        combine = pack.buffer.combine
        parts.append(("option", "combine", combine.cites, combine.span))
    words = {
        "criterion": Text(zh="指标", en="criterion"),
        "rule": Text(zh="规则", en="rule"),
        "option": Text(zh="选项", en="option"),
        "basis": Text(zh="缓冲依据", en="basis"),
    }
    for kind, name, cites, span in parts:
        if cites:
            continue
        where = key_span(pack.source, "cite", span.start, span.end) if span is not None else None
        out.append(
            Diagnostic(
                "lint/no-citation",
                where or span,
                {"what": words[kind], "name": name},
                context=pack_context(pack),
            )
        )
    return out


def _texts(pack: PackSource) -> Iterator[tuple[str, Text | None, Span | None, tuple[tuple[str, str], ...]]]:
    """Every text of the pack: (key, text, the span of its owner, context)."""
    yield "title", pack.title, pack.span, ()
    for c in pack.criteria:
        ctx = (("criterion", c.id),)
        for key, text in (
            ("title", c.title),
            ("passed", c.explain_passed),
            ("failed", c.explain_failed),
            ("given_explain", c.given_explain),
            ("note", c.note),
        ):
            yield key, text, c.span, ctx
    for r in pack.rules:
        yield "title", r.title, r.span, (("rule", r.id),)
        yield "note", r.note, r.span, (("rule", r.id),)
    for f in pack.facts.values():
        yield "title", f.title, f.span, (("fact", f.name),)
    for p in pack.parameters.values():
        yield "title", p.title, p.span, (("parameter", p.name),)
        for v in p.values:
            yield "note", v.note, v.span, (("parameter", p.name),)
    for m in pack.measures.values():
        yield "title", m.title, m.span, (("measure", m.id),)
        yield "period", m.period, m.span, (("measure", m.id),)
    if pack.applies is not None:
        for key, text in (
            ("title", pack.applies.title),
            ("passed", pack.applies.explain_assessed),
            ("failed", pack.applies.explain_not_applicable),
        ):
            yield key, text, pack.applies.span, (("option", "applies"),)
    if pack.buffer is not None:
        yield "title", pack.buffer.title, pack.buffer.span, (("option", "buffer"),)
        for b in pack.buffer.bases:
            yield "title", b.title, b.span, (("basis", b.id),)
            yield "note", b.note, b.span, (("basis", b.id),)


def _missing_texts(pack: PackSource) -> list[Diagnostic]:
    """A text whose Chinese has no Chinese character, or whose English is blank or a copy of the
    Chinese: one language is missing."""
    out: list[Diagnostic] = []
    for key, text, owner, ctx in _texts(pack):
        if text is None:
            continue
        missing = None
        if not _CJK.search(text.zh):
            missing = "zh"
        elif not text.en.strip() or text.en.strip() == text.zh.strip():
            missing = "en"
        if missing is None:
            continue
        where = key_span(pack.source, key, owner.start) if owner is not None else None
        out.append(
            Diagnostic(
                "lint/missing-text",
                where or owner,
                {"key": key, "language": _LANG_WORD[missing]},
                context=pack_context(pack, *ctx),
            )
        )
    return out


def _shape(node: object) -> object:
    """A checked tree without its spans: equal shapes mean equal conditions."""
    if attrs.has(type(node)):
        return (
            type(node).__name__,
            tuple(
                (f.name, _shape(getattr(node, f.name)))
                for f in attrs.fields(cast(Any, type(node)))
                if f.name != "span"
            ),
        )
    if isinstance(node, tuple):
        return tuple(_shape(n) for n in node)
    return node


def _identical(checked: CheckedPack) -> list[Diagnostic]:
    pack = checked.pack
    out: list[Diagnostic] = []
    groups: list[tuple[str, list[tuple[str, TypedExpr, Span | None, str]]]] = [
        (
            "criterion",
            [
                (c.id, checked.criteria[c.id], c.require.expr.span, print_expr(c.require.expr))
                for c in pack.criteria
                if c.id in checked.criteria and c.require is not None
            ],
        ),
        (
            "rule",
            [
                (r.id, checked.rules[r.id], r.when.expr.span, print_expr(r.when.expr))
                for r in pack.rules
                if r.id in checked.rules
            ],
        ),
    ]
    for kind, items in groups:
        seen: dict[object, tuple[str, Span | None]] = {}
        what, plural = _WHAT[kind]
        for name, texpr, span, text in items:
            key = _shape(texpr)
            if key in seen:
                other, other_span = seen[key]
                out.append(
                    Diagnostic(
                        "lint/identical-conditions",
                        span,
                        {
                            "what": what,
                            "what_plural": plural,
                            "name": name,
                            "other": other,
                            "other_line": other_span.line if other_span is not None else "?",
                            "condition": text,
                        },
                        context=pack_context(pack),
                    )
                )
            else:
                seen[key] = (name, span)
    return out


def _dates(pack: PackSource) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, param in pack.parameters.items():
        ctx = pack_context(pack, ("parameter", name))
        first_seen: dict[dt.date, Span | None] = {}
        for value in param.values:
            if value.effective in first_seen:
                other = first_seen[value.effective]
                out.append(
                    Diagnostic(
                        "lint/duplicate-date",
                        value.span,
                        {
                            "name": name,
                            "date": value.effective.isoformat(),
                            "other_line": other.line if other is not None else "?",
                        },
                        context=ctx,
                    )
                )
            else:
                first_seen[value.effective] = value.span
        if not param.values:
            continue
        first = min(param.values, key=lambda v: (v.effective, v.span.start if v.span else 0))
        if first.effective > pack.valid_from:
            out.append(
                Diagnostic(
                    "lint/parameter-starts-late",
                    first.span or param.span,
                    {
                        "name": name,
                        "valid_from": pack.valid_from.isoformat(),
                        "last_day": (first.effective - dt.timedelta(days=1)).isoformat(),
                        "first": first.effective.isoformat(),
                    },
                    context=ctx,
                )
            )
    return out


def _constants(checked: CheckedPack) -> list[Diagnostic]:
    pack = checked.pack
    out: list[Diagnostic] = []
    constant_facts: dict[str, Const] = {}
    trees: list[tuple[tuple[str, str], TypedExpr]] = []
    for name, texpr in checked.facts.items():  # in dependency order
        value = fold(texpr, constant_facts)
        if value is not None:
            constant_facts[name] = value
        trees.append((("fact", name), texpr))
    trees.extend(((kind, name), texpr) for kind, name, texpr in condition_roots(checked))
    for (kind, name), texpr in trees:
        for part in constant_parts(texpr, constant_facts):
            out.append(
                Diagnostic(
                    "lint/constant-condition" if part.whole else "lint/constant-part",
                    part.span,
                    {"value": _TRUE if part.value else _FALSE},
                    context=pack_context(pack, (kind, name)),
                )
            )
    return out


def _shifts(node: TypedExpr) -> Iterator[TCall]:
    if isinstance(node, TCall) and node.func in ("years_after", "months_after"):
        yield node
    for child in typed_children(node):
        yield from _shifts(child)


def _missing_days(checked: CheckedPack) -> list[Diagnostic]:
    """Date arithmetic whose result depends on the `missing_day` rule for some date in the pack's
    range: a date parameter's values in force, or any day the arithmetic may be given."""
    pack = checked.pack
    out: list[Diagnostic] = []
    start = pack.valid_from
    end = pack.valid_to or start + dt.timedelta(days=4 * 366)  # an open end: four years show every case
    trees = [*((("fact", n), t) for n, t in checked.facts.items())]
    trees += [((kind, name), t) for kind, name, t in condition_roots(checked)]
    seen: set[int] = set()
    for (kind, name), texpr in trees:
        for call in _shifts(texpr):
            if call.span.start in seen:
                continue
            seen.add(call.span.start)
            count, day, rule = call.args
            assert isinstance(count, TConst)
            assert isinstance(count.value, int)
            assert isinstance(rule, TConst)
            months = count.value * (12 if call.func == "years_after" else 1)
            if isinstance(day, TConst) and isinstance(day.value, dt.date):
                candidates: Iterable[dt.date] = [day.value]
            elif isinstance(day, TParam) and day.name in pack.parameters:
                candidates = [
                    v.value
                    for v in pack.parameters[day.name].values
                    if isinstance(v.value, dt.date) and (v.effective <= end)
                ]
            else:
                candidates = (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
            for example in candidates:
                first = shift_months(example, months, "last_day_of_month")
                second = shift_months(example, months, "first_day_of_next_month")
                if first == second:
                    continue
                chosen = first if rule.value == "last_day_of_month" else second
                out.append(
                    Diagnostic(
                        "lint/missing-day-matters",
                        call.span,
                        {
                            "call": " ".join(call.span.text.split()),
                            "first": str(first),
                            "second": str(second),
                            "example": example.isoformat(),
                            "rule": str(rule.value),
                            "chosen": str(chosen),
                        },
                        context=pack_context(pack, (kind, name)),
                    )
                )
                break
    return out


def lint_version(checked: CheckedPack) -> list[Diagnostic]:
    """Every lint finding of one checked version that looks at that version alone."""
    pack = checked.pack
    out: list[Diagnostic] = []
    out.extend(_unused(checked))
    out.extend(_no_citation(pack))
    out.extend(_missing_texts(pack))
    out.extend(_identical(checked))
    out.extend(_dates(pack))
    out.extend(_constants(checked))
    out.extend(_missing_days(checked))
    return out
