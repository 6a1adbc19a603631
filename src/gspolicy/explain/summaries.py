"""The main job's summary computed from an outcome table (the frames of `Policies.decide_table`).

The same text as `gspolicy.explain.summary.household_summary` gives from `Outcome`s, line for line
(a test holds them equal on the example registry), computed by columns: verdict counts, failing
criteria of the households assessed, the ten things undetermined decisions lack most (ties in the
order they first occur), the share of households in each batch per county, and the listing.
Imports Polars, so the command line imports this module only when it decides a table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import polars as pl

from gspolicy._i18n import Lang
from gspolicy.explain.summary import VERDICT_WORDS, share_lines

__all__ = ["SummaryCounts", "table_examples", "table_summary"]


def table_examples(table: pl.DataFrame, n: int) -> list[int]:
    """The rows of up to `n` households to explain: one of each verdict first, then in order."""
    if n <= 0:
        return []
    verdicts = table["verdict"].to_list()
    picked: list[int] = []
    for verdict in ("pass", "fail", "undetermined", "not_applicable"):
        found = next((i for i, v in enumerate(verdicts) if v == verdict), None)
        if found is not None:
            picked.append(found)
    chosen = set(picked)
    rest = [i for i in range(len(verdicts)) if i not in chosen]
    return (picked + rest)[:n]


class SummaryCounts:
    """What the summary counts, added a block of the outcome table at a time, so a run need not
    hold its whole table: the text `render` gives is that of the whole table, line for line."""

    def __init__(
        self,
        packs_with_rules: Sequence[str],
        *,
        listing: bool = False,
        kinds: Mapping[str, str] | None = None,
    ) -> None:
        self.packs = sorted(packs_with_rules)
        self.kinds = dict(kinds or {})  # pack id -> its role (`kind:`), by which shares are grouped
        self.listing = listing
        self.rows = 0
        self.keys: list[str] = []
        self.verdicts: dict[str | None, int] = {}
        self.failing: dict[str, int] = {}
        self.missing: dict[str, int] = {}  # in the order each value first occurs
        self.findings: dict[str, int] = {}  # violated invariants, broken exclusive groups
        self.counties: dict[str, list[int]] = {}  # households, then yes and undetermined per pack
        self.lines: list[tuple[str, str | None, list[str], list[str]]] = []

    def add(self, table: pl.DataFrame, county_of: Sequence[str]) -> None:
        """Count a block of the outcome table (`county_of`: each row's county code)."""
        if table.height == 0:
            return
        if not self.keys:
            struct = table.schema.get("packs")
            self.keys = [f.name for f in struct.fields] if isinstance(struct, pl.Struct) else []
        self.rows += table.height
        for verdict, n in table.group_by("verdict", maintain_order=True).len().iter_rows():
            self.verdicts[verdict] = self.verdicts.get(verdict, 0) + n
        assessed = table.filter(pl.col("verdict").is_null() | (pl.col("verdict") != "not_applicable"))
        for value, n in _counted(assessed, "failing"):
            self.failing[value] = self.failing.get(value, 0) + n
        for value, n in _counted(table.filter(pl.col("verdict") == "undetermined"), "missing", by_first=True):
            self.missing[value] = self.missing.get(value, 0) + n
        if "findings" in table.columns:
            for value, n in _counted(table, "findings"):
                self.findings[value] = self.findings.get(value, 0) + n
        if self.packs:
            for county, counts in _per_county(table, county_of, self.packs):
                found = self.counties.setdefault(county, [0] * len(counts))
                self.counties[county] = [a + b for a, b in zip(found, counts, strict=True)]
        if self.listing:
            self.lines.extend(table.select("id", "verdict", "failing", "undetermined").iter_rows())

    def render(self, lang: Lang, *, as_of: dt.date, in_force: Sequence[str] = ()) -> str:
        zh = lang == "zh"
        versions = sorted(self.keys or in_force)
        lines = [
            f"截至 {as_of} 判定 {self.rows} 户；政策包：{', '.join(versions) or '无'}"
            if zh
            else f"{self.rows} households decided as of {as_of}; packs: {', '.join(versions) or 'none'}"
        ]
        for verdict, (w_zh, w_en) in VERDICT_WORDS.items():
            if self.verdicts.get(verdict):
                lines.append(f"  {w_zh if zh else w_en}: {self.verdicts[verdict]}")
        if self.failing:
            lines.append(
                "未通过的指标（参加验收的户）：" if zh else "failing criteria (households assessed):"
            )
            lines.extend(f"  {cid}: {k}" for cid, k in sorted(self.failing.items()))
        if self.missing:
            lines.append("待定的原因（缺少的数据或参数）：" if zh else "what undetermined decisions lack:")
            ranked = sorted(self.missing.items(), key=lambda kv: -kv[1])[:10]  # stable: ties as first seen
            lines.extend(f"  {m}: {k}" for m, k in ranked)
        if self.findings:
            lines.append(
                "违反的不变式与互斥规则（户数）："
                if zh
                else "invariants violated and exclusive rules broken (households):"
            )
            lines.extend(f"  {f}: {k}" for f, k in sorted(self.findings.items()))
        lines.extend(self._shares(lang))
        if not self.listing:
            return "\n".join(lines) + "\n"
        lines.append("")
        lines.append(
            "户编号 / 结论 / 未通过 / 待定" if zh else "household / verdict / failing / undetermined"
        )
        for record, verdict, fails, unsure in self.lines:
            word = VERDICT_WORDS[verdict][0 if zh else 1]
            lines.append(f"  {record}  {word}  {','.join(fails) or '-'}  {','.join(unsure) or '-'}")
        return "\n".join(lines) + "\n"

    def _shares(self, lang: Lang) -> list[str]:
        if not self.packs or not self.counties:
            return []
        counted = {
            county: (n, [(counts[2 * i], counts[2 * i + 1]) for i in range(len(self.packs))])
            for county, (n, *counts) in self.counties.items()
        }
        return share_lines(counted, self.packs, lang, self.kinds)


def _counted(values: pl.DataFrame, column: str, *, by_first: bool = False) -> list[tuple[str, int]]:
    """Each value of a list column with how many rows hold it (`by_first`: in the order the
    values first occur)."""
    exploded = values.select(pl.col(column)).explode(column).with_row_index("__seen").drop_nulls(column)
    counted = exploded.group_by(column).agg(pl.len().alias("n"), pl.col("__seen").min().alias("first"))
    if by_first:
        counted = counted.sort("first")
    return [(str(v), int(n)) for v, n in counted.select(column, "n").iter_rows()]


def _per_county(
    table: pl.DataFrame, county_of: Sequence[str], packs: Sequence[str]
) -> list[tuple[str, list[int]]]:
    """Per county: the households, then for each pack those a rule holds for and those where
    one is undetermined and none holds."""
    flags: list[pl.Expr] = []
    for index, pack in enumerate(packs):
        prefix = f"{pack}:"
        yes = pl.col("rules").list.eval(pl.element().str.starts_with(prefix)).list.any()
        maybe = pl.col("rules_undetermined").list.eval(pl.element().str.starts_with(prefix)).list.any()
        flags += [yes.cast(pl.UInt32).alias(f"y{index}"), (~yes & maybe).cast(pl.UInt32).alias(f"u{index}")]
    per = (
        table.select(flags)
        .with_columns(pl.Series("__county", list(county_of), dtype=pl.String()))
        .group_by("__county")
        .agg(pl.len().alias("__n"), *(pl.col(f"{k}{i}").sum() for i in range(len(packs)) for k in "yu"))
    )
    return [(str(row[0]), [int(v) for v in row[1:]]) for row in per.iter_rows()]


def table_summary(
    table: pl.DataFrame,
    lang: Lang,
    *,
    as_of: dt.date,
    listing: bool,
    county_of: Sequence[str],
    packs_with_rules: Sequence[str],
    in_force: Sequence[str] = (),
    kinds: Mapping[str, str] | None = None,
) -> str:
    """The summary of a run over households from its outcome table (`county_of`: each row's
    county code; `packs_with_rules`: the ids of the packs in force that have rules; `kinds`:
    each pack's role)."""
    counts = SummaryCounts(packs_with_rules, listing=listing, kinds=kinds)
    counts.add(table, county_of)
    return counts.render(lang, as_of=as_of, in_force=in_force)
