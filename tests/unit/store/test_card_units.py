"""The household's card is Chinese through and through: amounts with their units from the
schema's units table, a loan as a loan, an amount the sources do not give as 未确定."""

from __future__ import annotations

import datetime as dt

from gspolicy._i18n import Text
from gspolicy.api import load_policies
from gspolicy.explain.wording import vocabulary_for
from gspolicy.store.card import render_card
from gspolicy.store.ledger import Item, Plan

DAY = dt.date(2019, 1, 1)


def _item(n: int, measure: str, amount: str | None, unit: str | None) -> Item:
    return Item(
        n, "H-1", measure, Text(zh=measure, en=measure), "office", Text(zh="扶贫办", en="Office"),
        "batch", Text(zh="内容", en="content"), amount, unit, None, "open", None, "621126", DAY,
    )  # fmt: skip


def test_the_card_says_amounts_in_chinese() -> None:
    schema = load_policies().schema
    plan = Plan(
        1, "H-1", 1, "sha256:0", "621126", DAY, "2019-01-01T00:00:00", "planner",
        (
            _item(1, "dibao", "3500", "yuan/person/year"),
            _item(2, "microcredit", "loan, ceiling 50000, term 3 years", "yuan/household"),
            _item(3, "family_doctor", "not established", None),
            _item(4, "insurance", "0.9", "ratio"),
        ),
    )  # fmt: skip
    page = render_card(
        plan, {}, record={}, schema=schema, today=DAY, words=vocabulary_for(schema, schema.root, ())
    )
    for shown in ("3,500 元/人/年", "贷款，上限 50,000 元/户，期限 3 年", "未确定", "90%"):
        assert f"<td class='num'>{shown}</td>" in page, shown
    for english in ("yuan", "loan", "not established", "years", "ratio"):
        assert english not in page, english
