"""Renderings of decisions: text in Chinese or English, and the stable JSON form."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, cast

import attrs

from gspolicy._i18n import Lang, Text
from gspolicy.explain.decision import DECISION_FORMAT, CriterionVerdict, Decision, ParameterUse, Reading

__all__ = ["decision_to_json", "render_text"]

_VERDICT = {
    "pass": Text(zh="通过", en="pass"),
    "fail": Text(zh="不通过", en="fail"),
    "undetermined": Text(zh="待定", en="undetermined"),
    "not_applicable": Text(zh="不适用", en="not applicable"),
    None: Text(zh="无（没有有效的退出标准）", en="none (no exit criteria in force)"),
}
_MARK = {"pass": "✓", "fail": "✗", "undetermined": "?"}
_APPLIES = {
    "assessed": Text(zh="参加验收", en="assessed"),
    "not_applicable": Text(zh="不参加验收", en="not applicable"),
    "undetermined": Text(zh="待定", en="undetermined"),
}
_MEMBERSHIP = {
    "yes": Text(zh="适用", en="yes"),
    "no": Text(zh="不适用", en="no"),
    "undetermined": Text(zh="待定", en="undetermined"),
}


_WORDS = {"true": ("是", "true"), "false": ("否", "false"), "unknown": ("待定", "unknown")}


def _word(text: str, lang: Lang) -> str:
    """true / false / unknown in the reader's language; anything else as it is."""
    pair = _WORDS.get(text)
    return text if pair is None else pair[0 if lang == "zh" else 1]


def _num(text: str | None) -> str:
    if text is None:
        return "—"
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return f"{number:,}" if number.is_finite() else text


_LOAN = re.compile(r"loan, (?:ceiling (?P<ceiling>.+), term (?P<term>.+)|drawn (?P<drawn>.+))")
_TERM_ZH = {"years": "年", "months": "个月"}


def _amount(text: str | None, lang: Lang, unit: str | None = None) -> str:
    """An amount for an officer, with its unit: a number grouped (`_num`); a loan said as a loan
    (its ceiling and term, or what was drawn), never as support of its amount."""
    found = _LOAN.fullmatch(text) if text is not None else None
    shown_unit = f" {unit}" if unit else ""
    if found is None:
        return _num(text) + shown_unit
    zh = lang == "zh"
    if found["drawn"] is not None:
        drawn = _num(found["drawn"]) + shown_unit
        return f"贷款，退出时贷款额 {drawn}" if zh else f"loan of {drawn} drawn"
    ceiling = _num(found["ceiling"]) + shown_unit
    term = found["term"]
    if zh:
        number, _, term_unit = term.rpartition(" ")
        term = f"{number} {_TERM_ZH[term_unit]}" if term_unit in _TERM_ZH else "未确定"
        return f"贷款，上限 {ceiling}，期限 {term}"
    return f"loan of up to {ceiling}, term {term}"


def _param_line(p: ParameterUse, lang: Lang) -> str:
    zh = lang == "zh"
    unit = f" {p.unit}" if p.unit else ""
    value = p.value if p.kind != "exact" else _num(p.value)
    if p.approximate:
        value = f"约 {value}" if zh else f"about {value}"
    if p.kind == "missing":
        return (
            f"参数 `{p.name}`（{p.title.zh}）：当日没有有效取值"
            if zh
            else f"parameter `{p.name}` ({p.title.en}): no value in force"
        )
    if p.bounds:
        parts = []
        for b in p.bounds:
            side = (
                ("不低于" if b.side == "at_least" else "不高于")
                if zh
                else ("at least" if b.side == "at_least" else "at most")
            )
            title = b.source_title.get(lang) if b.source_title else (b.source or "?")
            extra = [x for x in (f"“{b.clause}”" if b.clause else None, b.derivation) if x]
            conf = (
                (f"可信度 {b.confidence}" if zh else f"confidence {b.confidence}") if b.confidence else None
            )
            inner = ("，" if zh else ", ").join([title, *extra, *([conf] if conf else [])])
            parts.append(f"{side} {_num(b.value)}（{inner}）" if zh else f"{side} {_num(b.value)} ({inner})")
        joined = "；".join(parts) if zh else "; ".join(parts)
        if zh:
            return f"参数 `{p.name}`（{p.title.zh}）= 区间 {value}{unit}，自 {p.effective} 起有效：{joined}（{p.location}{_imported(p, lang)}）"
        return f"parameter `{p.name}` ({p.title.en}) = the range {value}{unit}, in force from {p.effective}: {joined} ({p.location}{_imported(p, lang)})"
    if p.kind == "not_established":
        value = "未确定（没有来源确定其取值）" if zh else "not established (no source fixes it)"
    src = p.source_title.get(lang) if p.source_title else (p.source or ("无" if zh else "none"))
    conf = (
        f"，可信度 {p.confidence}"
        if zh and p.confidence
        else (f", confidence {p.confidence}" if p.confidence else "")
    )
    clause = (f"：“{p.clause}”" if zh else f': "{p.clause}"') if p.clause else ""
    if zh:
        return f"参数 `{p.name}`（{p.title.zh}）= {value}{unit}，自 {p.effective} 起有效；来源 {src}{clause}{conf}（{p.location}{_imported(p, lang)}）"
    return f"parameter `{p.name}` ({p.title.en}) = {value}{unit}, in force from {p.effective}; source {src}{clause}{conf} ({p.location}{_imported(p, lang)})"


def _imported(p: ParameterUse, lang: Lang) -> str:
    """Where an imported parameter comes from, after its location."""
    if p.imported_from is None:
        return ""
    return f"，导入自 {p.imported_from}" if lang == "zh" else f", imported from {p.imported_from}"


def _evidence(
    readings: Sequence[Reading],
    facts: Sequence[tuple[str, str]],
    parameters: Sequence[ParameterUse],
    indent: str,
    lang: Lang,
    *,
    grouped: bool = True,
) -> list[str]:
    """The values read, the facts and the parameters behind a verdict (one block for all kinds)."""
    zh = lang == "zh"
    lines: list[str] = []
    if readings:
        missing = "缺失" if zh else "missing"
        shown = "; ".join(
            f"{r.path} = {(_num(r.value) if grouped else r.value) if r.value is not None else missing}"
            for r in readings
        )
        lines.append(indent + ("读取：" if zh else "read: ") + shown)
    for name, value in facts:
        lines.append(
            indent
            + (f"派生事实 `{name}` = {_word(_num(value), lang)}" if zh else f"fact `{name}` = {_num(value)}")
        )
    lines.extend(indent + _param_line(p, lang) for p in parameters)
    return lines


def _criterion_lines(c: CriterionVerdict, lang: Lang) -> list[str]:
    zh = lang == "zh"
    lines = [f"    {_MARK[c.verdict]} {c.id}  {c.title.get(lang)} — {_VERDICT[c.verdict].get(lang)}"]
    lines.append(f"        {c.reason.get(lang)}")
    lines.extend(_evidence(c.readings, c.facts, c.parameters, "        ", lang))
    if c.missing and c.verdict == "undetermined":
        lines.append(("        需补充：" if zh else "        would settle it: ") + ", ".join(c.missing))
    for cite in c.cites:
        lines.append(("        依据：" if zh else "        source: ") + cite.get(lang))
    lines.append(("        规则位置：" if zh else "        rule: ") + c.location)
    return lines


_BUFFER = {
    "active": Text(zh="处于缓冲期", en="active"),
    "inactive": Text(zh="不在缓冲期", en="not active"),
    "undetermined": Text(zh="待定", en="undetermined"),
}


def _buffer_lines(decision: Decision, lang: Lang) -> list[str]:
    zh = lang == "zh"
    b = decision.buffer
    assert b is not None
    lines = [("  缓冲期：" if zh else "  buffer: ") + f"{_BUFFER[b.status].get(lang)} — {b.reason.get(lang)}"]
    lines.extend(_evidence(b.readings, b.facts, b.parameters, "    ", lang, grouped=False))
    for r in b.retained:
        amount = (
            _amount(r.amount, lang, r.unit) if r.amount is not None else ("无法确定" if zh else "not known")
        )
        title = r.title.get(lang)
        named = (
            r.measure
            if title == r.measure
            else (f"{r.measure}（{title}）" if zh else f"{r.measure} ({title})")
        )
        own_end = ""
        if r.held_until is not None:
            own_end = f"；该记录本身止于 {r.held_until}" if zh else f"; its own record ended {r.held_until}"
        if zh:
            lines.append(
                f"    保留措施 {named}：金额 {amount}（退出时 {_num(r.amount_at_exit)}；{r.amount_source.zh}），"
                f"依据 {r.basis}，至 {r.until}{own_end}"
            )
        else:
            lines.append(
                f"    retained {named}: amount {amount} (at exit {_num(r.amount_at_exit)}; "
                f"{r.amount_source.en}), basis {r.basis}, until {r.until}{own_end}"
            )
        lines.append(f"      {r.why.get(lang)}")
        if r.lapses_when is not None:
            lines.extend(_evidence(r.readings, (), (), "      ", lang, grouped=False))
    for r in b.ended:
        lines.append(f"    已终止 {r.measure}：{r.why.zh}" if zh else f"    ended {r.measure}: {r.why.en}")
        lines.extend(_evidence(r.readings, (), (), "      ", lang, grouped=False))
    for cite in b.cites:
        lines.append(("    依据：" if zh else "    source: ") + cite.get(lang))
    if b.location:
        lines.append(("    规则位置：" if zh else "    rule: ") + b.location)
    support = decision.support
    if support:
        lines.append(
            ("  当前享受的帮扶：" if zh else "  support now: ")
            + ", ".join(f"{m} ({_amount(a, lang)})" for m, a, _ in support)
        )
    return lines


def render_text(decision: Decision, lang: Lang = "en", *, title: str | None = None) -> str:
    """The decision as text an officer can read, with every reason, in `lang` (`title` replaces
    the household heading, for village and county decisions)."""
    zh = lang == "zh"
    out: list[str] = []
    title = title or (
        f"农户 {decision.household} 退出验收判定（截至 {decision.as_of}）"
        if zh
        else f"Household {decision.household}: exit acceptance as of {decision.as_of}"
    )
    out.append(title)
    for ref in decision.packs:
        out.append(
            ("  政策包 " if zh else "  pack ")
            + f"{ref.id}@{ref.version} ({ref.content_hash[:19]}…) {ref.file} — {ref.title.get(lang)}"
        )
        if ref.approval is not None:
            ap = ref.approval
            out.append(
                f"    批准文件：{ap.document}（{ap.issuer.zh}，{ap.issued} 印发，{ap.in_force} 起施行）"
                if zh
                else f"    approved by {ap.document} ({ap.issuer.en}, issued {ap.issued}, in force from {ap.in_force})"
            )
    for problem in decision.problems:
        out.append(("  问题：" if zh else "  problem: ") + problem.get(lang))
    if decision.applicability is not None:
        a = decision.applicability
        line = (
            "  适用性：" if zh else "  applicability: "
        ) + f"{_APPLIES[a.status].get(lang)} — {a.reason.get(lang)}"
        out.append(line)
        if a.readings:
            out.append(
                ("    读取：" if zh else "    read: ")
                + "; ".join(f"{r.path} = {r.value or ('缺失' if zh else 'missing')}" for r in a.readings)
            )
    out.append(("  结论：" if zh else "  verdict: ") + _VERDICT[decision.verdict].get(lang).upper())
    if decision.criteria:
        out.append("  按部门：" if zh else "  by department:")
        for _dept, items in decision.by_department().items():
            head = (
                items[0].department_title.get(lang)
                if items[0].department_title
                else (items[0].department or "?")
            )
            out.append(f"  [{head}]")
            for c in items:
                out.extend(_criterion_lines(c, lang))
    if decision.memberships:
        out.append("  规则（帮扶批次与核查发现）：" if zh else "  rules (batches and findings):")
        for m in decision.memberships:
            measures = ", ".join(
                f"{g.title.get(lang)} ({_amount(g.amount, lang, g.unit)})" for g in m.measures
            )
            out.append(
                f"    {m.rule} — {_MEMBERSHIP[m.applies].get(lang)}: {m.title.get(lang)}"
                + (f" → {measures}" if measures and m.applies != "no" else "")
            )
            if m.applies == "no":
                continue  # a rule that does not apply is listed; its details are in the JSON form
            out.extend(_evidence(m.readings, m.facts, m.parameters, "      ", lang))
            if m.applies == "undetermined" and m.missing:
                out.append(("      需补充：" if zh else "      would settle it: ") + ", ".join(m.missing))
            for cite in m.cites:
                out.append(("      依据：" if zh else "      source: ") + cite.get(lang))
            out.append(("      规则位置：" if zh else "      rule: ") + m.location)
    if decision.buffer is not None:
        out.extend(_buffer_lines(decision, lang))
    for f in decision.findings:
        status = {"violated": ("不成立", "violated"), "undetermined": ("无法检查", "cannot be checked")}[
            f.status
        ]
        kind = {"invariant": ("不变式", "invariant"), "exclusive": ("互斥规则", "exclusive rules")}[f.kind]
        if zh:
            out.append(f"  发现：{kind[0]} {f.id}（{f.pack}）{status[0]} — {f.title.zh}")
        else:
            out.append(f"  finding: {kind[1]} {f.id} ({f.pack}) {status[1]} — {f.title.en}")
        out.append(f"    {f.reason.get(lang)}")
        for cite in f.cites:
            out.append(("    依据：" if zh else "    source: ") + cite.get(lang))
        if f.location:
            out.append(("    位置：" if zh else "    at: ") + f.location)
    missing = decision.missing
    if missing:
        out.append(
            ("  需补充的数据或参数：" if zh else "  what would settle the undetermined parts: ")
            + ", ".join(missing)
        )
    return "\n".join(out) + "\n"


def _plain(value: object) -> Any:
    if isinstance(value, Text):
        return {"zh": value.zh, "en": value.en}
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if attrs.has(type(value)):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in attrs.fields(cast(Any, type(value)))
            if f.metadata.get("json", True)
            and not (f.metadata.get("omit_none") and getattr(value, f.name) is None)
            and not (f.metadata.get("omit_empty") and getattr(value, f.name) in (None, ()))
            and not (f.metadata.get("omit_false") and getattr(value, f.name) is False)
        }
    return value


def decision_to_json(decision: Decision) -> dict[str, Any]:
    """The stable JSON form (validates against `docs/reference/decision.schema.json`)."""
    data: dict[str, Any] = {"format": DECISION_FORMAT}
    data.update(_plain(decision))
    data["missing"] = list(decision.missing)
    data["support"] = [{"measure": m, "amount": a, "why": w} for m, a, w in decision.support]
    return data
