"""The findings column of an outcome table: the invariants each row violates and the exclusive
groups it breaks, worked out once per distinct outcome as far as the checks read it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import polars as pl

from gspolicy.columnar.texts import GRANTED_SEP, LIST_JOIN, text_lists
from gspolicy.engine.invariants import Checks, findings_of, view_of_row

__all__ = ["with_findings"]


def _kept(column: str, names: Iterable[str], name_of: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """`column` (a list of texts) holding only the items whose name is among `names`."""
    wanted = sorted(set(names))
    if not wanted:
        return pl.lit([], dtype=pl.List(pl.String())).alias(column)
    return pl.col(column).list.eval(pl.element().filter(name_of(pl.element()).is_in(wanted))).alias(column)


def with_findings(checks: Checks | None, frame: pl.DataFrame, exit_pack: str) -> pl.DataFrame:
    """`frame` with its `findings` column: the invariants each row violates and the exclusive
    groups it breaks, worked out once per distinct outcome as far as the checks read it (the
    rules, criteria, measures and verdicts they name — rows share those heavily)."""
    if checks is None:
        return frame.with_columns(pl.lit([], dtype=pl.List(pl.String())).alias("findings"))
    read = {
        func: {n for f, n in checks.reads if f == func}
        for func in ("rule", "criterion", "granted", "verdict")
    }
    rules = read["rule"] | {r for _pack, group in checks.exclusive for r in group}

    def rule_of(text: pl.Expr) -> pl.Expr:
        return text.str.replace(r"^[^:]*:", "")

    def measure_of(text: pl.Expr) -> pl.Expr:  # `measure=amount (why)`: the measure
        return text.str.replace(r"=.*$", "")

    struct = frame.schema.get("packs")
    keys = [f.name for f in struct.fields] if isinstance(struct, pl.Struct) else []
    verdicts = [k for k in keys if k.rpartition("@")[0] in read["verdict"]]
    reduced = frame.select(
        pl.col("verdict"),
        _kept("failing", read["criterion"], lambda e: e),
        _kept("undetermined", read["criterion"], lambda e: e),
        _kept("rules", rules, rule_of),
        _kept("rules_undetermined", rules, rule_of),
        _kept("support", read["granted"], measure_of),
        (pl.struct([pl.col("packs").struct.field(k) for k in verdicts]) if verdicts else pl.lit(None)).alias(
            "packs"
        ),
    )
    columns = ("failing", "undetermined", "rules", "rules_undetermined", "support")
    key = pl.concat_str(
        [
            pl.col("verdict").fill_null("\x00"),
            *(pl.col(c).list.join(LIST_JOIN).fill_null("\x00") for c in columns),
            pl.col("packs").struct.json_encode().fill_null("\x00") if verdicts else pl.lit(""),
        ],
        separator=GRANTED_SEP,
    ).alias("__key")
    keyed = reduced.with_columns(key)
    distinct = keyed.unique(subset="__key", maintain_order=True)
    found = [
        list(findings_of(checks, view_of_row(checks, row, exit_pack), row["rules"] or ()))
        for row in distinct.drop("__key").iter_rows(named=True)
    ]
    table = pl.DataFrame([distinct["__key"], text_lists("findings", found)])
    joined = keyed.select("__key").join(table, on="__key", how="left", maintain_order="left")
    return frame.with_columns(joined["findings"])
