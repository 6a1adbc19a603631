"""The main job's summary: from the outcome table as from `Outcome`s, block by block as whole, what
would settle an undetermined exit verdict (that verdict's settle set alone, indices folded), and its
shape (grouped by role, the batches as a table per county)."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest

from gspolicy import Policies
from gspolicy._location import display_width
from gspolicy.explain.summaries import (
    WIDTH,
    SummaryCounts,
    exit_settle,
    folded,
    summary_plan,
    table_examples,
    table_summary,
)
from gspolicy.explain.summary import examples, household_summary
from gspolicy.schema.model import Record

from support.bundled import shared_registry

DAY = dt.date(2018, 12, 31)


def _never(row: int) -> list[str]:
    raise AssertionError("an empty table has no undetermined row")


@pytest.mark.slow  # decides a sample of the registry twice: full suite
def test_the_table_summary_equals_the_outcome_summary_on_a_sample(bundled: Policies) -> None:
    households = list(shared_registry()[::15])
    # a household without a county code: both summaries put it under `?`
    households.append(bundled.household({"id": "620000-0001", "size": 1}))
    outcomes = [bundled.decide(h, DAY) for h in households]
    table = pl.concat(list(bundled.decide_table(households, DAY)))
    by_id = {str(h.get("id")): h for h in households}
    county_of = [str(by_id[i].get("county_code", "?")) for i in table["id"].to_list()]
    plan = summary_plan(bundled.policy_set, DAY)
    for lang in ("en", "zh"):
        for listing in (False, True):
            want = household_summary(
                outcomes, lang, as_of=DAY, plan=plan, listing=listing, records_by_id=by_id
            )
            got = table_summary(
                table,
                lang,
                as_of=DAY,
                plan=plan,
                listing=listing,
                county_of=county_of,
                settle_of=lambda row: exit_settle(outcomes[row]),
            )
            assert got.splitlines() == want.splitlines()
            assert ("帮扶批次：" if lang == "zh" else "Batches: ") in got
            assert "?" in got  # the household without a county has its row
    for n in (0, 1, 5):
        assert [outcomes[i].record for i in table_examples(table, n)] == [
            o.record for o in examples(outcomes, n)
        ]


@pytest.mark.parametrize("day", [DAY, pytest.param(dt.date(2020, 6, 30), marks=pytest.mark.slow)])
def test_what_would_settle_is_the_exit_verdicts_settle_set_alone(bundled: Policies, day: dt.date) -> None:
    """The table's `missing` column joins every pack's gaps; the summary counts, for each
    undetermined exit verdict, that verdict's own settle set (the exit pack's applicability and its
    undetermined criteria), member indices folded — so a gap only a batch rule has is left out."""
    households = list(shared_registry())
    # the undetermined households found by columns, then decided one by one
    table = pl.concat(list(bundled.decide_table(households, day)))
    wanted = set(table.filter(pl.col("verdict") == "undetermined")["id"].to_list())
    outcomes = [bundled.decide(h, day) for h in households if h.get("id") in wanted]
    undetermined = [o for o in outcomes if o.verdict == "undetermined"]
    assert len(undetermined) == len(wanted)
    assert undetermined
    wider = 0
    for outcome in undetermined:
        result = outcome.pack(outcome.exit_pack)
        assert result is not None
        own = {*result.settle, *(m for c in result.criteria if c.verdict == "undetermined" for m in c.settle)}
        got = exit_settle(outcome)
        assert set(got) == {folded(m) for m in own}, outcome.record
        assert all(not re.search(r"\[\d+\]", m) for m in got)  # indices folded
        wider += {folded(m) for m in outcome.missing} != set(got)
    assert wider  # the registry has gaps of other packs' rules, which the summary leaves out
    plan = summary_plan(bundled.policy_set, day)
    text = household_summary(outcomes, "en", as_of=day, plan=plan)
    settle_line = text.split("undetermined exit verdicts (households):\n", 1)[1].splitlines()[0]
    first, n = settle_line.strip().split(" · ")[0].rsplit(" ", 1)
    assert int(n) == sum(first in exit_settle(o) for o in undetermined)


def test_an_empty_table_says_so(bundled: Policies) -> None:
    table = pl.concat(list(bundled.decide_table(shared_registry()[:1], "2018-12-31"))).clear()
    plan = summary_plan(bundled.policy_set, DAY)
    text = table_summary(table, "en", as_of=DAY, plan=plan, listing=True, county_of=[], settle_of=_never)
    assert text.startswith(
        f"0 households decided as of 2018-12-31 by {len(plan.packs)} packs in force (exit: "
    )
    assert "Exit verdicts: none 0\n" in text


@pytest.mark.slow  # the registry's summary twice: full suite
def test_counting_block_by_block_gives_the_summary_of_the_whole(bundled: Policies) -> None:
    households = list(shared_registry()[::7])
    table = pl.concat(list(bundled.decide_table(households, DAY)))
    county_of = [str(h.get("county_code", "?")) for h in households]
    plan = summary_plan(bundled.policy_set, DAY)
    outcomes = [bundled.decide(h, DAY) for h in households]
    whole = table_summary(
        table,
        "en",
        as_of=DAY,
        plan=plan,
        listing=True,
        county_of=county_of,
        settle_of=lambda row: exit_settle(outcomes[row]),
    )
    counts = SummaryCounts(plan, listing=True)
    for start in range(0, table.height, 37):
        counts.add(
            table.slice(start, 37),
            county_of[start : start + 37],
            lambda row, start=start: exit_settle(outcomes[start + row]),  # type: ignore[misc]
        )
    assert counts.render("en", as_of=DAY) == whole


def _summary(bundled: Policies, households: list[Record], lang: str) -> tuple[str, list[str]]:
    table = pl.concat(list(bundled.decide_table(households, DAY)))
    county_of = [str(h.get("county_code", "?")) for h in households]
    names = {c: f"县{c[-2:]}" for c in set(county_of)}
    plan = summary_plan(bundled.policy_set, DAY)
    outcomes = [bundled.decide(h, DAY) for h in households]
    text = table_summary(
        table,
        lang,  # type: ignore[arg-type]
        as_of=DAY,
        plan=plan,
        county_of=county_of,
        county_names=names,
        settle_of=lambda row: exit_settle(outcomes[row]),
    )
    return text, county_of


@pytest.mark.parametrize("lang", ["en", pytest.param("zh", marks=pytest.mark.slow)])
def test_the_summary_is_grouped_by_role_and_fits_the_screen(bundled: Policies, lang: str) -> None:
    households = list(shared_registry()[::5])
    text, county_of = _summary(bundled, households, lang)
    lines = text.splitlines()
    assert all(display_width(line) <= WIDTH for line in lines)
    zh = lang == "zh"
    # the sections in the officer's order: exit, what blocks it, batches, then the other roles
    heads = (
        ["退出结论：", "未通过的指标", "帮扶批次：", "数据核查发现", "监测预警"]
        if zh
        else [
            "Exit verdicts: ",
            "What blocks them",
            "Batches: ",
            "Data-quality findings",
            "Monitoring alerts",
        ]
    )
    at = [next(i for i, line in enumerate(lines) if line.startswith(h)) for h in heads]
    assert at == sorted(at)
    # the batch table: a heading row naming the nine batches, then a row per county (its name
    # beside its code) and the total, every row as wide as the heading
    table = lines[at[2] + 1 : at[2] + 2 + len(set(county_of)) + 1]
    batches = [p.id.rsplit(".", 1)[1] for p in summary_plan(bundled.policy_set, DAY).of_kind("batch")]
    assert len(batches) == 9
    assert table[0].split()[2:] == batches
    for code in set(county_of):
        assert any(row.strip().startswith(f"{code} 县{code[-2:]}") for row in table[1:])
    assert table[-1].split()[0] == ("合计" if zh else "all")
    widths = {display_width(row) for row in table}
    assert max(widths) == display_width(table[0])
    # only the batches are in the table: no finding or monitoring pack in its heading
    assert "data_quality" not in table[0]
    assert "monitoring" not in table[0]


def test_a_summary_line_that_would_be_too_wide_is_wrapped_or_counted(bundled: Policies) -> None:
    from gspolicy.explain.summaries import _wrapped

    items = [f"members[].field_{i:02d} {i}" for i in range(40)]
    lines = _wrapped(items, "en", limit=2, first="What would settle: ")
    assert len(lines) == 2
    assert all(display_width(line) <= WIDTH for line in lines)
    shown = sum(line.count("members[]") for line in lines)
    assert lines[-1].endswith(f"… and {40 - shown} more")
    assert _wrapped(items[:2], "en", limit=2) == ["  members[].field_00 0 · members[].field_01 1"]
