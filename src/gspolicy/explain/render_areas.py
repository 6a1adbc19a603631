"""The text and the JSON-ready form of a village or county decision (`AreaDecision`).

The decision, then the figures, the other standards and the items weighing most on each failing or
undetermined criterion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gspolicy._glossary import group, word
from gspolicy._i18n import Lang
from gspolicy.explain.parts import Detail
from gspolicy.explain.render import check_detail, render_text, verdict_word
from gspolicy.explain.render_json import json_value
from gspolicy.explain.wording import fact_value, grouped

if TYPE_CHECKING:  # the area decision calls this module; its type is read for annotations only
    from gspolicy.explain.areas import AreaDecision


__all__ = ["area_to_json", "render_area"]


def render_area(area: AreaDecision, lang: Lang = "en", *, detail: Detail = "brief") -> str:
    """The area decision as text: the decision at a detail level (`Detail`), then the figures,
    the other standards and the items weighing on each failing or undetermined criterion (the
    same at every level: they are the area's own reasons)."""
    zh = lang == "zh"
    levels, kinds = group("area_level"), group("area_items")
    level = levels[area.level].get(lang) if area.level in levels else area.level
    named = f"{area.code} {area.name}" if area.name else area.code
    counts = ", ".join(f"{n} {kinds[k].get(lang) if k in kinds else k}" for k, n in area.items.items())
    title = (
        f"{named} {level}（截至 {area.decision.as_of}；汇集 {counts}）"
        if zh
        else f"{named}: {level} as of {area.decision.as_of} (gathered {counts})"
    )
    out = [render_text(area.decision, lang, title=title, detail=detail).rstrip("\n")]
    if area.figures:
        out.append("  数据：" if zh else "  figures:")
        for f in area.figures:
            value = (
                grouped(fact_value(area.decision.words, f.name, f.value))
                if f.value is not None
                else word("truth", "unknown", lang)
            )
            line = f"    {f.name} = {value}  — {f.title.get(lang)}"
            if f.missing:
                line += (
                    ("（需补充：" if zh else " (would settle it: ")
                    + ("、" if zh else ", ").join(f.missing)
                    + ("）" if zh else ")")
                )
            out.append(line)
    if area.others:
        out.append("  其他标准：" if zh else "  other standards:")
        for pid, verdict in area.others:
            out.append(f"    {pid}: {verdict_word(verdict, lang)}")
    if area.weights:
        out.append("  影响最大的对象：" if zh else "  what weighs most:")
        for cid, total in area.weighing.items():
            shown = [w for w in area.weights if w.criterion == cid]
            if not shown:
                continue
            out.append(
                f"    {cid}（共 {total} 个，列出 {len(shown)} 个）"
                if zh
                else f"    {cid} ({total} in all, {len(shown)} shown)"
            )
            for w in shown:
                line = f"      {w.label}: {w.value}"
                if w.missing:
                    line += ("（缺少：" if zh else " (lacks: ") + "; ".join(w.missing) + ("）" if zh else ")")
                out.append(line)
    return "\n".join(out) + "\n"


def area_to_json(area: AreaDecision, *, detail: Detail = "full") -> dict[str, Any]:
    """A JSON-ready form: the decision's stable JSON at a detail level plus the area parts
    (figures and weights with numbers as JSON numbers, a range as ``[low, high]``)."""
    check_detail(detail)
    return {
        "level": area.level,
        "code": area.code,
        "name": area.name,
        "gathered": {name: list(ids) for name, ids in area.gathered.items()},
        "decision": area.decision.to_json(detail=detail),
        "figures": [
            {
                "name": f.name,
                "title": {"zh": f.title.zh, "en": f.title.en},
                "value": json_value(f.value),
                "missing": list(f.missing),
            }
            for f in area.figures
        ],
        "others": [{"pack": p, "verdict": v} for p, v in area.others],
        "weighing": dict(area.weighing),
        "weights": [
            {
                "criterion": w.criterion,
                "item": w.item,
                "label": w.label,
                "value": json_value(w.value, truth=False),
                "missing": list(w.missing),
                "unsure": w.unsure,
            }
            for w in area.weights
        ],
    }
