"""The policy book (docs/policies/) is generated from the packs and must not drift from them."""

from __future__ import annotations

from pathlib import Path

from gspolicy.pack.book import render_book
from gspolicy.pack.model import LOW_CONFIDENCE, PackSource

from support.bundled import shared_policies

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "docs" / "policies"


def test_the_committed_book_is_current() -> None:
    pages = render_book(shared_policies().policy_set)
    committed = {p.name: p.read_text(encoding="utf-8") for p in BOOK.glob("*.md")}
    assert sorted(committed) == sorted(pages), "run `gspolicy book` and commit docs/policies"
    for name, text in pages.items():
        assert committed[name] == text, f"{name} drifted: run `gspolicy book` and commit docs/policies"


def test_every_amount_or_value_not_established_is_listed() -> None:
    policy_set = shared_policies().policy_set
    index = render_book(policy_set)["index.md"]
    for checked in policy_set.packs:
        pack = checked.pack
        for measure in pack.measures.values():
            if measure.amount.kind == "not_established":
                assert f"`{pack.key}` measure `{measure.id}`" in index
        for param in pack.parameters.values():
            for value in param.values:
                if value.kind == "not_established":
                    assert f"`{pack.key}` parameter `{param.name}` from {value.effective}" in index
        for criterion in pack.criteria:
            if criterion.not_established:
                assert f"`{pack.key}` criterion `{criterion.id}`" in index


def _is_weak(pack: PackSource, confidence: str | None, source: str | None) -> bool:
    """A value's own confidence, else its source's, is L or L-M."""
    found = pack.sources.get(source) if source else None
    return (confidence or (found.confidence if found else None)) in LOW_CONFIDENCE


def test_every_point_value_resting_on_a_weak_source_is_listed() -> None:
    policy_set = shared_policies().policy_set
    index = render_book(policy_set)["index.md"]
    heading = "## Point values resting on a weak source (confidence L or L-M)"
    assert heading in index
    weak = index.split(heading, 1)[1]
    listed = 0
    for checked in policy_set.packs:
        pack = checked.pack
        for param in pack.parameters.values():
            if param.imported_from is not None:
                continue  # listed under the pack that declares it
            for value in param.values:
                if value.kind == "exact" and _is_weak(pack, value.confidence, value.source):
                    assert f"`{pack.key}` parameter `{param.name}` from {value.effective}:" in weak
                    listed += 1
        for measure in pack.measures.values():
            for part, amount in (("amount", measure.amount), ("term", measure.term)):
                if (
                    amount is not None
                    and amount.kind == "exact"
                    and _is_weak(pack, amount.confidence, amount.source)
                ):
                    assert f"`{pack.key}` measure `{measure.id}` {part}:" in weak
                    listed += 1
    assert listed == weak.count("\n- ")
    # the values the sources give only weakly: the 2019 and 2020 lines, the campaign's end, the
    # income periods carried forward from 2018, the buffer warning dates
    for named in (
        "`parameters.household@2016.1` parameter `national_line` from 2019-01-01: 3218",
        "`parameters.household@2016.1` parameter `national_line` from 2020-01-01: about / 约 4000",
        "`buffer_period.household@2016.1` parameter `campaign_buffer_end` from 2016-01-01: 2020-12-31",
        "`exit_criteria.household@2018.1` parameter `income_period_start` from 2019-01-01: 2018-10-01",
        "`monitoring.household@2016.1` parameter `buffer_warning_from` from 2016-01-01: 2020-10-01",
    ):
        assert named in weak
