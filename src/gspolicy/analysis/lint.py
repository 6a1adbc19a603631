"""Lint: the mistakes a pack can hold that still load, each coded and located.

`check_paths` is what ``gspolicy check`` runs: it loads the packs (the loader's own diagnostics —
unknown fields, measures, departments, fact cycles, overlapping versions, duplicate YAML keys —
are reported first, as they are), then lints every version that checked cleanly, then lists the
acknowledged gaps in force (ranges, low-confidence and "not established" values: informational).

Severities, and why:

* **error** — ``lint/duplicate-date``: two values of one parameter from the same day (written
  once as a date and once as quoted text, which YAML does not see as a duplicate key); which one
  is in force is an accident of the file's order.
* **warning** — a mistake that changes or hides what a pack decides: a fact no condition reaches,
  a measure no rule grants, a criterion or rule without a citation, a title or explanation without
  its Chinese or English text, two criteria (or two rules) with the same condition, a parameter
  with no value in force from the version's first day, a day between two versions that no version
  covers, a condition (or part of one) that is constant.
* **info** — declared but unused parameters, sources and departments.  They are published in the
  policy book and may document the policy (``non_counting_transfer_items`` lists what a record's
  ``income.non_counting_transfers`` sums), so they are shown, not counted as mistakes;
  ``--strict`` makes every lint note a warning.  Schema fields no pack reads are notes too, and
  listed only on request (``--unread-fields``): the schema serves many packs.

Exit codes of ``gspolicy check``: 0 clean or only notes (acknowledged gaps, unused declarations),
1 any error, 2 warnings and no error.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import attrs

from gspolicy._files import read_source
from gspolicy._i18n import Text
from gspolicy._location import Span
from gspolicy._messages import entry, register
from gspolicy._resources import bundled_policies, bundled_schema_path
from gspolicy.analysis._where import key_span
from gspolicy.analysis.fold import Const, constant_parts, fold
from gspolicy.errors import Diagnostic, Severity
from gspolicy.lang import print_expr, references
from gspolicy.lang.interpret import shift_months
from gspolicy.lang.typed import TAge, TAggregate, TCall, TConst, TField, TParam, TypedExpr, typed_children
from gspolicy.lang.types import ListT, RecordT
from gspolicy.pack.load import discover, display_path, gaps, load_policies, resolve_imports
from gspolicy.pack.model import Citation, DatedValue, PackSource
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.read import read_pack
from gspolicy.pack.typecheck import CheckedPack, check_pack
from gspolicy.schema.load import read_schema
from gspolicy.schema.model import Schema

__all__ = ["CheckReport", "check_paths", "lint_packs", "unread_fields"]

_LANG_WORD = {"zh": Text(zh="中文", en="Chinese"), "en": Text(zh="英文", en="English")}

register(
    {
        "lint/unused-parameter": entry(
            "info",
            "parameter `{name}` is declared but no condition uses it",
            "参数 `{name}` 已声明，但没有任何条件使用它",
            "use it in a condition or a fact, or remove it (it is still shown in the policy book)",
            "请在条件或派生事实中使用它，或删除它（政策手册中仍会列出它）",
        ),
        "lint/unused-fact": entry(
            "warning",
            "fact `{name}` is defined but no criterion, rule, condition or buffer reaches it",
            "派生事实 `{name}` 已定义，但没有任何指标、规则、条件或缓冲期用到它",
            "use it, or remove it",
            "请使用它，或删除它",
        ),
        "lint/unused-source": entry(
            "info",
            "source `{name}` is declared but nothing cites it",
            "来源 `{name}` 已声明，但没有任何内容引用它",
            "cite it where the pack relies on it, or remove it",
            "请在依据它的地方引用它，或删除它",
        ),
        "lint/unused-department": entry(
            "info",
            "department `{name}` is declared but no criterion or measure names it",
            "部门 `{name}` 已声明，但没有任何指标或措施使用它",
        ),
        "lint/unused-measure": entry(
            "warning",
            "measure `{name}` is defined but no rule grants it",
            "措施 `{name}` 已定义，但没有任何规则授予它",
            "grant it in a rule (`grant: [{name}]`), or remove it",
            "请在规则中授予它（`grant: [{name}]`），或删除它",
        ),
        "lint/unread-field": entry(
            "info",
            "schema field `{path}` is read by none of the packs checked",
            "所检查的政策包都没有读取数据结构字段 `{path}`",
        ),
        "lint/no-citation": entry(
            "warning",
            "{what} `{name}` cites no source",
            "{what} `{name}` 没有引用任何来源",
            "add `cite: {{source: <id>, clause: …}}`, or `inferred_from` with `confidence: L` for an inference",
            "请添加 `cite: {{source: <编号>, clause: …}}`；属于推断时写 `inferred_from` 并注明 `confidence: L`",
        ),
        "lint/missing-text": entry(
            "warning",
            "`{key}` has no {language} text",
            "`{key}` 缺少{language}文本",
            "every text is given in Chinese (`zh`) and English (`en`): write the missing one",
            "每段文本都需要中文（`zh`）和英文（`en`）两种写法：请补写缺少的一种",
        ),
        "lint/identical-conditions": entry(
            "warning",
            "{what} `{name}` has the same condition as `{other}` (line {other_line}): `{condition}`",
            "{what} `{name}` 的条件与 `{other}`（第 {other_line} 行）相同：`{condition}`",
            "two {what_plural} with one condition are one {what} written twice, or one of them is wrong",
            "条件相同的两个{what_plural}要么是同一{what}写了两次，要么其中一个写错了",
        ),
        "lint/duplicate-date": entry(
            "error",
            "parameter `{name}` has two values from {date} (the other at line {other_line})",
            "参数 `{name}` 在 {date} 有两个取值（另一个在第 {other_line} 行）",
            "keep one value per effective date",
            "每个生效日期只保留一个取值",
        ),
        "lint/parameter-starts-late": entry(
            "warning",
            "parameter `{name}` has no value in force from {valid_from} to {last_day}: its first value takes effect on {first}",
            "参数 `{name}` 在 {valid_from} 至 {last_day} 期间没有有效取值：其第一个取值自 {first} 起生效",
            "give a value from {valid_from} (or earlier); decisions in that period are undetermined",
            "请提供自 {valid_from}（或更早）起生效的取值；该期间的判定结果为“待定”",
        ),
        "lint/parameter-histories-differ": entry(
            "warning",
            "parameter `{name}` is also declared in `{other}`, with another value on {date}: {this} here, {that} there",
            "参数 `{name}` 也在 `{other}` 中声明，{date} 的取值不同：此处为 {this}，该处为 {that}",
            "declare it once, in a pack of `kind: parameters`, and `import:` it in both; or give the two their own names if they mean different things",
            "请只在一个 `kind: parameters` 的政策包中声明，两处都用 `import:` 导入；若两者含义不同，请分别命名",
        ),
        "lint/approval-date": entry(
            "warning",
            "the approving document takes effect on {in_force}, but this version is in force from {valid_from}",
            "批准文件自 {in_force} 起施行，而本版本自 {valid_from} 起有效",
            "make `valid_from` the day the approval takes effect, or note why they differ",
            "请将 `valid_from` 设为批准文件的施行日期，或说明两者不同的原因",
        ),
        "lint/version-gap": entry(
            "warning",
            "no version of pack `{id}` is in force from {start} to {end}: `{first}` ends on {first_end} and `{second}` starts on {second_start}",
            "{start} 至 {end} 期间政策包 `{id}` 没有有效版本：`{first}` 于 {first_end} 结束，`{second}` 于 {second_start} 开始",
            "end the earlier version the day before the later one starts (`valid_to: {end}`)",
            "请将较早版本的 `valid_to` 设为较晚版本开始的前一天（`valid_to: {end}`）",
        ),
        "lint/missing-day-matters": entry(
            "info",
            "`{call}` gives {first} or {second} for {example}, depending on the pack's `missing_day` rule "
            "(this pack: {rule}, giving {chosen})",
            "`{call}` 对 {example} 的结果取决于政策包的 `missing_day` 规则：{first} 或 {second}"
            "（本包为 {rule}，结果 {chosen}）",
            "check that the declared rule is the one the source means for such dates",
            "请确认所声明的规则符合来源文件对此类日期的本意",
        ),
        "lint/constant-condition": entry(
            "warning",
            "this condition is always {value}, whatever the household",
            "无论农户情况如何，此条件恒为{value}",
            "a constant part such as `and 1 > 2` decides it; remove it",
            "其中的常量部分（如 `and 1 > 2`）决定了结果；请删除它",
        ),
        "lint/constant-part": entry(
            "warning",
            "this part of the condition is always {value}, whatever the household",
            "无论农户情况如何，条件的这一部分恒为{value}",
            "remove it or write the comparison it was meant to be",
            "请删除它，或改写成本意的比较",
        ),
    }
)

_TRUE = Text(zh="真", en="true")
_FALSE = Text(zh="假", en="false")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WHAT = {
    "criterion": (Text(zh="指标", en="criterion"), Text(zh="指标", en="criteria")),
    "rule": (Text(zh="规则", en="rule"), Text(zh="规则", en="rules")),
}


def _ctx(pack: PackSource, *inner: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return (*inner, ("pack", pack.key))


# --- the lints of one version ---------------------------------------------------------------------


def _roots(checked: CheckedPack) -> Iterator[tuple[str, str, TypedExpr]]:
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
    pending: list[TypedExpr] = [texpr for _, _, texpr in _roots(checked)]
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
            out.append(Diagnostic("lint/unused-parameter", param.span, {"name": name}, context=_ctx(pack)))
    for name, fact in pack.facts.items():
        if name not in reached_facts:
            out.append(Diagnostic("lint/unused-fact", fact.span, {"name": name}, context=_ctx(pack)))
    cited = {c.source for c in _citations(pack)}
    for param in pack.parameters.values():
        for value in param.values:
            cited.update(value.cited)
    for measure in pack.measures.values():
        amount = measure.amount
        cited.update(amount.cited)
    for name, doc in pack.sources.items():
        if name not in cited:
            out.append(Diagnostic("lint/unused-source", doc.span, {"name": name}, context=_ctx(pack)))
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
                Diagnostic("lint/unused-department", span or block, {"name": name}, context=_ctx(pack))
            )
    granted = {g for rule in pack.rules for g in rule.grant}
    for name, measure in pack.measures.items():
        if name not in granted:
            out.append(Diagnostic("lint/unused-measure", measure.span, {"name": name}, context=_ctx(pack)))
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
                context=_ctx(pack),
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
                context=_ctx(pack, *ctx),
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
                        context=_ctx(pack),
                    )
                )
            else:
                seen[key] = (name, span)
    return out


def _dates(pack: PackSource) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, param in pack.parameters.items():
        ctx = _ctx(pack, ("parameter", name))
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
    trees.extend(((kind, name), texpr) for kind, name, texpr in _roots(checked))
    for (kind, name), texpr in trees:
        for part in constant_parts(texpr, constant_facts):
            out.append(
                Diagnostic(
                    "lint/constant-condition" if part.whole else "lint/constant-part",
                    part.span,
                    {"value": _TRUE if part.value else _FALSE},
                    context=_ctx(pack, (kind, name)),
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
    trees += [((kind, name), t) for kind, name, t in _roots(checked)]
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
                        context=_ctx(pack, (kind, name)),
                    )
                )
                break
    return out


def _version_gaps(packs: Sequence[CheckedPack]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    by_id: dict[str, list[PackSource]] = {}
    for p in packs:
        by_id.setdefault(p.id, []).append(p.pack)
    for pack_id, versions in sorted(by_id.items()):
        versions.sort(key=lambda v: v.valid_from)
        for earlier, later in itertools.pairwise(versions):
            if earlier.valid_to is None or earlier.valid_to + dt.timedelta(days=1) >= later.valid_from:
                continue  # contiguous, or overlapping (the loader's `pack/overlapping-versions`)
            start = earlier.valid_to + dt.timedelta(days=1)
            end = later.valid_from - dt.timedelta(days=1)
            out.append(
                Diagnostic(
                    "lint/version-gap",
                    key_span(later.source, "valid_from") or later.id_span,
                    {
                        "id": pack_id,
                        "start": start.isoformat(),
                        "end": end.isoformat(),
                        "first": earlier.version,
                        "first_end": earlier.valid_to.isoformat(),
                        "second": later.version,
                        "second_start": later.valid_from.isoformat(),
                    },
                    context=_ctx(later),
                )
            )
    return out


def _fields_read(texpr: TypedExpr, subject: str, schema: Schema) -> Iterator[tuple[str, str]]:
    """(record type, field name) of every field a checked tree reads."""
    scopes: dict[int, str] = {0: subject}

    def walk(node: TypedExpr) -> Iterator[tuple[str, str]]:
        if isinstance(node, TField):
            record = scopes.get(node.scope)
            for step in node.path:
                if record is None or record not in schema.records:
                    break
                yield record, step
                spec = schema.records[record].fields.get(step)
                record = spec.record if spec is not None else None
        elif isinstance(node, TAge):
            record = scopes.get(node.scope)
            if record is not None:
                yield from ((record, f) for f in ("birth_date", "age", "age_recorded_on"))
        if isinstance(node, TAggregate):
            yield from walk(node.source)
            item = node.source.type
            if node.body is not None:
                if isinstance(item, ListT | RecordT):
                    scopes[node.scope] = item.name
                yield from walk(node.body)
            return
        for child in typed_children(node):
            yield from walk(child)

    yield from walk(texpr)


def unread_fields(packs: Iterable[CheckedPack], schema: Schema) -> list[Diagnostic]:
    """Schema fields read by none of `packs` (notes: the schema serves packs not checked here)."""
    read: set[tuple[str, str]] = set()
    for checked in packs:
        trees = [*checked.facts.values(), *(t for _, _, t in _roots(checked))]
        for texpr in trees:
            read.update(_fields_read(texpr, checked.subject, schema))
    out: list[Diagnostic] = []

    def visit(record: str, prefix: str, seen: frozenset[str]) -> None:
        for name, spec in schema.records[record].fields.items():
            path = prefix + name
            if (record, name) not in read:
                out.append(Diagnostic("lint/unread-field", spec.span, {"path": path}))
                continue
            if spec.record is not None and spec.record not in seen:
                visit(spec.record, path + ("[]." if spec.kind == "list" else "."), seen | {spec.record})

    visit(schema.root, "", frozenset({schema.root}))
    return out


def _shown(value: DatedValue | None) -> tuple[object, ...]:
    """What a parameter's value in force says, without where it comes from."""
    if value is None:
        return ("none",)
    low = value.low.value if value.low is not None else None
    high = value.high.value if value.high is not None else None
    return (value.kind, value.value, low, high)


def _shown_text(value: DatedValue | None) -> str:
    if value is None:
        return "no value"
    if value.kind == "not_established":
        return "not established"
    if value.kind == "range":
        low = value.low.value if value.low is not None else "…"
        high = value.high.value if value.high is not None else "…"
        return f"[{low}, {high}]"
    shown = value.value
    return ", ".join(str(v) for v in shown) if isinstance(shown, tuple) else str(shown)


def _histories(packs: Sequence[CheckedPack]) -> list[Diagnostic]:
    """A parameter declared (not imported) in two packs whose values differ on a day both are
    in force: two histories of one name, one of which a change will miss."""
    out: list[Diagnostic] = []
    declared: dict[str, list[PackSource]] = {}
    for checked in sorted(packs, key=lambda p: (p.id, p.pack.valid_from)):
        for name, param in checked.pack.parameters.items():
            if param.imported_from is None:
                declared.setdefault(name, []).append(checked.pack)
    for name, holders in sorted(declared.items()):
        for a, b in itertools.combinations(holders, 2):
            if a.id == b.id:
                continue  # versions of one pack
            start = max(a.valid_from, b.valid_from)
            ends = [d for d in (a.valid_to, b.valid_to) if d is not None]
            end = min(ends) if ends else None
            if end is not None and end < start:
                continue
            pa, pb = a.parameters[name], b.parameters[name]
            days = sorted(
                {
                    start,
                    *(
                        v.effective
                        for v in (*pa.values, *pb.values)
                        if start < v.effective and (end is None or v.effective <= end)
                    ),
                }
            )
            for day in days:
                va, vb = pa.at(day), pb.at(day)
                if _shown(va) != _shown(vb):
                    out.append(
                        Diagnostic(
                            "lint/parameter-histories-differ",
                            pb.span,
                            {
                                "name": name,
                                "other": a.key,
                                "date": day.isoformat(),
                                "this": _shown_text(vb),
                                "that": _shown_text(va),
                            },
                            context=_ctx(b),
                        )
                    )
                    break
    return out


def lint_packs(packs: Sequence[CheckedPack]) -> list[Diagnostic]:
    """Every lint finding in `packs` (checked versions, of one or several packs)."""
    out: list[Diagnostic] = []
    for checked in packs:
        pack = checked.pack
        out.extend(_unused(checked))
        out.extend(_no_citation(pack))
        out.extend(_missing_texts(pack))
        out.extend(_identical(checked))
        out.extend(_dates(pack))
        out.extend(_constants(checked))
        out.extend(_missing_days(checked))
    out.extend(_version_gaps(packs))
    out.extend(_histories(packs))
    for checked in packs:
        approval = checked.pack.approval
        if approval is not None and approval.in_force != checked.pack.valid_from:
            out.append(
                Diagnostic(
                    "lint/approval-date",
                    approval.span,
                    {
                        "in_force": approval.in_force.isoformat(),
                        "valid_from": checked.pack.valid_from.isoformat(),
                    },
                    context=_ctx(checked.pack),
                )
            )
    return out


# --- checking paths -------------------------------------------------------------------------------


@attrs.frozen
class CheckReport:
    """What ``gspolicy check`` found: every diagnostic (loader, lint, gaps) and what was checked."""

    diagnostics: tuple[Diagnostic, ...]
    packs: int
    versions: int
    loaded: bool  # the loader accepted every pack (else only the versions that checked were linted)
    content_hash: str = ""  # the policy set's, when it loaded

    @property
    def errors(self) -> int:
        return sum(d.is_error for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.level is Severity.WARNING for d in self.diagnostics)

    @property
    def notes(self) -> int:
        return sum(d.level is Severity.INFO for d in self.diagnostics)

    @property
    def gaps(self) -> int:
        return sum(d.code.startswith("gap/") for d in self.diagnostics)

    @property
    def exit_code(self) -> int:
        """1 with any error, 2 with warnings and no error, 0 otherwise."""
        if self.errors:
            return 1
        return 2 if self.warnings else 0


def _each_version(paths: Sequence[Path]) -> tuple[PolicySet | None, list[CheckedPack]]:
    """Read and check pack files one by one, keeping the versions without errors (the loader
    keeps none when any is wrong; lint still looks at the good ones)."""
    schema_files, pack_files, _, _ = discover(paths)
    schema, problems = read_schema(schema_files[0] if schema_files else bundled_schema_path())
    if schema is None or any(d.is_error for d in problems):
        return None, []
    good: list[CheckedPack] = []
    importing: list[PackSource] = []
    for path in pack_files:
        source, problems = read_source(path, name=display_path(path, paths))
        if source is None:
            continue
        pack, problems = read_pack(source)
        if pack is None or any(d.is_error for d in problems):
            continue
        if pack.imports:
            importing.append(pack)  # checked once the packs of parameters are read
            continue
        checked, problems = check_pack(pack, schema)
        if checked is not None:
            good.append(checked)
    providers = [p.pack for p in good if p.kind == "parameters"]
    for pack in importing:
        resolved, problems = resolve_imports(pack, providers)
        checked = check_pack(resolved, schema)[0] if resolved is not None else None
        if checked is not None:
            good.append(checked)
    return PolicySet(schema, tuple(good)), good


def _gap_dates(packs: Iterable[CheckedPack]) -> list[dt.date]:
    """The days on which something new comes into force: each version's first day and each
    dated value's effective date within the version's validity."""
    days: set[dt.date] = set()
    for checked in packs:
        pack = checked.pack
        days.add(pack.valid_from)
        for param in pack.parameters.values():
            for value in param.values:
                if pack.in_force(value.effective):
                    days.add(value.effective)
    return sorted(days)


def _all_gaps(policy_set: PolicySet, as_of: dt.date | None) -> list[Diagnostic]:
    """The acknowledged gaps in force on `as_of`, or (without one) on any day of any version,
    each listed once, as of the first day it is in force."""
    days = [as_of] if as_of is not None else _gap_dates(policy_set.packs)
    out: dict[tuple[str, str, int], Diagnostic] = {}
    for day in days:
        for d in gaps(policy_set, day):
            loc = d.location
            key = (d.code, loc.file, loc.start) if isinstance(loc, Span) else (d.code, d.message(), 0)
            out.setdefault(key, d)
    return list(out.values())


def check_paths(
    paths: Sequence[Path] | None = None,
    *,
    as_of: dt.date | None = None,
    strict: bool = False,
    unread: bool = False,
) -> CheckReport:
    """Load, lint and list the gaps of the packs under `paths` (default: the bundled policies).

    `as_of` limits the gaps to those in force on that day (default: every day of every version);
    `strict` makes lint notes warnings; `unread` lists schema fields no pack reads.
    """
    roots = list(paths) if paths else [bundled_policies()]
    policy_set, diagnostics = load_policies(roots)
    loaded = policy_set is not None
    if policy_set is None:
        policy_set, _ = _each_version(roots)
    findings: list[Diagnostic] = []
    if policy_set is not None:
        findings = lint_packs(policy_set.packs)
        if unread:
            findings.extend(unread_fields(policy_set.packs, policy_set.schema))
        if strict:
            findings = [
                attrs.evolve(d, severity=Severity.WARNING) if d.level is Severity.INFO else d
                for d in findings
            ]
        findings.extend(_all_gaps(policy_set, as_of))
    packs = len(policy_set.ids) if policy_set is not None else 0
    versions = len(policy_set.packs) if policy_set is not None else 0
    content_hash = policy_set.content_hash if loaded and policy_set is not None else ""
    return CheckReport((*diagnostics, *findings), packs, versions, loaded, content_hash)
