"""The wall chart's words, in Chinese and English, and its print style (A3 landscape, one county a
page): what `gspolicy.stats.report` writes the page with."""

from __future__ import annotations

from gspolicy._i18n import Text

__all__ = ["STYLE", "WORDS"]

STYLE = """
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.5em; margin: 0 0 0.3em; } h2 { font-size: 1.3em; margin: 0 0 0.3em; }
h3 { font-size: 1em; margin: 0.6em 0 0.2em; }
p.summary { margin: 0.2em 0 0.6em; }
.charts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 0.6em 1.2em; align-items: start; }
figure { margin: 0; break-inside: avoid; }
figure svg { width: 100%; height: auto; }
svg text { font-size: 12px; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.15em 0.45em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.ids { font-size: 0.85em; max-width: 40em; }
tr.difference td { background: #fbeee9; }
.legend span { display: inline-block; width: 0.9em; height: 0.9em; margin: 0 0.3em 0 1em; vertical-align: middle; }
.villages { column-width: 22em; column-gap: 1.5em; font-size: 0.8em; }
.villages div { break-inside: avoid; border-bottom: 1px solid #eee; padding: 0.1em 0; }
.pass { color: #2f6b3a; } .fail { color: #a5553b; } .undetermined { color: #8a6d00; }
section.county { margin-top: 2.5em; }
@page { size: A3 landscape; margin: 10mm; }
@media print {
  body { margin: 0; font-size: 11px; }
  section.county { break-before: page; margin-top: 0; }
}
"""

WORDS: dict[str, Text] = {
    "title": Text(zh="挂图作战：脱贫攻坚进度", en="Wall chart: progress against poverty"),
    "as_of": Text(zh="截至", en="as of"),
    "overview": Text(zh="全部登记户", en="The whole registry"),
    "county": Text(zh="县", en="County"),
    "village": Text(zh="村", en="Village"),
    "households": Text(zh="户数", en="households"),
    "exited": Text(zh="已脱贫", en="exited"),
    "planned": Text(zh="计划", en="planned"),
    "due": Text(zh="计划本年及以前脱贫", en="planned to exit by this year"),
    "progress": Text(
        zh="农户：各年计划脱贫与实际脱贫户数", en="Households: planned and actual exits by year"
    ),
    "village_progress": Text(
        zh="贫困村：各年计划退出村数与已通过退出验收村数",
        en="Villages: planned exits by year, and villages passing",
    ),
    "villages_passed": Text(zh="退出验收通过", en="passing exit"),
    "batches": Text(zh="各批次户数（一户可属多个批次）", en="Households by batch (one may be in several)"),
    "failing": Text(
        zh="未达标指标（户数，最多者在前）", en="Failing criteria (households, most frequent first)"
    ),
    "expiries": Text(zh="缓冲期到期（按季度，户数）", en="Buffer periods ending, by quarter (households)"),
    "figures": Text(zh="统计数字（统计政策包）", en="Statistics figures (the statistics packs)"),
    "indicator": Text(zh="指标", en="indicator"),
    "total": Text(zh="合计", en="total"),
    "verdict": Text(zh="退出结论", en="exit verdict"),
    "none": Text(zh="无", en="none"),
    "no_areas": Text(
        zh="未给出村、县记录（--villages、--counties），故无村、县退出结论。",
        en="No village or county records were given (--villages, --counties): no area exit verdicts.",
    ),
    "notes": Text(zh="说明", en="Notes"),
    "differences": Text(zh="对账差异", en="Reconciliation differences"),
    "reconciled_with": Text(zh="部门报表", en="the department's report"),
    "all_agree": Text(
        zh="报表的数字与计算的数字全部一致。", en="Every reported figure agrees with the computed one."
    ),
    "group": Text(zh="分组", en="group"),
    "reported": Text(zh="报送", en="reported"),
    "computed": Text(zh="计算", en="computed"),
    "gap": Text(zh="差额", en="gap"),
    "behind": Text(zh="计算数所含农户", en="households behind the computed figure"),
    "missing": Text(zh="漏报", en="missing"),
    "extra": Text(zh="多报", en="extra"),
    "absent": Text(zh="（无）", en="(absent)"),
    "more": Text(zh="等，共 {n} 户", en="… {n} in all"),
    "pass": Text(zh="通过", en="pass"),
    "fail": Text(zh="未通过", en="fail"),
    "undetermined": Text(zh="待定", en="undetermined"),
    "not_applicable": Text(zh="不适用", en="not applicable"),
}
