"""The main job's summary from the outcome table is the summary from `Outcome`s, line for line."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from gspolicy import Policies
from gspolicy.explain.summaries import SummaryCounts, table_examples, table_summary
from gspolicy.explain.summary import examples, household_summary
from gspolicy.schema.model import Record

from support.bundled import shared_registry


@pytest.mark.slow
@pytest.mark.parametrize("day", [dt.date(2018, 12, 31), dt.date(2020, 6, 30)])
def test_the_table_summary_equals_the_outcome_summary_on_the_registry(
    bundled: Policies, day: dt.date
) -> None:
    _same(bundled, list(shared_registry()), day)


def test_the_table_summary_equals_the_outcome_summary_on_a_sample(bundled: Policies) -> None:
    households = list(shared_registry()[::15])
    # a household without a county code: both summaries put it under `?`
    households.append(bundled.household({"id": "620000-0001", "size": 1}))
    _same(bundled, households, dt.date(2018, 12, 31))


def _same(bundled: Policies, households: list[Record], day: dt.date) -> None:
    outcomes = [bundled.decide(h, day) for h in households]
    table = pl.concat(list(bundled.decide_table(households, day)))
    by_id = {str(h.get("id")): h for h in households}
    county_of = [str(by_id[i].get("county_code", "?")) for i in table["id"].to_list()]
    packs = [p for p in bundled.policy_set.all_in_force(day) if p.subject == "household"]
    with_rules = sorted({p.id for p in packs if p.pack.rules})
    kinds = {p.id: p.kind for p in packs}
    for lang in ("en", "zh"):
        for listing in (False, True):
            want = household_summary(
                outcomes, lang, as_of=day, listing=listing, records_by_id=by_id, kinds=kinds
            )
            got = table_summary(
                table,
                lang,
                as_of=day,
                listing=listing,
                county_of=county_of,
                packs_with_rules=with_rules,
                kinds=kinds,
            )
            assert got.splitlines() == want.splitlines()
            assert ("帮扶批次：" if lang == "zh" else "    batch: seven_batches.") in got
    for n in (0, 1, 5):
        assert [outcomes[i].record for i in table_examples(table, n)] == [
            o.record for o in examples(outcomes, n)
        ]


def test_an_empty_table_says_so(bundled: Policies) -> None:
    table = pl.concat(list(bundled.decide_table(shared_registry()[:1], "2018-12-31"))).clear()
    text = table_summary(
        table,
        "en",
        as_of=dt.date(2018, 12, 31),
        listing=True,
        county_of=[],
        packs_with_rules=["x"],
        in_force=["p@1"],
    )
    assert text.startswith("0 households decided as of 2018-12-31; packs: p@1\n")


def test_counting_block_by_block_gives_the_summary_of_the_whole(bundled: Policies) -> None:
    households = list(shared_registry()[::7])
    day = dt.date(2018, 12, 31)
    table = pl.concat(list(bundled.decide_table(households, day)))
    county_of = [str(h.get("county_code", "?")) for h in households]
    packs = sorted(
        {p.id for p in bundled.policy_set.all_in_force(day) if p.subject == "household" and p.pack.rules}
    )
    kinds = {p.id: p.kind for p in bundled.policy_set.packs}
    whole = table_summary(
        table, "en", as_of=day, listing=True, county_of=county_of, packs_with_rules=packs, kinds=kinds
    )
    counts = SummaryCounts(packs, listing=True, kinds=kinds)
    for start in range(0, table.height, 37):
        counts.add(table.slice(start, 37), county_of[start : start + 37])
    assert counts.render("en", as_of=day) == whole
