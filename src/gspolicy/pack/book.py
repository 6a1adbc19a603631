"""The policy book: every bundled pack as readable Markdown, in Chinese and English.

``gspolicy book --out docs/policies`` writes one page per pack (every version) and an index; a
test fails when the committed pages drift from the packs.  Each page gives the pack's rules and
criteria in readable form with their citations, the measures and amounts, every parameter with
its value history, sources and confidence — and calls out every value no source establishes,
every range, and every point value that rests on a weak source (confidence L or L-M).
"""

from __future__ import annotations

from collections.abc import Iterable

from gspolicy._i18n import Text
from gspolicy.pack.format import FORM_WORDS, ROLE_WORDS
from gspolicy.pack.model import LOW_CONFIDENCE, Amount, Citation, DatedValue, PackSource, Parameter
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack

__all__ = ["render_book"]

_NOT_ESTABLISHED = "**not established** / **未确定**"
_WEAK_HEADING = (
    "Point values resting on a weak source (confidence L or L-M) / 依据可信度低（L 或 L-M）的确切取值"
)


def _t(text: Text | None) -> str:
    if text is None:
        return ""
    return f"{text.zh} / {text.en}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _number(value: object) -> str:
    return str(value)


def _dated(value: DatedValue, unit: str | None) -> str:
    u = f" {unit}" if unit else ""
    if value.kind == "not_established":
        return _NOT_ESTABLISHED
    if value.kind == "range":
        parts = []
        if value.low is not None:
            parts.append(f"≥ {value.low.value}")
        if value.high is not None:
            parts.append(f"≤ {value.high.value}")
        return "range / 区间 " + ", ".join(parts) + u
    shown = ", ".join(str(v) for v in value.value) if isinstance(value.value, tuple) else str(value.value)
    if value.approximate:
        shown = f"about / 约 {shown}"
    return shown + u


def _clause(clause: str | None, paraphrase: bool) -> str:
    """A clause after its source: quoted when it is the source's text, never when it restates it."""
    if not clause:
        return ""
    if paraphrase:
        return f" paraphrased / 大意: {clause}"
    return f" “{clause}”"


def _sources_of(value: DatedValue) -> str:
    out = []
    if value.source:
        out.append(f"`{value.source}`{_clause(value.clause, value.paraphrase)}")
    for side, bound in (("≥", value.low), ("≤", value.high)):
        if bound is not None and bound.source:
            extra = f" ({_t(bound.derivation)})" if bound.derivation else ""
            conf = f", {bound.confidence}" if bound.confidence else ""
            out.append(f"{side} `{bound.source}`{_clause(bound.clause, bound.paraphrase)}{conf}{extra}")
    return "; ".join(out)


def _weak(confidence: str | None, source: str | None, pack: PackSource) -> str | None:
    """The confidence of an exact value when it is weak (L or L-M): its own, else its source's."""
    found = pack.sources.get(source) if source else None
    conf = confidence or (found.confidence if found is not None else None)
    return conf if conf in LOW_CONFIDENCE else None


def _weak_line(subject: str, shown: str, conf: str, source: str | None) -> str:
    src = f", source / 来源 `{source}`" if source else ""
    return f"{subject}: {shown} (confidence / 可信度 {conf}{src})"


def _amount(amount: Amount) -> str:
    u = f" {amount.unit}" if amount.unit else ""
    if amount.kind == "not_established":
        return _NOT_ESTABLISHED
    if amount.kind == "range":
        low = amount.low.value if amount.low else "?"
        high = amount.high.value if amount.high else "?"
        return f"range / 区间 [{low}, {high}]{u}"
    return f"{amount.value}{u}"


def _cites(cites: Iterable[Citation], pack: PackSource) -> str:
    out = []
    for c in cites:
        source = pack.sources.get(c.source)
        title = source.title.zh if source else c.source
        conf = c.confidence or (source.confidence if source else "")
        head = f"inferred from 《{title}》" if c.inferred else f"《{title}》"
        out.append(f"{head}{_clause(c.clause, c.paraphrase)} ({conf})")
    return "; ".join(out)


def _parameter(param: Parameter, lines: list[str]) -> None:
    lines.append(f"- `{param.name}` — {_t(param.title)}" + (f" ({param.unit})" if param.unit else ""))
    for value in param.values:
        conf = f", confidence {value.confidence}" if value.confidence else ""
        note = f" — {_t(value.note)}" if value.note else ""
        src = _sources_of(value)
        lines.append(
            f"  - from {value.effective}: {_dated(value, param.unit)}"
            + (f" (source {src}{conf})" if src else conf)
            + note
        )


def _version(checked: CheckedPack, lines: list[str], gaps: list[str], weak: list[str]) -> None:
    pack = checked.pack
    until = pack.valid_to.isoformat() if pack.valid_to else "open / 未定"
    lines.append(f"## Version {pack.version} ({pack.valid_from} – {until})")
    lines.append("")
    lines.append(f"- file: `{pack.source.name}`")
    lines.append(f"- role / 角色: `{pack.kind}` ({ROLE_WORDS[pack.kind][0]} / {ROLE_WORDS[pack.kind][1]})")
    lines.append(f"- content hash: `{checked.content_hash}`")
    if pack.approval is not None:
        lines.append(f"- approval / 批准文件: {pack.approval.render('zh')} / {pack.approval.render('en')}")
    if pack.missing_day is not None:
        lines.append(f"- a day the month reached lacks / 目标月份缺少该日时: `{pack.missing_day}`")
    for imp in pack.imports:
        names = ", ".join(f"`{n}`" for n in imp.names)
        lines.append(f"- imports / 导入参数: {names} from / 来自 `{imp.pack}@{imp.version}`")
    dept = pack.departments.get(pack.department)
    lines.append(f"- department / 责任部门: {_t(dept)}")
    if pack.note:
        lines.append(f"- note / 说明: {_t(pack.note)}")
    lines.append("")
    if pack.sources:
        lines.append("### Sources / 依据文件")
        lines.append("")
        lines.append("| id | title | confidence | address |")
        lines.append("|---|---|---|---|")
        for s in pack.sources.values():
            lines.append(f"| `{s.id}` | {_cell(_t(s.title))} | {s.confidence} | {_cell(s.address or '')} |")
        lines.append("")
    if pack.parameters:
        lines.append("### Parameters / 参数")
        lines.append("")
        for param in pack.parameters.values():
            _parameter(param, lines)
            for value in param.values:
                if value.kind != "exact":
                    gaps.append(
                        f"`{pack.key}` parameter `{param.name}` from {value.effective}: {_dated(value, param.unit)}"
                    )
                elif param.imported_from is None:
                    conf = _weak(value.confidence, value.source, pack)
                    if conf is not None:
                        weak.append(
                            _weak_line(
                                f"`{pack.key}` parameter `{param.name}` from {value.effective}",
                                _dated(value, param.unit),
                                conf,
                                value.source,
                            )
                        )
        lines.append("")
    if pack.facts:
        lines.append("### Facts / 派生事实")
        lines.append("")
        for fact in pack.facts.values():
            lines.append(f"- `{fact.name}` — {_t(fact.title)}: `{' '.join(fact.expr.text.split())}`")
        lines.append("")
    if pack.applies is not None:
        lines.append("### Who is assessed / 适用对象")
        lines.append("")
        lines.append(f"{_t(pack.applies.title)}: `{' '.join(pack.applies.when.text.split())}`")
        lines.append(f"(cites: {_cites(pack.applies.cites, pack)})")
        lines.append("")
        if pack.applies.reasons:
            lines.append("Not assessed, the first reason that holds / 不参加验收的原因（取第一条成立的）:")
            lines.append("")
            for reason in pack.applies.reasons:
                lines.append(f"- `{' '.join(reason.when.text.split())}` — {_t(reason.explain)}")
            lines.append("")
    if pack.criteria:
        lines.append("### Criteria / 指标 (all must pass)")
        lines.append("")
        for c in pack.criteria:
            dept_c = pack.departments.get(c.department or pack.department)
            lines.append(f"- **`{c.id}`** {_t(c.title)} — {_t(dept_c)}")
            if c.not_established:
                lines.append(f"  - {_NOT_ESTABLISHED}: the sources do not give this criterion's content")
                gaps.append(f"`{pack.key}` criterion `{c.id}`: content {_NOT_ESTABLISHED}")
            if c.given is not None:
                lines.append(f"  - decided only when / 判定前提: `{' '.join(c.given.text.split())}`")
            if c.require is not None:
                lines.append(f"  - requires / 条件: `{' '.join(c.require.text.split())}`")
            lines.append(f"  - cites / 依据: {_cites(c.cites, pack)}")
        lines.append("")
    if pack.measures:
        lines.append("### Measures / 措施")
        lines.append("")
        lines.append("| id | measure | form / 形式 | department | amount | period | lapses when / 终止条件 |")
        lines.append("|---|---|---|---|---|---|---|")
        for m in pack.measures.values():
            dept_m = pack.departments.get(m.department)
            zh_form, en_form = FORM_WORDS[m.form]
            amount = _amount(m.amount)
            if m.form == "loan":
                term = _amount(m.term) if m.term is not None else "?"
                amount = f"ceiling / 上限 {amount}; term / 期限 {term}"
            lapses = f"`{' '.join(m.lapses_when.text.split())}`" if m.lapses_when is not None else "—"
            lines.append(
                f"| `{m.id}` | {_cell(_t(m.title))} | {zh_form} / {en_form} | {_cell(_t(dept_m))} | "
                f"{_cell(amount)} | {_cell(_t(m.period))} | {_cell(lapses)} |"
            )
            # a loan's `amount` is its ceiling (the most that may be lent)
            for part, found in (("amount", m.amount), ("term", m.term)):
                if found is None:
                    continue
                if found.kind != "exact":
                    gaps.append(f"`{pack.key}` measure `{m.id}` {part}: {_amount(found)}")
                    continue
                conf = _weak(found.confidence, found.source, pack)
                if conf is not None:
                    weak.append(
                        _weak_line(
                            f"`{pack.key}` measure `{m.id}` {part}", _amount(found), conf, found.source
                        )
                    )
        lines.append("")
    if pack.rules:
        lines.append("### Rules / 规则")
        lines.append("")
        for r in pack.rules:
            grants = ", ".join(f"`{g}`" for g in r.grant) or "—"
            lines.append(f"- **`{r.id}`** {_t(r.title)}")
            lines.append(f"  - when / 条件: `{' '.join(r.when.text.split())}`")
            lines.append(f"  - grants / 措施: {grants}")
            lines.append(f"  - cites / 依据: {_cites(r.cites, pack)}")
            if r.note:
                lines.append(f"  - note / 说明: {_t(r.note)}")
        lines.append("")
    if pack.exclusive:
        lines.append("### Exclusive rules / 互斥规则")
        lines.append("")
        lines.append("At most one rule of each group holds for a household / 每组规则至多一条成立:")
        lines.append("")
        for group in pack.exclusive:
            lines.append("- " + ", ".join(f"`{r}`" for r in group.rules))
        lines.append("")
    if pack.invariants:
        lines.append("### Invariants / 不变式")
        lines.append("")
        for inv in pack.invariants:
            lines.append(f"- **`{inv.id}`** {_t(inv.title)}")
            lines.append(f"  - holds / 成立: `{' '.join(inv.holds.text.split())}`")
            lines.append(f"  - cites / 依据: {_cites(inv.cites, pack)}")
            if inv.note:
                lines.append(f"  - note / 说明: {_t(inv.note)}")
        lines.append("")
    if pack.indicators:
        _indicators(lines, pack)
    if pack.lists:
        lines.append("### Management lists / 管理名单")
        lines.append("")
        lines.append("Columns, in order / 各列（按顺序）:")
        lines.append("")
        for col in pack.lists:
            lines.append(f"- `{col.column}`: {_t(col.title)}")
        lines.append("")
    if pack.buffer is not None:
        lines.append("### Buffer after exit / 脱贫后缓冲期")
        lines.append("")
        lines.append(f"{_t(pack.buffer.title)}; retained / 保留: `{pack.buffer.retained.text}`")
        for b in pack.buffer.bases:
            lines.append(
                f"- **`{b.id}`** {_t(b.title)} — amounts / 金额: `{b.amounts}`, until / 截止: `{b.until.text}`"
            )
            lines.append(f"  - active when / 适用条件: `{' '.join(b.active.text.split())}`")
            lines.append(f"  - cites / 依据: {_cites(b.cites, pack)}")
        combine = pack.buffer.combine
        zh, en = _COMBINE_WORDS[combine.amount]
        lines.append(
            f"- **a measure both granted and retained / 同一措施既被授予又被保留** — amount / 金额: "
            f"`{combine.amount}` ({en} / {zh})"
        )
        lines.append(f"  - cites / 依据: {_cites(combine.cites, pack)}")
        if combine.note:
            lines.append(f"  - note / 说明: {_t(combine.note)}")
        lines.append("")


def _indicators(lines: list[str], pack: PackSource) -> None:
    """A statistics pack's keys and indicators."""
    if pack.keys:
        lines.append("### Group-by keys / 分组键")
        lines.append("")
        for key in pack.keys:
            lines.append(f"- **`{key.name}`**: `{key.field.text.strip()}`")
        lines.append("")
    lines.append("### Indicators / 统计指标")
    lines.append("")
    for ind in pack.indicators:
        lines.append(f"- **`{ind.id}`** {_t(ind.title)}")
        verb = "count / 计数" if ind.figure == "count" else "sum / 合计"
        lines.append(f"  - {verb}: `{' '.join(ind.expr.text.split())}`")
        if ind.where is not None:
            lines.append(f"  - where / 范围: `{' '.join(ind.where.text.split())}`")
        period = "stock / 存量（季末）" if ind.period == "stock" else "flow / 流量（季度内）"
        if ind.dated_by is not None:
            period += f", dated by / 日期: `{' '.join(ind.dated_by.text.split())}`"
        lines.append(f"  - period / 口径: {period}")
        if ind.held is not None:
            lines.append(
                f"  - batches and measures held / 所属批次与措施: `{' '.join(ind.held.text.split())}`"
            )
        if ind.by:
            lines.append("  - by / 分组: " + ", ".join(f"`{b}`" for b in ind.by))
        lines.append(f"  - tolerance / 容差: {ind.tolerance}")
        lines.append(f"  - cites / 依据: {_cites(ind.cites, pack)}")
        if ind.note:
            lines.append(f"  - note / 说明: {_t(ind.note)}")
    lines.append("")


# `buffer.combine.amount` (`gspolicy.pack.format.COMBINE_RULES`) in words: (zh, en)
_COMBINE_WORDS: dict[str, tuple[str, str]] = {
    "higher": (
        "取较高的金额：保留的金额只有确定且更高时才取代授予的金额",
        "the higher amount: a retained one replaces a granted one only when exact and higher",
    ),
    "retained": ("按保留的金额", "the retained amount"),
    "granted": ("按当日授予的金额", "the amount granted now"),
}


def render_book(policy_set: PolicySet) -> dict[str, str]:
    """The policy book: file name → Markdown text (``index.md`` and one page per pack)."""
    pages: dict[str, str] = {}
    index = [
        "# The policy book / 政策手册",
        "",
        "Generated from the bundled packs by `gspolicy book`; do not edit by hand.",
        "由 `gspolicy book` 根据政策包生成，请勿手工修改。",
        "",
        "| pack | title | versions |",
        "|---|---|---|",
    ]
    all_gaps: list[str] = []
    all_weak: list[str] = []
    for pack_id in policy_set.ids:
        versions = policy_set.versions(pack_id)
        latest = versions[-1].pack
        name = f"{pack_id}.md"
        index.append(
            f"| [`{pack_id}`]({name}) | {_cell(_t(latest.title))} | "
            + ", ".join(v.version for v in versions)
            + " |"
        )
        lines = [f"# `{pack_id}` — {_t(latest.title)}", ""]
        gaps: list[str] = []
        weak: list[str] = []
        for checked in versions:
            _version(checked, lines, gaps, weak)
        if gaps:
            lines.append("## Not established or uncertain / 未确定或不确定的取值")
            lines.append("")
            lines.extend(f"- {g}" for g in gaps)
            lines.append("")
        if weak:
            lines.append(f"## {_WEAK_HEADING}")
            lines.append("")
            lines.extend(f"- {w}" for w in weak)
            lines.append("")
        all_gaps.extend(gaps)
        all_weak.extend(weak)
        pages[name] = "\n".join(lines).rstrip() + "\n"
    index.append("")
    index.append("## Every value not established by a source / 所有未由来源确定的取值")
    index.append("")
    index.extend(f"- {g}" for g in all_gaps if _NOT_ESTABLISHED in g)
    index.append("")
    index.append("## Ranges (values known only within bounds) / 区间取值")
    index.append("")
    index.extend(f"- {g}" for g in all_gaps if _NOT_ESTABLISHED not in g)
    index.append("")
    index.append(f"## {_WEAK_HEADING}")
    index.append("")
    index.append(
        "Exact values whose own confidence, or their source's, is L or L-M; a shared parameter is listed once, "
        "under the pack that declares it."
    )
    index.append("确切取值本身或其来源的可信度为 L 或 L-M；共用参数只在声明它的政策包下列出一次。")
    index.append("")
    index.extend(f"- {w}" for w in all_weak)
    pages["index.md"] = "\n".join(index).rstrip() + "\n"
    return pages
