"""The main job's summary computed from an outcome table (the frames of `Policies.decide_table`).

The same text as `gspolicy.explain.summary.household_summary` gives from `Outcome`s, line for line
(a test holds them equal on the example registry), computed by columns: verdict counts, failing
criteria of the households assessed, the ten things undetermined decisions lack most (ties in the
order they first occur), the share of households in each batch per county, and the listing.
Imports Polars, so the command line imports this module only when it decides a table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from gspolicy._i18n import Lang
from gspolicy.explain.summary import VERDICT_WORDS, short_pack_name

__all__ = ["table_examples", "table_summary"]


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


def _counted(values: pl.DataFrame, column: str) -> list[tuple[str, int]]:
    """Each value of a list column with how many rows hold it, most first, ties in the order the
    values first occur (as `Counter.most_common` orders them)."""
    exploded = (
        values.select(pl.col(column))
        .with_row_index("__row")
        .explode(column)
        .with_row_index("__seen")
        .drop_nulls(column)
    )
    counted = (
        exploded.group_by(column)
        .agg(pl.len().alias("n"), pl.col("__seen").min().alias("first"))
        .sort(["n", "first"], descending=[True, False])
    )
    return [(str(v), int(n)) for v, n in counted.select(column, "n").iter_rows()]


def _shares(table: pl.DataFrame, county_of: Sequence[str], packs: Sequence[str], lang: Lang) -> list[str]:
    zh = lang == "zh"
    if not packs or table.height == 0:
        return []
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
        .sort("__county")
    )
    lines = [
        "各县各批次（规则包）覆盖户数占比："
        if zh
        else "share of households in each batch (rule pack), per county:"
    ]
    for row in per.iter_rows(named=True):
        n = row["__n"]
        parts = []
        for index, pack in enumerate(packs):
            share = f"{short_pack_name(pack)} {100 * row[f'y{index}'] / n:.1f}%"
            if row[f"u{index}"]:
                share += f" (+{row[f'u{index}']} {'待定' if zh else 'undetermined'})"
            parts.append(share)
        county = row["__county"]
        head = f"  {county}（{n} 户）：" if zh else f"  {county} ({n} households): "
        lines.append(head + ", ".join(parts))
    return lines


def table_summary(
    table: pl.DataFrame,
    lang: Lang,
    *,
    as_of: dt.date,
    listing: bool,
    county_of: Sequence[str],
    packs_with_rules: Sequence[str],
    in_force: Sequence[str] = (),
) -> str:
    """The summary of a run over households from its outcome table (`county_of`: each row's
    county code; `packs_with_rules`: the ids of the packs in force that have rules)."""
    zh = lang == "zh"
    n = table.height
    struct = table.schema.get("packs")
    keys = [f.name for f in struct.fields] if isinstance(struct, pl.Struct) and n else []
    versions = sorted(keys or in_force)
    lines = [
        f"截至 {as_of} 判定 {n} 户；政策包：{', '.join(versions) or '无'}"
        if zh
        else f"{n} households decided as of {as_of}; packs: {', '.join(versions) or 'none'}"
    ]
    counts = dict(table.group_by("verdict").len().iter_rows())
    for verdict, (w_zh, w_en) in VERDICT_WORDS.items():
        if counts.get(verdict):
            lines.append(f"  {w_zh if zh else w_en}: {counts[verdict]}")
    assessed = table.filter(pl.col("verdict").is_null() | (pl.col("verdict") != "not_applicable"))
    failing = sorted(_counted(assessed, "failing"))
    if failing:
        lines.append("未通过的指标（参加验收的户）：" if zh else "failing criteria (households assessed):")
        lines.extend(f"  {cid}: {k}" for cid, k in failing)
    missing = _counted(table.filter(pl.col("verdict") == "undetermined"), "missing")[:10]
    if missing:
        lines.append("待定的原因（缺少的数据或参数）：" if zh else "what undetermined decisions lack:")
        lines.extend(f"  {m}: {k}" for m, k in missing)
    lines.extend(_shares(table, county_of, sorted(packs_with_rules), lang))
    if not listing:
        return "\n".join(lines) + "\n"
    lines.append("")
    lines.append("户编号 / 结论 / 未通过 / 待定" if zh else "household / verdict / failing / undetermined")
    for record, verdict, fails, unsure in table.select(
        "id", "verdict", "failing", "undetermined"
    ).iter_rows():
        word = VERDICT_WORDS[verdict][0 if zh else 1]
        lines.append(f"  {record}  {word}  {','.join(fails) or '-'}  {','.join(unsure) or '-'}")
    return "\n".join(lines) + "\n"
