"""The support of a row whose buffer retains items, merged by columns (`merged_support`), is
`support_kept` item by item for any grants and retained items: a retained amount replacing a
granted one by each `combine` rule, measures granted twice, two items of one measure, a rule
named like a basis, amounts exact, ranges, loans' texts and unknown."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gspolicy.columnar.retained import merged_support
from gspolicy.columnar.texts import GRANTED_SEP, LIST_JOIN, granted_text
from gspolicy.engine.support import support_granted, support_kept, support_texts
from gspolicy.pack.model import CombineRule

_MEASURES = st.sampled_from(["subsidy", "loan", "教育资助", "water"])
_AMOUNTS = st.one_of(st.none(), st.sampled_from(["0", "800", "1200.50", "800-1200", "50000 over 3 years"]))
_WHY = st.sampled_from(["r.one", "exit_income", "r_3"])  # `exit_income` is also a basis below
_GRANT = st.tuples(_MEASURES, _AMOUNTS, _WHY)
_ITEM = st.tuples(_MEASURES, _AMOUNTS, st.sampled_from(["exit_income", "relocated"]))


@st.composite
def _items(draw: st.DrawFn) -> list[tuple[str, str | None, str, str]]:
    """Retained items as `with_retained` gives them: each names its place (``support[i]``),
    except that all may leave it empty when no two are of one measure."""
    items = draw(st.lists(_ITEM, max_size=4))
    plain = len({m for m, _a, _b in items}) == len(items) and draw(st.booleans())
    return [(m, a, b, "" if plain else f"support[{i}]") for i, (m, a, b) in enumerate(items)]


_PAIR = st.tuples(st.lists(_GRANT, max_size=4), _items())


def _kept_text(items: list[tuple[str, str | None, str, str]]) -> str:
    return LIST_JOIN.join(GRANTED_SEP.join((m, a or "", b, w)) for m, a, b, w in items)


@pytest.mark.slow  # a property over many pairs: the full suite
@settings(max_examples=50, deadline=None)
@given(
    combine=st.sampled_from(["retained", "granted", "higher"]), pairs=st.lists(_PAIR, min_size=1, max_size=12)
)
def test_merged_by_columns_is_support_kept_item_by_item(
    combine: CombineRule,
    pairs: list[tuple[list[tuple[str, str | None, str]], list[tuple[str, str | None, str, str]]]],
) -> None:
    granted = pl.Series([LIST_JOIN.join(granted_text(g)) for g, _ in pairs], dtype=pl.String)
    kept = pl.Series([_kept_text(k) for _, k in pairs], dtype=pl.String)
    got = merged_support(granted, kept, combine).to_list()
    expected = [support_texts(support_kept(support_granted(g), k, combine)) for g, k in pairs]
    assert got == expected


def test_a_retained_amount_above_the_granted_one_wins_only_when_higher_counts() -> None:
    granted = pl.Series([LIST_JOIN.join(granted_text([("subsidy", "800", "r.one")]))])
    kept = pl.Series([_kept_text([("subsidy", "1200", "exit_income", "")])])
    assert merged_support(granted, kept, "higher").to_list() == [["subsidy=1200 (exit_income)"]]
    assert merged_support(granted, kept, "granted").to_list() == [["subsidy=800 (r.one)"]]
