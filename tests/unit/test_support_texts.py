"""The support column built by columns (`support_by_columns`) is the one `support_from` gives
record by record, for any grants: a later grant of a measure replaces an earlier one, measures in
order (non-ASCII names too), an amount not known shown as ``?``."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from gspolicy.columnar.texts import LIST_JOIN, concat_texts, granted_text, joined_texts, support_by_columns
from gspolicy.engine.support import support_from, support_texts

_GRANT = st.tuples(
    st.sampled_from(["subsidy", "loan", "Loan", "教育资助", "water_2"]),
    st.one_of(st.none(), st.sampled_from(["0", "1200.50", "800-1200", "not established"])),
    st.sampled_from(["r.one", "r.two", "r_3"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.lists(_GRANT, max_size=3), max_size=3), min_size=1, max_size=8))
def test_support_by_columns_is_support_from_row_by_row(
    rows: list[list[list[tuple[str, str | None, str]]]],
) -> None:
    # each row: the grants of a few packs, each pack's part one text, joined as the runner does
    packs = max(len(r) for r in rows)
    parts = {
        f"granted{k}": joined_texts(f"granted{k}", [granted_text(r[k]) if k < len(r) else [] for r in rows])
        for k in range(packs)
    }
    frame = (
        pl.DataFrame(parts)
        if parts
        else pl.DataFrame({"granted0": pl.Series([None] * len(rows), dtype=pl.String)})
    )
    joined = frame.select(concat_texts(list(frame.columns)).alias("support"))["support"]
    got = support_by_columns(joined).to_list()
    expected = [support_texts(support_from([g for part in r for g in part], (), None)) for r in rows]
    assert got == expected


def test_a_later_grant_of_a_measure_replaces_an_earlier_one() -> None:
    text = LIST_JOIN.join(
        granted_text([("loan", "5", "r.one"), ("aid", None, "r.two"), ("loan", "7", "r.two")])
    )
    assert support_by_columns(pl.Series("support", [text, "", None])).to_list() == [
        ["aid=? (r.two)", "loan=7 (r.two)"],
        [],
        [],
    ]
