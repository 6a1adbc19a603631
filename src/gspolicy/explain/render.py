"""The text of a decision in Chinese or English at each detail level (`Detail`).

The verdict, the criteria by department, the rules and their measures, the buffer, and what would
settle the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gspolicy._glossary import word
from gspolicy._i18n import Lang, Text
from gspolicy.explain.legend import legend
from gspolicy.explain.parts import DETAILS, CriterionVerdict, Detail, Membership, ParameterUse, Reading
from gspolicy.explain.wording import (
    Vocabulary,
    amount_words,
    fact_value,
    grouped,
    quantity,
    rate_value,
    reading,
)

if TYPE_CHECKING:  # the decision calls this module; its type is read for annotations only
    from gspolicy.explain.decision import Decision

__all__ = [
    "amount_words",
    "check_detail",
    "legend",
    "measure_words",
    "render_text",
    "verdict_word",
]

_MARK = {"pass": "✓", "fail": "✗", "undetermined": "?"}


def verdict_word(verdict: str | None, lang: Lang) -> str:
    """A verdict in the reader's language (the glossary's; no verdict: ``none``)."""
    return word("verdict", verdict or "none", lang)


def _truth(text: str, lang: Lang) -> str:
    """true / false / unknown in the reader's language; anything else as it is."""
    return word("truth", text, lang) if text in ("true", "false", "unknown") else text


_amount = amount_words


def measure_words(ident: str, title: Text | None, lang: Lang, amount: str | None = None) -> str:
    """A measure by its title from the pack, its id in backticks beside it (then an amount):
    ``农村最低生活保障（低保）（`dibao`，未确定）``; a measure no pack titles, by its id."""
    named = title.get(lang) if title is not None else ident
    head, inside = (f"`{ident}`", []) if named == ident else (named, [f"`{ident}`"])
    if amount is not None:
        inside.append(amount)
    if not inside:
        return head
    return f"{head}（{'，'.join(inside)}）" if lang == "zh" else f"{head} ({', '.join(inside)})"


def _param_line(p: ParameterUse, lang: Lang, words: Vocabulary | None) -> str:
    zh = lang == "zh"
    if p.kind == "missing":
        return (
            f"参数 `{p.name}`（{p.title.zh}）：当日没有有效取值"
            if zh
            else f"parameter `{p.name}` ({p.title.en}): no value in force"
        )
    value = quantity(words, p.value, p.unit, lang)
    if p.approximate:
        value = f"约 {value}" if zh else f"about {value}"
    if p.bounds:
        parts = []
        for b in p.bounds:
            side = (
                ("不低于" if b.side == "at_least" else "不高于")
                if zh
                else ("at least" if b.side == "at_least" else "at most")
            )
            title = b.source_title.get(lang) if b.source_title else (b.source or "?")
            quoted = (
                (f"大意：{b.clause}" if zh else f"paraphrased: {b.clause}")
                if b.paraphrase
                else f"“{b.clause}”"
            )
            extra = [
                x
                for x in (quoted if b.clause else None, b.derivation.get(lang) if b.derivation else None)
                if x
            ]
            conf = (
                (f"可信度 {b.confidence}" if zh else f"confidence {b.confidence}") if b.confidence else None
            )
            inner = ("，" if zh else ", ").join([title, *extra, *([conf] if conf else [])])
            bound = grouped(rate_value(words, b.value, p.unit))
            parts.append(f"{side} {bound}（{inner}）" if zh else f"{side} {bound} ({inner})")
        joined = "；".join(parts) if zh else "; ".join(parts)
        if zh:
            return f"参数 `{p.name}`（{p.title.zh}）= 区间 {value}，自 {p.effective} 起有效：{joined}（{p.location}{_imported(p, lang)}）"
        return f"parameter `{p.name}` ({p.title.en}) = the range {value}, in force from {p.effective}: {joined} ({p.location}{_imported(p, lang)})"
    if p.kind == "not_established":
        value = "未确定（没有来源确定其取值）" if zh else "not established (no source fixes it)"
    src = p.source_title.get(lang) if p.source_title else (p.source or ("无" if zh else "none"))
    conf = (
        f"，可信度 {p.confidence}"
        if zh and p.confidence
        else (f", confidence {p.confidence}" if p.confidence else "")
    )
    if p.clause and p.paraphrase:  # the source's sense in other words: never quoted as if verbatim
        clause = f"，大意：{p.clause}" if zh else f", paraphrased: {p.clause}"
    else:
        clause = (f"：“{p.clause}”" if zh else f': "{p.clause}"') if p.clause else ""
    if zh:
        return f"参数 `{p.name}`（{p.title.zh}）= {value}，自 {p.effective} 起有效；来源 {src}{clause}{conf}（{p.location}{_imported(p, lang)}）"
    return f"parameter `{p.name}` ({p.title.en}) = {value}, in force from {p.effective}; source {src}{clause}{conf} ({p.location}{_imported(p, lang)})"


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
    words: Vocabulary | None,
    *,
    group: bool = True,
) -> list[str]:
    """The values read, the facts and the parameters behind a verdict (one block for all kinds):
    values in the reader's language (`gspolicy.explain.wording.reading`), field paths as they are."""
    zh = lang == "zh"
    lines: list[str] = []
    if readings:
        shown = "; ".join(
            f"{r.path} = {reading(words, r.path, r.value, lang, group=group)}" for r in readings
        )
        lines.append(indent + ("读取：" if zh else "read: ") + shown)
    for name, value in facts:
        shown_value = _truth(grouped(fact_value(words, name, value)), lang)
        lines.append(
            indent + (f"派生事实 `{name}` = {shown_value}" if zh else f"fact `{name}` = {shown_value}")
        )
    lines.extend(indent + _param_line(p, lang, words) for p in parameters)
    return lines


def _criterion_lines(c: CriterionVerdict, lang: Lang, words: Vocabulary | None) -> list[str]:
    zh = lang == "zh"
    lines = [f"    {_MARK[c.verdict]} {c.id}  {c.title.get(lang)} — {verdict_word(c.verdict, lang)}"]
    lines.append(f"        {c.reason.get(lang)}")
    lines.extend(_evidence(c.readings, c.facts, c.parameters, "        ", lang, words))
    if c.missing and c.verdict == "undetermined":
        lines.append(("        需补充：" if zh else "        would settle it: ") + _listed(c.missing, zh))
    for cite in c.cites:
        lines.append(("        依据：" if zh else "        source: ") + cite.get(lang))
    lines.append(("        规则位置：" if zh else "        rule: ") + c.location)
    return lines


def _measures_named(decision: Decision) -> dict[str, tuple[Text, str | None]]:
    """Each measure the decision names, by id: its title from the pack and its unit."""
    found: dict[str, tuple[Text, str | None]] = {}
    if decision.buffer is not None:
        for r in (*decision.buffer.retained, *decision.buffer.ended):
            found.setdefault(r.measure, (r.title, r.unit))
    for m in decision.memberships:
        for g in m.measures:
            found[g.id] = (g.title, g.unit)
    return found


def _buffer_lines(decision: Decision, lang: Lang) -> list[str]:
    zh = lang == "zh"
    words = decision.words
    b = decision.buffer
    assert b is not None
    lines = [
        ("  缓冲期：" if zh else "  buffer: ") + f"{word('buffer', b.status, lang)} — {b.reason.get(lang)}"
    ]
    lines.extend(_evidence(b.readings, b.facts, b.parameters, "    ", lang, words, group=False))
    for r in b.retained:
        amount = (
            _amount(r.amount, lang, r.unit, words)
            if r.amount is not None
            else ("无法确定" if zh else "not known")
        )
        at_exit = _amount(r.amount_at_exit, lang, r.unit, words)
        named = measure_words(r.measure, r.title, lang)
        own_end = ""
        if r.held_until is not None:
            own_end = f"；该记录本身止于 {r.held_until}" if zh else f"; its own record ended {r.held_until}"
        if zh:
            lines.append(
                f"    保留措施 {named}：金额 {amount}（退出时 {at_exit}；{r.amount_source.zh}），"
                f"依据 {r.basis}，至 {r.until}{own_end}"
            )
        else:
            lines.append(
                f"    retained {named}: amount {amount} (at exit {at_exit}; "
                f"{r.amount_source.en}), basis {r.basis}, until {r.until}{own_end}"
            )
        lines.append(f"      {r.why.get(lang)}")
        if r.lapses_when is not None:
            lines.extend(_evidence(r.readings, (), (), "      ", lang, words, group=False))
    for r in b.ended:
        named = measure_words(r.measure, r.title, lang)
        lines.append(f"    已终止 {named}：{r.why.zh}" if zh else f"    ended {named}: {r.why.en}")
        lines.extend(_evidence(r.readings, (), (), "      ", lang, words, group=False))
    for cite in b.cites:
        lines.append(("    依据：" if zh else "    source: ") + cite.get(lang))
    if b.location:
        lines.append(("    规则位置：" if zh else "    rule: ") + b.location)
    support = decision.support
    if support:
        known = _measures_named(decision)
        shown = []
        for m, a, _ in support:
            title, unit = known.get(m, (None, None))
            shown.append(measure_words(m, title, lang, _amount(a, lang, unit, words)))
        lines.append(("  当前享受的帮扶：" if zh else "  support now: ") + ("；" if zh else "; ").join(shown))
    return lines


def check_detail(detail: object) -> Detail:
    """`detail` if it is a detail level (`Detail`), else a `ValueError` naming the levels."""
    if detail not in DETAILS:
        levels = ", ".join(DETAILS)
        raise ValueError(
            f"unknown detail level {detail!r}: expected one of {levels} (未知的详细程度 {detail!r}：应为 {levels} 之一)"
        )
    return detail


def _heading(decision: Decision, lang: Lang, title: str | None) -> str:
    return title or (
        f"农户 {decision.household} 退出验收判定（截至 {decision.as_of}）"
        if lang == "zh"
        else f"Household {decision.household}: exit acceptance as of {decision.as_of}"
    )


def _verdict_line(decision: Decision, lang: Lang) -> str:
    """The decision's exit verdict, in capitals (and why there is none)."""
    zh = lang == "zh"
    verdict = verdict_word(decision.verdict, lang)
    if decision.verdict is None:
        verdict += "（没有有效的退出标准）" if zh else " (no exit criteria in force)"
    return ("  结论：" if zh else "  verdict: ") + verdict.upper()


def _department_head(first: CriterionVerdict, lang: Lang) -> str:
    """The heading of a department's criteria (`first`: its first criterion)."""
    head = first.department_title.get(lang) if first.department_title else (first.department or "?")
    return f"  [{head}]"


def render_text(
    decision: Decision, lang: Lang = "en", *, title: str | None = None, detail: Detail = "brief"
) -> str:
    """The decision as text an officer can read in `lang`, at a detail level: ``full`` every
    reason, ``brief`` the failing and undetermined parts with their reasons and one line per
    passing criterion, ``fails`` those parts alone (`title` replaces the household heading, for
    village and county decisions)."""
    if check_detail(detail) != "full":
        return _render_short(decision, lang, title, passing=detail == "brief")
    zh = lang == "zh"
    words = decision.words
    out: list[str] = []
    out.append(_heading(decision, lang, title))
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
        ) + f"{word('applicability', a.status, lang)} — {a.reason.get(lang)}"
        out.append(line)
        out.extend(_evidence(a.readings, (), (), "    ", lang, words, group=False))
    out.append(_verdict_line(decision, lang))
    if decision.criteria:
        out.append("  按部门：" if zh else "  by department:")
        for _dept, items in decision.by_department().items():
            out.append(_department_head(items[0], lang))
            for c in items:
                out.extend(_criterion_lines(c, lang, words))
    if decision.memberships:
        out.append("  规则（帮扶批次与核查发现）：" if zh else "  rules (batches and findings):")
        for m in decision.memberships:
            measures = ("，" if zh else ", ").join(
                measure_words(g.id, g.title, lang, _amount(g.amount, lang, g.unit, words)) for g in m.measures
            )
            answer = word("answer", m.applies, lang)
            out.append(
                f"    {m.rule} — {answer}{'：' if zh else ': '}{m.title.get(lang)}"
                + (f" → {measures}" if measures and m.applies != "no" else "")
            )
            if m.applies == "no":
                continue  # a rule that does not hold is listed; its details are in the JSON form
            out.extend(_evidence(m.readings, m.facts, m.parameters, "      ", lang, words))
            if m.applies == "undetermined" and m.missing:
                out.append(("      需补充：" if zh else "      would settle it: ") + _listed(m.missing, zh))
            for cite in m.cites:
                out.append(("      依据：" if zh else "      source: ") + cite.get(lang))
            out.append(("      规则位置：" if zh else "      rule: ") + m.location)
    if decision.buffer is not None:
        out.extend(_buffer_lines(decision, lang))
    for f in decision.findings:
        status = word("finding_status", f.status, lang)
        kind = word("finding_kind", f.kind, lang)
        if zh:
            out.append(f"  发现：{kind} {f.id}（{f.pack}）{status} — {f.title.zh}")
        else:
            out.append(f"  finding: {kind} {f.id} ({f.pack}) {status} — {f.title.en}")
        out.append(f"    {f.reason.get(lang)}")
        for cite in f.cites:
            out.append(("    依据：" if zh else "    source: ") + cite.get(lang))
        if f.location:
            out.append(("    位置：" if zh else "    at: ") + f.location)
    missing = decision.missing
    if missing:
        out.append(
            ("  需补充的数据或参数：" if zh else "  what would settle the undetermined parts: ")
            + _listed(missing, zh)
        )
    return "\n".join(out) + "\n"


def _exit_pack(decision: Decision) -> str | None:
    """``id@version (hash…)`` of the pack whose criteria give the verdict (by the file of its
    criteria), or None."""
    if not decision.criteria:
        return None
    file = decision.criteria[0].location.rpartition(":")[0]
    for ref in decision.packs:
        if ref.file == file:
            return f"{ref.id}@{ref.version} ({ref.content_hash[:19]}…)"
    return None


def _settle(missing: Sequence[str], indent: str, zh: bool) -> str:
    return indent + ("需补充：" if zh else "would settle it: ") + _listed(missing, zh)


def _rule_line(m: Membership, lang: Lang, words: Vocabulary | None) -> str:
    """A rule that applies or is undetermined, in one line: its answer, title and measures."""
    zh = lang == "zh"
    measures = ("，" if zh else ", ").join(
        measure_words(g.id, g.title, lang, _amount(g.amount, lang, g.unit, words)) for g in m.measures
    )
    answer = word("answer", m.applies, lang)
    return (
        f"    {m.rule} — {answer}{'：' if zh else ': '}{m.title.get(lang)}"
        + (f" → {measures}" if measures else "")
        + (f"  （{m.location}）" if zh else f"  ({m.location})")
    )


def _render_short(decision: Decision, lang: Lang, title: str | None, *, passing: bool) -> str:
    """The ``fails`` text (with `passing`: the ``brief`` one): the failing and undetermined
    criteria with everything behind them, the rules that apply or are undetermined one line
    each, the buffer, the findings and what would settle the undetermined parts."""
    zh = lang == "zh"
    words = decision.words
    out = [_heading(decision, lang, title)]
    exit_pack = _exit_pack(decision)
    others = len(decision.packs) - (1 if exit_pack else 0)
    if exit_pack is not None and others == 0:
        out.append(("  政策包 " if zh else "  pack ") + exit_pack)
    elif exit_pack is not None:
        out.append(
            f"  政策包 {exit_pack}，另有 {others} 个政策包"
            if zh
            else f"  pack {exit_pack} and {others} other pack{'s' if others != 1 else ''}"
        )
    for problem in decision.problems:
        out.append(("  问题：" if zh else "  problem: ") + problem.get(lang))
    if decision.applicability is not None:
        a = decision.applicability
        out.append(
            ("  适用性：" if zh else "  applicability: ")
            + f"{word('applicability', a.status, lang)} — {a.reason.get(lang)}"
        )
        if a.status != "assessed":
            out.extend(_evidence(a.readings, (), (), "    ", lang, words, group=False))
            if a.missing:
                out.append(_settle(a.missing, "    ", zh))
    out.append(_verdict_line(decision, lang))
    shown = [c for c in decision.criteria if passing or c.verdict != "pass"]
    if shown:
        out.append("  按部门：" if zh else "  by department:")
        for _dept, items in decision.by_department().items():
            listed = [c for c in items if c in shown]
            if not listed:
                continue
            out.append(_department_head(items[0], lang))
            for c in listed:
                if c.verdict == "pass":
                    out.append(
                        f"    {_MARK[c.verdict]} {c.id}  {c.title.get(lang)} — "
                        f"{verdict_word(c.verdict, lang)}{'：' if zh else ': '}{c.reason.get(lang)}"
                    )
                else:
                    out.extend(_criterion_lines(c, lang, words))
    elif decision.criteria:
        out.append("  所有标准均通过" if zh else "  every criterion passes")
    holding = [m for m in decision.memberships if m.applies != "no"]
    if holding:
        out.append("  适用或待定的规则：" if zh else "  rules that apply or are undetermined:")
        for m in holding:
            out.append(_rule_line(m, lang, words))
            if m.applies == "undetermined" and m.missing:
                out.append(_settle(m.missing, "      ", zh))
    rest = len(decision.memberships) - len(holding)
    if rest:
        rules = "rule does" if rest == 1 else "rules do"
        out.append(
            (f"  另有 {rest} 条规则不适用" if holding else f"  {rest} 条规则均不适用")
            if zh
            else (f"  {rest} other {rules} not apply" if holding else f"  {rest} {rules} not apply")
        )
    if decision.buffer is not None:
        out.extend(_buffer_short(decision, lang))
    for f in decision.findings:
        status = word("finding_status", f.status, lang)
        kind = word("finding_kind", f.kind, lang)
        out.append(
            f"  发现：{kind} {f.id}（{f.pack}）{status} — {f.title.zh}"
            if zh
            else f"  finding: {kind} {f.id} ({f.pack}) {status} — {f.title.en}"
        )
        out.append(f"    {f.reason.get(lang)}")
    missing = decision.missing
    if missing:
        out.append(
            ("  需补充的数据或参数：" if zh else "  what would settle the undetermined parts: ")
            + _listed(missing, zh)
        )
    return "\n".join(out) + "\n"


def _buffer_short(decision: Decision, lang: Lang) -> list[str]:
    """The buffer in a line (and a line per measure it keeps), then the support now."""
    zh = lang == "zh"
    words = decision.words
    b = decision.buffer
    assert b is not None
    lines = [
        ("  缓冲期：" if zh else "  buffer: ") + f"{word('buffer', b.status, lang)} — {b.reason.get(lang)}"
    ]
    if b.status == "undetermined" and b.missing:
        lines.append(_settle(b.missing, "    ", zh))
    for r in b.retained:
        amount = (
            _amount(r.amount, lang, r.unit, words)
            if r.amount is not None
            else ("无法确定" if zh else "not known")
        )
        named = measure_words(r.measure, r.title, lang)
        lines.append(
            f"    保留措施 {named}：金额 {amount}，依据 {r.basis}，至 {r.until}"
            if zh
            else f"    retained {named}: amount {amount}, basis {r.basis}, until {r.until}"
        )
        if r.missing:
            lines.append(_settle(r.missing, "      ", zh))
    for r in b.ended:
        named = measure_words(r.measure, r.title, lang)
        lines.append(f"    已终止 {named}：{r.why.zh}" if zh else f"    ended {named}: {r.why.en}")
    support = decision.support
    if support:
        known = _measures_named(decision)
        shown = []
        for m, a, _ in support:
            title, unit = known.get(m, (None, None))
            shown.append(measure_words(m, title, lang, _amount(a, lang, unit, words)))
        lines.append(("  当前享受的帮扶：" if zh else "  support now: ") + ("；" if zh else "; ").join(shown))
    return lines


def _listed(items: Sequence[str], zh: bool) -> str:
    """Data paths and names in a list: 、 between them in Chinese, commas in English."""
    return ("、" if zh else ", ").join(items)
