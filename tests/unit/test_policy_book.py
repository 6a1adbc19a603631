"""The policy book (docs/policies/) is generated from the packs and must not drift from them."""

from __future__ import annotations

from pathlib import Path

from gspolicy.pack.book import render_book

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
