"""The household's card is Chinese through and through: amounts with their units from the
schema's units table, a loan as a loan, an amount the sources do not give as 未确定."""

from __future__ import annotations

import datetime as dt

from gspolicy._i18n import Text
from gspolicy._location import Source
from gspolicy._resources import bundled_policies
from gspolicy.api import load_policies
from gspolicy.explain.wording import vocabulary_for
from gspolicy.schema.load import schema_from_source
from gspolicy.schema.model import Schema
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


def _schema_with_member_fields_renamed(names: dict[str, str]) -> Schema:
    """The bundled schema with member fields renamed (their roles kept)."""
    text = (bundled_policies() / "schema" / "household.yaml").read_text(encoding="utf-8")
    member = text.index("\n  member:\n")
    head, tail = text[:member], text[member:]
    for old, new in names.items():
        assert f"\n      {old}:\n" in tail
        tail = tail.replace(f"\n      {old}:\n", f"\n      {new}:\n", 1)
    tail = tail.replace("\n    key: id\n", f"\n    key: {names.get('id', 'id')}\n", 1)
    schema, problems = schema_from_source(Source("household.yaml", head + tail))
    assert schema is not None, problems
    return schema


def test_the_card_finds_the_head_by_the_relation_role_on_any_schema() -> None:
    """The head is the member whose field of the `relation` role holds `head`, named by the
    member type's key: a schema that names those fields otherwise gives the same card."""
    plan = Plan(1, "H-1", 1, "sha256:0", "621126", DAY, "2019-01-01T00:00:00", "planner", ())
    members = [{"id": "M-2", "relation": "spouse"}, {"id": "M-1", "relation": "head"}]
    cards = []
    for schema, rows in (
        (load_policies().schema, members),
        (
            _schema_with_member_fields_renamed({"relation": "guanxi", "id": "bianhao"}),
            [{"bianhao": m["id"], "guanxi": m["relation"]} for m in members],
        ),
    ):
        page = render_card(plan, {}, record={"members": rows}, schema=schema, today=DAY)
        assert "<th>户主</th><td>M-1</td>" in page.replace("\n", "")
        cards.append(page)
    assert cards[0] == cards[1]
