"""The outcome table's lists of texts as Polars builds them quickly: each list held as one text
while a row's parts are joined (`joined_texts`, `concat_texts`, `split_texts`), and a granted
measure as one text (`granted_text`, `parse_granted`)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from gspolicy.columnar.run import ColumnarError

__all__ = [
    "GRANTED_SEP",
    "LIST_JOIN",
    "concat_texts",
    "granted_text",
    "joined_texts",
    "parse_granted",
    "split_texts",
    "support_by_columns",
    "text_items",
    "text_lists",
]

GRANTED_SEP = "\x1f"  # between a granted measure's name, amount and rule in the `granted` column


def granted_text(granted: Sequence[tuple[str, str | None, str]]) -> list[str]:
    return [f"{m}{GRANTED_SEP}{'' if a is None else a}{GRANTED_SEP}{r}" for m, a, r in granted]


def parse_granted(text: str) -> tuple[str, str | None, str]:
    measure, amount, rule = text.split(GRANTED_SEP)
    return measure, amount or None, rule


def text_items(frame: pl.LazyFrame, key: str, column: str, fields: Sequence[str]) -> pl.LazyFrame:
    """One row per item of each row's `column` (items joined by `LIST_JOIN`, each item's parts by
    `GRANTED_SEP`), with the row's `key` and the parts as columns named `fields`."""
    return (
        frame.select(key, pl.col(column).str.split(LIST_JOIN).alias("__t"))
        .explode("__t")
        .filter(pl.col("__t") != "")
        .select(
            key,
            pl.col("__t")
            .str.split_exact(GRANTED_SEP, len(fields) - 1)
            .struct.rename_fields(list(fields))
            .alias("__t"),
        )
        .unnest("__t")
    )


def support_by_columns(granted: pl.Series) -> pl.Series:
    """The support column (`support_texts` of `support_from`, nothing retained) of each row's
    grants (one text each, `concat_texts` of `granted_text` parts), by columns: a later grant of a
    measure replaces an earlier one, the measures in order, each ``measure=amount (rule)`` with ``?`` for an amount not known."""
    given = pl.DataFrame({"__g": granted.fill_null("")})
    rows = given.unique(maintain_order=True).with_row_index("__i")  # rows share their grants
    texts = (
        text_items(rows.lazy(), "__i", "__g", ["__m", "__a", "__r"])
        .unique(subset=["__i", "__m"], keep="last", maintain_order=True)
        .sort("__i", "__m", maintain_order=True)
        .select(
            "__i",
            pl.format(
                "{}={} ({})",
                "__m",
                pl.when(pl.col("__a") == "").then(pl.lit("?")).otherwise(pl.col("__a")),
                "__r",
            ).alias("__s"),
        )
        .group_by("__i", maintain_order=True)
        .agg("__s")
    )
    by_grant = rows.lazy().join(texts, on="__i", how="left", maintain_order="left")
    return (
        given.lazy()
        .join(by_grant, on="__g", how="left", maintain_order="left")
        .select(pl.col("__s").fill_null(pl.lit([], dtype=pl.List(pl.String()))))
        .collect(engine="in-memory")["__s"]
        .alias(granted.name)
    )


LIST_JOIN = "\x1e"  # between the texts of a list while a part's lists are built as one text each


def text_lists(name: str, values: Sequence[Sequence[str]]) -> pl.Series:
    """A column of lists of texts, each list passed as one text and split by Polars (a list of
    lists is slow to build element by element)."""
    if not values or any(LIST_JOIN in text for texts in values for text in texts):
        return pl.Series(name, [list(v) for v in values], dtype=pl.List(pl.String()))
    joined = pl.Series(name, [LIST_JOIN.join(v) if v else None for v in values], dtype=pl.String())
    return joined.str.split(LIST_JOIN).fill_null(pl.lit([], dtype=pl.List(pl.String())))


def joined_texts(name: str, values: Sequence[Sequence[str]]) -> pl.Series:
    """A column of lists of texts held as one text each, joined by `LIST_JOIN` (None for an empty
    list): the parts of a row are joined pack by pack with `concat_str`, many times quicker than
    joining lists (`split_texts`).  The texts are names and amounts of the packs, which never hold the
    joining character (a name is letters, digits and underscores)."""
    if any(LIST_JOIN in text for texts in values for text in texts):
        raise ColumnarError("a pack's name or amount holds a control character the runner joins lists with")
    return pl.Series(name, [LIST_JOIN.join(v) if v else None for v in values], dtype=pl.String())


def split_texts(joined: pl.Expr) -> pl.Expr:
    """The lists of texts `joined` (as `concat_str` of `joined_texts` columns gives them, an
    empty text when every part was empty)."""
    return (
        pl.when(joined != "")
        .then(joined.str.split(LIST_JOIN))
        .otherwise(pl.lit([], dtype=pl.List(pl.String())))
    )


def concat_texts(columns: Sequence[str]) -> pl.Expr:
    """The `joined_texts` columns of one row joined into one."""
    return pl.concat_str([pl.col(c) for c in columns], separator=LIST_JOIN, ignore_nulls=True)
