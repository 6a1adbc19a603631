"""Terminal renderings of a check and of a diff: located lists and aligned tables, zh or en."""

from __future__ import annotations

from collections.abc import Sequence

from gspolicy._glossary import Group, group, text
from gspolicy._i18n import Lang
from gspolicy._location import Span, display_width, file_line
from gspolicy.analysis.diff import Change
from gspolicy.analysis.impact import AreaImpact, Impact
from gspolicy.analysis.lint import CheckReport

__all__ = [
    "KINDS",
    "PARTS",
    "render_changes",
    "render_check_summary",
    "render_impact",
    "table",
    "where",
    "words",
]

KINDS = group("change")
"""What happened to a part (added, removed, changed), from the glossary."""
PARTS = group("part")
"""The parts of a pack a change names, from the glossary."""


def where(span: Span | None) -> str:
    """``file:line`` of a span, or ``-`` on the side where the part does not exist."""
    return file_line(span)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: Sequence[int] = ()) -> list[str]:
    """An aligned table (CJK characters count two columns); `numeric` columns align right."""
    widths = [display_width(h) for h in headers]
    for row in rows:
        widths = [max(w, display_width(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = []
    for row in [headers, *rows]:
        cells = [_pad(cell, w, i in numeric) for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  " + "  ".join(cells).rstrip())
    return lines


def change_line(change: Change, lang: Lang) -> str:
    """One change in words: ``changed value of `exit_income_line from 2018-01-01` … : 3500 → 4000``."""
    head = f"{KINDS[change.kind].get(lang)} {PARTS[change.part].get(lang)} `{change.name}`"
    if change.effective is not None:
        day = change.effective.isoformat()
        head += f"（自 {day} 起）" if lang == "zh" else f" from {day}"
    head += f"，政策包 {change.pack}" if lang == "zh" else f" in {change.pack}"
    if change.before is not None or change.after is not None:
        head += f": {change.before or '-'} → {change.after or '-'}"
    if change.aspects and change.part != "value":
        head += (
            (" 〔" if lang == "zh" else " [") + ", ".join(change.aspects) + ("〕" if lang == "zh" else "]")
        )
    return head


def render_changes(changes: Sequence[Change], lang: Lang) -> str:
    zh = lang == "zh"
    if not changes:
        return "两侧的政策包内容相同\n" if zh else "no structural change: the packs have the same content\n"
    lines = [f"结构变化（{len(changes)} 处）：" if zh else f"structural changes ({len(changes)}):"]
    for change in changes:
        lines.append("  " + change_line(change, lang))
        lines.append(f"      {'旧' if zh else 'old'}  {where(change.old)}")
        lines.append(f"      {'新' if zh else 'new'}  {where(change.new)}")
    return "\n".join(lines) + "\n"


# the words a change key's values may be (a verdict, an applicability, a rule's answer, whether a
# measure is held) and where the glossary keeps each
_VALUE_WORDS: dict[str, tuple[Group, str]] = {
    **{key: ("verdict", key) for key in ("pass", "fail", "undetermined", "not_applicable", "none")},
    "assessed": ("applicability", "assessed"),
    "yes": ("answer", "yes"),
    "no": ("answer", "no"),
    "absent": ("holding", "absent"),
    "granted": ("holding", "granted"),
    "not granted": ("holding", "not_granted"),
}


def words(key: str, lang: Lang) -> str:
    """A change key (``exit.income: pass → fail``) with its values in Chinese, from the glossary
    (in English the key is shown with its codes, as it is)."""
    if lang != "zh":
        return key
    head, sep, tail = key.rpartition(": ")
    parts = [text(*_VALUE_WORDS[p]).zh if p in _VALUE_WORDS else p for p in tail.split(" → ")]
    return head + sep + " → ".join(parts)


def _examples(ids: Sequence[str]) -> str:
    return ", ".join(ids)


def render_impact(result: Impact, lang: Lang, population: str) -> str:
    zh = lang == "zh"
    batches = {c.household for c in result.changes if c.batches}
    measures = {c.household for c in result.changes if c.measures}
    if zh:
        head = (
            f"截至 {result.as_of} 对 {population} 中 {result.households} 户的影响："
            f"{result.verdict_changes} 户退出结论变化，{len(batches)} 户批次变化，{len(measures)} 户措施变化"
        )
    else:
        head = (
            f"impact as of {result.as_of} on {result.households} households ({population}): "
            f"{result.verdict_changes} change exit verdict, {len(batches)} change batch, "
            f"{len(measures)} change measures"
        )
    lines = [head]
    examples_word = "示例户" if zh else "examples"
    households_word = "户数" if zh else "households"
    transitions = result.by_transition()
    if transitions:
        lines.append("")
        lines.extend(
            table(
                ["退出结论" if zh else "exit verdict", households_word, examples_word],
                [[words(k, lang), str(n), _examples(ex)] for k, n, ex in transitions],
                numeric=(1,),
            )
        )
        keys = [k for k, _, _ in transitions]
        by_county = result.by_county_transition()
        lines.append("")
        lines.extend(
            table(
                [
                    "县（区）代码" if zh else "county",
                    *(words(k, lang) for k in keys),
                    "合计" if zh else "total",
                ],
                [
                    [county, *(str(row.get(k, 0)) for k in keys), str(sum(row.values()))]
                    for county, row in by_county.items()
                ],
                numeric=tuple(range(1, len(keys) + 2)),
            )
        )
        lines.append("")
        lines.extend(
            table(
                [
                    "原因（结论变化的指标）" if zh else "reason (criterion whose verdict changed)",
                    households_word,
                    examples_word,
                ],
                [[words(k, lang), str(n), _examples(ex)] for k, n, ex in result.by_reason()],
                numeric=(1,),
            )
        )
    for title_zh, title_en, rows in (
        ("批次（规则）变化", "batch (rule membership) changes", result.by_batch()),
        ("措施变化", "measure changes", result.by_measure()),
    ):
        lines.append("")
        if not rows:
            lines.append(f"{title_zh}：无" if zh else f"{title_en}: none")
            continue
        lines.extend(
            table(
                [title_zh if zh else title_en, households_word, examples_word],
                [[words(k, lang), str(n), _examples(ex)] for k, n, ex in rows],
                numeric=(1,),
            )
        )
    return "\n".join(lines) + "\n"


def render_check_summary(report: CheckReport, lang: Lang) -> str:
    """The closing line of ``gspolicy check``."""
    code = report.exit_code
    if lang == "zh":
        verdict = {0: "可以发布", 1: "有错误，不能发布", 2: "有警告，请复核后再发布"}[code]
        return (
            f"已检查 {report.packs} 个政策包（{report.versions} 个版本）："
            f"{report.errors} 个错误，{report.warnings} 个警告，{report.notes} 条提示"
            f"（其中 {report.gaps} 个已知缺口）；{verdict}（退出码 {code}）\n"
        )
    verdict = {0: "clean", 1: "errors: do not publish", 2: "warnings: review before publishing"}[code]
    return (
        f"checked {report.packs} pack{'s' * (report.packs != 1)} "
        f"({report.versions} version{'s' * (report.versions != 1)}): "
        f"{report.errors} error{'s' * (report.errors != 1)}, {report.warnings} warning{'s' * (report.warnings != 1)}, "
        f"{report.notes} note{'s' * (report.notes != 1)} ({report.gaps} acknowledged gap{'s' * (report.gaps != 1)}); "
        f"{verdict} (exit code {code})\n"
    )


def render_area_impact(result: AreaImpact, lang: Lang) -> str:
    """Villages and counties whose verdict or figures change, with the criteria behind each."""
    zh = lang == "zh"
    lines: list[str] = []
    for level, (noun_zh, noun_en) in (("village", ("村", "villages")), ("county", ("县", "counties"))):
        decided = result.areas.get(level, 0)
        if not decided:
            continue
        changes = [c for c in result.changes if c.level == level]
        verdicts = [c for c in changes if c.verdict]
        lines.append(
            f"截至 {result.as_of} 对 {decided} 个{noun_zh}的影响：{len(verdicts)} 个结论变化，"
            f"{len(changes) - len(verdicts)} 个仅数据变化"
            if zh
            else f"impact as of {result.as_of} on {decided} {noun_en}: {len(verdicts)} change verdict, "
            f"{len(changes) - len(verdicts)} change figures only"
        )
        for c in changes:
            head = f"  {c.code} {c.name or ''}".rstrip()
            if c.verdict:
                head += f": {words(c.verdict[0] + ' → ' + c.verdict[1], lang)}"
            lines.append(head)
            lines.extend(f"    {words(r, lang)}" for r in c.reasons)
            lines.extend(f"    {f}" for f in c.figures)
    return "\n".join(lines) + ("\n" if lines else "")
