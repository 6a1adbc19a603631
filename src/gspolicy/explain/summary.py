"""The main job's summary, computed from outcomes (`gspolicy.engine.outcome.Outcome`): verdicts,
failing criteria, what undetermined decisions lack, the share of households in each batch per
county, and an optional listing — never from explained decisions, so a run explains only the
households it prints."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence

from gspolicy._glossary import group, word
from gspolicy._i18n import Lang
from gspolicy.engine.outcome import CriterionResult, Outcome
from gspolicy.schema.model import Record

__all__ = ["VERDICT_WORDS", "examples", "household_summary", "share_lines"]

VERDICT_WORDS: dict[str | None, tuple[str, str]] = {
    (None if key == "none" else key): (text.zh, text.en) for key, text in group("verdict").items()
}
"""The verdicts in Chinese and English, from the glossary (no verdict: None)."""


def examples(outcomes: Sequence[Outcome], n: int) -> list[Outcome]:
    """Up to `n` outcomes to explain: one of each verdict first, then in order."""
    if n <= 0:
        return []
    picked: list[Outcome] = []
    for verdict in ("pass", "fail", "undetermined", "not_applicable"):
        found = next((o for o in outcomes if o.verdict == verdict), None)
        if found is not None:
            picked.append(found)
    chosen = {id(o) for o in picked}
    rest = [o for o in outcomes if id(o) not in chosen]
    return (picked + rest)[:n]


def _holds(outcome: Outcome, pack: str, holds: str) -> bool:
    result = outcome.pack(pack)
    return result is not None and any(r.holds == holds for r in result.rules)


def _shares(
    outcomes: Sequence[Outcome], records: Mapping[str, Record], lang: Lang, kinds: Mapping[str, str]
) -> list[str]:
    """Per county, the share of households each rule pack applies to (a rule says "yes")."""
    packs = sorted({p.id for o in outcomes for p in o.packs if p.rules})
    if not packs:
        return []
    by_county: dict[str, list[Outcome]] = {}
    for o in outcomes:
        record = records.get(o.record)
        county = record.get("county_code", "?") if record is not None else "?"
        by_county.setdefault(str(county), []).append(o)
    counted = {
        county: (
            len(items),
            [
                (
                    sum(1 for o in items if _holds(o, pack, "yes")),
                    sum(1 for o in items if not _holds(o, pack, "yes") and _holds(o, pack, "undetermined")),
                )
                for pack in packs
            ],
        )
        for county, items in by_county.items()
    }
    return share_lines(counted, packs, lang, kinds)


def share_lines(
    counted: Mapping[str, tuple[int, Sequence[tuple[int, int]]]],
    packs: Sequence[str],
    lang: Lang,
    kinds: Mapping[str, str],
) -> list[str]:
    """The summary's lines of shares: per county (sorted) its households, then by role
    (`kinds`: pack id → ``kind:``) each pack's share of households a rule holds for, and those
    undetermined."""
    zh = lang == "zh"
    lines = [
        "各县各规则包覆盖户数占比（按角色）："
        if zh
        else "share of households a rule of each pack holds for, by role, per county:"
    ]
    roles = group("role")
    order = list(roles)
    for county in sorted(counted):
        n, counts = counted[county]
        lines.append(f"  {county}（{n} 户）" if zh else f"  {county} ({n} households)")
        by_role: dict[str, list[str]] = {}
        for pack, (yes, unsure) in zip(packs, counts, strict=True):
            share = f"{pack} {100 * yes / n:.1f}%"
            if unsure:
                share += f" (+{unsure} {word('answer', 'undetermined', lang)})"
            by_role.setdefault(kinds.get(pack, ""), []).append(share)
        for role in sorted(by_role, key=lambda r: (order.index(r) if r in order else len(order), r)):
            named = roles[role].get(lang) if role in roles else (role or "?")
            lines.append(f"    {named}{'：' if zh else ': '}" + ", ".join(by_role[role]))
    return lines


def household_summary(
    outcomes: Sequence[Outcome],
    lang: Lang,
    *,
    as_of: dt.date,
    listing: bool,
    records_by_id: Mapping[str, Record] | None = None,
    in_force: Sequence[str] = (),
    kinds: Mapping[str, str] | None = None,
) -> str:
    """The summary of a run over households (and, with `listing`, one line per household);
    `kinds` gives each pack's role (pack id → ``kind:``), by which the shares are grouped."""
    zh = lang == "zh"
    counts: Counter[str | None] = Counter(o.verdict for o in outcomes)
    versions = sorted({p.key for o in outcomes for p in o.packs} or in_force)
    lines = [
        f"截至 {as_of} 判定 {len(outcomes)} 户；政策包：{', '.join(versions) or '无'}"
        if zh
        else f"{len(outcomes)} households decided as of {as_of}; packs: {', '.join(versions) or 'none'}"
    ]
    for verdict, (w_zh, w_en) in VERDICT_WORDS.items():
        if counts.get(verdict):
            lines.append(f"  {w_zh if zh else w_en}: {counts[verdict]}")
    failing: Counter[str] = Counter(
        c.id for o in outcomes if o.verdict != "not_applicable" for c in _criteria(o) if c.verdict == "fail"
    )
    if failing:
        lines.append("未通过的指标（参加验收的户）：" if zh else "failing criteria (households assessed):")
        lines.extend(f"  {cid}: {n}" for cid, n in sorted(failing.items()))
    missing: Counter[str] = Counter(m for o in outcomes if o.verdict == "undetermined" for m in o.missing)
    if missing:
        lines.append("待定的原因（缺少的数据或参数）：" if zh else "what undetermined decisions lack:")
        lines.extend(f"  {m}: {n}" for m, n in missing.most_common(10))
    lines.extend(_shares(outcomes, records_by_id or {}, lang, kinds or {}))
    if not listing:
        return "\n".join(lines) + "\n"
    lines.append("")
    lines.append("户编号 / 结论 / 未通过 / 待定" if zh else "household / verdict / failing / undetermined")
    for o in outcomes:
        fails = ",".join(c.id for c in _criteria(o) if c.verdict == "fail") or "-"
        unsure = ",".join(c.id for c in _criteria(o) if c.verdict == "undetermined") or "-"
        word = VERDICT_WORDS[o.verdict][0 if zh else 1]
        lines.append(f"  {o.record}  {word}  {fails}  {unsure}")
    return "\n".join(lines) + "\n"


def _criteria(outcome: Outcome) -> Sequence[CriterionResult]:
    result = outcome.pack(outcome.exit_pack)
    return result.criteria if result is not None else ()
