"""The household's card (明白卡): its plan as one printable HTML page, in Chinese.

Self-contained (inline CSS, no scripts, no external fonts or images), every value escaped with
`html.escape`, laid out for A4 paper.  The card names the decision-log entry and its hash (or the
outcome table and its SHA-256, for a plan made from one), so a printed card can be checked
against the log.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence

from gspolicy.explain.wording import Vocabulary, amount_words
from gspolicy.schema import roles
from gspolicy.schema.model import Schema
from gspolicy.store.ledger_rows import STATUS_TEXT, Item, Plan, Update

__all__ = ["render_card"]

_CSS = """
@page { size: A4; margin: 15mm; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimSun", sans-serif;
       font-size: 11pt; color: #000; background: #fff; margin: 0 auto; max-width: 190mm; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 4mm; }
table { width: 100%; border-collapse: collapse; margin: 0 0 4mm; }
th, td { border: 1px solid #000; padding: 1.5mm 2mm; vertical-align: top; text-align: left; }
th { background: #eee; white-space: nowrap; }
.facts th { width: 22%; }
.num { text-align: right; white-space: nowrap; }
.overdue { font-weight: bold; }
.sign { margin-top: 10mm; display: flex; justify-content: space-between; }
.foot { font-size: 8pt; color: #333; word-break: break-all; margin-top: 6mm; }
@media print { th { background: #eee !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
               tr { page-break-inside: avoid; } }
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _amount(item: Item, words: Vocabulary | None) -> str:
    """The amount in Chinese: its unit from the schema's units table (`words`), a loan as a loan,
    an amount the sources do not give as 未确定."""
    return amount_words(item.amount, "zh", item.unit, words)


def _progress(updates: Sequence[Update]) -> str:
    if not updates:
        return "—"
    last = updates[-1]
    parts = [f"{last.on.isoformat()} {STATUS_TEXT[last.status].zh}（{last.by}）"]
    if last.evidence:
        parts.append(f"佐证：{last.evidence}")
    return "<br>".join(_e(p) for p in parts)


def render_card(
    plan: Plan,
    updates: Mapping[int, Sequence[Update]],
    *,
    record: Mapping[str, object],
    schema: Schema,
    today: dt.date,
    labels: Mapping[str, str] | None = None,
    words: Vocabulary | None = None,
) -> str:
    """The card of `plan` (``updates``: item id → its updates; ``record``: the household data
    stored with the decision, its fields read by their roles in ``schema``; ``labels``: the zh
    labels of enum codes, e.g. the main cause;
    ``words``: where amounts find their units in Chinese)."""
    labels = labels or {}

    def at(role: str) -> object:
        """The household data's value of the field of `role` (None when absent)."""
        found: object = record
        for part in (schema.role(role) or "").split("."):
            found = found.get(part) if isinstance(found, Mapping) else None
        return found

    head = "—"  # the head's member id (the schema holds no personal names)
    members = at(roles.MEMBERS)
    relation = schema.role_name(roles.RELATION)
    members_field = schema.field_at(schema.root_record, (schema.role(roles.MEMBERS) or "").split("."))
    member_type = schema.records.get(members_field.record or "") if members_field is not None else None
    member_key = member_type.key if member_type is not None else None
    if isinstance(members, list) and relation is not None and member_key is not None:
        for m in members:
            if isinstance(m, Mapping) and m.get(relation) == "head":
                head = str(m.get(member_key) or "—")
    cause = at(roles.MAIN_CAUSE)
    facts = [
        ("户编号", plan.household),
        ("户主", head),
        ("县（区）代码", plan.county or "—"),
        ("乡镇代码", at(roles.TOWNSHIP_CODE) or "—"),
        ("村代码", at(roles.VILLAGE_CODE) or "—"),
        ("家庭人口", at(roles.HOUSEHOLD_SIZE) or (len(members) if isinstance(members, list) else "—")),
        ("主要致贫原因", labels.get(str(cause), cause or "—")),
        ("计划依据日期", plan.planned_on.isoformat()),
    ]
    rows = []
    for n, item in enumerate(plan.items, 1):
        late = item.overdue(today)
        status = STATUS_TEXT[item.status].zh + ("（逾期）" if late else "")
        attr = ' class="overdue"' if late else ""
        rows.append(
            f"<tr{attr}>"
            f"<td class='num'>{n}</td>"
            f"<td>{_e(item.title.zh)}</td>"
            f"<td>{_e(item.department_title.zh)}</td>"
            f"<td>{_e(item.content.zh)}<br><small>{_e(item.batch)}</small></td>"
            f"<td class='num'>{_e(_amount(item, words))}</td>"
            f"<td class='num'>{_e(item.deadline_text('zh'))}</td>"
            f"<td>{_e(status)}</td>"
            f"<td>{_progress(updates.get(item.id, ()))}</td>"
            "</tr>"
        )
    fact_rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    basis = (
        f"判定日志条目 {_e(plan.entry)}，哈希 {_e(plan.entry_hash)}"
        if plan.entry is not None
        else f"依据结果表 {_e(plan.source)}"
    )
    title = f"精准扶贫明白卡 · {plan.household}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        "<h1>精准扶贫明白卡</h1>\n"
        f'<table class="facts">{fact_rows}</table>\n'
        "<table>\n<thead><tr><th>序号</th><th>帮扶措施</th><th>责任部门</th><th>帮扶内容</th>"
        "<th>金额</th><th>完成时限</th><th>状态</th><th>最新进展</th></tr></thead>\n"
        f"<tbody>{''.join(rows)}</tbody>\n</table>\n"
        '<div class="sign"><span>帮扶责任人（签字）：</span><span>户主（签字）：</span>'
        "<span>日期：</span></div>\n"
        f'<p class="foot">{basis}；'
        f"计划由 {_e(plan.actor)} 于 {_e(plan.created_at)} 制定；打印日期 {_e(today.isoformat())}。</p>\n"
        "</body>\n</html>\n"
    )
