"""Renderings of decisions: text in Chinese or English, and the stable JSON form."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

import attrs

from gspolicy._glossary import group, word
from gspolicy._i18n import Lang, Text
from gspolicy.explain.parts import (
    DECISION_FORMAT,
    DETAILS,
    CriterionVerdict,
    Detail,
    Membership,
    ParameterUse,
    Reading,
)
from gspolicy.explain.wording import Vocabulary, fact_value, grouped, quantity, rate_value, reading

if TYPE_CHECKING:  # the decision calls this module; its type is read for annotations only
    from gspolicy.explain.decision import Decision

__all__ = [
    "amount_words",
    "check_detail",
    "decision_to_json",
    "json_value",
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


_LOAN = re.compile(r"loan, (?:ceiling (?P<ceiling>.+), term (?P<term>.+)|drawn (?P<drawn>.+))")
_NOT_ESTABLISHED = "not established"


def _term(term: str, lang: Lang) -> str:
    """A loan's term (``3 years``, ``[2, 3] years``) in the reader's language."""
    number, _, unit = term.rpartition(" ")
    if term == _NOT_ESTABLISHED or unit not in group("term_unit"):
        return word("amount", "not_established", lang)
    return f"{number} {word('term_unit', unit, lang)}"


def amount_words(
    text: str | None, lang: Lang, unit: str | None = None, words: Vocabulary | None = None
) -> str:
    """An amount for an officer, with its unit in the reader's language: a number grouped, a rate
    as a percentage, an amount the sources do not give said so (without a unit); a loan said as a
    loan (its ceiling and term, or what was drawn), never as support of its amount."""
    if text is None:
        return "—"
    if text == _NOT_ESTABLISHED:
        return word("amount", "not_established", lang)
    found = _LOAN.fullmatch(text)
    if found is None:
        return quantity(words, text, unit, lang)
    zh = lang == "zh"
    if found["drawn"] is not None:
        drawn = amount_words(found["drawn"], lang, unit, words)
        return f"贷款，退出时贷款额 {drawn}" if zh else f"loan of {drawn} drawn"
    ceiling = amount_words(found["ceiling"], lang, unit, words)
    term = _term(found["term"], lang)
    if zh:
        return f"贷款，上限 {ceiling}，期限 {term}"
    return f"loan of up to {ceiling}, term {term}"


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


_LEGEND: tuple[tuple[Text, Text], ...] = (
    (
        Text("✓ ✗ ?", "✓ ✗ ?"),
        Text("通过、不通过、待定（标准的判定）", "pass, fail, undetermined (a criterion's verdict)"),
    ),
    (
        Text("[36, 37]", "[36, 37]"),
        Text(
            "区间：只知道取值在两端之间（来源只给出范围的参数，或含待定对象的合计）；“差 68 至 665.38”同理",
            "a range: the value is known only to lie between the two bounds (a parameter its sources "
            "give only as a range, or a total over undetermined items); “short by 68 to 665.38” likewise",
        ),
    ),
    (
        Text("(4)", "(4)"),
        Text(
            "整个列表被读取：列表中的项数（members = (4)：4 名成员）",
            "a list read as a whole: how many items it holds (members = (4): four members)",
        ),
    ),
    (
        Text("（已填写）", "(given)"),
        Text(
            "只检查了该字段是否已填写，未用到其取值",
            "the field was only checked for being filled in; its value was not needed",
        ),
    ),
    (Text("缺失", "missing"), Text("记录中没有该字段的值", "the record has no value for the field")),
    (
        Text("members[2].age", "members[2].age"),
        Text(
            "数据路径：第 3 名成员（从 0 起数）的 age 字段",
            "a data path: the field age of the third member (counting from 0)",
        ),
    ),
    (
        Text("param:<name>", "param:<name>"),
        Text(
            "一个参数：来源确定其取值后即可判定",
            "a parameter: once its sources fix its value, the verdict is settled",
        ),
    ),
    (
        Text("H  M-H  M  L-M  L", "H  M-H  M  L-M  L"),
        Text(
            "来源的可信度（可信度 H）：高、中高、中、中低、低",
            "the confidence of a source (confidence H): high, medium-high, medium, low-medium, low",
        ),
    ),
    (
        Text("“…”", "“…”"),
        Text("引号内为来源原文", "a clause quoted from the source, word for word"),
    ),
    (
        Text("大意：", "paraphrased:"),
        Text("来源的意思，用其他话转述（不是原文）", "the source's sense in other words (not its text)"),
    ),
    (
        Text("推断自", "inferred from"),
        Text(
            "政策包据该来源推断，来源没有明说",
            "the pack infers it from the source; the source does not say it",
        ),
    ),
    (Text("code（标签）", "code (Label)"), Text("枚举代码及其名称", "an enum code with its label")),
    (
        Text("file.yaml:123", "file.yaml:123"),
        Text(
            "规则或取值在政策包文件中的位置（行号）",
            "where the rule or value is written in its pack file (line)",
        ),
    ),
    (
        Text("sha256:2bf1120748bf…", "sha256:2bf1120748bf…"),
        Text("政策包版本内容的哈希（前 12 位）", "the content hash of a pack version (its first 12 digits)"),
    ),
    (Text("→", "→"), Text("规则适用时给予的帮扶措施", "the measures a rule grants when it applies")),
)

_LEGEND_WIDTH = 110
"""The columns a line of the legend takes at most."""


def _columns(text: str) -> int:
    """How many terminal columns `text` takes: two for a wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _wrapped(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns: broken at spaces, or between Chinese
    characters."""
    tokens: list[str] = []
    for word_ in re.findall(r"\S+\s*", text):
        # a Chinese character stands alone; a run of other characters (a number) stays whole
        pieces = re.findall(r"[\u2e80-\uffff]|[^\u2e80-\uffff]+", word_)
        tokens.extend(pieces if _columns(word_) > len(word_) else [word_])
    lines: list[str] = []
    line = ""
    for token in tokens:
        if line and _columns(line + token.rstrip()) > width:
            lines.append(line.rstrip())
            line = token
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


def legend(lang: Lang = "en") -> str:
    """The notation explanations use, explained once, in `lang` (printed after explanations),
    in lines of at most 110 columns."""
    zh = lang == "zh"
    marks = [(mark.get(lang), meaning.get(lang)) for mark, meaning in _LEGEND]
    width = max(_columns(mark) for mark, _ in marks)
    out = ["说明中的符号：" if zh else "Notation in the explanations:"]
    for mark, meaning in marks:
        pad = " " * (width - _columns(mark))
        parts = _wrapped(meaning, _LEGEND_WIDTH - width - 4)
        out.append(f"  {mark}{pad}  {parts[0]}")
        out.extend(" " * (width + 4) + part for part in parts[1:])
    return "\n".join(out) + "\n"


_DECIMAL = re.compile(r"-?\d+(?:\.\d+)?")
_PAIR = re.compile(r"\[([^\[\],]+), ([^\[\],]+)\]")
_NUMERIC_KINDS = frozenset({"int", "money", "ratio", "decimal"})


def _number(text: str) -> int | float | None:
    if _DECIMAL.fullmatch(text) is None:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover  # the pattern admits only decimals
        return None
    return int(number) if "." not in text else float(number)


def json_value(text: str | None, *, truth: bool = True) -> Any:
    """A value as the JSON form gives it: a number as a JSON number, a range of numbers
    (``[3218, 3815.38]``) as ``[low, high]``, ``true``/``false`` as booleans (with `truth`), None
    as null, anything else (a date, a code, ``not established``, a loan) as its text."""
    if text is None:
        return None
    number = _number(text)
    if number is not None:
        return number
    pair = _PAIR.fullmatch(text)
    if pair is not None:
        low, high = _number(pair.group(1)), _number(pair.group(2))
        if low is not None and high is not None:
            return [low, high]
    if truth and text in ("true", "false"):
        return text == "true"
    return text


def _reading_json(words: Vocabulary | None, path: str, value: str | None) -> Any:
    """A value read, by the kind of its field: a number, a boolean, else its text (a list read
    whole is its count ``(3)``, a field only checked for presence ``(given)``)."""
    field = words.field(path) if words is not None else None
    if field is None or value is None:
        return value
    if field.kind in _NUMERIC_KINDS:
        return json_value(value, truth=False)
    if field.kind == "bool" and value in ("true", "false"):
        return value == "true"
    return value


def _plain(value: object, words: Vocabulary | None = None) -> Any:
    if isinstance(value, Text):
        return {"zh": value.zh, "en": value.en}
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v, words) for v in value]
    if isinstance(value, Reading):
        return {"path": value.path, "value": _reading_json(words, value.path, value.value)}
    if attrs.has(type(value)):
        out: dict[str, Any] = {}
        for f in attrs.fields(cast(Any, type(value))):
            item = getattr(value, f.name)
            if (
                not f.metadata.get("json", True)
                or (f.metadata.get("omit_none") and item is None)
                or (f.metadata.get("omit_empty") and item in (None, ()))
                or (f.metadata.get("omit_false") and item is False)
            ):
                continue
            if f.metadata.get("number"):
                out[f.name] = json_value(item, truth=False)
            elif f.name == "facts":
                out[f.name] = [[name, json_value(shown)] for name, shown in item]
            else:
                out[f.name] = _plain(item, words)
        return out
    return value


def _listed(items: Sequence[str], zh: bool) -> str:
    """Data paths and names in a list: 、 between them in Chinese, commas in English."""
    return ("、" if zh else ", ").join(items)


def decision_to_json(decision: Decision, *, detail: Detail = "full") -> dict[str, Any]:
    """The stable JSON form at a detail level (validates against the package's
    ``schemas/decision.schema.json``): ``full`` everything; ``brief`` and ``fails`` keep, of the
    full form, what their text shows (`_shorten`), so each is contained in the full form."""
    detail = check_detail(detail)
    data: dict[str, Any] = {"format": DECISION_FORMAT, "detail": detail}
    data.update(_plain(decision, decision.words))
    data["missing"] = list(decision.missing)
    data["support"] = [
        {"measure": m, "amount": json_value(a, truth=False), "why": w} for m, a, w in decision.support
    ]
    return data if detail == "full" else _shorten(data, passing=detail == "brief")


_PACK_KEYS = ("id", "version")
_CRITERION_KEYS = (
    "id",
    "verdict",
    "department",
    "reason",
    "missing",
    "readings",
    "parameters",
    "facts",
    "location",
    "shortfall",
    "threshold",
    "value",
    "witnesses",
)
_PASSING_KEYS = ("id", "verdict", "reason")
_PARAMETER_KEYS = ("name", "value", "unit", "effective", "source", "confidence")
_BOUND_KEYS = ("side", "value", "source", "confidence")
_RULE_KEYS = ("rule", "applies")
_MEASURE_KEYS = ("id",)
_SUPPORT_KEYS = ("measure", "amount")
_OPTIONAL = frozenset({"shortfall", "threshold", "value", "witnesses", "missing", "facts", "parameters"})
_BUFFER_KEYS = ("status", "basis", "until", "amount_rule", "reason", "missing", "pack", "location")
_RETAINED_KEYS = ("measure", "amount", "unit", "basis", "until", "path", "missing")
_FINDING_KEYS = ("kind", "pack", "id", "status", "reason", "missing", "location")


def _keep(item: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: item[k] for k in keys if k in item}


def _parameter(p: dict[str, Any]) -> dict[str, Any]:
    short = {k: v for k, v in _keep(p, _PARAMETER_KEYS).items() if v is not None}
    if p.get("bounds"):
        short["bounds"] = [_keep(b, _BOUND_KEYS) for b in p["bounds"]]
    return short


def _shorten(data: dict[str, Any], *, passing: bool) -> dict[str, Any]:
    """The ``fails`` form (with `passing`: the ``brief`` one), kept from the full form: values,
    codes, ids and locations, and of the words only the reasons (titles, citations and the
    sources' clauses are in the full form, found by id and location).

    The pack versions by id and version (the verdict pack also by hash); each failing or
    undetermined criterion with the values, facts and parameters (value, unit, effective date,
    source id, confidence, each left out when null) behind it, a value it lacks named in its
    `missing` and not again among its readings; with `passing`, each passing criterion by its id,
    verdict and reason; the rules that apply (with their measures) or are undetermined (with what
    would settle them); the buffer (when active, the measures it keeps) and the support now."""
    out = dict(data)
    verdict_file = data["criteria"][0]["location"].rpartition(":")[0] if data["criteria"] else None
    out["packs"] = [
        _keep(p, (*_PACK_KEYS, "content_hash")) if p["file"] == verdict_file else _keep(p, _PACK_KEYS)
        for p in data["packs"]
    ]
    applicability = data["applicability"]
    if applicability is not None and applicability["status"] == "assessed":
        out["applicability"] = _keep(applicability, ("status", "reason"))
    out["support"] = [_keep(s, _SUPPORT_KEYS) for s in data["support"]]
    criteria = []
    for c in data["criteria"]:
        if c["verdict"] == "pass":
            if passing:
                criteria.append(_keep(c, _PASSING_KEYS))
            continue
        short = {k: v for k, v in _keep(c, _CRITERION_KEYS).items() if v or k not in _OPTIONAL}
        # a value missing is named once, in `missing`
        short["readings"] = [
            r for r in c["readings"] if r["value"] is not None or r["path"] not in c["missing"]
        ]
        if c["parameters"]:
            short["parameters"] = [_parameter(p) for p in c["parameters"]]
        criteria.append(short)
    out["criteria"] = criteria
    rules = []
    for m in data["memberships"]:
        if m["applies"] == "no":
            continue
        rule = _keep(m, _RULE_KEYS)
        if m["measures"]:
            rule["measures"] = [_keep(g, _MEASURE_KEYS) for g in m["measures"]]
        if m["applies"] == "undetermined":
            rule["missing"] = m["missing"]
        rules.append(rule)
    out["memberships"] = rules
    buffer = data["buffer"]
    if buffer is not None:
        short = _keep(buffer, _BUFFER_KEYS if buffer["status"] != "inactive" else ("status", "reason"))
        if buffer["status"] != "inactive":
            short["retained"] = [_keep(r, _RETAINED_KEYS) for r in buffer["retained"]]
        if "ended" in buffer:
            short["ended"] = [_keep(r, _RETAINED_KEYS) for r in buffer["ended"]]
        out["buffer"] = short
    if "findings" in data:
        out["findings"] = [_keep(f, _FINDING_KEYS) for f in data["findings"]]
    return out
