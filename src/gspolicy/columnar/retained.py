"""The support column of the rows whose buffer retains history items, by columns: what the rules
grant merged with what is retained, each retained amount worked out once per distinct basis,
measure and amount, and a measure's `lapses_when` computed by columns (`lapses_by_columns`) or,
where it did not lower, read once per record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal

import polars as pl

from gspolicy.columnar.frames import Frames
from gspolicy.columnar.polars_backend import Result
from gspolicy.columnar.run import Decoder, Run, lapses_by_columns
from gspolicy.columnar.texts import GRANTED_SEP, LIST_JOIN, parse_granted, split_texts, text_items, text_lists
from gspolicy.engine.measures import lapse_of, measure_declared
from gspolicy.engine.outcome import buffer_missing, buffer_result_of, retained_amount
from gspolicy.engine.support import (
    retained_replaces,
    support_from,
    support_granted,
    support_kept,
    support_texts,
)
from gspolicy.engine.verdicts import settle_of
from gspolicy.pack.model import CombineRule
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record

__all__ = ["SHORT_AMOUNT", "may_lapse", "merged_support", "with_retained"]

SHORT_AMOUNT = Decimal(10) ** 8
"""Below this, a money amount held with two places shows as the amount as written (`show_value`
shortens only numbers of more than ten digits)."""


def merged_support(granted: pl.Series, kept: pl.Series, combine: CombineRule | None) -> pl.Series:
    """The support column (``__support``) of each pair of a row's grants (`granted`: one text,
    `concat_texts` of `granted_text` parts) and the items its buffer retains (`kept`: one text,
    each item ``measure, amount, basis, where`` joined by `GRANTED_SEP`, the items by
    `LIST_JOIN`), as `support_kept` merges them: by columns, whether a retained amount replaces a
    granted one (`retained_replaces`) asked once per distinct pair of amounts; a pair with a rule
    named like an item's basis, or with items of one measure on two bases, item by item."""
    pairs = pl.DataFrame({"__g": granted.fill_null(""), "__k": kept.fill_null("")}).with_row_index("__p")
    items = text_items(pairs.lazy(), "__p", "__k", ["__m", "__ka", "__basis", "__where"]).collect(
        engine="in-memory"
    )
    grants = text_items(pairs.lazy(), "__p", "__g", ["__m", "__ga", "__rule"]).collect(engine="in-memory")
    # item by item: a pair with a rule named like an item's basis, or with items of one measure
    # kept on two bases (and every pair when there is no `combine` rule)
    odd = pl.concat(
        [
            items.join(grants, left_on=["__p", "__basis"], right_on=["__p", "__rule"], how="semi")["__p"],
            items.group_by("__p", "__m")
            .agg(pl.col("__basis").n_unique() > 1)
            .filter(pl.col("__basis"))["__p"],
            *([pairs["__p"]] if combine is None else []),
        ]
    ).unique()
    grants = grants.filter(~pl.col("__p").is_in(odd.implode())).unique(
        subset=["__p", "__m"], keep="last", maintain_order=True
    )  # a later grant of a measure replaces an earlier one
    # each item against its measure's grant: the first that wins (no grant, or its amount
    # replaces the granted one) takes the measure, the later items of that measure stand
    # beside it under their place; before that, the items lose; if none wins, the grant stays
    candidates = (
        items.filter(~pl.col("__p").is_in(odd.implode()))
        .with_columns(pl.int_range(pl.len()).over("__p").alias("__o"))
        .join(grants, on=["__p", "__m"], how="left")
    )
    amounts = candidates.filter(pl.col("__rule").is_not_null()).select("__ka", "__ga").unique()
    replaces = amounts.with_columns(
        pl.Series(
            "__replaces",
            [retained_replaces(combine, k or None, g or None) for k, g in amounts.iter_rows()]
            if combine
            else [],
            dtype=pl.Boolean(),
        )
    )
    candidates = candidates.join(replaces, on=["__ka", "__ga"], how="left", nulls_equal=True)
    wins = pl.col("__rule").is_null() | pl.col("__replaces").fill_null(False)
    first = candidates.filter(wins).group_by("__p", "__m").agg(pl.col("__o").min().alias("__j"))
    kept_items = (
        candidates.join(first, on=["__p", "__m"], how="inner")
        .filter(pl.col("__o") >= pl.col("__j"))
        .select(
            "__p",
            pl.when(pl.col("__o") == pl.col("__j"))
            .then(pl.col("__m"))
            .otherwise(pl.format("{} {}", "__m", "__where"))
            .alias("__key"),
            "__m",
            pl.col("__ka").alias("__a"),
            pl.col("__basis").alias("__why"),
        )
    )
    kept_grants = grants.join(first, on=["__p", "__m"], how="anti").select(
        "__p",
        pl.col("__m").alias("__key"),
        "__m",
        pl.col("__ga").alias("__a"),
        pl.col("__rule").alias("__why"),
    )
    amount = pl.col("__a")
    texts = (
        pl.concat([kept_grants, kept_items])
        .sort("__p", "__key")
        .select(
            "__p",
            pl.format(
                "{}={} ({})", "__m", pl.when(amount == "").then(pl.lit("?")).otherwise(amount), "__why"
            ).alias("__s"),
        )
        .group_by("__p", maintain_order=True)
        .agg("__s")
    )
    # the other pairs item by item, each distinct grant read once
    grant_of: dict[str, dict[str, tuple[str, str | None, str]]] = {}
    others: list[list[str]] = []
    rows = pairs.filter(pl.col("__p").is_in(odd.implode()))
    for grant, kept_texts in rows.select("__g", "__k").iter_rows():
        base = grant_of.get(grant)
        if base is None:
            base = grant_of[grant] = support_granted(parse_granted(g) for g in grant.split(LIST_JOIN) if g)
        retained_items = []
        for text in kept_texts.split(LIST_JOIN) if kept_texts else ():
            measure, held, basis_id, where_text = text.split(GRANTED_SEP)
            retained_items.append((measure, held or None, basis_id, where_text))
        others.append(support_texts(support_kept(base, retained_items, combine)))
    item_by_item = pl.DataFrame([rows["__p"], text_lists("__s", others)])
    return (
        pairs.select("__p")
        .join(pl.concat([texts, item_by_item]), on="__p", how="left")
        .sort("__p")
        .select(pl.col("__s").fill_null(pl.lit([], dtype=pl.List(pl.String()))).alias("__support"))
        .to_series()
    )


def may_lapse(policy_set: PolicySet, measure: str, as_of: dt.date) -> bool:
    declared = measure_declared(policy_set, measure, as_of)
    return declared is not None and measure in declared[0].lapses


def with_retained(
    policy_set: PolicySet,
    run: Run,
    result: Result,
    frames: Frames,
    index: int,
    frame: pl.DataFrame,
    granted: pl.Series,
    basis: pl.Series,
    record_of: Callable[[int], Record],
    records_of: Callable[[Sequence[int]], None] | None = None,
) -> pl.DataFrame:  # granted: each row's grants as one text (`concat_texts`)
    """`frame` with the support of each row whose buffer is active and retains history items:
    what the rules grant merged with what is retained (`support_from`), computed once per
    distinct grant and retained items from the item frame's measure and amount (the amount each
    item is kept at worked out once per distinct basis, measure and amount).  A row whose items
    the columns cannot show as a record would (a list inside a nested record, an amount of more
    than ten digits) is decoded from its record."""
    table = result.table
    plan = run.plans[index]
    assert plan.buffer is not None
    path = plan.buffer[0].source.path
    sel = table[f"{index}|br|sel"].fill_null(0)
    active = (sel != 0) & (frame["buffer"] == "active").fill_null(False)
    rows = active.arg_true()
    if rows.len() == 0:
        return frame
    items = frames.items.get(path)
    bases = {b.id: b for b in (plan.pack.pack.buffer.bases if plan.pack.pack.buffer else ())}
    combine = plan.pack.pack.buffer.combine.amount if plan.pack.pack.buffer else None
    owners = pl.DataFrame(
        {
            "__row": rows.cast(pl.UInt32),
            "__sel": sel.gather(rows),
            "__basis": basis.gather(rows),
            "__granted": granted.gather(rows),
        }
    ).with_columns(split_texts(pl.col("__granted")).alias("__grant"))
    lacking: dict[int, set[str]] = {}  # what would settle whether a kept item has lapsed, by row
    if len(path) != 1 or items is None:
        keyed = owners.select("__row", "__granted", pl.lit(None, pl.List(pl.String())).alias("__kept"))
        odd = set(rows.to_list())
    else:
        fields = policy_set.schema.support_fields  # the items' measure, amount and end, by role

        def column(name: str, dtype: pl.DataType) -> pl.Expr:
            return pl.col(name) if name and name in items.columns else pl.lit(None, dtype)

        picked = (
            items.lazy()
            .select(
                "__row",
                "__idx",
                "__bit",
                column(fields.measure, pl.String()).fill_null("?").alias("__measure"),
                column(fields.amount, pl.Decimal(38, 2)).alias("__held"),
                column(fields.end, pl.Date()).alias("__end"),
            )
            .join(owners.lazy(), on="__row", how="inner")
            .filter((pl.col("__sel").cast(pl.UInt64) & pl.col("__bit")) != 0)
            # an item whose own period has ended before the day is not kept (as `buffer_result_of`)
            .filter(pl.col("__end").is_null() | (pl.col("__end") >= run.as_of))
            .drop("__end")
            .collect(engine="in-memory")
        )
        odd_items = (~pl.col("__basis").is_in(list(bases))).fill_null(True) | (
            pl.col("__held").abs() >= SHORT_AMOUNT
        ).fill_null(False)
        odd = set(picked.filter(odd_items)["__row"].unique().to_list())
        picked = picked.filter(~pl.col("__row").is_in(list(odd)))
        # a measure that may lapse (`lapses_when`): its condition computed by columns, else read on
        # the record, once per record and measure; a lapsed item ends, an undetermined one stays
        # and says what it lacks
        measures = picked["__measure"].unique().to_list()
        lapsing = [m for m in measures if may_lapse(policy_set, m, run.as_of)]
        if lapsing:
            ended: list[tuple[int, str]] = []
            reads = (
                picked.filter(pl.col("__measure").is_in(lapsing))
                .select("__row", "__measure")
                .unique(maintain_order=True)
            )
            pairs: list[tuple[int, str]] = list(reads.iter_rows())
            # lowered, by columns; what did not lower or fit, on the record
            by_columns = lapses_by_columns(run.lapses, frames, pairs) if run.lapses is not None else {}
            on_record = [pair for pair in pairs if pair not in by_columns]
            if records_of is not None and on_record:  # the records read below, built together
                records_of(sorted({row for row, _m in on_record} | odd))
            for row, measure in pairs:
                value = (
                    by_columns[(row, measure)]
                    if (row, measure) in by_columns
                    else lapse_of(policy_set, measure, record_of(row), run.as_of)
                )
                if value is True:
                    ended.append((row, measure))
                elif value is not None and value is not False:
                    lacking.setdefault(row, set()).update(settle_of(value))
            if ended:
                gone = pl.DataFrame(
                    {"__row": [r for r, _ in ended], "__measure": [m for _, m in ended]},
                    schema={"__row": pl.UInt32, "__measure": pl.String()},
                )
                picked = picked.join(gone, on=["__row", "__measure"], how="anti")
        # the amount each item is kept at, once per distinct basis, measure and amount
        distinct = picked.select("__basis", "__measure", "__held").unique(maintain_order=True)
        shown = [
            retained_amount(measure, amount, bases[basis_id], run.as_of, policy_set) or ""
            for basis_id, measure, amount in distinct.iter_rows()
        ]
        amounts = distinct.with_columns(pl.Series("__amount", shown, dtype=pl.String()))
        picked = picked.join(amounts, on=["__basis", "__measure", "__held"], how="left", nulls_equal=True)
        # an item's path only orders two items of one measure and basis: left out of the key
        # when no two of a row share a measure and no rule shares the basis's name, so rows
        # share results
        rules = pl.col("__grant").list.eval(pl.element().str.split(GRANTED_SEP).list.get(2))
        plain = (
            pl.col("__measure").n_unique().over("__row") == pl.len().over("__row")
        ) & ~rules.list.contains(pl.col("__basis"))
        where = pl.when(plain).then(pl.lit("")).otherwise(pl.format(f"{path[0]}[{{}}]", pl.col("__idx")))
        kept = (
            picked.sort("__row", "__idx")
            .with_columns(
                pl.concat_str(["__measure", "__amount", "__basis", where], separator=GRANTED_SEP).alias(
                    "__text"
                )
            )
            .group_by("__row", maintain_order=True)
            .agg(pl.col("__text").alias("__kept"))
        )
        keyed = owners.select("__row", "__granted").join(kept, on="__row", how="left", maintain_order="left")
    keyed = keyed.filter(~pl.col("__row").is_in(list(odd)))
    # each distinct grant read once, each distinct grant and retained items merged once (the
    # retained texts joined into one, so that Polars finds the distinct pairs)
    keyed = keyed.with_columns(pl.col("__kept").list.join(LIST_JOIN).fill_null("").alias("__k"))
    distinct = keyed.select("__granted", "__k").unique(maintain_order=True)
    merged = distinct.with_columns(merged_support(distinct["__granted"], distinct["__k"], combine))
    missing = pl.DataFrame(
        [
            pl.Series("__row", list(lacking), dtype=pl.UInt32),
            text_lists("__missing", [sorted(v) for v in lacking.values()]),
        ]
    )
    updates = (
        keyed.select("__row", "__granted", "__k")
        .join(merged, on=["__granted", "__k"], how="left", maintain_order="left", nulls_equal=True)
        .join(missing, on="__row", how="left", maintain_order="left")
        .select(
            pl.col("__row").alias("__r"),
            "__support",
            pl.col("__missing").fill_null(pl.lit([], dtype=pl.List(pl.String()))),
        )
    )
    if odd:
        if records_of is not None:
            records_of(sorted(odd))
        odd_supports = []
        odd_missing = []  # what would settle whether a retained item has lapsed
        for row in sorted(odd):
            buffer = buffer_result_of(
                Decoder(run, Result(table[[row]], result.width)).pack_values(index, plan, record_of(row), 0),
                policy_set,
            )
            retained = [(r.measure, r.amount, r.basis, r.path) for r in buffer.retained] if buffer else []
            grant = granted[row].split(LIST_JOIN) if granted[row] else []
            combine_of = buffer.combine if buffer else None
            odd_supports.append(
                support_texts(support_from([parse_granted(g) for g in grant], retained, combine_of))
            )
            odd_missing.append(list(buffer_missing(buffer)) if buffer else [])
        updates = pl.concat(
            [
                updates,
                pl.DataFrame(
                    [
                        pl.Series("__r", sorted(odd), dtype=pl.UInt32),
                        text_lists("__support", odd_supports),
                        text_lists("__missing", odd_missing),
                    ]
                ),
            ]
        )
    return (
        frame.with_row_index("__r")
        .join(updates, on="__r", how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("__support", "support").alias("support"),
            pl.when(pl.col("__missing").list.len() > 0)
            .then(pl.concat_list("missing", "__missing").list.unique().list.sort())
            .otherwise(pl.col("missing"))
            .alias("missing"),
        )
        .drop("__r", "__support", "__missing")
    )
