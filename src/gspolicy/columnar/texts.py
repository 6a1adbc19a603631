"""The outcome table's lists of texts as Polars builds them quickly: each list held as one text
while a row's parts are joined (`joined_texts`, `concat_texts`, `split_texts`), and a granted
measure as one text (`granted_text`, `parse_granted`)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from gspolicy.columnar.run import ColumnarError
from gspolicy.engine.support import support_from, support_texts

__all__ = [
    "GRANTED_SEP",
    "LIST_JOIN",
    "concat_texts",
    "granted_text",
    "joined_texts",
    "parse_granted",
    "split_texts",
    "support_of",
    "text_lists",
]

GRANTED_SEP = "\x1f"  # between a granted measure's name, amount and rule in the `granted` column


def granted_text(granted: Sequence[tuple[str, str | None, str]]) -> list[str]:
    return [f"{m}{GRANTED_SEP}{'' if a is None else a}{GRANTED_SEP}{r}" for m, a, r in granted]


def parse_granted(text: str) -> tuple[str, str | None, str]:
    measure, amount, rule = text.split(GRANTED_SEP)
    return measure, amount or None, rule


def support_of(granted: Sequence[str]) -> list[str]:
    return support_texts(support_from([parse_granted(g) for g in granted], (), None))


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
