"""The text of `gspolicy explain --what-if`, in Chinese or English."""

from __future__ import annotations

from decimal import Decimal

from gspolicy._i18n import Lang, Text
from gspolicy.analysis.what_if import WhatIf

__all__ = ["render_what_if"]

_WHO = {
    "household": Text(zh="农户可改", en="the household can change it"),
    "department": Text(zh="部门可改", en="a department can change it"),
    "no": Text(zh="不可改", en="nobody can change it"),
    "?": Text(zh="数据结构未说明", en="the schema does not say"),
}


def _shown(value: object, lang: Lang) -> str:
    if value is None:
        return Text(zh="（缺）", en="(missing)").get(lang)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_what_if(found: WhatIf, lang: Lang) -> str:
    """What would change the decision: the confirmed changes, then the fields that settle it."""
    out = [
        Text(
            zh=f"怎样改变这一判定（当前结论：{found.verdict}）：",
            en=f"what would change this decision (now: {found.verdict}):",
        ).get(lang)
    ]
    if found.verdict == "pass":
        out.append("  " + Text(zh="已通过，无需改动", en="it passes: nothing to change").get(lang))
    if found.not_translated:
        out.append(
            "  "
            + Text(zh=f"未能求解：{found.not_translated}", en=f"not solved: {found.not_translated}").get(lang)
        )
    for change in found.changes:
        parts = [
            f"{path} {_shown(old, lang)} → {_shown(new, lang)} ({_WHO.get(who, _WHO['?']).get(lang)})"
            for (path, old, new), who in zip(change.fields, change.changeable, strict=True)
        ]
        out.append("  " + Text(zh="通过，若 ", en="pass if ").get(lang) + "; ".join(parts))
    if not found.changes and found.verdict != "pass" and not found.not_translated:
        out.append(
            "  "
            + Text(zh="改动一两个字段都不能使其通过", en="no change of one or two fields makes it pass").get(
                lang
            )
        )
    if found.settlers:
        out.append(
            "  "
            + Text(
                zh="能确定结论的缺失字段（按确定结论的取值数）：",
                en="missing fields that settle the verdict (by how many of their values do):",
            ).get(lang)
        )
        for s in found.settlers:
            out.append(
                "    "
                + Text(
                    zh=f"{s.path}：{s.tried} 个取值中 {s.settling} 个（例如 {_shown(s.example, lang)}）",
                    en=f"{s.path}: {s.settling} of {s.tried} values (e.g. {_shown(s.example, lang)})",
                ).get(lang)
            )
    return "\n".join(out) + "\n"
